/**
 * The fake LLM is as strict as the real Messages API where context management can go wrong:
 * prompt caching, the context window, the tool_use/tool_result protocol, max_tokens and every
 * stop_reason. Driven through the real @anthropic-ai/sdk, JSON and streaming.
 */
import Anthropic, { type APIError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../servers/fake-llm/fake-llm-server';
import { parseScript } from '../../servers/fake-llm/script';

/** The documented token rule: ceil(UTF-8 bytes of the block's JSON, without cache_control, / 4). */
const tok = (block: unknown) => Math.ceil(Buffer.byteLength(JSON.stringify(block), 'utf8') / 4);
const text = (t: string) => ({ type: 'text' as const, text: t });
const cached = <T extends object>(block: T) => ({ ...block, cache_control: { type: 'ephemeral' as const } });
/** About 1,500 tokens: above the default 1,024-token minimum. */
const longSystem = (tag: string) => `You are test model ${tag}. ${'Follow the rules of the workspace carefully. '.repeat(130)}`;

const fullInput = { path: 'notes/a.txt', content: 'hello world, '.repeat(20) };
const longAnswer = `The answer, at length: ${'word '.repeat(400)}end.`;

const clock = { now: 1_700_000_000_000 };
let fake: FakeLlm;
let client: Anthropic;

beforeAll(async () => {
  fake = await startFakeLlm(
    parseScript({
      scenarios: [
        {
          match: 'cut-tool',
          stages: {
            execute: {
              text: 'Writing.',
              toolCalls: [
                { name: 'list_files', input: {} },
                { name: 'write_file', input: fullInput },
              ],
              stopReason: 'max_tokens',
            },
          },
        },
        { match: 'cut-text', stages: { execute: { text: 'abcdefghij', stopReason: 'max_tokens' } } },
        { match: 'long-answer', stages: { execute: { text: longAnswer } } },
        { match: 'long-call', stages: { execute: { toolCalls: [{ name: 'write_file', input: fullInput }] } } },
        { match: 'refuse-me', stages: { execute: { text: 'I will not do that.', toolCalls: [{ name: 'list_files', input: {} }], stopReason: 'refusal' } } },
        { match: 'pause-me', stages: { execute: { text: 'Still searching.', stopReason: 'pause_turn' } } },
        { match: 'window-full', stages: { execute: { text: 'Out of room.', stopReason: 'model_context_window_exceeded' } } },
        { match: 'by-turn', stages: { execute: [{ text: 'turn zero' }, { text: 'turn one' }, { text: 'turn two' }] } },
        { match: 'scripted-summary', stages: { compact: { text: 'My own summary.' } } },
        { match: '', stages: { execute: { text: 'ok' } } },
      ],
    }),
    { now: () => clock.now },
  );
  client = new Anthropic({ apiKey: 'x', baseURL: fake.url, maxRetries: 0 });
});

afterAll(async () => {
  await fake.close();
});

const base = { model: 'claude-test', max_tokens: 1024 } as const;
const last = () => fake.requests.at(-1)!;
const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (e: unknown) => e as APIError,
  );

describe('prompt caching', () => {
  it('a breakpoint on a long system block writes the prefix; the same prefix again reads it (JSON and stream)', async () => {
    const system = [cached(text(longSystem('write-read')))];
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'hello' }];
    const systemTokens = tok(text(longSystem('write-read')));
    const messageTokens = tok(text('hello'));
    expect(systemTokens).toBeGreaterThan(1024);

    const first = await client.messages.create({ ...base, system, messages });
    expect(first.usage).toMatchObject({ cache_creation_input_tokens: systemTokens, cache_read_input_tokens: 0, input_tokens: messageTokens });
    expect(last()).toMatchObject({ inputTokens: systemTokens + messageTokens, breakpoints: 1, maxTokens: 1024, usage: first.usage });

    const stream = client.messages.stream({ ...base, system, messages });
    const events: Anthropic.MessageStreamEvent[] = [];
    stream.on('streamEvent', (event) => events.push(event));
    const second = await stream.finalMessage();
    // Both message_start and the final message_delta carry the four usage fields.
    const start = events.find((e) => e.type === 'message_start')!;
    const delta = events.find((e) => e.type === 'message_delta')!;
    expect(start.type === 'message_start' && start.message.usage).toMatchObject({
      cache_read_input_tokens: systemTokens,
      cache_creation_input_tokens: 0,
      input_tokens: messageTokens,
    });
    expect(delta.type === 'message_delta' && delta.usage).toMatchObject({
      cache_read_input_tokens: systemTokens,
      cache_creation_input_tokens: 0,
      input_tokens: messageTokens,
      output_tokens: tok(text('ok')),
    });
    expect(second.usage).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: systemTokens, input_tokens: messageTokens });
    expect(second.usage.output_tokens).toBe(tok(text('ok')));
    expect(last().usage).toEqual({ input_tokens: messageTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: systemTokens, output_tokens: tok(text('ok')) });

    // Another model has its own cache.
    const other = await client.messages.create({ ...base, model: 'claude-other', system, messages });
    expect(other.usage).toMatchObject({ cache_creation_input_tokens: systemTokens, cache_read_input_tokens: 0 });
  });

  it("a rolling breakpoint on the last block reads the previous turn's prefix and writes only the new part", async () => {
    const system = longSystem('rolling');
    const task = text('Task: tidy the notes');
    const call = { type: 'tool_use' as const, id: 'toolu_r1', name: 'list_files', input: {} };
    const result = { type: 'tool_result' as const, tool_use_id: 'toolu_r1', content: 'a.txt\nb.txt' };
    const call2 = { type: 'tool_use' as const, id: 'toolu_r2', name: 'read_file', input: { path: 'a.txt' } };
    const result2 = { type: 'tool_result' as const, tool_use_id: 'toolu_r2', content: 'alpha' };

    const turn1 = await client.messages.stream({ ...base, system, messages: [{ role: 'user', content: [cached(task)] }] }).finalMessage();
    const prefix1 = tok(text(system)) + tok(task);
    expect(turn1.usage).toMatchObject({ cache_creation_input_tokens: prefix1, cache_read_input_tokens: 0, input_tokens: 0 });

    const turn2 = await client.messages
      .stream({
        ...base,
        system,
        messages: [
          { role: 'user', content: [task] },
          { role: 'assistant', content: [call] },
          { role: 'user', content: [cached(result)] },
        ],
      })
      .finalMessage();
    expect(turn2.usage).toMatchObject({ cache_read_input_tokens: prefix1, cache_creation_input_tokens: tok(call) + tok(result), input_tokens: 0 });

    const turn3 = await client.messages
      .stream({
        ...base,
        system,
        messages: [
          { role: 'user', content: [task] },
          { role: 'assistant', content: [call] },
          { role: 'user', content: [result] },
          { role: 'assistant', content: [call2] },
          { role: 'user', content: [cached(result2), text('and then?')] },
        ],
      })
      .finalMessage();
    // Reads all of turn 2's prefix, writes up to the breakpoint, and the block after it is plain input.
    expect(turn3.usage).toMatchObject({
      cache_read_input_tokens: prefix1 + tok(call) + tok(result),
      cache_creation_input_tokens: tok(call2) + tok(result2),
      input_tokens: tok(text('and then?')),
    });
  });

  it('a prefix under cacheMinTokens is neither written nor read: no caching, no error', async () => {
    const system = [cached(text('A short system prompt.'))];
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'hi' }];
    const total = tok(text('A short system prompt.')) + tok(text('hi'));
    for (let i = 0; i < 2; i++) {
      const message = await client.messages.create({ ...base, system, messages });
      expect(message.usage).toMatchObject({ input_tokens: total, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
    }
  });

  it('an entry lives 5 minutes from its last hit, then the prefix is written again', async () => {
    const system = [cached(text(longSystem('ttl')))];
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'hello' }];
    const ask = () => client.messages.create({ ...base, system, messages }).then((m) => m.usage);
    const prefix = tok(text(longSystem('ttl')));
    expect(await ask()).toMatchObject({ cache_creation_input_tokens: prefix, cache_read_input_tokens: 0 });
    clock.now += 4 * 60_000;
    expect(await ask()).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: prefix });
    clock.now += 4 * 60_000; // 8 minutes after the write, 4 after the hit that refreshed it
    expect(await ask()).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: prefix });
    clock.now += 5 * 60_000 + 1;
    expect(await ask()).toMatchObject({ cache_creation_input_tokens: prefix, cache_read_input_tokens: 0 });
  });

  it('breakpoints on tools, system and messages; more than 4 is a 400 with the real wording', async () => {
    const tool = (name: string) => ({ name, description: `the ${name} tool. ${'It does things. '.repeat(40)}`, input_schema: { type: 'object' as const, properties: {} } });
    const tools = [tool('a'), cached(tool('b'))];
    const system = [cached(text(longSystem('five'))), cached(text('second system block'))];
    const ok = await client.messages.create({ ...base, tools, system, messages: [{ role: 'user', content: [cached(text('hello'))] }] });
    const all = tok(tool('a')) + tok(tool('b')) + tok(text(longSystem('five'))) + tok(text('second system block')) + tok(text('hello'));
    expect(ok.usage).toMatchObject({ cache_creation_input_tokens: all, cache_read_input_tokens: 0, input_tokens: 0 });
    expect(last().breakpoints).toBe(4);

    const err = await rejection(
      client.messages.create({ ...base, tools: [cached(tool('a')), cached(tool('b'))], system, messages: [{ role: 'user', content: [cached(text('hello'))] }] }),
    );
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err!.error).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'A maximum of 4 blocks with cache_control may be provided. Found 5.' },
    });
    expect(last()).toMatchObject({ status: 400, breakpoints: 5 });
    expect(last().usage).toBeUndefined();
  });
});

describe('context window', () => {
  it('a prompt over the window is a 400 "prompt is too long" in the real shape; the option overrides the script', async () => {
    const small = await startFakeLlm(parseScript({ contextWindow: 300, stages: {} }));
    try {
      const sdk = new Anthropic({ apiKey: 'x', baseURL: small.url, maxRetries: 0 });
      const content = 'x'.repeat(1_000);
      const tokens = tok(text(content));
      expect(tokens).toBeGreaterThan(250);
      const ok = await sdk.messages.create({ ...base, messages: [{ role: 'user', content }] });
      expect(ok.usage.input_tokens).toBe(tokens);

      const big = 'y'.repeat(2_000);
      const err = await rejection(sdk.messages.stream({ ...base, messages: [{ role: 'user', content: big }] }).finalMessage());
      expect(err).toBeInstanceOf(Anthropic.BadRequestError);
      expect(err!.message).toContain('prompt is too long');
      expect(err!.error).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: `prompt is too long: ${tok(text(big))} tokens > 300 maximum` } });
    } finally {
      await small.close();
    }
    // Cached tokens count toward the window too: the window is about the whole prompt.
    const strict = await startFakeLlm(parseScript({ contextWindow: 300, stages: {} }), { contextWindow: 100_000, cacheMinTokens: 0 });
    try {
      const sdk = new Anthropic({ apiKey: 'x', baseURL: strict.url, maxRetries: 0 });
      const ok = await sdk.messages.create({ ...base, messages: [{ role: 'user', content: [cached(text('z'.repeat(2_000)))] }] });
      expect(ok.usage.cache_creation_input_tokens).toBeGreaterThan(300);
    } finally {
      await strict.close();
    }
  });

  it('the default window is 200,000 tokens', async () => {
    const err = await rejection(client.messages.create({ ...base, messages: [{ role: 'user', content: 'w'.repeat(800_010) }] }));
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err!.message).toMatch(/prompt is too long: 200\d{3} tokens > 200000 maximum/);
  });
});

describe('tool protocol', () => {
  const call = { type: 'tool_use' as const, id: 'toolu_p1', name: 'list_files', input: {} };
  const call2 = { type: 'tool_use' as const, id: 'toolu_p2', name: 'read_file', input: { path: 'a' } };

  it('a tool_use without its tool_result in the next message is a 400 with the real wording', async () => {
    const err = await rejection(
      client.messages.create({
        ...base,
        messages: [
          { role: 'user', content: 'go' },
          { role: 'assistant', content: [text('Looking.'), call, call2] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_p1', content: 'a.txt' }] },
        ],
      }),
    );
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err!.error).toEqual({
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message:
          'messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_p2. ' +
          'Each `tool_use` block must have a corresponding `tool_result` block in the next message.',
      },
    });
    expect(last().status).toBe(400);

    // Answered one message too late is unanswered too.
    const late = await rejection(
      client.messages.create({
        ...base,
        messages: [
          { role: 'user', content: 'go' },
          { role: 'assistant', content: [call] },
          { role: 'user', content: 'what now?' },
          { role: 'assistant', content: 'hm' },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_p1', content: 'a.txt' }] },
        ],
      }),
    );
    expect(late!.message).toContain('messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_p1.');
  });

  it('a tool_result whose id is not in the previous assistant message is a 400 with the real wording', async () => {
    const err = await rejection(
      client.messages
        .stream({
          ...base,
          messages: [
            { role: 'user', content: 'go' },
            { role: 'assistant', content: [call] },
            {
              role: 'user',
              content: [
                { type: 'tool_result', tool_use_id: 'toolu_p1', content: 'ok' },
                { type: 'tool_result', tool_use_id: 'toolu_gone', content: 'cleared' },
              ],
            },
          ],
        })
        .finalMessage(),
    );
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err!.error).toMatchObject({
      error: {
        type: 'invalid_request_error',
        message:
          'messages.2.content.1: unexpected `tool_use_id` found in `tool_result` blocks: toolu_gone. ' +
          'Each `tool_result` block must have a corresponding `tool_use` block in the previous message.',
      },
    });
  });

  it("the first message must be the user's; a final assistant message is a prefill and allowed", async () => {
    const err = await rejection(client.messages.create({ ...base, messages: [{ role: 'assistant', content: 'I start.' }] }));
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err!.error as { error: { message: string } }).error.message).toBe('messages: first message must use the "user" role');

    const prefill = await client.messages.create({
      ...base,
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: [call] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_p1', content: 'a.txt' }] },
        { role: 'assistant', content: 'So far' },
      ],
    });
    expect(prefill.stop_reason).toBe('end_turn');
  });
});

describe('max_tokens and stop reasons', () => {
  const ask = (prompt: string, extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}) => ({ ...base, messages: [{ role: 'user' as const, content: prompt }], ...extra });

  it('a scripted max_tokens cuts the last tool call mid-JSON: the streamed input is incomplete', async () => {
    const message = await client.messages.stream(ask('cut-tool')).finalMessage();
    expect(message.stop_reason).toBe('max_tokens');
    expect(message.content.map((b) => b.type)).toEqual(['text', 'tool_use', 'tool_use']);
    expect(message.content[1]).toMatchObject({ type: 'tool_use', name: 'list_files', input: {} });
    const cut = message.content[2] as Anthropic.ToolUseBlock;
    expect(cut.name).toBe('write_file');
    const input = cut.input as { path?: string; content?: string };
    expect(input).not.toEqual(fullInput);
    // Missing the cut field, or holding only its start.
    expect(input.content === undefined || (input.content.length < fullInput.content.length && fullInput.content.startsWith(input.content))).toBe(true);

    // Without streaming, the cut call has no input at all.
    const json = await client.messages.create(ask('cut-tool'));
    expect(json.stop_reason).toBe('max_tokens');
    expect((json.content[2] as Anthropic.ToolUseBlock).input).toEqual({});
  });

  it('a scripted max_tokens on text cuts it in half', async () => {
    const message = await client.messages.create(ask('cut-text'));
    expect(message).toMatchObject({ stop_reason: 'max_tokens', content: [{ type: 'text', text: 'abcde' }] });
  });

  it("a reply longer than the request's max_tokens is cut there, text and tool calls alike", async () => {
    expect(tok(text(longAnswer))).toBeGreaterThan(100);
    for (const message of [
      await client.messages.create(ask('long-answer', { max_tokens: 40 })),
      await client.messages.stream(ask('long-answer', { max_tokens: 40 })).finalMessage(),
    ]) {
      expect(message.stop_reason).toBe('max_tokens');
      expect(message.usage.output_tokens).toBe(40);
      const { text: cut } = message.content[0] as Anthropic.TextBlock;
      expect(longAnswer.startsWith(cut)).toBe(true);
      expect(cut.length).toBeGreaterThan(100);
      expect(tok(text(cut))).toBeLessThanOrEqual(40);
    }
    expect(last().maxTokens).toBe(40);

    const call = await client.messages.stream(ask('long-call', { max_tokens: 30 })).finalMessage();
    expect(call.stop_reason).toBe('max_tokens');
    const input = (call.content[0] as Anthropic.ToolUseBlock).input as { content?: string };
    expect(input).not.toEqual(fullInput);

    // Enough room: the whole reply, stop_reason from its content.
    const whole = await client.messages.create(ask('long-call', { max_tokens: 4096 }));
    expect(whole).toMatchObject({ stop_reason: 'tool_use', content: [{ type: 'tool_use', input: fullInput }] });
  });

  it('refusal sends only the text; pause_turn and model_context_window_exceeded send the content as it is', async () => {
    const refused = await client.messages.stream(ask('refuse-me')).finalMessage();
    expect(refused).toMatchObject({ stop_reason: 'refusal', content: [{ type: 'text', text: 'I will not do that.' }] });
    expect(refused.content).toHaveLength(1);

    const paused = await client.messages.create(ask('pause-me'));
    expect(paused).toMatchObject({ stop_reason: 'pause_turn', content: [{ type: 'text', text: 'Still searching.' }] });

    const full = await client.messages.stream(ask('window-full')).finalMessage();
    expect(full.stop_reason).toBe('model_context_window_exceeded');
  });

  it('x-agent-turn picks the reply (the assistant-message count is the fallback) and is recorded', async () => {
    const plain = await client.messages.create(ask('by-turn'));
    expect(plain.content).toEqual([text('turn zero')]);
    expect(last()).toMatchObject({ turn: 0, headers: {} });

    const byHeader = await client.messages.create(ask('by-turn'), { headers: { 'x-agent-turn': '2', 'x-agent-stage': 'execute', 'x-agent-task': 't-turn' } });
    expect(byHeader.content).toEqual([text('turn two')]);
    expect(last()).toMatchObject({ turn: 2, task: 't-turn', headers: { turn: '2', stage: 'execute', task: 't-turn' } });

    const counted = await client.messages.create({
      ...base,
      messages: [
        { role: 'user', content: 'by-turn' },
        { role: 'assistant', content: 'a' },
        { role: 'user', content: 'b' },
      ],
    });
    expect(counted.content).toEqual([text('turn one')]);

    const bad = await rejection(client.messages.create(ask('by-turn'), { headers: { 'x-agent-turn': 'two' } }));
    expect(bad).toBeInstanceOf(Anthropic.BadRequestError);
  });
});

describe('compact stage', () => {
  it('a script without a compact entry gets the default summary', async () => {
    const summary = await client.messages.create(
      {
        ...base,
        messages: [
          { role: 'user', content: 'Task: tidy the notes\nmore detail' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_c1', name: 'list_files', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_c1', content: 'a.txt' }, text('Summarise the work so far.')] },
        ],
      },
      { headers: { 'x-agent-stage': 'compact' } },
    );
    expect(summary.stop_reason).toBe('end_turn');
    expect(summary.content).toHaveLength(1);
    const { text: body } = summary.content[0] as Anthropic.TextBlock;
    expect(body).toMatch(/^Summary of the work so far \(fake LLM\):/);
    expect(body).toContain('1 tool result seen');
    expect(body).toContain('Task: tidy the notes');
    expect(last().stage).toBe('compact');
  });

  it('a scripted compact entry answers instead', async () => {
    const summary = await client.messages.create({ ...base, messages: [{ role: 'user', content: 'scripted-summary' }] }, { headers: { 'x-agent-stage': 'compact' } });
    expect(summary.content).toEqual([text('My own summary.')]);
  });

  it('parseScript accepts the new fields and rejects bad ones', () => {
    expect(parseScript({ contextWindow: 1000, cacheMinTokens: 0, stages: { compact: { text: 's', stopReason: 'refusal' } } })).toEqual({
      latencyMs: 0,
      contextWindow: 1000,
      cacheMinTokens: 0,
      scenarios: [{ match: '', stages: { compact: { text: 's', stopReason: 'refusal' } } }],
    });
    expect(() => parseScript({ stages: { execute: { stopReason: 'tired' } } })).toThrow(/stages\.execute\.stopReason/);
    expect(() => parseScript({ contextWindow: 0, stages: {} })).toThrow(/contextWindow/);
  });
});
