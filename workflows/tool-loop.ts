/**
 * The tool loop shared by a task's execute stage and a team's worker children: a model turn, then
 * every tool call it asked for through the gate, until the model answers without tools, refuses,
 * a limit stops it (turns, the host's budget), or the context cannot be made to fit. The model's
 * context is managed on the way (domain/context.ts): old outputs cleared in batches, a compaction
 * when the window fills or the API says the prompt is too long. Workflow code: deterministic, no I/O.
 */
import type { Activities } from '../activities';
import type { ExecuteStepInput, ToolResultForModel } from '../domain/model-contract';
import { initialContext, type ContextState } from '../domain/context';
import type { TraceEntry } from '../domain/task';
import type { OfferedTool } from '../domain/mcp';
import { groupThousands, type ModelUsage } from '../domain/usage';
import type { ToolGate } from './tool-gate';
import { llm } from './activity-proxies';
import { sinceRelease2026_12 } from './release';

type ExecuteStepResult = Awaited<ReturnType<Activities['executeStep']>>;

/** Extra model calls a turn may make before it counts as stuck (continuations, larger budgets, compactions). */
const MAX_CALLS_PER_TURN = 6;

export interface ToolLoopOptions {
  taskId: string;
  tools: OfferedTool[];
  maxTurns: number;
  /** The first turn's context; stored in the transcript root. */
  start: NonNullable<ExecuteStepInput['start']>;
  gate: ToolGate;
  note(kind: TraceEntry['kind'], message: string): void;
  publish(): void;
  /** Adds a reply's tokens to the host's count and returns the reply. */
  countUsage<T extends { usage: ModelUsage }>(reply: T): T;
  /** Told the number of each turn as it starts. */
  onTurn(turn: number): void;
  onToolOk?(tool: string): void;
  /** Checked before each model call: a reason to stop now (a token or cost budget), or null to go on. */
  budgetExceeded?(): string | null;
  /** Told the context's state after each call, for status and the Web UI. */
  onContext?(context: ContextState): void;
}

export interface ToolLoopResult {
  head: string | null;
  lastText: string;
  stoppedEarly: boolean;
  /** Why the loop stopped before the model finished, when it did. */
  stopReason: string | null;
  /** The model declined to go on (stop_reason refusal). */
  refused: boolean;
  context: ContextState;
}

export async function runToolLoop(o: ToolLoopOptions): Promise<ToolLoopResult> {
  let head: string | null = null;
  let toolResults: ToolResultForModel[] = [];
  /** A Stop hook's reason to keep working, sent as the next user message. */
  let followUp: string | null = null;
  let lastText = '';
  let context = initialContext();
  const done = (stopReason: string | null, extra: Partial<ToolLoopResult> = {}): ToolLoopResult => ({
    head,
    lastText,
    stoppedEarly: stopReason !== null,
    stopReason,
    refused: false,
    context,
    ...extra,
  });
  for (let turn = 1; turn <= o.maxTurns; turn++) {
    o.onTurn(turn);
    let step: ExecuteStepResult | null = null;
    let compactedThisTurn = false;
    // One turn may take several calls: a continuation, a larger output budget, a compaction first.
    for (let call = 1; call <= MAX_CALLS_PER_TURN; call++) {
      const over = o.budgetExceeded?.() ?? null;
      if (over) {
        o.note('note', `stopped before turn ${turn}: ${over}`);
        return done(over);
      }
      const reply: ExecuteStepResult = o.countUsage(
        await llm.executeStep.executeWithOptions({ summary: `model turn ${turn}${call > 1 ? ` (call ${call})` : ''}` }, [
          {
            taskId: o.taskId,
            tools: o.tools,
            ...(o.gate.mcpCatalogRef ? { mcpCatalogRef: o.gate.mcpCatalogRef } : {}),
            head,
            toolResults,
            ...(followUp ? { followUp } : {}),
            turn,
            context,
            ...(head === null ? { start: o.start } : {}),
          },
        ]),
      );
      head = reply.head;
      toolResults = [];
      followUp = null;
      if (reply.context) context = reply.context;
      o.onContext?.(context);
      if (reply.note) o.note('note', reply.note);
      // Histories from before context management have no outcome: tools when there are calls, else final.
      const outcome = reply.outcome ?? (reply.toolCalls.length ? 'tools' : 'final');
      if (outcome === 'compact') {
        if (compactedThisTurn) {
          o.note('error', 'the context is still too large after compaction; stopping with the work done so far');
          return done('the context window (still too large after compaction)');
        }
        compactedThisTurn = true;
        const compacted = o.countUsage(
          await llm.compactTranscript.executeWithOptions({ summary: `compact the transcript (turn ${turn})` }, [{ taskId: o.taskId, head, context, turn }]),
        );
        head = compacted.head;
        context = compacted.context;
        o.onContext?.(context);
        o.note(
          'llm',
          `compaction ${context.compactions}: ~${groupThousands(compacted.before)} → ~${groupThousands(compacted.after)} tokens — ${compacted.summary.replace(/\s+/g, ' ').slice(0, 200)}`,
        );
        o.publish();
        continue;
      }
      if (reply.text) lastText = reply.text;
      if (outcome === 'continue') {
        if (reply.text) o.note('llm', `turn ${turn}: (continues) ${reply.text.slice(0, 160)}`);
        continue;
      }
      step = reply;
      break;
    }
    if (!step) {
      o.note('error', `turn ${turn} needed more than ${MAX_CALLS_PER_TURN} model calls; stopping with the work done so far`);
      return done(`turn ${turn} could not be completed`);
    }
    const outcome = step.outcome ?? (step.toolCalls.length ? 'tools' : 'final');
    o.note(
      'llm',
      `turn ${turn}: ${outcome === 'refused' ? 'refused' : step.toolCalls.length ? step.toolCalls.map((c) => c.name).join(', ') : 'final answer'}${step.text ? ` — ${step.text.slice(0, 160)}` : ''}`,
    );
    o.publish();
    if (outcome === 'refused') return done('the model refused to continue', { refused: true });
    if (step.toolCalls.length === 0) {
      // Stop hooks may send the model back to work (a check that fails, a step it skipped).
      followUp = await o.gate.hooks.beforeStop(lastText);
      if (followUp === null) return done(null);
      o.note('note', `hooks: a Stop hook sent the model back: ${followUp.replace(/\s+/g, ' ').slice(0, 200)}`);
      continue;
    }
    for (const call of step.toolCalls) {
      const { status: _status, preview: _preview, ...result } = await o.gate.callTool(call, o.tools, o.onToolOk, turn);
      toolResults.push(result);
    }
  }
  o.note('note', `stopped after the turn limit (${o.maxTurns})`);
  // The last tool results are answered in the transcript, so verify and respond see what they returned.
  if (toolResults.length && head !== null && sinceRelease2026_12()) {
    head = (await llm.appendToolResults.executeWithOptions({ summary: 'record the last tool results' }, [{ head, toolResults }])).head;
  }
  return done(`the turn limit (${o.maxTurns})`);
}
