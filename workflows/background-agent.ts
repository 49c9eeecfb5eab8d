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
  type MessageSignalInput,
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
  return item.kind === 'trigger' ? `${head}\n\nScheduled run (${item.text}): do what the standing goal asks now.` : `${head}\n\nNew message from ${item.from}:\n${item.text}`;
}

/**
 * The agent's state (the part carried through continue-as-new and what this run adds), its
 * handlers' effects, how it reads (status query, Current Details), and running one inbox item.
 */
class BackgroundAgentHost {
  readonly state: BackgroundAgentState;
  private readonly handled: Set<string>;
  stopping: { by: string; reason: string | null } | null = null;
  private currentTaskId: string | null = null;
  private childScope: wf.CancellationScope | null = null;
  private lastHeartbeat = new Date().toISOString();

  constructor(
    private readonly config: BackgroundAgentConfig,
    carried: BackgroundAgentState | undefined,
  ) {
    this.state = carried ?? freshState();
    this.handled = new Set(this.state.handledIds);
  }

  view(): BackgroundStatusView {
    const { config, state } = this;
    return {
      name: config.name,
      goal: config.goal,
      workspace: config.workspace,
      mode: config.mode,
      state: this.stopping ? 'stopping' : state.paused ? 'paused' : this.currentTaskId ? 'working' : 'idle',
      pausedReason: state.paused?.reason ?? null,
      inbox: state.inbox.map((i) => ({ id: i.id, kind: i.kind, from: i.from, receivedAt: i.receivedAt, preview: i.text.slice(0, 120) })),
      currentTaskId: this.currentTaskId,
      lastHeartbeat: this.lastHeartbeat,
      every: config.every ?? null,
      budget: config.budget,
      usage: state.usage,
      handledTotal: state.handledTotal,
      recentRuns: state.recentRuns,
      generation: state.generation,
      historyLength: wf.workflowInfo().historyLength,
    };
  }

  publish(): void {
    const { config } = this;
    const v = this.view();
    const lines = [
      `**${v.state}** · inbox ${v.inbox.length} · handled ${v.handledTotal} · today ${v.usage.tasks}/${v.budget.tasksPerDay} tasks, ${v.usage.tokens}/${v.budget.tokensPerDay} tokens`,
      `**Goal:** ${config.goal.slice(0, 300)}`,
      ...(v.pausedReason ? [`**Paused:** ${v.pausedReason}`] : []),
      ...(this.currentTaskId ? [`**Working on:** ${this.currentTaskId}`] : []),
      `Last heartbeat: ${this.lastHeartbeat}${config.every ? ` · schedule: ${config.every}` : ''}`,
    ];
    wf.setCurrentDetails(lines.join('\n\n'));
  }

  /** A message or trigger: into the inbox, unless it was seen before, the agent is stopping or the inbox is full. */
  receive(message: MessageSignalInput): void {
    const { state } = this;
    if (this.stopping || this.handled.has(message.id) || state.inbox.some((i) => i.id === message.id)) return;
    if (state.inbox.length >= MAX_INBOX) {
      wf.log.warn('background agent inbox full; message dropped', { name: this.config.name, id: message.id });
      return;
    }
    state.inbox.push({
      id: message.id,
      kind: message.kind ?? 'message',
      text: message.text.slice(0, 20_000),
      from: message.from.slice(0, 200),
      receivedAt: new Date().toISOString(),
    });
    this.publish();
  }

  pause({ by, reason }: { by: string; reason?: string }): void {
    this.state.paused = { reason: reason ? `paused by ${by}: ${reason}` : `paused by ${by}`, by, overBudget: false };
    this.publish();
  }

  resume(): void {
    this.state.paused = null;
    this.publish();
  }

  stop({ by, reason }: { by: string; reason?: string }): void {
    this.stopping = { by, reason: reason ?? null };
    // The kill switch: the running child task is cancelled (its commands' process groups are killed).
    this.childScope?.cancel();
    this.publish();
  }

  /** An item can run: the agent is not paused and the inbox is not empty. */
  hasWork(): boolean {
    return !this.state.paused && this.state.inbox.length > 0;
  }

  /** How long to wait for work: a budget pause also wakes when the UTC day rolls over. */
  waitMs(): number {
    return this.state.paused?.overBudget ? Math.min(this.config.heartbeatMs, msUntilNextUtcDay()) : this.config.heartbeatMs;
  }

  heartbeat(): void {
    this.lastHeartbeat = new Date().toISOString();
  }

  /** Usage is per UTC day; a budget pause lifts by itself when the day rolls over. */
  rollDay(): void {
    const today = utcDay();
    if (this.state.usage.day === today) return;
    this.state.usage = { day: today, tasks: 0, tokens: 0 };
    if (this.state.paused?.overBudget) this.state.paused = null;
  }

  rollOverDue(): boolean {
    const info = wf.workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= this.config.continueAsNewAfterEvents;
  }

  /** What the next run starts from. */
  carried(): BackgroundAgentState {
    return { ...this.state, handledIds: [...this.handled].slice(-HANDLED_IDS_KEPT), generation: this.state.generation + 1 };
  }

  /** Pauses the agent when today's budget is used: true when it did. */
  pauseIfOverBudget(): boolean {
    const { usage } = this.state;
    const { budget, name } = this.config;
    const why =
      usage.tasks >= budget.tasksPerDay
        ? `daily task budget used (${usage.tasks}/${budget.tasksPerDay} tasks on ${usage.day} UTC)`
        : usage.tokens >= budget.tokensPerDay
          ? `daily token budget used (${usage.tokens}/${budget.tokensPerDay} tokens on ${usage.day} UTC)`
          : null;
    if (!why) return false;
    this.state.paused = { reason: `over budget: ${why}; resumes at the next UTC day or with \`agent bg resume ${name}\``, by: 'budget', overBudget: true };
    this.publish();
    return true;
  }

  /** Runs an item as a child task; it leaves the inbox once the task ended, unless the agent was stopped mid-item. */
  async runItem(item: InboxItem): Promise<void> {
    const { config, state } = this;
    const taskId = `${wf.workflowInfo().workflowId}-${++state.seq}`;
    this.currentTaskId = taskId;
    this.publish();
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
    const childScope = new wf.CancellationScope();
    this.childScope = childScope;
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
      status = wf.isCancellation(err) || this.stopping ? 'cancelled' : 'failed';
      wf.log.warn('background agent task did not complete', { taskId, error: String(err) });
    } finally {
      this.childScope = null;
      this.currentTaskId = null;
    }
    if (status === 'cancelled' && this.stopping) return; // stopped mid-item: the item stays unhandled, and is reported
    state.inbox.shift();
    this.handled.add(item.id);
    state.handledTotal++;
    state.usage.tasks++;
    state.usage.tokens += tokens;
    const run: RunRecord = { itemId: item.id, kind: item.kind, taskId, status, startedAt, finishedAt: new Date().toISOString(), tokens };
    state.recentRuns = [...state.recentRuns, run].slice(-RECENT_RUNS_KEPT);
    this.publish();
  }

  /** The agent stopped: who stopped it and why, and what was left in the inbox. */
  stopped(): BackgroundAgentResult {
    const result: BackgroundAgentResult = {
      name: this.config.name,
      stoppedBy: this.stopping?.by ?? 'unknown',
      reason: this.stopping?.reason ?? null,
      handledTotal: this.state.handledTotal,
      unhandled: this.state.inbox.length,
    };
    this.publish();
    return result;
  }
}

export async function backgroundAgent(config: BackgroundAgentConfig, carried?: BackgroundAgentState): Promise<BackgroundAgentResult> {
  const agent = new BackgroundAgentHost(config, carried);
  wf.setHandler(messageSignal, (message) => agent.receive(message));
  wf.setHandler(pauseSignal, (pause) => agent.pause(pause));
  wf.setHandler(resumeSignal, () => agent.resume());
  wf.setHandler(stopSignal, (stop) => agent.stop(stop));
  wf.setHandler(backgroundStatusQuery, () => agent.view());

  agent.publish();
  while (!agent.stopping) {
    agent.rollDay();
    const woke = await wf.condition(() => agent.stopping !== null || agent.hasWork(), agent.waitMs());
    if (agent.stopping) break;
    agent.rollDay();
    if (!woke) agent.heartbeat();
    if (agent.rollOverDue()) {
      await wf.condition(wf.allHandlersFinished);
      return await wf.continueAsNew<typeof backgroundAgent>(config, agent.carried());
    }
    if (!agent.hasWork()) {
      agent.publish();
      continue;
    }
    if (agent.pauseIfOverBudget()) continue;
    await agent.runItem(agent.state.inbox[0]!);
  }
  return agent.stopped();
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
