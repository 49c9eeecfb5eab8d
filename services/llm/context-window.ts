/**
 * How a transcript becomes a request that fits the window and pays for itself:
 *
 *   - estimate: the last request's real input tokens calibrate a chars/4 estimate of the next one;
 *   - clearing, in batches: past CLEAR_AT of the window, every tool result older than the last
 *     KEEP_RESULT_TURNS turns becomes a one-line stub naming its stored output (read_output pages
 *     it back). Batches, not a sliding window: between batches every earlier byte stays identical,
 *     so the cached prefix keeps paying;
 *   - compaction past COMPACT_AT (the caller runs it: a model call that summarises the work);
 *   - prompt caching: one breakpoint on the system block (tools + system: a prefix shared by every
 *     task of a worker with the same tools), a rolling one on the last block of the request and one
 *     on the previous turn's last block as a fallback (3 of the 4 the API allows). The transcript
 *     itself never stores cache_control: it is added here, at render time.
 *
 * Transcript tool_result blocks carry `_ref` / `_bytes` (the stored output); they are ours and are
 * stripped before anything reaches the API.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { ContextState } from '../../domain/context';

/** Clear old tool results once the next request would pass this share of the window. */
export const CLEAR_AT = 0.5;
/** Compact once the next request would pass this share even after clearing. */
export const COMPACT_AT = 0.78;
/** Tool results of the last turns stay whole when older ones are cleared. */
export const KEEP_RESULT_TURNS = 3;
/** Turns kept verbatim after a compaction (the rest becomes the summary). */
export const KEEP_TURNS_AFTER_COMPACTION = 2;
/** Outputs smaller than this are never cleared: the stub would save nothing. */
const MIN_CLEARABLE_BYTES = 600;

/** A tool_result block as the transcript stores it. */
export type StoredToolResult = Anthropic.ToolResultBlockParam & { _ref?: string; _bytes?: number };

/** Rough tokens of a value: its JSON length / 4 (what the API's tokenizer averages on code and English). */
export function roughTokens(value: unknown): number {
  return Math.ceil(Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value)) / 4);
}

/** The next request's size: the rough estimate, scaled by how far off the rough estimate was last time (never below it). */
export function estimateRequest(rough: number, state: ContextState): number {
  const ratio = state.lastInputTokens > 0 && state.lastEstimate > 0 ? Math.max(1, state.lastInputTokens / state.lastEstimate) : 1.15;
  return Math.ceil(rough * ratio);
}

function blocksOf(message: Anthropic.MessageParam): Anthropic.ContentBlockParam[] {
  return typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : (message.content as Anthropic.ContentBlockParam[]);
}

/**
 * The index before which tool results should be cleared so that only the last `keep` turns keep
 * theirs (a turn = one assistant message and the user message after it), or `current` when there is
 * nothing new to clear.
 */
export function clearingPoint(messages: Anthropic.MessageParam[], current: number, keep = KEEP_RESULT_TURNS): number {
  let assistants = 0;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]!.role === 'assistant' && ++assistants === keep) return Math.max(current, i);
  }
  return current;
}

/** True when a clearing point would hide at least one output worth clearing. */
export function clearingHelps(messages: Anthropic.MessageParam[], from: number, to: number): boolean {
  for (let i = from; i < to && i < messages.length; i++) {
    for (const block of blocksOf(messages[i]!)) {
      const stored = block as StoredToolResult;
      if (stored.type === 'tool_result' && stored._ref && (stored._bytes ?? 0) >= MIN_CLEARABLE_BYTES) return true;
    }
  }
  return false;
}

function stub(result: StoredToolResult): string {
  return (
    `[This earlier tool output (${(result._bytes ?? 0).toLocaleString('en-US')} bytes) was cleared to keep the context small. ` +
    `read_output {"id": "${result._ref}"} shows it again.]`
  );
}

/**
 * The messages as the API takes them: cleared results as stubs, our own fields stripped, and
 * consecutive messages of one role merged (a note after tool results, a continued paused turn).
 */
export function apiMessages(messages: Anthropic.MessageParam[], clearedBefore: number): Anthropic.MessageParam[] {
  const out: Anthropic.MessageParam[] = [];
  messages.forEach((message, index) => {
    const blocks = blocksOf(message).map((block): Anthropic.ContentBlockParam => {
      if (block.type !== 'tool_result') return block;
      const { _ref, _bytes, ...clean } = block as StoredToolResult;
      if (index < clearedBefore && _ref && (_bytes ?? 0) >= MIN_CLEARABLE_BYTES) return { ...clean, content: stub({ ...clean, _ref, _bytes }) };
      return clean;
    });
    const last = out[out.length - 1];
    if (last && last.role === message.role) last.content = [...(last.content as Anthropic.ContentBlockParam[]), ...blocks] as Anthropic.MessageParam['content'];
    else out.push({ role: message.role, content: blocks } as Anthropic.MessageParam);
  });
  return out;
}

type Cacheable = Anthropic.ContentBlockParam & { cache_control?: Anthropic.CacheControlEphemeral | null };

/**
 * Puts the rolling breakpoint on the last block of the last message and the fallback on the last
 * block of the message two back (the previous turn's end). Returns new message objects; the input is
 * not changed.
 */
export function withBreakpoints(messages: Anthropic.MessageParam[]): Anthropic.MessageParam[] {
  const marked = messages.map((m) => ({ ...m, content: [...(m.content as Anthropic.ContentBlockParam[])] }) as Anthropic.MessageParam);
  for (const index of [marked.length - 1, marked.length - 3]) {
    const message = marked[index];
    if (!message) continue;
    const blocks = message.content as Cacheable[];
    const lastIndex = blocks.length - 1;
    const last = blocks[lastIndex];
    // Thinking blocks cannot carry cache_control; an empty text block cannot either.
    if (!last || last.type === 'thinking' || last.type === 'redacted_thinking' || (last.type === 'text' && !last.text)) continue;
    blocks[lastIndex] = { ...last, cache_control: { type: 'ephemeral' } } as Cacheable;
  }
  return marked;
}

/** The summary a compaction writes into the first user message, marked so a later compaction can find the original request. */
export const SUMMARY_OPEN = '\n\n<summary-of-earlier-work compactions="';
export const SUMMARY_CLOSE = '</summary-of-earlier-work>';

/** The text of a transcript's first message (the request, with a summary after a compaction). */
export function firstText(messages: Anthropic.MessageParam[]): string {
  const first = messages[0];
  return first ? (blocksOf(first).find((b): b is Anthropic.TextBlockParam => b.type === 'text')?.text ?? '') : '';
}

/** The original request text and the latest summary, from a first user message. */
export function splitFirstMessage(text: string): { request: string; summary: string | null } {
  const at = text.indexOf(SUMMARY_OPEN);
  if (at < 0) return { request: text, summary: null };
  const body = text.slice(at + SUMMARY_OPEN.length);
  const start = body.indexOf('">\n');
  const end = body.indexOf(SUMMARY_CLOSE);
  return { request: text.slice(0, at), summary: start >= 0 && end > start ? body.slice(start + 3, end).trim() : null };
}

export function firstMessageWithSummary(request: string, summary: string, compactions: number): string {
  return `${request}${SUMMARY_OPEN}${compactions}">\n${summary.trim()}\n${SUMMARY_CLOSE}\nThe work above was compacted into this summary; continue the task from where it stands.`;
}

/** Where the kept tail starts: the `keep`-th assistant message from the end (never message 0). */
export function tailStart(messages: Anthropic.MessageParam[], keep = KEEP_TURNS_AFTER_COMPACTION): number {
  let assistants = 0;
  for (let i = messages.length - 1; i > 0; i--) {
    if (messages[i]!.role === 'assistant' && ++assistants === keep) return i;
  }
  return Math.min(1, messages.length);
}

/** Plain text of one message's blocks, for the summariser (cleared results stay stubs, long outputs are cut in the middle). */
export function messageText(message: Anthropic.MessageParam, cleared: boolean, maxResultChars = 4_000): string {
  const lines: string[] = [];
  for (const block of blocksOf(message)) {
    if (block.type === 'text') lines.push(`${message.role.toUpperCase()}: ${block.text}`);
    else if (block.type === 'tool_use') lines.push(`TOOL CALL ${block.name} ${JSON.stringify(block.input).slice(0, 2_000)}`);
    else if (block.type === 'tool_result') {
      const stored = block as StoredToolResult;
      const raw = typeof block.content === 'string' ? block.content : (block.content ?? []).map((c) => ('text' in c ? c.text : `[${c.type}]`)).join('\n');
      const text =
        cleared && stored._ref
          ? stub(stored)
          : raw.length > maxResultChars
            ? `${raw.slice(0, maxResultChars / 2)}\n[… ${raw.length - maxResultChars} characters …]\n${raw.slice(-maxResultChars / 2)}`
            : raw;
      lines.push(`TOOL RESULT${block.is_error ? ' (error)' : ''}${stored._ref ? ` [${stored._ref}]` : ''}: ${text}`);
    }
  }
  return lines.join('\n');
}
