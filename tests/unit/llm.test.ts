import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../servers/fake-llm/fake-llm-server';
import { parseScript } from '../../servers/fake-llm/script';
import { FailureType } from '../../domain/failures';
import { classifyLlmError } from '../../activities/failures';
import { retryAfterMs } from '../../services/llm/provider-errors';
import { AnthropicLlm, ModelSilentError, MissingApiKeyError, type LlmRequest } from '../../services/llm/llm-client';
import { renderTranscript, TranscriptStore } from '../../services/llm/transcript';
import { FileStateStore } from '../../services/state/file-state-store';
import { BlobNotFoundError } from '../../services/state/state-store';

const apiError = (status: number, type: string, headers: Record<string, string> = {}) =>
  Anthropic.APIError.generate(status, { type: 'error', error: { type, message: `${type} happened` } }, `${type} happened`, new Headers(headers));

describe('classifyLlmError', () => {
  it('429 with retry-after → retryable LlmRateLimited with nextRetryDelay from the header', () => {
    const err = apiError(429, 'rate_limit_error', { 'retry-after': '7' });
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    const failure = classifyLlmError(err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.type).toBe(FailureType.LlmRateLimited);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(7_000);
    expect(failure.cause).toBe(err);
    expect(failure.message).toMatch(/^model API 429 error: /);
  });

  it('429 without retry-after leaves the delay to the retry policy', () => {
    expect(classifyLlmError(apiError(429, 'rate_limit_error')).nextRetryDelay).toBeUndefined();
  });

  it('529 overloaded → LlmRateLimited', () => {
    const failure = classifyLlmError(apiError(529, 'overloaded_error', { 'retry-after-ms': '1500' }));
    expect(failure).toMatchObject({ type: FailureType.LlmRateLimited, nonRetryable: false, nextRetryDelay: 1_500 });
  });

  it('an overloaded error event inside a stream (no HTTP status) → LlmRateLimited', () => {
    // This is how the SDK's SSE decoder builds it: status undefined, the event body as `error`.
    const err = new Anthropic.APIError(undefined, { type: 'error', error: { type: 'overloaded_error', message: 'busy' } }, undefined, new Headers());
    expect(classifyLlmError(err)).toMatchObject({ type: FailureType.LlmRateLimited, nonRetryable: false });
  });

  it.each([500, 502, 503, 408, 409])('%i → retryable LlmUnavailable', (status) => {
    const failure = classifyLlmError(apiError(status, 'api_error'));
    expect(failure.type).toBe(FailureType.LlmUnavailable);
    expect(failure.nonRetryable).toBe(false);
  });

  it.each([400, 404, 413, 422])('%i → non-retryable LlmRequestRejected', (status) => {
    const failure = classifyLlmError(apiError(status, 'invalid_request_error'));
    expect(failure.type).toBe(FailureType.LlmRequestRejected);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`${status}`);
  });

  it.each([401, 403])('%i → non-retryable LlmAuthFailed that points at ANTHROPIC_API_KEY', (status) => {
    const failure = classifyLlmError(apiError(status, 'authentication_error'));
    expect(failure.type).toBe(FailureType.LlmAuthFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('check ANTHROPIC_API_KEY');
  });

  it('connection errors and timeouts → retryable LlmUnavailable', () => {
    for (const err of [new Anthropic.APIConnectionError({ message: 'ECONNREFUSED' }), new Anthropic.APIConnectionTimeoutError()]) {
      const failure = classifyLlmError(err);
      expect(failure.type).toBe(FailureType.LlmUnavailable);
      expect(failure.nonRetryable).toBe(false);
      expect(failure.message).toMatch(/^model API unreachable: /);
    }
  });

  it('passes an ApplicationFailure through and wraps anything else as LlmUnavailable', () => {
    const existing = ApplicationFailure.create({ type: FailureType.LlmBadOutput, message: 'bad' });
    expect(classifyLlmError(existing)).toBe(existing);
    expect(classifyLlmError(new TypeError('boom'))).toMatchObject({ type: FailureType.LlmUnavailable, message: 'model call failed: boom', nonRetryable: false });
    expect(classifyLlmError('a string')).toMatchObject({ message: 'model call failed: a string' });
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');
  const h = (headers: Record<string, string>) => retryAfterMs(new Headers(headers), now);

  it('prefers retry-after-ms, then retry-after seconds', () => {
    expect(h({ 'retry-after-ms': '1500', 'retry-after': '9' })).toBe(1_500);
    expect(h({ 'retry-after': '3' })).toBe(3_000);
    expect(h({ 'retry-after': '0.5' })).toBe(500);
    expect(h({ 'retry-after-ms': 'garbage', 'retry-after': '3' })).toBe(3_000);
  });

  it('reads an HTTP date relative to now, and a past date as 0', () => {
    expect(h({ 'retry-after': new Date(now + 30_000).toUTCString() })).toBe(30_000);
    expect(h({ 'retry-after': new Date(now - 30_000).toUTCString() })).toBe(0);
  });

  it('caps the delay at 10 minutes', () => {
    expect(h({ 'retry-after': '86400' })).toBe(600_000);
    expect(h({ 'retry-after-ms': '99999999' })).toBe(600_000);
  });

  it('gives undefined when absent or unparsable', () => {
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(h({})).toBeUndefined();
    expect(h({ 'retry-after': 'soon' })).toBeUndefined();
    expect(h({ 'retry-after': '' })).toBeUndefined();
  });

  // Date.parse alone reads "-1" and "abc 1" as dates in 2001, which would mean an instant retry.
  it('gives undefined for a negative number or date-like garbage', () => {
    expect(h({ 'retry-after': '-1' })).toBeUndefined();
    expect(h({ 'retry-after': 'abc 1' })).toBeUndefined();
  });
});

describe('AnthropicLlm against the fake Messages API server', () => {
  let fake: FakeLlm;
  const toolInput = {
    path: 'docs/naïve-café.md',
    content: 'Grüße 👋🏽 — “quoted” \\ backslash\nnew line\t tab 🚀🚀🚀 ',
    options: { nested: { list: [1, 2.5, -3, null, true], empty: {}, deep: [{ k: 'ü' }] } },
  };
  const longText = `Here is a long answer with emoji 😀 at odd offsets ${'é😀'.repeat(30)} and the end.`;

  beforeAll(async () => {
    fake = await startFakeLlm(
      parseScript({
        scenarios: [
          { match: 'rate-limit-me', stages: { intent: { text: 'after the 429', errors: [{ status: 429, retryAfter: 2 }] } } },
          { match: 'reject-me', stages: { intent: { errors: [{ status: 400, message: 'messages: bad shape' }] } } },
          { match: 'server-error', stages: { intent: { errors: [{ status: 500 }] } } },
          { match: 'slow', stages: { intent: { text: 'late', delayMs: 5_000 } } },
          {
            match: '',
            stages: {
              execute: {
                text: longText,
                toolCalls: [
                  { name: 'write_file', input: toolInput },
                  { name: 'list_files', input: {} },
                ],
              },
            },
          },
        ],
      }),
    );
  });

  afterAll(async () => {
    await fake.close();
  });

  const llm = () => new AnthropicLlm({ apiKey: 'sk-test', baseURL: fake.url, model: 'claude-test', maxTokens: 1024 });
  const request = (taskId: string, stage: LlmRequest['stage'], text: string): LlmRequest => ({
    stage,
    taskId,
    system: 'You are a test.',
    messages: [{ role: 'user', content: text }],
    tools: [
      { name: 'write_file', description: 'w', input_schema: { type: 'object', properties: {} } },
      { name: 'list_files', description: 'l', input_schema: { type: 'object', properties: {} } },
    ],
  });

  it('streams text and tool_use blocks intact, with stop_reason', async () => {
    const message = await llm().complete(request('task-stream', 'execute', 'please write'));
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content.map((b) => b.type)).toEqual(['text', 'tool_use', 'tool_use']);
    expect(message.content[0]).toMatchObject({ type: 'text', text: longText });
    expect(message.content[1]).toMatchObject({ type: 'tool_use', name: 'write_file', input: toolInput });
    expect(message.content[1]!.type === 'tool_use' && message.content[1]!.id).toMatch(/^toolu_/);
    expect(message.content[2]).toMatchObject({ type: 'tool_use', name: 'list_files', input: {} });
  });

  it('sends the stage, task and turn headers, streaming, the model, and cache_control on the system block when asked', async () => {
    await llm().complete({ ...request('task-headers', 'execute', 'hello'), cacheSystem: true, turn: 3 });
    const recorded = fake.requests.find((r) => r.task === 'task-headers')!;
    expect(recorded).toMatchObject({ stage: 'execute', task: 'task-headers', turn: 3, status: 200 });
    expect(recorded.body).toMatchObject({ stream: true, model: 'claude-test' });
    // tools + system form one prefix: the breakpoint on the system block caches both; the tools carry none.
    expect(recorded.body.system).toEqual([{ type: 'text', text: 'You are a test.', cache_control: { type: 'ephemeral' } }]);
    const tools = recorded.body.tools as { name: string; cache_control?: unknown }[];
    expect(tools.map((t) => t.cache_control ?? null)).toEqual([null, null]);
    await llm().complete(request('task-no-cache', 'execute', 'hello'));
    expect(fake.requests.find((r) => r.task === 'task-no-cache')!.body.system).toEqual([{ type: 'text', text: 'You are a test.' }]);
  });

  it('a scripted 429 surfaces once (no SDK retry), classifies with the retry-after, and the next attempt succeeds', async () => {
    const client = llm();
    const err = await client.complete(request('task-429', 'intent', 'rate-limit-me')).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(fake.requests.filter((r) => r.task === 'task-429').map((r) => r.status)).toEqual([429]);
    const failure = classifyLlmError(err);
    expect(failure).toMatchObject({ type: FailureType.LlmRateLimited, nonRetryable: false, nextRetryDelay: 2_000 });

    const retried = await client.complete(request('task-429', 'intent', 'rate-limit-me'));
    expect(retried.content).toEqual([{ type: 'text', text: 'after the 429' }]);
    expect(retried.stop_reason).toBe('end_turn');
    expect(fake.requests.filter((r) => r.task === 'task-429').map((r) => r.status)).toEqual([429, 200]);
  });

  it('a scripted 400 classifies as non-retryable and a 500 as retryable, each sent once', async () => {
    const rejected = await llm()
      .complete(request('task-400', 'intent', 'reject-me'))
      .catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(Anthropic.BadRequestError);
    expect((rejected as Error).message).toContain('messages: bad shape');
    expect(classifyLlmError(rejected)).toMatchObject({ type: FailureType.LlmRequestRejected, nonRetryable: true });

    const unavailable = await llm()
      .complete(request('task-500', 'intent', 'server-error'))
      .catch((e: unknown) => e);
    expect(classifyLlmError(unavailable)).toMatchObject({ type: FailureType.LlmUnavailable, nonRetryable: false });
    expect(fake.requests.filter((r) => r.task === 'task-500')).toHaveLength(1);
  });

  it('an unreachable server classifies as retryable LlmUnavailable', async () => {
    const closed = await startFakeLlm(parseScript({ stages: {} }));
    const url = closed.url;
    await closed.close();
    const client = new AnthropicLlm({ apiKey: 'sk-test', baseURL: url, model: 'm', maxTokens: 16 });
    const err = await client.complete(request('task-down', 'intent', 'x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIConnectionError);
    expect(classifyLlmError(err)).toMatchObject({ type: FailureType.LlmUnavailable, nonRetryable: false });
  });

  it('an AbortSignal cancels an in-flight call', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = llm().complete(request('task-abort', 'intent', 'slow'), { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(pending).rejects.toBeInstanceOf(Anthropic.APIUserAbortError);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('an endpoint that accepts a call and then sends nothing is given up after the silence timeout, as a retryable failure', async () => {
    const quiet = new AnthropicLlm({ apiKey: 'sk-test', baseURL: fake.url, model: 'claude-test', maxTokens: 1024, silenceTimeoutMs: 400 });
    const started = Date.now();
    const err = await quiet.complete(request('task-silent', 'intent', 'slow please')).then(
      () => null,
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(err).toBeInstanceOf(ModelSilentError);
    expect((err as Error).message).toBe('the model endpoint sent nothing for 0s after accepting the request; the call is retried');
    expect(classifyLlmError(err)).toMatchObject({ type: FailureType.LlmUnavailable, nonRetryable: false });
  });

  it('throws MissingApiKeyError without an API key, before any request', async () => {
    const before = fake.requests.length;
    const client = new AnthropicLlm({ apiKey: undefined, baseURL: fake.url, model: 'm', maxTokens: 16 });
    await expect(client.complete(request('task-nokey', 'intent', 'x'))).rejects.toBeInstanceOf(MissingApiKeyError);
    await expect(client.complete(request('task-nokey', 'intent', 'x'))).rejects.toThrow(/ANTHROPIC_API_KEY is not set/);
    expect(fake.requests.length).toBe(before);
  });
});

describe('parseScript', () => {
  it('accepts the short form and normalises it to one scenario', () => {
    expect(parseScript({ stages: { respond: { text: 'hi' } } })).toEqual({ latencyMs: 0, scenarios: [{ match: '', stages: { respond: { text: 'hi' } } }] });
  });

  it('rejects a bad script with a message naming the field', () => {
    expect(() => parseScript({ stages: { execut: { text: 'x' } } })).toThrow(/^invalid fake-llm script: stages: Unrecognized key: "execut"/);
    expect(() => parseScript({ scenarios: [{ stages: { plan: { txt: 'y' } } }] })).toThrow(/scenarios\.0\.stages\.plan: .*"txt"/);
    expect(() => parseScript({ scenarios: [] })).toThrow(/scenarios: /);
  });

  it('names a bad field nested in a reply (status 200 as a scripted error)', () => {
    expect(() => parseScript({ stages: { execute: { errors: [{ status: 200 }] } } })).toThrow(/stages\.execute\.errors\.0\.status/);
  });
});

describe('TranscriptStore', () => {
  let dir: string;
  let store: FileStateStore;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'transcript-'));
    store = new FileStateStore(dir);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const user = (text: string): Anthropic.MessageParam => ({ role: 'user', content: text });
  const assistant = (text: string): Anthropic.MessageParam => ({ role: 'assistant', content: [{ type: 'text', text }] });

  it('loads the chain oldest first, from any head', async () => {
    const transcripts = new TranscriptStore(store);
    const h1 = await transcripts.append(null, [user('one')], 'the system prompt');
    const h2 = await transcripts.append(h1, [assistant('two'), user('three')]);
    const h3 = await transcripts.append(h2, [assistant('four')]);
    expect(await transcripts.load(h3)).toEqual({ system: 'the system prompt', messages: [user('one'), assistant('two'), user('three'), assistant('four')] });
    expect(await transcripts.load(h1)).toEqual({ system: 'the system prompt', messages: [user('one')] });
    // A fresh instance (another worker, empty cache) reads the same chain from the store.
    expect(await new TranscriptStore(store).load(h3)).toEqual(await transcripts.load(h3));
  });

  it('gives the same ref for the same append and a different one for a different parent', async () => {
    const transcripts = new TranscriptStore(store);
    const h1 = await transcripts.append(null, [user('one')]);
    expect(await transcripts.append(null, [user('one')])).toBe(h1);
    const a = await transcripts.append(h1, [user('x')]);
    expect(await transcripts.append(h1, [user('x')])).toBe(a);
    expect(await transcripts.append(null, [user('x')])).not.toBe(a);
  });

  it('load(null) is empty and a missing segment throws BlobNotFoundError', async () => {
    const transcripts = new TranscriptStore(store);
    expect(await transcripts.load(null)).toEqual({ system: null, messages: [] });
    await expect(transcripts.load(`sha256:${'a'.repeat(64)}`)).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it('evicts from its cache without losing data', async () => {
    const transcripts = new TranscriptStore(store, 2);
    let head: string | null = null;
    for (let i = 0; i < 6; i++) head = await transcripts.append(head, [user(`m${i}`)]);
    expect((await transcripts.load(head)).messages.map((m) => m.content)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
  });
});

describe('renderTranscript', () => {
  const messages: Anthropic.MessageParam[] = [
    { role: 'user', content: 'Task: fix it' },
    {
      role: 'assistant',
      content: [
        { type: 'text', text: 'On it.' },
        { type: 'tool_use', id: 't1', name: 'read_file', input: { path: 'a.ts' } },
      ],
    },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'no such file', is_error: true }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't2', content: [{ type: 'text', text: 'listed' }] }] },
    { role: 'assistant', content: [{ type: 'text', text: 'THE FINAL WORD' }] },
  ];

  it('renders text, tool calls and tool results', () => {
    expect(renderTranscript(messages)).toBe(
      [
        'USER: Task: fix it',
        'ASSISTANT: On it.',
        'TOOL CALL read_file {"path":"a.ts"}',
        'TOOL RESULT (error): no such file',
        'TOOL RESULT: listed',
        'ASSISTANT: THE FINAL WORD',
      ].join('\n'),
    );
  });

  it('keeps the tail when over maxChars', () => {
    const full = renderTranscript(messages);
    const capped = renderTranscript(messages, 30);
    expect(capped).toBe(`[... earlier transcript omitted ...]\n${full.slice(-30)}`);
    expect(capped.endsWith('ASSISTANT: THE FINAL WORD')).toBe(true);
    expect(capped).not.toContain('Task: fix it');
    expect(renderTranscript(messages, full.length)).toBe(full);
  });
});
