/**
 * A local stand-in for the slice of Slack the approval flow uses, speaking Slack's wire protocol
 * so the real SDK clients are exercised:
 *
 * - Web API at `<url>` (what `slackApiUrl` points to): `auth.test`, `chat.postMessage`,
 *   `chat.update`, `chat.postEphemeral` and `apps.connections.open`, as form-encoded or JSON POSTs
 *   with `Authorization: Bearer <token>`, answered `{ ok: true, ... }` or `{ ok: false, error }`.
 *   Messages are kept, so a test reads what a person would see; Block Kit limits are checked.
 * - Interactivity: `clickButton` builds the `block_actions` payload Slack would send for a click on
 *   a posted message and signs it (v0, signing secret) for the HTTP receiver, or delivers it over
 *   Socket Mode: a minimal RFC 6455 WebSocket server that says `hello`, sends `interactive`
 *   envelopes and waits for the `envelope_id` ack.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

export interface SlackCall {
  method: string;
  params: Record<string, unknown>;
  token: string | null;
  at: number;
}

export interface SlackMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: Record<string, unknown>[];
  /** Every version, oldest first (postMessage, then each update). */
  versions: { text: string; blocks: Record<string, unknown>[] }[];
}

export interface FakeSlackOptions {
  botToken: string;
  appToken?: string;
  signingSecret: string;
  botUserId?: string;
}

export interface ClickOptions {
  /** Defaults to the current time; tests move it to be stale or future-dated. */
  timestampSec?: number;
  /** Sign with this secret instead of the real one. */
  secret?: string;
  /** Change the button value after Slack would have read it from the message (tests forging a value). */
  value?: string;
  /** Click on this version of the message (0: as first posted), as a client that has not refreshed would. */
  version?: number;
}

export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  readonly messages = new Map<string, SlackMessage>();
  readonly ephemerals: { channel: string; user: string; text: string }[] = [];
  readonly botUserId: string;
  private server!: http.Server;
  private sockets = new Set<WsConnection>();
  private refusals = new Map<string, { error: string | 500; times: number }>();
  private seq = 0;
  url = '';

  private constructor(readonly options: FakeSlackOptions) {
    this.botUserId = options.botUserId ?? 'UBOT000001';
  }

  static async start(options: FakeSlackOptions): Promise<FakeSlack> {
    const fake = new FakeSlack(options);
    fake.server = http.createServer((req, res) => void fake.handle(req, res));
    fake.server.on('upgrade', (req, socket) => fake.upgrade(req, socket));
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}/api/`;
    return fake;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** The next `times` calls of `method` fail: with a Slack error code (`{ ok: false, error }`) or HTTP 500. */
  refuse(method: string, error: string | 500, times = 1): void {
    this.refusals.set(method, { error, times });
  }

  callsOf(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** The message posted for a request (found by its button value or context line). */
  async messageFor(taskId: string, requestId: string, timeoutMs = 20_000): Promise<SlackMessage> {
    return await waitFor(
      async () => [...this.messages.values()].find((m) => JSON.stringify(m.versions[0]!.blocks).includes(`\\"t\\":\\"${taskId}\\",\\"r\\":\\"${requestId}\\"`)),
      `a Slack message for ${taskId} ${requestId}`,
      timeoutMs,
    );
  }

  /** Waits until the message has been updated to a version matching `predicate`. */
  async waitForVersion(message: SlackMessage, predicate: (text: string) => boolean, what: string, timeoutMs = 20_000) {
    return await waitFor(async () => message.versions.slice(1).find((v) => predicate(JSON.stringify(v.blocks))), what, timeoutMs);
  }

  /** The block_actions payload Slack sends when `userId` clicks `actionId` on `message`, and the request signed as Slack signs it. */
  click(message: SlackMessage, actionId: string, userId: string, options: ClickOptions = {}): SignedRequest {
    const current = options.version === undefined ? message.versions.at(-1)! : message.versions[options.version]!;
    const actions = current.blocks.find((b) => b.type === 'actions') as { block_id: string; elements: { action_id: string; value: string; text: unknown }[] } | undefined;
    const button = actions?.elements.find((e) => e.action_id === actionId);
    if (!actions || !button) throw new Error(`message ${message.ts} has no ${actionId} button`);
    const payload = {
      type: 'block_actions',
      user: { id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: 'T0FAKE' },
      api_app_id: 'A0FAKE',
      token: 'verification-token-unused',
      container: { type: 'message', message_ts: message.ts, channel_id: message.channel, is_ephemeral: false },
      trigger_id: `${Date.now()}.${++this.seq}`,
      team: { id: 'T0FAKE', domain: 'fake' },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: message.channel, name: 'approvals' },
      message: { type: 'message', user: this.botUserId, ts: message.ts, text: current.text, blocks: current.blocks },
      response_url: `${this.url.replace(/api\/$/, '')}actions/${message.ts}`,
      actions: [
        {
          type: 'button',
          action_id: actionId,
          block_id: actions.block_id,
          text: button.text,
          value: options.value ?? button.value,
          action_ts: `${Date.now() / 1000}`,
        },
      ],
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    return this.sign(body, options);
  }

  /** Signs a body exactly as Slack does: v0=hex(hmac_sha256(secret, "v0:<ts>:<body>")). */
  sign(body: string, options: Pick<ClickOptions, 'timestampSec' | 'secret'> = {}): SignedRequest {
    const ts = options.timestampSec ?? Math.floor(Date.now() / 1000);
    const signature = `v0=${createHmac('sha256', options.secret ?? this.options.signingSecret)
      .update(`v0:${ts}:${body}`)
      .digest('hex')}`;
    return {
      body,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(ts),
        'x-slack-signature': signature,
        'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      },
    };
  }

  /** Delivers a click over Socket Mode (as Slack does: an `interactive` envelope) and waits for the app's ack. */
  async clickOverSocket(message: SlackMessage, actionId: string, userId: string): Promise<void> {
    const signed = this.click(message, actionId, userId);
    const payload = JSON.parse(new URLSearchParams(signed.body).get('payload')!);
    const socket = await waitFor(async () => [...this.sockets].find((s) => s.ready), 'a Socket Mode connection');
    const envelopeId = `env-${++this.seq}`;
    const acked = waitFor(async () => socket.received.some((m) => (m as { envelope_id?: string }).envelope_id === envelopeId), `ack of ${envelopeId}`, 5_000);
    socket.send({ envelope_id: envelopeId, type: 'interactive', payload, accepts_response_payload: false });
    await acked;
  }

  // -------------------------------------------------------------------------------------------
  // Web API

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const method = new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/api\//, '');
    const params = parseParams(req.headers['content-type'] ?? '', raw);
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? (typeof params.token === 'string' ? params.token : null);
    this.calls.push({ method, params, token, at: performance.now() });
    const answer = (body: Record<string, unknown>) => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    const fail = (error: string) => answer({ ok: false, error });

    if (method === 'apps.connections.open') {
      if (!this.options.appToken || token !== this.options.appToken) return fail('invalid_auth');
      const { port } = this.server.address() as AddressInfo;
      return answer({ ok: true, url: `ws://127.0.0.1:${port}/link/?ticket=${randomBytes(8).toString('hex')}` });
    }
    const refusal = this.refusals.get(method);
    if (refusal && refusal.times > 0) {
      refusal.times--;
      if (refusal.error === 500) {
        res.writeHead(500).end();
        return;
      }
      return fail(refusal.error);
    }
    if (token !== this.options.botToken) return fail(token ? 'invalid_auth' : 'not_authed');
    switch (method) {
      case 'auth.test':
        return answer({
          ok: true,
          url: 'https://fake.slack.com/',
          team: 'Fake',
          user: 'agent',
          team_id: 'T0FAKE',
          user_id: this.botUserId,
          bot_id: 'B0FAKE',
          is_enterprise_install: false,
        });
      case 'chat.postMessage': {
        const channel = String(params.channel ?? '');
        if (!/^[CGDU][A-Z0-9]+$/.test(channel)) return fail('channel_not_found');
        const problem = checkBlocks(params.blocks);
        if (problem) return answer({ ok: false, error: 'invalid_blocks', errors: [problem] });
        // A DM to a user id lands in the bot's conversation with them (D…), which Slack returns.
        const conversation = channel.startsWith('U') ? `D${channel.slice(1)}` : channel;
        const ts = `${Math.floor(Date.now() / 1000)}.${String(++this.seq).padStart(6, '0')}`;
        const version = { text: String(params.text ?? ''), blocks: (params.blocks as Record<string, unknown>[]) ?? [] };
        this.messages.set(`${conversation}/${ts}`, { channel: conversation, ts, ...version, versions: [version] });
        return answer({ ok: true, channel: conversation, ts, message: { type: 'message', ts, user: this.botUserId, ...version } });
      }
      case 'chat.update': {
        const message = this.messages.get(`${params.channel}/${params.ts}`);
        if (!message) return fail('message_not_found');
        const problem = checkBlocks(params.blocks);
        if (problem) return answer({ ok: false, error: 'invalid_blocks', errors: [problem] });
        const version = { text: String(params.text ?? ''), blocks: (params.blocks as Record<string, unknown>[]) ?? [] };
        Object.assign(message, version);
        message.versions.push(version);
        return answer({ ok: true, channel: message.channel, ts: message.ts, text: version.text });
      }
      case 'chat.postEphemeral': {
        if (!params.channel || !params.user) return fail('invalid_arguments');
        this.ephemerals.push({ channel: String(params.channel), user: String(params.user), text: String(params.text ?? '') });
        return answer({ ok: true, message_ts: `${Date.now() / 1000}` });
      }
      default:
        return fail('unknown_method');
    }
  }

  // -------------------------------------------------------------------------------------------
  // Socket Mode (server side of RFC 6455, text frames only)

  private upgrade(req: http.IncomingMessage, socket: Duplex) {
    const key = req.headers['sec-websocket-key'];
    if (!req.url?.startsWith('/link') || typeof key !== 'string') {
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    const connection = new WsConnection(socket, () => this.sockets.delete(connection));
    this.sockets.add(connection);
    connection.send({ type: 'hello', num_connections: 1, debug_info: { host: 'fake-slack', approximate_connection_time: 3600 }, connection_info: { app_id: 'A0FAKE' } });
    connection.ready = true;
  }
}

class WsConnection {
  ready = false;
  readonly received: unknown[] = [];
  private buffer = Buffer.alloc(0);
  private readonly pinger: NodeJS.Timeout;

  constructor(
    private readonly socket: Duplex,
    private readonly onClose: () => void,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.cleanup());
    socket.on('error', () => this.cleanup());
    // Slack pings every few seconds; the client reconnects if the server stays silent too long.
    this.pinger = setInterval(() => this.frame(0x9, Buffer.from('ping')), 5_000);
  }

  send(message: unknown) {
    this.frame(0x1, Buffer.from(JSON.stringify(message)));
  }

  close() {
    this.frame(0x8, Buffer.alloc(0));
    this.socket.end();
    this.cleanup();
  }

  private cleanup() {
    clearInterval(this.pinger);
    this.ready = false;
    this.onClose();
  }

  private frame(opcode: number, payload: Buffer) {
    if (this.socket.destroyed || !this.socket.writable) return;
    const length = payload.length;
    const header = length < 126 ? Buffer.from([0x80 | opcode, length]) : length < 65_536 ? Buffer.alloc(4) : Buffer.alloc(10);
    if (length >= 126) {
      header[0] = 0x80 | opcode;
      if (length < 65_536) {
        header[1] = 126;
        header.writeUInt16BE(length, 2);
      } else {
        header[1] = 127;
        header.writeBigUInt64BE(BigInt(length), 2);
      }
    }
    this.socket.write(Buffer.concat([header, payload]));
  }

  private onData(chunk: Buffer) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) return;
      const opcode = this.buffer[0]! & 0x0f;
      const masked = (this.buffer[1]! & 0x80) !== 0;
      let length = this.buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffer.length < 4) return;
        length = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) return;
        length = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const maskOffset = offset;
      if (masked) offset += 4;
      if (this.buffer.length < offset + length) return;
      const payload = Buffer.from(this.buffer.subarray(offset, offset + length));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= this.buffer[maskOffset + (i % 4)]!;
      this.buffer = this.buffer.subarray(offset + length);
      if (opcode === 0x1) this.received.push(JSON.parse(payload.toString('utf8')));
      else if (opcode === 0x9) this.frame(0xa, payload);
      else if (opcode === 0x8) {
        this.frame(0x8, Buffer.alloc(0));
        this.socket.end();
        this.cleanup();
        return;
      }
    }
  }
}

/** Slack accepts form-encoded (nested values as JSON strings) or JSON bodies. */
function parseParams(contentType: string, raw: string): Record<string, unknown> {
  if (contentType.startsWith('application/json')) return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
  const params: Record<string, unknown> = Object.fromEntries(new URLSearchParams(raw));
  for (const key of ['blocks', 'attachments', 'metadata']) {
    if (typeof params[key] === 'string') params[key] = JSON.parse(params[key] as string);
  }
  return params;
}

/** The Block Kit limits that matter here (Slack answers invalid_blocks past them). */
function checkBlocks(blocks: unknown): string | null {
  if (blocks === undefined) return null;
  if (!Array.isArray(blocks) || blocks.length > 50) return 'blocks must be an array of at most 50';
  for (const b of blocks as Record<string, any>[]) {
    if (typeof b.type !== 'string') return 'block without a type';
    if (b.type === 'header' && (b.text?.type !== 'plain_text' || b.text.text.length > 150)) return 'header text must be plain_text of at most 150 characters';
    if (b.type === 'section' && typeof b.text?.text === 'string' && b.text.text.length > 3000) return 'section text longer than 3000 characters';
    if (b.type === 'actions') {
      if (!Array.isArray(b.elements) || b.elements.length > 25) return 'actions must have at most 25 elements';
      for (const e of b.elements) {
        if (typeof e.value === 'string' && e.value.length > 2000) return 'button value longer than 2000 characters';
        if (e.text?.text?.length > 75) return 'button text longer than 75 characters';
      }
    }
    if (b.type === 'context' && (!Array.isArray(b.elements) || b.elements.length > 10)) return 'context must have at most 10 elements';
  }
  return null;
}

/** Polls until fn returns a truthy value (no vitest import here, so the benchmark can use this file too). */
async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
