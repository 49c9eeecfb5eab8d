/**
 * `agent fake-llm`: a local server speaking the slice of the Anthropic Messages API the agent uses
 * (POST /v1/messages, JSON and SSE streaming, tool_use, error bodies with retry-after), answering
 * from a script. The real @anthropic-ai/sdk talks to it through ANTHROPIC_BASE_URL, so tests and
 * the offline demo exercise the real client code.
 *
 * It is as strict as the real API where the runtime's context management can go wrong: the request
 * rules (api-rules.ts), the token count and the context window (request.ts), prompt caching with
 * the real usage fields (prompt-cache.ts), and max_tokens and every stop_reason (reply.ts).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkContextWindow, checkRequest, parseRequest, type ApiError } from './api-rules';
import { PromptCache, type CacheUsage } from './prompt-cache';
import { planReply, type PlannedReply } from './reply';
import { promptBlocks, type MessagesRequest, type PromptBlock } from './request';
import type { FakeReply, FakeScript, FakeStage } from './script';

export type Usage = CacheUsage & { output_tokens: number };

export interface RecordedRequest {
  stage: string;
  task: string;
  at: number;
  /** Index of the reply: the `x-agent-turn` header, else the number of assistant messages in the request. */
  turn: number;
  /** HTTP status answered. */
  status: number;
  /** The agent's headers as sent (absent when not sent). */
  headers: { stage?: string; task?: string; turn?: string };
  /** The whole prompt in tokens: uncached + cache write + cache read. */
  inputTokens: number;
  /** Blocks carrying cache_control. */
  breakpoints: number;
  maxTokens: number | undefined;
  /** The usage answered; absent unless the request was answered 200. */
  usage?: Usage;
  body: MessagesRequest;
}

export interface FakeLlmOptions {
  /** 0 (default) = any free port. */
  port?: number;
  /** The fake's clock in ms (recorded `at`, prompt-cache expiry); Date.now by default. Tests move it to expire cache entries. */
  now?: () => number;
  /** Overrides the script's `contextWindow` (default 200_000 tokens). */
  contextWindow?: number;
  /** Overrides the script's `cacheMinTokens` (default 1024). */
  cacheMinTokens?: number;
}

export interface FakeLlm {
  url: string;
  port: number;
  requests: RecordedRequest[];
  setScript(script: FakeScript): void;
  /** Empties the prompt cache. */
  clearCache(): void;
  close(): Promise<void>;
}

export const DEFAULT_CONTEXT_WINDOW = 200_000;
export const DEFAULT_CACHE_MIN_TOKENS = 1024;
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

/** Starts the server on 127.0.0.1. The second argument may be just the port (0 = any free port). */
export async function startFakeLlm(script: FakeScript, portOrOptions: number | FakeLlmOptions = {}): Promise<FakeLlm> {
  const options = typeof portOrOptions === 'number' ? { port: portOrOptions } : portOrOptions;
  const now = options.now ?? Date.now;
  const cache = new PromptCache(now);
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
    const parsed = parseRequest(raw);
    if ('error' in parsed) return sendApiError(res, parsed.error);
    const body = parsed.body;
    const headers = agentHeaders(req);
    // After compaction the transcript is shorter than the turns taken, so the agent may say which turn this is.
    if (headers.turn !== undefined && !/^\d{1,9}$/.test(headers.turn)) {
      return sendApiError(res, badRequest(`x-agent-turn: expected a non-negative integer, got "${headers.turn}"`));
    }
    const blocks = promptBlocks(body);
    const record = recordOf(body, headers, blocks, now());
    const { stage, task, turn } = record;
    requests.push(record);
    // A long-running `agent fake-llm` must not grow without bound: keep the most recent requests.
    if (requests.length > MAX_RECORDED) requests.splice(0, requests.length - MAX_RECORDED);
    if (attempts.size > MAX_RECORDED) attempts.delete(attempts.keys().next().value!);

    const rejected = checkRequest(body, blocks) ?? checkContextWindow(record.inputTokens, options.contextWindow ?? current.contextWindow ?? DEFAULT_CONTEXT_WINDOW);
    if (rejected) {
      record.status = rejected.status;
      return sendApiError(res, rejected);
    }

    const reply = pickReply(current, stage as FakeStage, turn, requestText(body));
    const key = `${task}|${stage}|${turn}`;
    const attempt = attempts.get(key) ?? 0;
    attempts.set(key, attempt + 1);
    const delay = (reply?.delayMs ?? 0) + current.latencyMs;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));

    const scriptedError = reply?.errors?.[attempt];
    if (scriptedError) {
      record.status = scriptedError.status;
      return sendApiError(res, scriptedApiError(scriptedError), scriptedError.retryAfter);
    }
    const cacheUsage = cache.account(body.model ?? '', blocks, options.cacheMinTokens ?? current.cacheMinTokens ?? DEFAULT_CACHE_MIN_TOKENS);
    const planned = planReply(body, stage as FakeStage, reply);
    record.usage = { ...cacheUsage, output_tokens: planned.outputTokens };
    if (body.stream) streamMessage(res, body, planned, record.usage);
    else sendJson(res, 200, apiMessage(body, planned, record.usage));
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const actualPort = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    requests,
    setScript(next) {
      current = next;
    },
    clearCache() {
      cache.clear();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function recordOf(body: MessagesRequest, headers: RecordedRequest['headers'], blocks: readonly PromptBlock[], at: number): RecordedRequest {
  return {
    stage: headers.stage ?? 'execute',
    task: headers.task ?? 'unknown',
    at,
    turn: headers.turn !== undefined ? Number(headers.turn) : body.messages.filter((m) => m?.role === 'assistant').length,
    status: 200,
    headers,
    inputTokens: blocks.reduce((sum, b) => sum + b.tokens, 0),
    breakpoints: blocks.filter((b) => b.cacheControl !== undefined).length,
    maxTokens: body.max_tokens,
    body,
  };
}

function scriptedApiError(error: NonNullable<FakeReply['errors']>[number]): ApiError {
  return { status: error.status, type: error.type ?? ERROR_TYPES[error.status] ?? 'api_error', message: error.message ?? `scripted ${error.status}` };
}

function agentHeaders(req: http.IncomingMessage): RecordedRequest['headers'] {
  const header = (name: string) => {
    const value = req.headers[name];
    return value === undefined ? undefined : String(value);
  };
  const out: RecordedRequest['headers'] = {};
  const stage = header('x-agent-stage');
  const task = header('x-agent-task');
  const turn = header('x-agent-turn');
  if (stage !== undefined) out.stage = stage;
  if (task !== undefined) out.task = task;
  if (turn !== undefined) out.turn = turn;
  return out;
}

function requestText(body: MessagesRequest): string {
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

/** The Messages API's message object; a tool call cut short has `input: {}`, as no JSON of it was complete. */
function apiMessage(body: MessagesRequest, planned: PlannedReply, usage: Usage) {
  return {
    id: `msg_fake_${randomUUID().replace(/-/g, '').slice(0, 24)}`,
    type: 'message' as const,
    role: 'assistant' as const,
    model: body.model ?? 'fake',
    content: planned.content.map((block) =>
      block.type === 'text' ? block : { type: block.type, id: block.id, name: block.name, input: block.partialJson === undefined ? block.input : {} },
    ),
    stop_reason: planned.stopReason,
    stop_sequence: planned.stopSequence,
    usage,
  };
}

const badRequest = (message: string): ApiError => ({ status: 400, type: 'invalid_request_error', message });

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_fake_${randomUUID()}`, ...headers });
  res.end(data);
}

function sendError(res: http.ServerResponse, status: number, type: string, message: string, retryAfter?: number) {
  sendJson(res, status, { type: 'error', error: { type, message } }, retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : {});
}

function sendApiError(res: http.ServerResponse, error: ApiError, retryAfter?: number) {
  sendError(res, error.status, error.type, error.message, retryAfter);
}

/**
 * Sends the message as the Messages API's server-sent events, in small deltas like the real thing.
 * A tool call cut short sends only the part of its JSON that was generated.
 */
function streamMessage(res: http.ServerResponse, body: MessagesRequest, planned: PlannedReply, usage: Usage) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': `req_fake_${randomUUID()}` });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const message = apiMessage(body, planned, usage);
  send('message_start', { type: 'message_start', message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } });
  planned.content.forEach((block, index) => {
    if (block.type === 'text') {
      send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      for (const piece of chunk(block.text, 40)) send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
    } else {
      send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
      for (const piece of chunk(block.partialJson ?? JSON.stringify(block.input), 40)) {
        send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } });
      }
    }
    send('content_block_stop', { type: 'content_block_stop', index });
  });
  send('message_delta', { type: 'message_delta', delta: { stop_reason: planned.stopReason, stop_sequence: planned.stopSequence }, usage });
  send('message_stop', { type: 'message_stop' });
  res.end();
}

function chunk(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}
