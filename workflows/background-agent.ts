/**
 * backgroundAgent: a long-lived agent with an inbox. Messages (from `agent bg send`) and schedule
 * triggers (a Temporal Schedule starting backgroundAgentTick) land in the inbox; each item runs as a
 * child agentTask under the agent's standing goal and policy, one at a time, in arrival order.
 *
 * Exactly once: an item leaves the inbox only after its child task finished, items carry
 * client-chosen ids (a re-sent signal is ignored, also after continue-as-new), and child ids come
 * from a carried sequence. The history is rolled over with continue-as-new only between items, with
 * no handler running, carrying the inbox, usage and pause state.
 */
import * as wf from '@temporalio/workflow';
import {
  HANDLED_IDS_KEPT,
  MAX_INBOX,
  RECENT_RUNS_KEPT,
  backgroundStatusQuery,
  messageSignal,
  pauseSignal,
  resumeSignal,
  stopSignal,
  tokensOf,
  type BackgroundAgentConfig,
  type BackgroundAgentState,
  type BackgroundStatusView,
  type InboxItem,
  type RunRecord,
} from '../domain/background-agent';
import type { TaskInput, TaskStatus } from '../domain/task';
import { agentTask } from './agent-task';

export interface BackgroundAgentResult {
  name: string;
  stoppedBy: string;
  reason: string | null;
  handledTotal: number;
  /** Items still in the inbox when the agent stopped: reported, not run. */
  unhandled: number;
}

const utcDay = () => new Date().toISOString().slice(0, 10);
const msUntilNextUtcDay = () => {
  const next = new Date();
  next.setUTCHours(24, 0, 0, 0);
  return Math.max(1_000, next.getTime() - Date.now());
};

function freshState(): BackgroundAgentState {
  return {
    inbox: [],
    paused: null,
    handledIds: [],
    usage: { day: utcDay(), tasks: 0, tokens: 0 },
    recentRuns: [],
    handledTotal: 0,
    seq: 0,
    generation: 0,
  };
}

/** The prompt of the child task: the standing goal, then the item, quoted as what it is. */
function taskPrompt(config: BackgroundAgentConfig, item: InboxItem): string {
  const head = `[Background agent "${config.name}"] Standing goal: ${config.goal}`;
  return item.kind === 'trigger'
    ? `${head}\n\nScheduled run (${item.text}): do what the standing goal asks now.`
    : `${head}\n\nNew message from ${item.from}:\n${item.text}`;
}

export async function backgroundAgent(config: BackgroundAgentConfig, carried?: BackgroundAgentState): Promise<BackgroundAgentResult> {
  const state: BackgroundAgentState = carried ?? freshState();
  const handled = new Set(state.handledIds);
  let stopping: { by: string; reason: string | null } | null = null;
  let currentTaskId: string | null = null;
  let childScope: wf.CancellationScope | null = null;
  let lastHeartbeat = new Date().toISOString();

  const view = (): BackgroundStatusView => ({
    name: config.name,
    goal: config.goal,
    workspace: config.workspace,
    mode: config.mode,
    state: stopping ? 'stopping' : state.paused ? 'paused' : currentTaskId ? 'working' : 'idle',
    pausedReason: state.paused?.reason ?? null,
    inbox: state.inbox.map((i) => ({ id: i.id, kind: i.kind, from: i.from, receivedAt: i.receivedAt, preview: i.text.slice(0, 120) })),
    currentTaskId,
    lastHeartbeat,
    every: config.every ?? null,
    budget: config.budget,
    usage: state.usage,
    handledTotal: state.handledTotal,
    recentRuns: state.recentRuns,
    generation: state.generation,
    historyLength: wf.workflowInfo().historyLength,
  });

  const publish = () => {
    const v = view();
    const lines = [
      `**${v.state}** · inbox ${v.inbox.length} · handled ${v.handledTotal} · today ${v.usage.tasks}/${v.budget.tasksPerDay} tasks, ${v.usage.tokens}/${v.budget.tokensPerDay} tokens`,
      `**Goal:** ${config.goal.slice(0, 300)}`,
      ...(v.pausedReason ? [`**Paused:** ${v.pausedReason}`] : []),
      ...(currentTaskId ? [`**Working on:** ${currentTaskId}`] : []),
      `Last heartbeat: ${lastHeartbeat}${config.every ? ` · schedule: ${config.every}` : ''}`,
    ];
    wf.setCurrentDetails(lines.join('\n\n'));
  };

  /** Usage is per UTC day; a budget pause lifts by itself when the day rolls over. */
  const rollDay = () => {
    const today = utcDay();
    if (state.usage.day === today) return;
    state.usage = { day: today, tasks: 0, tokens: 0 };
    if (state.paused?.overBudget) state.paused = null;
  };

  const overBudget = (): string | null => {
    const { usage } = state;
    if (usage.tasks >= config.budget.tasksPerDay) return `daily task budget used (${usage.tasks}/${config.budget.tasksPerDay} tasks on ${usage.day} UTC)`;
    if (usage.tokens >= config.budget.tokensPerDay) return `daily token budget used (${usage.tokens}/${config.budget.tokensPerDay} tokens on ${usage.day} UTC)`;
    return null;
  };

  wf.setHandler(messageSignal, (message) => {
    if (stopping || handled.has(message.id) || state.inbox.some((i) => i.id === message.id)) return;
    if (state.inbox.length >= MAX_INBOX) {
      wf.log.warn('background agent inbox full; message dropped', { name: config.name, id: message.id });
      return;
    }
    state.inbox.push({
      id: message.id,
      kind: message.kind ?? 'message',
      text: message.text.slice(0, 20_000),
      from: message.from.slice(0, 200),
      receivedAt: new Date().toISOString(),
    });
    publish();
  });
  wf.setHandler(pauseSignal, ({ by, reason }) => {
    state.paused = { reason: reason ? `paused by ${by}: ${reason}` : `paused by ${by}`, by, overBudget: false };
    publish();
  });
  wf.setHandler(resumeSignal, () => {
    state.paused = null;
    publish();
  });
  wf.setHandler(stopSignal, ({ by, reason }) => {
    stopping = { by, reason: reason ?? null };
    // The kill switch: the running child task is cancelled (its commands' process groups are killed).
    childScope?.cancel();
    publish();
  });
  wf.setHandler(backgroundStatusQuery, view);

  const rollOverDue = () => {
    const info = wf.workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= config.continueAsNewAfterEvents;
  };

  publish();
  while (!stopping) {
    rollDay();
    const waitMs = state.paused?.overBudget ? Math.min(config.heartbeatMs, msUntilNextUtcDay()) : config.heartbeatMs;
    const woke = await wf.condition(() => stopping !== null || (!state.paused && state.inbox.length > 0), waitMs);
    if (stopping) break;
    rollDay();
    if (!woke) lastHeartbeat = new Date().toISOString();
    if (rollOverDue()) {
      await wf.condition(wf.allHandlersFinished);
      return await wf.continueAsNew<typeof backgroundAgent>(config, {
        ...state,
        handledIds: [...handled].slice(-HANDLED_IDS_KEPT),
        generation: state.generation + 1,
      });
    }
    if (state.paused || state.inbox.length === 0) {
      publish();
      continue;
    }
    const why = overBudget();
    if (why) {
      state.paused = { reason: `over budget: ${why}; resumes at the next UTC day or with \`agent bg resume ${config.name}\``, by: 'budget', overBudget: true };
      publish();
      continue;
    }
    await runItem(state.inbox[0]!);
  }

  // TypeScript narrows `stopping` to null after the loop; it was set by the stop handler.
  const stoppedWith = stopping as { by: string; reason: string | null } | null;
  const result: BackgroundAgentResult = {
    name: config.name,
    stoppedBy: stoppedWith?.by ?? 'unknown',
    reason: stoppedWith?.reason ?? null,
    handledTotal: state.handledTotal,
    unhandled: state.inbox.length,
  };
  publish();
  return result;

  async function runItem(item: InboxItem) {
    const taskId = `${wf.workflowInfo().workflowId}-${++state.seq}`;
    currentTaskId = taskId;
    publish();
    const startedAt = new Date().toISOString();
    let status: TaskStatus = 'failed';
    let tokens = 0;
    const input: TaskInput = {
      prompt: taskPrompt(config, item),
      workspace: config.workspace,
      approvalTimeoutMs: config.approvalTimeoutMs,
      maxTurns: config.maxTurns,
      confirmResult: 'never',
      submittedBy: `bg:${config.name}`,
      mode: config.mode,
      rules: config.rules,
      approverKeys: config.approverKeys ?? [],
    };
    childScope = new wf.CancellationScope();
    try {
      const result = await childScope.run(() =>
        wf.executeChild(agentTask, {
          workflowId: taskId,
          args: [input],
          staticSummary: `${config.name}: ${item.kind === 'trigger' ? 'scheduled run' : item.text.split('\n')[0]!.slice(0, 100)}`,
          staticDetails: `Background agent \`${config.name}\`, inbox item \`${item.id}\` (${item.kind} from ${item.from}).`,
        }),
      );
      status = result.status;
      tokens = tokensOf(result.tokens);
    } catch (err) {
      status = wf.isCancellation(err) || stopping ? 'cancelled' : 'failed';
      wf.log.warn('background agent task did not complete', { taskId, error: String(err) });
    } finally {
      childScope = null;
      currentTaskId = null;
    }
    if (status === 'cancelled' && stopping) return; // stopped mid-item: the item stays unhandled, and is reported
    state.inbox.shift();
    handled.add(item.id);
    state.handledTotal++;
    state.usage.tasks++;
    state.usage.tokens += tokens;
    const run: RunRecord = { itemId: item.id, kind: item.kind, taskId, status, startedAt, finishedAt: new Date().toISOString(), tokens };
    state.recentRuns = [...state.recentRuns, run].slice(-RECENT_RUNS_KEPT);
    publish();
  }
}

/**
 * Started by the agent's Temporal Schedule: drops a trigger into the inbox. The schedule-made
 * workflow id is unique per scheduled time and stable across retries, so it is the trigger's id.
 */
export async function backgroundAgentTick(name: string, agentWorkflowId: string): Promise<void> {
  const info = wf.workflowInfo();
  await wf.getExternalWorkflowHandle(agentWorkflowId).signal(messageSignal, {
    id: `trigger:${info.workflowId}`,
    kind: 'trigger',
    text: `schedule of ${name} at ${new Date().toISOString()}`,
    from: 'schedule',
  });
}
