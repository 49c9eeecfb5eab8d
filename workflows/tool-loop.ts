/**
 * The tool loop shared by a task's execute stage and a team's worker children: a model turn, then
 * every tool call it asked for through the gate, until the model answers without tools, the turn
 * limit is hit, or the host's budget says stop. Workflow code: deterministic, no I/O.
 */
import * as wf from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ExecuteStepInput, ToolResultForModel } from '../services/llm/agent-model';
import { NON_RETRYABLE_FAILURES } from '../domain/failures';
import type { TraceEntry } from '../domain/task';
import type { ToolName } from '../domain/tool-catalog';
import type { ToolGate } from './tool-gate';

/** Model calls: slow and rate limited. Backoff; 429/529 wait for the provider's retry-after (nextRetryDelay). */
export const llm = wf.proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE_FAILURES },
});

type ExecuteStepResult = Awaited<ReturnType<Activities['executeStep']>>;

export interface ToolLoopOptions {
  taskId: string;
  tools: ToolName[];
  maxTurns: number;
  /** The first turn's context; stored in the transcript root. */
  start: NonNullable<ExecuteStepInput['start']>;
  gate: ToolGate;
  note(kind: TraceEntry['kind'], message: string): void;
  publish(): void;
  /** Adds a reply's tokens to the host's count and returns the reply. */
  countUsage<T extends { usage: { inputTokens: number; outputTokens: number } }>(reply: T): T;
  /** Told the number of each turn as it starts. */
  onTurn(turn: number): void;
  onToolOk?(tool: ToolName): void;
  /** Checked before each model turn: a reason to stop now (e.g. a token budget), or null to go on. */
  budgetExceeded?(): string | null;
}

export interface ToolLoopResult {
  head: string | null;
  lastText: string;
  stoppedEarly: boolean;
  /** Why the loop stopped before the model finished, when it did. */
  stopReason: string | null;
}

export async function runToolLoop(o: ToolLoopOptions): Promise<ToolLoopResult> {
  let head: string | null = null;
  let toolResults: ToolResultForModel[] = [];
  let lastText = '';
  for (let turn = 1; turn <= o.maxTurns; turn++) {
    const over = o.budgetExceeded?.() ?? null;
    if (over) {
      o.note('note', `stopped before turn ${turn}: ${over}`);
      return { head, lastText, stoppedEarly: true, stopReason: over };
    }
    o.onTurn(turn);
    const step: ExecuteStepResult = o.countUsage(
      await llm.executeStep.executeWithOptions({ summary: `model turn ${turn}` }, [
        { taskId: o.taskId, tools: o.tools, head, toolResults, ...(head === null ? { start: o.start } : {}) },
      ]),
    );
    head = step.head;
    if (step.text) lastText = step.text;
    o.note('llm', `turn ${turn}: ${step.toolCalls.length ? step.toolCalls.map((c) => c.name).join(', ') : 'final answer'}${step.text ? ` — ${step.text.slice(0, 160)}` : ''}`);
    o.publish();
    if (step.toolCalls.length === 0) return { head, lastText, stoppedEarly: false, stopReason: null };
    toolResults = [];
    for (const call of step.toolCalls) {
      const { status: _status, preview: _preview, ...result } = await o.gate.callTool(call, o.tools, o.onToolOk);
      toolResults.push(result);
    }
  }
  o.note('note', `stopped after the turn limit (${o.maxTurns})`);
  return { head, lastText, stoppedEarly: true, stopReason: `the turn limit (${o.maxTurns})` };
}
