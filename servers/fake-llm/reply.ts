/**
 * What the fake model answers: the scripted (or default) reply turned into content blocks, with the
 * stop_reason the script forces and the request's max_tokens enforced the way the real model stops:
 * mid-text, or mid-way through a tool call's JSON.
 */
import { randomUUID } from 'node:crypto';
import { contentBlocks, outputBlockJson, outputBlockTokens, type MessagesRequest } from './request';
import type { FakeReply, FakeStage, FakeStopReason } from './script';

export type OutputBlock =
  | { type: 'text'; text: string }
  /** `partialJson`: set when the call was cut off; only this much of its input's JSON was generated. */
  | { type: 'tool_use'; id: string; name: string; input: unknown; partialJson?: string };

export interface PlannedReply {
  content: OutputBlock[];
  stopReason: FakeStopReason;
  stopSequence: string | null;
  outputTokens: number;
}

export function planReply(body: MessagesRequest, stage: FakeStage, scripted: FakeReply | undefined): PlannedReply {
  const reply = scripted ?? defaultReply(body, stage);
  const content = replyContent(body, stage, reply);
  const stopReason = reply.stopReason ?? (content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn');
  const forced = forceStopReason(content, stopReason);
  const maxTokens = body.max_tokens ?? Infinity;
  const tokens = forced.reduce((sum, b) => sum + outputBlockTokens(b), 0);
  if (tokens > maxTokens) {
    // The model ran out of room: it produced exactly max_tokens and stopped wherever that was.
    return { content: fitTokens(forced, maxTokens), stopReason: 'max_tokens', stopSequence: null, outputTokens: maxTokens };
  }
  const stopSequence = stopReason === 'stop_sequence' ? (body.stop_sequences?.[0] ?? null) : null;
  return { content: forced, stopReason, stopSequence, outputTokens: tokens };
}

function replyContent(body: MessagesRequest, stage: FakeStage, reply: FakeReply): OutputBlock[] {
  const content: OutputBlock[] = [];
  const forcedTool = body.tool_choice?.type === 'tool' ? body.tool_choice.name : undefined;
  if (reply.text) content.push({ type: 'text', text: reply.text });
  if (forcedTool) content.push({ type: 'tool_use', id: toolUseId(), name: forcedTool, input: reply.input ?? defaultReply(body, stage).input });
  for (const call of reply.toolCalls ?? []) content.push({ type: 'tool_use', id: toolUseId(), name: call.name, input: call.input ?? {} });
  return content;
}

/** A scripted stop_reason: `max_tokens` cuts the last tool call's JSON (or the text) in half, `refusal` keeps only text. */
function forceStopReason(content: OutputBlock[], stopReason: FakeStopReason): OutputBlock[] {
  if (stopReason === 'refusal') return content.filter((b) => b.type === 'text');
  if (stopReason !== 'max_tokens') return content;
  const calls = content.flatMap((b, i) => (b.type === 'tool_use' ? [i] : []));
  const index = calls.at(-1) ?? content.length - 1;
  const block = content[index];
  if (!block) return content;
  const cut: OutputBlock = block.type === 'text' ? { type: 'text', text: half(block.text) } : { ...block, partialJson: half(block.partialJson ?? JSON.stringify(block.input)) };
  return [...content.slice(0, index), cut];
}

/** The longest start of the content that fits in `budget` tokens: whole blocks, then part of the next one. */
function fitTokens(content: OutputBlock[], budget: number): OutputBlock[] {
  const out: OutputBlock[] = [];
  for (const block of content) {
    const tokens = outputBlockTokens(block);
    if (tokens <= budget) {
      out.push(block);
      budget -= tokens;
      continue;
    }
    const part = partOf(block, budget);
    if (part) out.push(part);
    break;
  }
  return out;
}

function partOf(block: OutputBlock, budget: number): OutputBlock | null {
  if (block.type === 'text') {
    const room = budget * 4 - Buffer.byteLength(JSON.stringify({ type: 'text', text: '' }));
    const text = prefixWithin(block.text, room, (ch) => Buffer.byteLength(JSON.stringify(ch)) - 2);
    return text ? { type: 'text', text } : null;
  }
  const room = budget * 4 - Buffer.byteLength(outputBlockJson({ ...block, partialJson: '' }));
  if (room < 0) return null;
  const json = block.partialJson ?? JSON.stringify(block.input);
  return { ...block, partialJson: prefixWithin(json, room, (ch) => Buffer.byteLength(ch)) };
}

/** The longest prefix (whole code points) whose size stays within `room`. */
function prefixWithin(text: string, room: number, size: (ch: string) => number): string {
  let used = 0;
  let out = '';
  for (const ch of text) {
    used += size(ch);
    if (used > room) break;
    out += ch;
  }
  return out;
}

function half(text: string): string {
  const chars = Array.from(text);
  return chars.slice(0, Math.floor(chars.length / 2)).join('');
}

/** Sensible answers for stages a script leaves out, so a short script (or none) still runs a task. */
export function defaultReply(body: MessagesRequest, stage: FakeStage): FakeReply {
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
    case 'compact':
      return { text: compactSummary(body) };
    default:
      return { text: 'Done.' };
  }
}

/** A short, deterministic summary of the request: how many tool results it carried and how it began. */
function compactSummary(body: MessagesRequest): string {
  const blocks = body.messages.flatMap((m) => contentBlocks(m?.content));
  const toolResults = blocks.filter((b) => b.type === 'tool_result').length;
  const firstUser = body.messages.find((m) => m?.role === 'user');
  const firstText = contentBlocks(firstUser?.content).find((b) => b.type === 'text' && typeof b.text === 'string')?.text as string | undefined;
  const firstLine = (firstText ?? '').split('\n')[0]!.trim().slice(0, 200);
  return `Summary of the work so far (fake LLM): ${toolResults} tool result${toolResults === 1 ? '' : 's'} seen; the first user message began: "${firstLine}".`;
}

function toolUseId(): string {
  return `toolu_fake_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
}
