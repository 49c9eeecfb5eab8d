/**
 * The execution transcript lives outside workflow history as a hash chain of segments in the
 * state store; the workflow holds only the head ref. Each model call loads the
 * chain, so history grows by a few hundred bytes per turn instead of by the whole transcript.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { StateStore } from '../state/state-store';

interface Segment {
  prev: string | null;
  /** Set on the root segment only: the system prompt every turn of this transcript uses. */
  system?: string;
  messages: Anthropic.MessageParam[];
}

export interface Transcript {
  system: string | null;
  messages: Anthropic.MessageParam[];
}

export class TranscriptStore {
  /** Segments are immutable (content-addressed), so caching them can never serve stale data. */
  private readonly cache = new Map<string, Segment>();

  constructor(
    private readonly store: StateStore,
    private readonly maxCached = 5_000,
  ) {}

  /**
   * Appends messages after `head` (a new transcript with `system` when head is null); the same
   * append always yields the same ref, so retries are harmless.
   */
  async append(head: string | null, messages: Anthropic.MessageParam[], system?: string): Promise<string> {
    const segment: Segment = head === null && system !== undefined ? { prev: null, system, messages } : { prev: head, messages };
    const ref = await this.store.putBlob(JSON.stringify(segment));
    this.remember(ref, segment);
    return ref;
  }

  /** Loads every message up to and including `head`, oldest first, with the root's system prompt. Throws if a segment is missing. */
  async load(head: string | null): Promise<Transcript> {
    const segments: Segment[] = [];
    for (let ref = head; ref !== null;) {
      let segment = this.cache.get(ref);
      if (!segment) {
        segment = JSON.parse(await this.store.getBlob(ref)) as Segment;
        this.remember(ref, segment);
      }
      segments.push(segment);
      ref = segment.prev;
    }
    segments.reverse();
    return { system: segments[0]?.system ?? null, messages: segments.flatMap((s) => s.messages) };
  }

  private remember(ref: string, segment: Segment): void {
    if (this.cache.size >= this.maxCached) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(ref, segment);
  }
}

/** Renders a transcript as plain text for the verifier and the responder, capped at maxChars (tail kept). */
export function renderTranscript(messages: Anthropic.MessageParam[], maxChars = 60_000): string {
  const lines: string[] = [];
  for (const message of messages) {
    const blocks = typeof message.content === 'string' ? [{ type: 'text' as const, text: message.content }] : message.content;
    for (const block of blocks) {
      if (block.type === 'text') lines.push(`${message.role.toUpperCase()}: ${block.text}`);
      else if (block.type === 'tool_use') lines.push(`TOOL CALL ${block.name} ${JSON.stringify(block.input)}`);
      else if (block.type === 'tool_result') {
        const text = typeof block.content === 'string' ? block.content : (block.content ?? []).map((c) => ('text' in c ? c.text : `[${c.type}]`)).join('\n');
        lines.push(`TOOL RESULT${block.is_error ? ' (error)' : ''}: ${text}`);
      }
    }
  }
  const text = lines.join('\n');
  return text.length <= maxChars ? text : `[... earlier transcript omitted ...]\n${text.slice(text.length - maxChars)}`;
}
