/**
 * The model behind one small interface. The Anthropic implementation streams (so long answers
 * never hit the SDK's non-streaming timeout and the activity can heartbeat on every event) and
 * never retries by itself: Temporal owns retries (design rule 1).
 */
import Anthropic from '@anthropic-ai/sdk';
import type { Stage } from '../../domain/task';

export interface LlmRequest {
  stage: Stage;
  taskId: string;
  system: string;
  messages: Anthropic.MessageParam[];
  tools?: Anthropic.Tool[];
  toolChoice?: Anthropic.ToolChoice;
  maxTokens?: number;
}

export interface LlmClient {
  /** Throws the provider's error unchanged; callers classify it with classifyLlmError. */
  complete(request: LlmRequest, options?: { onProgress?: () => void; signal?: AbortSignal }): Promise<Anthropic.Message>;
}

export interface AnthropicLlmOptions {
  apiKey: string | undefined;
  baseURL: string | undefined;
  model: string;
  maxTokens: number;
}

export class MissingApiKeyError extends Error {
  constructor() {
    super('ANTHROPIC_API_KEY is not set: export it, or point ANTHROPIC_BASE_URL at `agent fake-llm` (see `agent demo`)');
  }
}

export class AnthropicLlm implements LlmClient {
  private readonly client: Anthropic | null;

  constructor(private readonly options: AnthropicLlmOptions) {
    this.client = options.apiKey
      ? new Anthropic({ apiKey: options.apiKey, baseURL: options.baseURL ?? null, maxRetries: 0, timeout: 10 * 60_000 })
      : null;
  }

  async complete(request: LlmRequest, { onProgress, signal }: { onProgress?: () => void; signal?: AbortSignal } = {}) {
    if (!this.client) throw new MissingApiKeyError();
    // Cache the stable prefix (tools + system) across the turns of a task.
    const tools = request.tools?.map((tool, i, all) => (i === all.length - 1 ? { ...tool, cache_control: { type: 'ephemeral' as const } } : tool));
    const stream = this.client.messages.stream(
      {
        model: this.options.model,
        max_tokens: request.maxTokens ?? this.options.maxTokens,
        system: [{ type: 'text', text: request.system, cache_control: { type: 'ephemeral' } }],
        messages: request.messages,
        ...(tools?.length ? { tools } : {}),
        ...(request.toolChoice ? { tool_choice: request.toolChoice } : {}),
      },
      // The stage and task headers let a scripted stand-in (agent fake-llm) answer per stage; the real API ignores them.
      { headers: { 'x-agent-stage': request.stage, 'x-agent-task': request.taskId }, signal },
    );
    if (onProgress) stream.on('streamEvent', () => onProgress());
    return await stream.finalMessage();
  }
}
