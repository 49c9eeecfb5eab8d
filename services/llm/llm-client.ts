/**
 * The model behind one small interface. The Anthropic implementation streams (so long answers
 * never hit the SDK's non-streaming timeout, and an endpoint that goes silent is noticed) and
 * never retries by itself: Temporal owns retries.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { Stage } from '../../domain/task';
import { LlmAuthError } from '../errors';

export interface LlmRequest {
  /** The pipeline stage, or `compact` for a compaction. */
  stage: Stage | 'compact';
  taskId: string;
  system: string;
  /** Sent as given: cache breakpoints in messages are the caller's (services/llm/context-window.ts). */
  messages: Anthropic.MessageParam[];
  tools?: Anthropic.Tool[];
  toolChoice?: Anthropic.ToolChoice;
  maxTokens?: number;
  /** Put a cache breakpoint on the system block: tools + system become one cached prefix. */
  cacheSystem?: boolean;
  /** The execute turn this request is for (a scripted stand-in answers by it; the real API ignores the header). */
  turn?: number;
}

export interface LlmClient {
  /** Throws the provider's error unchanged; callers classify it with modelErrorOf (provider-errors.ts). */
  complete(request: LlmRequest, options?: { signal?: AbortSignal }): Promise<Anthropic.Message>;
}

export interface AnthropicLlmOptions {
  apiKey: string | undefined;
  baseURL: string | undefined;
  model: string;
  maxTokens: number;
  /** Give up on a call when the endpoint sends nothing for this long (before the first event, or between events). */
  silenceTimeoutMs?: number;
}

/** The endpoint accepted the call and then went quiet: retried like an outage, never waited on for the whole activity timeout. */
export class ModelSilentError extends Error {}

const DEFAULT_SILENCE_MS = 120_000;

/** No API key: a person must set one, so retrying cannot help. */
export class MissingApiKeyError extends LlmAuthError {
  constructor() {
    super('ANTHROPIC_API_KEY is not set: export it, or point ANTHROPIC_BASE_URL at `agent fake-llm` (see `agent demo`)');
  }
}

export class AnthropicLlm implements LlmClient {
  private readonly client: Anthropic | null;

  constructor(private readonly options: AnthropicLlmOptions) {
    this.client = options.apiKey ? new Anthropic({ apiKey: options.apiKey, baseURL: options.baseURL ?? null, maxRetries: 0, timeout: 10 * 60_000 }) : null;
  }

  async complete(request: LlmRequest, { signal }: { signal?: AbortSignal } = {}) {
    if (!this.client) throw new MissingApiKeyError();
    const silenceMs = this.options.silenceTimeoutMs ?? DEFAULT_SILENCE_MS;
    const quiet = new AbortController();
    let heard = false;
    const arm = () => setTimeout(() => quiet.abort(), silenceMs);
    let timer = arm();
    const stream = this.client.messages.stream(
      {
        model: this.options.model,
        max_tokens: request.maxTokens ?? this.options.maxTokens,
        system: [{ type: 'text', text: request.system, ...(request.cacheSystem ? { cache_control: { type: 'ephemeral' as const } } : {}) }],
        messages: request.messages,
        ...(request.tools?.length ? { tools: request.tools } : {}),
        ...(request.toolChoice ? { tool_choice: request.toolChoice } : {}),
      },
      // The stage, task and turn headers let a scripted stand-in (agent fake-llm) answer per stage; the real API ignores them.
      {
        headers: { 'x-agent-stage': request.stage, 'x-agent-task': request.taskId, ...(request.turn !== undefined ? { 'x-agent-turn': String(request.turn) } : {}) },
        signal: signal ? AbortSignal.any([signal, quiet.signal]) : quiet.signal,
      },
    );
    stream.on('streamEvent', () => {
      heard = true;
      clearTimeout(timer);
      timer = arm();
    });
    try {
      return await stream.finalMessage();
    } catch (err) {
      if (quiet.signal.aborted && !signal?.aborted) {
        throw new ModelSilentError(
          `the model endpoint sent nothing for ${Math.round(silenceMs / 1000)}s ${heard ? 'in the middle of its answer' : 'after accepting the request'}; the call is retried`,
        );
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}
