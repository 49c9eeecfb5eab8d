/**
 * The fake LLM's script format (documented in the README). A script holds scenarios; the first
 * whose `match` regex occurs in a request's text (system + messages, which always carry the task
 * prompt) answers it. Within a scenario, each stage has a list of replies indexed by the number of
 * assistant turns already in the request, so a retried request gets the same reply.
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
});

const Scenario = z.strictObject({ match: z.string().default(''), stages: Stages });

const ScenarioScript = z.strictObject({ latencyMs: z.number().int().min(0).default(0), scenarios: z.array(Scenario).min(1) });
const SingleScript = z.strictObject({ latencyMs: z.number().int().min(0).default(0), stages: Stages });

export type FakeScript = z.output<typeof ScenarioScript>;
export type FakeReply = z.infer<typeof Reply>;
export type FakeStage = keyof z.infer<typeof Stages>;

/** Parses a script; throws an Error naming the bad field. */
export function parseScript(raw: unknown): FakeScript {
  // Pick the form by its key instead of a zod union, so an error names the bad field, not "(root)".
  const single = typeof raw === 'object' && raw !== null && 'stages' in raw;
  const parsed = single ? SingleScript.safeParse(raw) : ScenarioScript.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`invalid fake-llm script: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  if ('stages' in parsed.data) return { latencyMs: parsed.data.latencyMs, scenarios: [{ match: '', stages: parsed.data.stages }] };
  return parsed.data;
}
