/**
 * `agent fake-llm`: a local server speaking the slice of the Anthropic Messages API the agent uses
 * (POST /v1/messages, JSON and SSE streaming, tool_use, error bodies with retry-after), answering
 * from a script. The real @anthropic-ai/sdk talks to it through ANTHROPIC_BASE_URL, so tests and
 * the offline demo exercise the real client code.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeReply, FakeScript, FakeStage } from './script';

export interface RecordedRequest {
  stage: string;
  task: string;
  at: number;
  /** Index of the reply: number of assistant turns in the request. */
  turn: number;
  /** HTTP status answered. */
  status: number;
  body: {
    system?: unknown;
    messages: { role: string; content: unknown }[];
    tools?: { name: string }[];
    tool_choice?: { type: string; name?: string };
    stream?: boolean;
    model?: string;
  };
}

export interface FakeLlm {
  url: string;
  port: number;
  requests: RecordedRequest[];
  setScript(script: FakeScript): void;
  close(): Promise<void>;
}

const MAX_RECORDED = 10_000;

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

/** Starts the server on 127.0.0.1 (port 0 = any free port). */
export async function startFakeLlm(script: FakeScript, port = 0): Promise<FakeLlm> {
  let current = script;
  const requests: RecordedRequest[] = [];
  const attempts = new Map<string, number>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((err: Error) => {
        if (!res.headersSent) sendError(res, 500, 'api_error', `fake-llm internal error: ${err.message}`);
        else res.end();
      });
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/health') return sendJson(res, 200, { ok: true });
    if (req.method !== 'POST' || url.pathname !== '/v1/messages') {
      return sendError(res, 404, 'not_found_error', `fake-llm serves POST /v1/messages, not ${req.method} ${url.pathname}`);
    }
    let body: RecordedRequest['body'];
    try {
      body = JSON.parse(raw);
      if (!Array.isArray(body.messages)) throw new Error('messages: Field required');
    } catch (err) {
      return sendError(res, 400, 'invalid_request_error', (err as Error).message);
    }
    const stage = String(req.headers['x-agent-stage'] ?? 'execute') as FakeStage;
    const task = String(req.headers['x-agent-task'] ?? 'unknown');
    const turn = body.messages.filter((m) => m.role === 'assistant').length;
    const record: RecordedRequest = { stage, task, at: Date.now(), turn, status: 200, body };
    requests.push(record);
    // A long-running `agent fake-llm` must not grow without bound: keep the most recent requests.
    if (requests.length > MAX_RECORDED) requests.splice(0, requests.length - MAX_RECORDED);
    if (attempts.size > MAX_RECORDED) attempts.delete(attempts.keys().next().value!);

    const reply = pickReply(current, stage, turn, requestText(body));
    const key = `${task}|${stage}|${turn}`;
    const attempt = attempts.get(key) ?? 0;
    attempts.set(key, attempt + 1);
    const delay = (reply?.delayMs ?? 0) + current.latencyMs;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));

    const scriptedError = reply?.errors?.[attempt];
    if (scriptedError) {
      record.status = scriptedError.status;
      return sendError(
        res,
        scriptedError.status,
        scriptedError.type ?? ERROR_TYPES[scriptedError.status] ?? 'api_error',
        scriptedError.message ?? `scripted ${scriptedError.status}`,
        scriptedError.retryAfter,
      );
    }
    const message = buildMessage(body, stage, reply);
    if (body.stream) streamMessage(res, message);
    else sendJson(res, 200, message);
  }

  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actualPort = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    requests,
    setScript(next) {
      current = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function requestText(body: RecordedRequest['body']): string {
  return JSON.stringify([body.system ?? '', body.messages]);
}

function pickReply(script: FakeScript, stage: FakeStage, turn: number, text: string): FakeReply | undefined {
  for (const scenario of script.scenarios) {
    if (scenario.match && !new RegExp(scenario.match).test(text)) continue;
    const replies = scenario.stages[stage];
    if (!replies) return undefined;
    return Array.isArray(replies) ? replies[Math.min(turn, replies.length - 1)] : replies;
  }
  return undefined;
}

interface ApiMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: ({ type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown })[];
  stop_reason: 'end_turn' | 'tool_use';
  stop_sequence: null;
  usage: { input_tokens: number; output_tokens: number };
}

function buildMessage(body: RecordedRequest['body'], stage: FakeStage, reply: FakeReply | undefined): ApiMessage {
  const content: ApiMessage['content'] = [];
  const forcedTool = body.tool_choice?.type === 'tool' ? body.tool_choice.name : undefined;
  const r = reply ?? defaultReply(body, stage);
  if (r.text) content.push({ type: 'text', text: r.text });
  if (forcedTool) content.push({ type: 'tool_use', id: toolUseId(), name: forcedTool, input: r.input ?? defaultReply(body, stage).input });
  for (const call of r.toolCalls ?? []) content.push({ type: 'tool_use', id: toolUseId(), name: call.name, input: call.input ?? {} });
  const inputChars = JSON.stringify(body.messages).length + JSON.stringify(body.system ?? '').length;
  return {
    id: `msg_fake_${randomUUID().replace(/-/g, '').slice(0, 24)}`,
    type: 'message',
    role: 'assistant',
    model: body.model ?? 'fake',
    content,
    stop_reason: content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: Math.ceil(inputChars / 4), output_tokens: Math.ceil(JSON.stringify(content).length / 4) },
  };
}

/** Sensible answers for stages a script leaves out, so a short script (or none) still runs a task. */
function defaultReply(body: RecordedRequest['body'], stage: FakeStage): FakeReply {
  const firstUser = body.messages.find((m) => m.role === 'user');
  const text = typeof firstUser?.content === 'string' ? firstUser.content : '';
  const prompt = (/Task:\n([\s\S]*?)(\n\n|$)/.exec(text)?.[1] ?? text).trim() || 'the task';
  switch (stage) {
    case 'intent':
      return { input: { goal: prompt.slice(0, 500), kind: 'other', needsWrite: false, needsShell: false, summary: prompt.split('\n')[0]!.slice(0, 80) } };
    case 'plan':
      return { input: { steps: [{ title: 'Look at the workspace and answer', tool: 'list_files' }] } };
    case 'verify':
      return { input: { passed: true, evidence: ['the transcript shows the work (scripted verifier)'], problems: [] } };
    case 'respond':
      return { text: 'Done (answer from the fake LLM).' };
    case 'remember':
      return { input: { memories: [] } };
    default:
      return { text: 'Done.' };
  }
}

function toolUseId(): string {
  return `toolu_fake_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_fake_${randomUUID()}`, ...headers });
  res.end(data);
}

function sendError(res: http.ServerResponse, status: number, type: string, message: string, retryAfter?: number) {
  sendJson(res, status, { type: 'error', error: { type, message } }, retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : {});
}

/** Sends the message as the Messages API's server-sent events, in small deltas like the real thing. */
function streamMessage(res: http.ServerResponse, message: ApiMessage) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': `req_fake_${randomUUID()}` });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  send('message_start', { type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { input_tokens: message.usage.input_tokens, output_tokens: 1 } } });
  message.content.forEach((block, index) => {
    if (block.type === 'text') {
      send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      for (const piece of chunk(block.text, 40)) send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
    } else {
      send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
      for (const piece of chunk(JSON.stringify(block.input), 40)) {
        send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } });
      }
    }
    send('content_block_stop', { type: 'content_block_stop', index });
  });
  send('message_delta', { type: 'message_delta', delta: { stop_reason: message.stop_reason, stop_sequence: null }, usage: { output_tokens: message.usage.output_tokens } });
  send('message_stop', { type: 'message_stop' });
  res.end();
}

function chunk(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}
