/**
 * The memory side of the agent's `remember` and `forget` tools. The catalog entries (domain/
 * tool-catalog.ts), the gate and the runner belong to the tools layer; these functions are what
 * its runner calls. They go through the same deterministic write path as everything else: a
 * `remember` of a known key supersedes its value (the chain is kept), and `forget` retires exactly
 * one key in one scope — never anything else.
 */
import { ForgetInput, RememberInput } from '../../domain/memory';
import { MemoryInputError, scopeId, type ScopeContext } from './keys';
import type { MemoryService } from './memory-service';
import { quote } from './recall';

export { ForgetInput, RememberInput } from '../../domain/memory';

export interface ToolContext extends ScopeContext {
  taskId: string;
}

/** Runs `remember`; returns the text for the model. Throws MemoryInputError for bad input (the runner reports it as a tool error). */
export async function rememberTool(memory: MemoryService, ctx: ToolContext, raw: unknown): Promise<string> {
  const parsed = RememberInput.safeParse(raw);
  if (!parsed.success) throw new MemoryInputError(`invalid remember input: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ')}`);
  const input = parsed.data;
  const outcome = await memory.remember({ ...input, source: 'tool', taskId: ctx.taskId, message: `remember tool call in task ${ctx.taskId}` }, ctx);
  const where = `${input.scope} memory ${outcome.key}`;
  switch (outcome.action) {
    case 'created':
      return `Remembered ${where} = ${quote(outcome.value)}.`;
    case 'superseded':
      return `Updated ${where} to ${quote(outcome.value)} (was ${quote(outcome.replaced!.value)}; the old value stays in its history).`;
    case 'confirmed':
      return `${where} already holds this value; confirmed it.`;
    case 'stale':
      return `Not changed: ${outcome.reason}.`;
  }
}

/** Runs `forget`: retires the current value of one key in one scope. Throws MemoryInputError when there is none. */
export async function forgetTool(memory: MemoryService, ctx: ToolContext, raw: unknown): Promise<string> {
  const parsed = ForgetInput.safeParse(raw);
  if (!parsed.success) throw new MemoryInputError(`invalid forget input: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ')}`);
  const { key, scope, reason } = parsed.data;
  const retired = await memory.forget(key, { scopes: [scopeId(scope, ctx)], reason: `${reason} (forget tool, task ${ctx.taskId})` });
  if (!retired.length) throw new MemoryInputError(`there is no current ${scope} memory ${key} to forget`);
  return `Forgot ${scope} memory ${retired[0]!.key} = ${quote(retired[0]!.value)}; it stays in its history with the reason.`;
}
