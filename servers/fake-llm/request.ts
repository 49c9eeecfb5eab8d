/**
 * What the fake LLM reads from a Messages API request, and how it counts tokens.
 *
 * Token rule (documented in the README): a piece costs ceil(UTF-8 bytes of its JSON / 4) tokens.
 * The prompt is the ordered sequence of blocks tools → system → messages: each tool definition, each
 * system text block and each content block of each message is one block. A string `system` or a
 * string message `content` counts as one `{"type":"text","text":...}` block. `cache_control` is left
 * out of a block's JSON, so moving a breakpoint changes neither the count nor the cached prefix.
 */
import { createHash } from 'node:crypto';

/** The request fields the fake reads; the SDK may send more, which are ignored. */
export interface MessagesRequest {
  model?: string;
  max_tokens?: number;
  system?: unknown;
  messages: { role: string; content: unknown }[];
  tools?: { name: string }[];
  tool_choice?: { type: string; name?: string };
  stop_sequences?: string[];
  stream?: boolean;
}

/** One block of the prompt, in order. */
export interface PromptBlock {
  /** Its place in the request, as the API's error messages name it: `tools.2`, `system.0`, `messages.3.content.1`. */
  path: string;
  /** Its place and its JSON without cache_control: what the prompt cache hashes. */
  key: string;
  tokens: number;
  /** The block's `cache_control`, when it carries one (a breakpoint). */
  cacheControl?: unknown;
}

export function tokensOf(json: string): number {
  return Math.ceil(Buffer.byteLength(json, 'utf8') / 4);
}

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A string becomes one text block; anything that is not a list of blocks has none. */
export function contentBlocks(content: unknown): Obj[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content) ? content.filter(isObject) : [];
}

/** The prompt's blocks in the order the model reads them: tools, then system, then messages. */
export function promptBlocks(body: MessagesRequest): PromptBlock[] {
  const blocks: PromptBlock[] = [];
  const add = (path: string, role: string, block: Obj) => {
    const { cache_control: cacheControl, ...rest } = block;
    const json = JSON.stringify(rest);
    blocks.push({ path, key: `${path}|${role}|${json}`, tokens: tokensOf(json), ...(cacheControl !== undefined ? { cacheControl } : {}) });
  };
  (body.tools ?? []).forEach((tool, i) => add(`tools.${i}`, 'tool', isObject(tool) ? tool : { tool }));
  if (body.system !== undefined) contentBlocks(body.system).forEach((block, i) => add(`system.${i}`, 'system', block));
  body.messages.forEach((message, m) => {
    if (!isObject(message)) return;
    contentBlocks(message.content).forEach((block, i) => add(`messages.${m}.content.${i}`, String(message.role), block));
  });
  return blocks;
}

/**
 * Hash of each prefix: blocks[0..i] inclusive, chained from the model's name (a cache entry is per
 * model, as on the real API).
 */
export function prefixHashes(model: string, blocks: readonly PromptBlock[]): string[] {
  let previous = createHash('sha256').update(`model:${model}`).digest('hex');
  return blocks.map((block) => (previous = createHash('sha256').update(previous).update('\n').update(block.key).digest('hex')));
}

type OutputBlockLike = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown; partialJson?: string };

/** A reply content block's JSON as generated (a tool_use cut short carries the part of its input's JSON that was sent). */
export function outputBlockJson(block: OutputBlockLike): string {
  if (block.type === 'text') return JSON.stringify({ type: block.type, text: block.text });
  const head = JSON.stringify({ type: block.type, id: block.id, name: block.name });
  return `${head.slice(0, -1)},"input":${block.partialJson ?? JSON.stringify(block.input)}}`;
}

export function outputBlockTokens(block: OutputBlockLike): number {
  return tokensOf(outputBlockJson(block));
}
