/** How a transcript becomes a request: stubs for cleared outputs, merged roles, cache breakpoints, compaction's first message. */
import type Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { initialContext } from '../../domain/context';
import {
  apiMessages,
  clearingHelps,
  clearingPoint,
  estimateRequest,
  firstMessageWithSummary,
  messageText,
  splitFirstMessage,
  tailStart,
  withBreakpoints,
} from '../../services/llm/context-window';

const REF = `sha256:${'a'.repeat(64)}`;
const turn = (i: number, bytes = 8_000): Anthropic.MessageParam[] => [
  { role: 'assistant', content: [{ type: 'tool_use', id: `t${i}`, name: 'read_file', input: { path: `f${i}.txt` } }] },
  { role: 'user', content: [{ type: 'tool_result', tool_use_id: `t${i}`, content: 'x'.repeat(bytes), _ref: REF, _bytes: bytes } as Anthropic.ToolResultBlockParam] },
];
const transcript = (turns: number): Anthropic.MessageParam[] => [{ role: 'user', content: 'the task' }, ...Array.from({ length: turns }, (_, i) => turn(i + 1)).flat()];

describe('clearing old tool outputs', () => {
  it('clears everything but the last three turns, in one batch, and only when it saves something', () => {
    const messages = transcript(10);
    const point = clearingPoint(messages, 0);
    expect(messages[point]!.role).toBe('assistant');
    expect(messages.length - point).toBe(6); // 3 turns of assistant + user
    expect(clearingHelps(messages, 0, point)).toBe(true);
    // Already cleared up to there: nothing new.
    expect(clearingPoint(messages, point)).toBe(point);
    const small = [{ role: 'user', content: 'the task' } as Anthropic.MessageParam, ...Array.from({ length: 5 }, (_, i) => turn(i, 100)).flat()];
    expect(clearingHelps(small, 0, clearingPoint(small, 0))).toBe(false);
  });

  it('renders cleared results as stubs naming the stored output, strips our fields, and leaves later results whole', () => {
    const messages = transcript(5);
    const point = clearingPoint(messages, 0);
    const sent = apiMessages(messages, point);
    const results = sent.flatMap((m) => (typeof m.content === 'string' ? [] : m.content)).filter((b) => b.type === 'tool_result') as Anthropic.ToolResultBlockParam[];
    expect(results).toHaveLength(5);
    expect(results.slice(0, 2).map((r) => r.content)).toEqual([
      expect.stringMatching(/^\[This earlier tool output \(8,000 bytes\) was cleared .* read_output \{"id": "sha256:a{64}"\} shows it again\.\]$/),
      expect.any(String),
    ]);
    expect(results[1]!.content).toMatch(/^\[This earlier tool output/);
    expect(results.slice(2).every((r) => r.content === 'x'.repeat(8_000))).toBe(true);
    expect(JSON.stringify(sent)).not.toMatch(/_ref|_bytes/);
  });

  it('merges consecutive messages of one role (a note after tool results, a continued paused turn)', () => {
    const sent = apiMessages(
      [
        { role: 'user', content: 'task' },
        { role: 'assistant', content: [{ type: 'text', text: 'part one' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'part two' }] },
        { role: 'user', content: 'continue' },
      ],
      0,
    );
    expect(sent.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(sent[1]!.content).toEqual([
      { type: 'text', text: 'part one' },
      { type: 'text', text: 'part two' },
    ]);
  });
});

describe('prompt caching breakpoints', () => {
  it('marks the last block and the previous turn, and the earlier bytes stay identical from turn to turn', () => {
    const before = apiMessages(transcript(4), 0);
    const after = apiMessages(transcript(5), 0);
    const marked = withBreakpoints(after);
    const marks = marked.flatMap((m, i) => (m.content as { cache_control?: unknown }[]).map((b, j) => (b.cache_control ? `${i}.${j}` : null))).filter(Boolean);
    expect(marks).toEqual([`${marked.length - 3}.0`, `${marked.length - 1}.0`]);
    // The transcript itself is never marked, and the new request starts with the old one's bytes.
    expect(JSON.stringify(after)).not.toContain('cache_control');
    expect(JSON.stringify(after.slice(0, before.length))).toBe(JSON.stringify(before));
    // The block marked as "previous turn" now is the one marked "last" a turn ago: the cache written then is read now.
    expect(withBreakpoints(before)[before.length - 1]!.content).toEqual(marked[marked.length - 3]!.content);
  });
});

describe('estimates and compaction', () => {
  it('calibrates the rough estimate by how far off it was last time, never below it', () => {
    expect(estimateRequest(1_000, initialContext())).toBe(1_150);
    expect(estimateRequest(1_000, { ...initialContext(), lastInputTokens: 1_300, lastEstimate: 1_000 })).toBe(1_300);
    expect(estimateRequest(1_000, { ...initialContext(), lastInputTokens: 800, lastEstimate: 1_000 })).toBe(1_000);
  });

  it('keeps the original request apart from the summary, across compactions', () => {
    const once = firstMessageWithSummary('Task: do it', 'summary one', 1);
    expect(splitFirstMessage(once)).toEqual({ request: 'Task: do it', summary: 'summary one' });
    const twice = firstMessageWithSummary(splitFirstMessage(once).request, 'summary two', 2);
    expect(splitFirstMessage(twice)).toEqual({ request: 'Task: do it', summary: 'summary two' });
    expect(splitFirstMessage('plain')).toEqual({ request: 'plain', summary: null });
  });

  it('keeps the last two turns verbatim and renders the rest for the summariser', () => {
    const messages = transcript(6);
    const start = tailStart(messages);
    expect(messages.length - start).toBe(4);
    expect(messages[start]!.role).toBe('assistant');
    expect(messageText(messages[2]!, true)).toMatch(/^TOOL RESULT \[sha256:a{64}\]: \[This earlier tool output/);
    expect(messageText(messages[2]!, false, 1_000)).toMatch(/\[… 7000 characters …\]/);
  });
});
