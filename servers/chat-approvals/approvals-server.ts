/**
 * `agent approvals serve`: one HTTP server for the chat front ends of the approval flow.
 *
 *   POST /slack/events                      Slack interactivity (HTTP mode), guarded, then Bolt
 *   POST /approvals/:taskId/:requestId      a decision signed by a webhook key (signing.ts)
 *   GET  /healthz                           liveness
 *
 * In Socket Mode the Slack clicks arrive over Slack's WebSocket instead, and the HTTP server runs
 * only when webhook keys are configured.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { TaskClient } from '../../client/task-client';
import { UserError } from '../../client/user-error';
import { listedPrincipals } from '../../services/approvals/approvers';
import { ReplayGuard } from '../../services/approvals/replay-guard';
import type { Config } from '../../services/config';
import { decideFromChat } from './decide';
import { guardSlackRequest, guardWebhookRequest } from './request-guards';
import { createSlackApp, RECEIVED_AT, SLACK_EVENTS_PATH, type DecisionEvent, type SlackApp, type TimedRequest } from './slack-app';

/** Interaction payloads are a few KB; anything near this is not one. */
const MAX_BODY_BYTES = 256 * 1024;

/** The signed body of an inbound webhook decision; it names what it decides, so it cannot be replayed against another URL. */
export const WebhookDecisionSchema = z.strictObject({
  taskId: z.string().min(1).max(200),
  requestId: z.string().min(1).max(100),
  actionHash: z.string().regex(/^[0-9a-f]{64}$/, 'actionHash must be the sha256 hex digest from the request'),
  approve: z.boolean(),
  always: z.boolean().default(false),
  reason: z.string().max(2_000).optional(),
  /** The person behind the integration, recorded next to the key id. */
  user: z.string().min(1).max(120).optional(),
});
export type WebhookDecision = z.input<typeof WebhookDecisionSchema>;

/** Missing or inconsistent settings, as messages naming the variables to set. Empty: ready to serve. */
export function serveProblems(config: Config): string[] {
  const { slack, webhook, approvers } = config.approvals;
  const problems: string[] = [];
  const slackInbound = Boolean(slack.signingSecret || slack.appToken);
  const webhookInbound = Object.keys(webhook.inboundKeys).length > 0;
  if (!slackInbound && !webhookInbound) {
    problems.push(
      'nothing to serve: for Slack set SLACK_BOT_TOKEN plus SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode); ' +
        'for the signed webhook set AGENT_APPROVAL_WEBHOOK_KEYS=<key id>=<secret>',
    );
  }
  if (slackInbound && !slack.botToken) problems.push('SLACK_BOT_TOKEN is not set: the server needs it to answer clicks');
  if (approvers.length === 0) problems.push('AGENT_APPROVERS is empty, so nobody could decide: list approvers, e.g. AGENT_APPROVERS="slack:U01ABCDEF,webhook:ops-bot"');
  const listed = listedPrincipals(approvers);
  for (const id of Object.keys(webhook.inboundKeys)) {
    // The outgoing secret lives on workers, next to the tools the model drives; it must not be able to sign decisions.
    if (webhook.secret && webhook.inboundKeys[id] === webhook.secret)
      problems.push(`AGENT_APPROVAL_WEBHOOK_KEYS: key "${id}" reuses AGENT_APPROVAL_WEBHOOK_SECRET; give inbound decisions their own secret`);
    if (!listed.has(`webhook:${id}`)) problems.push(`AGENT_APPROVAL_WEBHOOK_KEYS: key "${id}" is not in AGENT_APPROVERS (add webhook:${id}), so it could decide nothing`);
  }
  return problems;
}

/** Throws a usage error (exit 2) listing every problem when the receivers cannot be served with this config. */
export function assertServable(config: Config): void {
  const problems = serveProblems(config);
  if (problems.length) throw new UserError(`cannot serve approvals:\n  - ${problems.join('\n  - ')}\n(see "Approvals from Slack and webhooks" in the README)`, 2);
}

export interface ApprovalsServerOptions {
  config: Config;
  client: TaskClient;
  log?: (line: string) => void;
  /** Called after every decision attempt (benchmarks and tests measure with it). */
  onDecision?: (event: DecisionEvent) => void;
}

export interface ApprovalsServer {
  /** Base URL of the HTTP server, or null in Socket Mode without webhook keys. */
  url: string | null;
  slack: SlackApp | null;
  close(): Promise<void>;
}

/** Starts the receivers. Throws with the fix when config is incomplete, Slack refuses the token or the port is taken. */
export async function startApprovalsServer(options: ApprovalsServerOptions): Promise<ApprovalsServer> {
  const { config, client } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const problems = serveProblems(config);
  if (problems.length) throw new Error(problems.join('\n'));
  const { slack: slackConfig, webhook, approvers, server: listen } = config.approvals;
  const replay = new ReplayGuard();

  const slack = slackConfig.signingSecret || slackConfig.appToken ? await createSlackApp({ slack: slackConfig, approvers, client, log, onDecision: options.onDecision }) : null;
  if (slack?.mode === 'socket') await slack.app.start();

  const webhookKeys = webhook.inboundKeys;
  const slackHttp = slack?.receiver ?? null;
  if (!slackHttp && Object.keys(webhookKeys).length === 0) {
    return { url: null, slack, close: async () => void (await slack?.app.stop()) };
  }

  const handle = async (req: TimedRequest, res: http.ServerResponse) => {
    req[RECEIVED_AT] = performance.now();
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    if (pathname === '/healthz' && req.method === 'GET') return reply(res, 200, { ok: true });
    const decisionPath = /^\/approvals\/([^/]+)\/([^/]+)$/.exec(pathname);
    if (pathname !== SLACK_EVENTS_PATH && !decisionPath) return reply(res, 404, { ok: false, error: 'not found' });
    if (req.method !== 'POST') return reply(res, 405, { ok: false, error: 'use POST' });
    const raw = await readBody(req);
    if (!raw) return reply(res, 413, { ok: false, error: 'body too large' });

    if (pathname === SLACK_EVENTS_PATH) {
      if (!slackHttp) return reply(res, 404, { ok: false, error: 'Slack is not served over HTTP here' });
      const verdict = guardSlackRequest(req.headers, raw, slackConfig.signingSecret!, replay);
      if (!verdict.ok) {
        log(`slack: refused a request: ${verdict.reason}`);
        return reply(res, verdict.status, { ok: false, error: verdict.reason });
      }
      // Bolt reads a body that is already buffered from `rawBody` (as with Express body parsers), verifies it again and dispatches.
      Object.assign(req, { rawBody: raw });
      slackHttp.requestListener(req, res);
      return;
    }

    if (Object.keys(webhookKeys).length === 0) return reply(res, 404, { ok: false, error: 'webhook decisions are not enabled (AGENT_APPROVAL_WEBHOOK_KEYS)' });
    const verdict = guardWebhookRequest(req.headers, raw, webhookKeys, replay);
    if (!verdict.ok) {
      log(`webhook: refused a request: ${verdict.reason}`);
      return reply(res, verdict.status, { ok: false, error: verdict.reason });
    }
    let body: z.output<typeof WebhookDecisionSchema>;
    try {
      body = WebhookDecisionSchema.parse(JSON.parse(raw.toString('utf8')));
    } catch (err) {
      const message = err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') : 'body is not JSON';
      return reply(res, 400, { ok: false, error: message });
    }
    const [taskId, requestId] = [decodeURIComponent(decisionPath![1]!), decodeURIComponent(decisionPath![2]!)];
    if (body.taskId !== taskId || body.requestId !== requestId) {
      return reply(res, 400, { ok: false, error: `the signed body decides ${body.taskId} ${body.requestId}, but the URL names ${taskId} ${requestId}` });
    }
    const keyId = verdict.keyId!;
    const decidedBy = body.user ? `${body.user} (key ${keyId})` : keyId;
    const outcome = await decideFromChat(client, approvers, {
      taskId,
      requestId,
      actionHash: body.actionHash,
      approve: body.approve,
      always: body.always,
      ...(body.reason ? { reason: body.reason } : {}),
      principal: `webhook:${keyId}`,
      decidedBy,
      channel: 'webhook',
    });
    options.onDecision?.({ channel: 'webhook', taskId, requestId, decidedBy, outcome, receivedAt: req[RECEIVED_AT]!, doneAt: performance.now() });
    if (outcome.ok) {
      log(`webhook: ${decidedBy} ${outcome.record.outcome} ${taskId} ${requestId} (${outcome.record.tool})`);
      return reply(res, 200, { ok: true, record: outcome.record });
    }
    log(`webhook: refused ${decidedBy} on ${taskId} ${requestId}: ${outcome.message}`);
    return reply(res, outcome.status, { ok: false, error: outcome.message, ...(outcome.record ? { record: outcome.record } : {}) });
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      log(`approvals server: ${req.method} ${req.url?.split('?')[0]} failed: ${err.message.split('\n')[0]}`);
      if (!res.headersSent) reply(res, 500, { ok: false, error: 'internal error; nothing was decided' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`port ${listen.port} on ${listen.host} is in use; set AGENT_APPROVALS_PORT to a free one`) : err),
    );
    server.listen(listen.port, listen.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    slack,
    async close() {
      await slack?.app.stop().catch(() => {});
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** The raw body, or null past MAX_BODY_BYTES (the signature covers exact bytes, so no parsing first). */
async function readBody(req: http.IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
