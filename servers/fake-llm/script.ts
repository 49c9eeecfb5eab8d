/**
 * The fake LLM's script format (documented in the README). A script holds scenarios; the first
 * whose `match` regex occurs in a request's text (system + messages, which always carry the task
 * prompt) answers it. Within a scenario, each stage has a list of replies indexed by the request's
 * turn (the `x-agent-turn` header, else the number of assistant messages in the request), so a
 * retried request gets the same reply.
 */
import { z } from 'zod';

const ScriptedError = z.strictObject({
  status: z.number().int().min(400).max(599),
  type: z.string().optional(),
  message: z.string().optional(),
  /** Seconds, sent as the retry-after header. */
  retryAfter: z.number().min(0).optional(),
});

const Reply = z.strictObject({
  text: z.string().optional(),
  /** For structured stages (intent, plan, verify): the input of the forced tool call. */
  input: z.unknown().optional(),
  toolCalls: z.array(z.strictObject({ name: z.string(), input: z.unknown() })).optional(),
  /** Answered, in order, on the first attempts at this point before the reply itself. */
  errors: z.array(ScriptedError).optional(),
  delayMs: z.number().int().min(0).optional(),
  /**
   * Forces the stop_reason. `max_tokens` cuts the last tool call's JSON in half (or, without tool
   * calls, the text); `refusal` sends only the text; the others send the content as it is.
   * Default: `tool_use` when there are tool calls, else `end_turn`.
   */
  stopReason: z.enum(['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal', 'model_context_window_exceeded']).optional(),
});

const StageReplies = z.union([Reply, z.array(Reply).min(1)]);

const Stages = z.strictObject({
  intent: StageReplies.optional(),
  plan: StageReplies.optional(),
  execute: StageReplies.optional(),
  verify: StageReplies.optional(),
  respond: StageReplies.optional(),
  /** The memory writer after a task and consolidation batches (input: {memories: [...]}). */
  remember: StageReplies.optional(),
  /** Summarising the transcript so far into one text (plain text, no tools). */
  compact: StageReplies.optional(),
});

const Scenario = z.strictObject({ match: z.string().default(''), stages: Stages });

/** Server-wide settings a script may carry; the server's options override them. */
const Settings = {
  /** Added to every answer. */
  latencyMs: z.number().int().min(0).default(0),
  /** Largest prompt in tokens (default 200_000); a larger one is answered 400 "prompt is too long". */
  contextWindow: z.number().int().min(1).optional(),
  /** The model's minimum cacheable prefix in tokens (default 1024); a shorter prefix is never cached. */
  cacheMinTokens: z.number().int().min(0).optional(),
};

const ScenarioScript = z.strictObject({ ...Settings, scenarios: z.array(Scenario).min(1) });
const SingleScript = z.strictObject({ ...Settings, stages: Stages });

export type FakeScript = z.output<typeof ScenarioScript>;
export type FakeReply = z.infer<typeof Reply>;
export type FakeStage = keyof z.infer<typeof Stages>;
export type FakeStopReason = NonNullable<FakeReply['stopReason']>;

/** Parses a script; throws an Error naming the bad field. */
export function parseScript(raw: unknown): FakeScript {
  // Pick the form by its key instead of a zod union, so an error names the bad field, not "(root)".
  const single = typeof raw === 'object' && raw !== null && 'stages' in raw;
  const parsed = single ? SingleScript.safeParse(raw) : ScenarioScript.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`invalid fake-llm script: ${describeIssues(parsed.error.issues, []).join('; ')}`);
  }
  if ('stages' in parsed.data) {
    const { stages, ...settings } = parsed.data;
    return { ...settings, scenarios: [{ match: '', stages }] };
  }
  return parsed.data;
}

/** One line per problem, named by its path; a reply that is neither one reply nor a list names the field inside it. */
function describeIssues(issues: readonly z.core.$ZodIssue[], prefix: PropertyKey[]): string[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const depth = (branch: z.core.$ZodIssue[]) => Math.max(0, ...branch.map((i) => i.path.length));
      const deepest = issue.errors.reduce((best, branch) => (depth(branch) > depth(best) ? branch : best));
      return describeIssues(deepest, path);
    }
    return [`${path.map(String).join('.') || '(root)'}: ${issue.message}`];
  });
}
