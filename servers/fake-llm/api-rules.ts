/**
 * The request rules the real Messages API enforces and the fake enforces the same way, with the
 * real wording, so a runtime bug shows up in tests as the 400 production would answer: the request
 * shape, the tool_use/tool_result pairing, the number of cache breakpoints, the context window.
 */
import { contentBlocks, type MessagesRequest, type PromptBlock } from './request';

export interface ApiError {
  status: number;
  type: string;
  message: string;
}

const MAX_BREAKPOINTS = 4;

const invalid = (message: string): ApiError => ({ status: 400, type: 'invalid_request_error', message });

/** Parses the body, or says why it is not a Messages API request. */
export function parseRequest(raw: string): { body: MessagesRequest } | { error: ApiError } {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (err) {
    return { error: invalid(`request body is not valid JSON: ${(err as Error).message}`) };
  }
  const problem = shapeProblem(body);
  return problem ? { error: invalid(problem) } : { body: body as MessagesRequest };
}

function shapeProblem(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'request body must be a JSON object';
  const b = body as Record<string, unknown>;
  if (!Array.isArray(b.messages)) return 'messages: Field required';
  if (typeof b.model !== 'string') return 'model: Field required';
  if (b.max_tokens === undefined) return 'max_tokens: Field required';
  if (!Number.isInteger(b.max_tokens) || (b.max_tokens as number) < 1) return 'max_tokens: Input should be a valid integer greater than or equal to 1';
  if (b.tools !== undefined && !Array.isArray(b.tools)) return 'tools: Input should be a valid list';
  return null;
}

/** The first rule the request breaks, or null. */
export function checkRequest(body: MessagesRequest, blocks: readonly PromptBlock[]): ApiError | null {
  return checkMessages(body.messages) ?? checkBreakpoints(blocks);
}

function checkMessages(messages: MessagesRequest['messages']): ApiError | null {
  if (messages.length === 0) return invalid('messages: at least one message is required');
  for (const [i, message] of messages.entries()) {
    if (message?.role !== 'user' && message?.role !== 'assistant') return invalid(`messages.${i}.role: Input should be 'user' or 'assistant'`);
  }
  if (messages[0]!.role !== 'user') return invalid('messages: first message must use the "user" role');
  for (const [i, message] of messages.entries()) {
    const error = message.role === 'assistant' ? unansweredToolUses(messages, i) : orphanToolResults(messages, i);
    if (error) return error;
  }
  return null;
}

const toolUseIds = (message: MessagesRequest['messages'][number] | undefined) =>
  message?.role === 'assistant'
    ? contentBlocks(message.content)
        .filter((b) => b.type === 'tool_use')
        .map((b) => String(b.id))
    : [];

/**
 * Every tool_use of an assistant message needs its tool_result in the very next message. A final
 * assistant message is a prefill the model continues, but a tool_use in it is unanswered all the same.
 */
function unansweredToolUses(messages: MessagesRequest['messages'], i: number): ApiError | null {
  const next = messages[i + 1];
  const answered = new Set(
    next?.role === 'user'
      ? contentBlocks(next.content)
          .filter((b) => b.type === 'tool_result')
          .map((b) => String(b.tool_use_id))
      : [],
  );
  const missing = toolUseIds(messages[i]).filter((id) => !answered.has(id));
  if (missing.length === 0) return null;
  return invalid(
    `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. ` +
      'Each `tool_use` block must have a corresponding `tool_result` block in the next message.',
  );
}

function orphanToolResults(messages: MessagesRequest['messages'], i: number): ApiError | null {
  const asked = new Set(toolUseIds(messages[i - 1]));
  const blocks = contentBlocks(messages[i]!.content);
  for (const [k, block] of blocks.entries()) {
    if (block.type === 'tool_result' && !asked.has(String(block.tool_use_id))) {
      return invalid(
        `messages.${i}.content.${k}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(block.tool_use_id)}. ` +
          'Each `tool_result` block must have a corresponding `tool_use` block in the previous message.',
      );
    }
  }
  return null;
}

function checkBreakpoints(blocks: readonly PromptBlock[]): ApiError | null {
  const breakpoints = blocks.filter((b) => b.cacheControl !== undefined);
  for (const block of breakpoints) {
    const cc = block.cacheControl as { type?: unknown; ttl?: unknown } | null;
    if (typeof cc !== 'object' || cc === null || cc.type !== 'ephemeral') return invalid(`${block.path}.cache_control.type: Input should be 'ephemeral'`);
    if (cc.ttl !== undefined && cc.ttl !== '5m' && cc.ttl !== '1h') return invalid(`${block.path}.cache_control.ttl: Input should be '5m' or '1h'`);
  }
  if (breakpoints.length > MAX_BREAKPOINTS) {
    return invalid(`A maximum of ${MAX_BREAKPOINTS} blocks with cache_control may be provided. Found ${breakpoints.length}.`);
  }
  return null;
}

/** The real API's answer to a prompt larger than the model's context window. */
export function checkContextWindow(inputTokens: number, contextWindow: number): ApiError | null {
  return inputTokens > contextWindow ? invalid(`prompt is too long: ${inputTokens} tokens > ${contextWindow} maximum`) : null;
}
