/**
 * The memory stages every task-like workflow runs: recall before planning, and remember after the
 * result (the episode recorded, then the memory writer). Memory is an aid: recall failures are
 * traced and the work goes on without it, and the writer's outcome never changes the task's.
 * Workflow code: deterministic, no I/O.
 */
import type { HookPlan } from '../domain/hooks';
import type { McpToolName } from '../domain/mcp';
import * as wf from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RuleRecord } from '../domain/policy';
import type { EpisodeRecord, Intent, TaskInput, TraceEntry } from '../domain/task';
import { memoryRecall, memoryWrite, prepare, state } from './activity-proxies';
import { sinceRelease2026_12_06 } from './release';
import { failureMessage } from './tool-gate';

/** Trace lines per kind of memory event, so a large recall cannot flood the trace. */
const MEMORY_TRACE_LINES = 20;

type Note = (kind: TraceEntry['kind'], message: string) => void;

/** Recall for planning: the validated memory block, or undefined. Traces what was recalled and rejected; only cancellation throws. */
export async function recallMemory(taskId: string, input: Pick<TaskInput, 'prompt' | 'workspace' | 'submittedBy'>, intent: Intent, note: Note): Promise<string | undefined> {
  try {
    return traceRecall(await memoryRecall.recallMemories.executeWithOptions({ summary: 'recall memory' }, [recallRequest(taskId, input, intent)]), note);
  } catch (err) {
    if (wf.isCancellation(err)) throw err;
    note('error', `memory recall failed, continuing without memory: ${failureMessage(err as Error)}`);
    return undefined;
  }
}

/** The MCP tools a task was offered when it prepared: the stored catalog and the names in it. */
export interface PreparedMcp {
  ref: string;
  names: McpToolName[];
}

/**
 * Before planning: the policy snapshot every tool call of the task is judged by, what memory
 * recalls, and the project's instruction files (AGENTS.md), from one local activity. Traces the
 * policy's notices, the instruction files and the recall; a recall failure
 * is traced and the task goes on without memory; a policy that cannot be read throws.
 */
export async function prepareTask(
  taskId: string,
  input: Pick<TaskInput, 'prompt' | 'workspace' | 'submittedBy' | 'rules'>,
  intent: Intent,
  note: Note,
): Promise<{ memory: string | undefined; rules: RuleRecord[]; instructions: string | undefined; mcp?: PreparedMcp; hooks?: HookPlan }> {
  const { policy, recall, instructions, mcp, hooks } = await prepare.prepareTask.executeWithOptions({ summary: 'load policy, recall memory' }, [
    { workspace: input.workspace, taskRules: input.rules, recall: recallRequest(taskId, input, intent) },
  ]);
  for (const notice of policy.notices) note('note', notice);
  for (const line of instructions.lines) note('note', line);
  // Histories recorded before MCP tools have no `mcp` in this result.
  for (const line of mcp?.lines ?? []) note('note', line);
  for (const line of hooks?.lines ?? []) note('note', line);
  if (!recall.ok) note('error', `memory recall failed, continuing without memory: ${recall.error}`);
  return {
    memory: recall.ok ? traceRecall(recall.result, note) : undefined,
    rules: policy.rules,
    instructions: instructions.block || undefined,
    ...(mcp?.ref ? { mcp: { ref: mcp.ref, names: mcp.names } } : {}),
    ...(hooks?.plan ? { hooks: hooks.plan } : {}),
  };
}

function recallRequest(taskId: string, input: Pick<TaskInput, 'prompt' | 'workspace' | 'submittedBy'>, intent: Intent) {
  return { taskId, query: `${input.prompt}\n${intent.goal}`, workspace: input.workspace, user: input.submittedBy };
}

/** Traces a recall (what came back, what was rejected, what the budget left out) and returns its block. */
function traceRecall(r: Awaited<ReturnType<Activities['recallMemories']>>, note: Note): string | undefined {
  if (!r.enabled) return undefined;
  note(
    'note',
    `memory: recalled ${r.items.length} (${r.usedTokens}/${r.budgetTokens} tokens, ${r.ms} ms)` +
      `${r.rejected.length ? `, rejected ${r.rejected.length}` : ''}${r.omitted ? `, ${r.omitted} left out for the budget` : ''}`,
  );
  for (const i of r.items.slice(0, MEMORY_TRACE_LINES)) {
    note('note', `memory recalled: ${i.key} = ${JSON.stringify(i.value)} [${i.scope}]${i.verified ? ` (${i.verified})` : ''}`);
  }
  for (const x of r.rejected.slice(0, MEMORY_TRACE_LINES)) note('note', `memory rejected: ${x.key} = ${JSON.stringify(x.value)} [${x.scope}] — ${x.rule}: ${x.reason}`);
  return r.block || undefined;
}

/** The memory writer while it runs: its report lines once it is done. */
export interface MemoryWriting {
  lines: Promise<string[]>;
}

/**
 * Remember: starts the memory writer on the episode (it stores the episode, what recall and
 * consolidation learn from; the model proposes, deterministic code supersedes). Resolves with the
 * writer still running, so the caller decides whether to wait for it. `writes` can skip the writer
 * (histories recorded before a task had one): then null. Older histories also record the episode
 * in a step of its own first, whose failure throws; the writer's failure rejects `lines`.
 */
export function remember(episode: EpisodeRecord, user: string): Promise<MemoryWriting>;
export function remember(episode: EpisodeRecord, user: string, writes: () => boolean): Promise<MemoryWriting | null>;
export async function remember(episode: EpisodeRecord, user: string, writes: () => boolean = () => true): Promise<MemoryWriting | null> {
  // The episode now reaches the memory store through the writer alone; older histories recorded a separate write here.
  if (!sinceRelease2026_12_06()) await state.recordEpisode.executeWithOptions({ summary: 'record episode' }, [episode]);
  if (!writes()) return null;
  const { intent, ...rest } = episode;
  const written = memoryWrite.writeMemories.executeWithOptions({ summary: 'write memories' }, [{ episode: { ...rest, goal: intent.goal }, user }]);
  return { lines: written.then(memoryWriteReport) };
}

/**
 * The memory writer's report goes to the trace, and so does its failure, which never fails the
 * task: `writer` names it in that line. Only cancellation throws.
 */
export async function traceMemoryWrite(note: Note, lines: Promise<string[]>, writer: string): Promise<void> {
  try {
    for (const line of await lines) note('note', line);
  } catch (err) {
    if (wf.isCancellation(err)) throw err;
    note('error', `${writer} failed (the task's result is unaffected): ${failureMessage(err as Error)}`);
  }
}

/** What the memory writer did, as trace lines: a summary, then each change and each rejected proposal. */
function memoryWriteReport(w: Awaited<ReturnType<Activities['writeMemories']>>): string[] {
  const count = (action: string) => w.outcomes.filter((o) => o.action === action).length;
  return [
    `memory: ${count('created')} new, ${count('superseded')} updated, ${count('confirmed')} confirmed, ${count('stale')} stale` +
      `${w.rejected.length ? `, ${w.rejected.length} proposals rejected` : ''}${w.dreamTriggered ? '; consolidation started' : ''}`,
    ...w.outcomes
      .filter((o) => o.action !== 'confirmed')
      .slice(0, MEMORY_TRACE_LINES)
      .map((o) => `memory ${o.action}: ${o.key} = ${JSON.stringify(o.value)} [${o.scope}] — ${o.reason}`),
    ...w.rejected.slice(0, MEMORY_TRACE_LINES).map((r) => `memory proposal rejected: ${r.reason} — ${r.preview}`),
  ];
}
