/**
 * Talks to agent tasks through Temporal: start, status, trace, decide, cancel, list. Used by the
 * CLI and by the chat/webhook front ends; every failure becomes a UserError that says what to do.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowNotFoundError, WorkflowUpdateFailedError, type ConnectionLike, type WorkflowHandle } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import proto from '@temporalio/proto';
import { AGENT_TASK_WORKFLOW, TASK_ID_PREFIX } from '../domain/constants';
import { AGENT_TEAM_WORKFLOW, TeamInputSchema, type TeamSubmission } from '../domain/team';
import { decideApprovalUpdate, queuedDecisionSignal, statusQuery, traceQuery } from '../domain/messages';
import {
  ApprovalDecisionSchema,
  PENDING_APPROVALS_MEMO,
  TaskInputSchema,
  type PendingApprovalMemo,
  type ApprovalDecision,
  type ApprovalRecord,
  type ApprovalRequest,
  type TaskResult,
  type TokenUsage,
  type TaskStatus,
  type TaskStatusView,
  type TaskSubmission,
  type TraceEntry,
} from '../domain/task';
import { signedRequestOf, type ApproverKey } from '../domain/approver-signature';
import { ApproverKeyError, loadApproverIdentity, type ApproverIdentity } from '../services/approvals/approver-key';
import type { Config } from '../services/config';
import type { agentTask } from '../workflows/agent-task';
import { innermostMessage, UserError } from './user-error';

const { temporal } = proto;

const QUERY_DEADLINE_MS = 5_000;
/** Ids a person may choose for a task (`agent run --id`). */
const TASK_ID = /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** A finished task's last state comes from a replay; `agent status` should not hang on it. */
const ENDED_QUERY_DEADLINE_MS = 3_000;
/** Child workflows of a team that answer status and trace queries but return their own result shape. */
const TEAM_CHILD_WORKFLOWS = ['teamWorker', 'teamVerifier'];

/** A running task whose worker did not answer a query in time: busy (a long local activity) or gone. */
export class NoWorkerAnsweredError extends UserError {}

/** A decision sent while no worker answered: the task applies it (with the same checks) when a worker next runs it. */
export interface QueuedDecision {
  queued: true;
  /** The workflow that holds the request (a team's child, for a team). */
  taskId: string;
  requestId: string;
  tool: string;
  approve: boolean;
}

type DecisionInput = Omit<ApprovalDecision, 'requestId' | 'actionHash' | 'always'> & { always?: boolean };

/** The request a decision is about: the one named, or the only one pending. */
function chooseRequest<R extends { requestId: string }>(taskId: string, pending: readonly R[], requestId: string | undefined): R | undefined {
  if (requestId) return pending.find((r) => r.requestId === requestId);
  if (pending.length === 0) throw new UserError(`task ${taskId} has no pending approval request`);
  if (pending.length > 1) throw new UserError(`task ${taskId} has ${pending.length} pending requests; name one: ${pending.map((r) => r.requestId).join(', ')}`, 2);
  return pending[0];
}

export interface TaskListItem {
  taskId: string;
  status: TaskStatus;
  summary: string;
  startTime: string;
}

export class TaskClient {
  private identity: Promise<ApproverIdentity> | null = null;

  private constructor(
    readonly client: Client,
    private readonly config: Config,
    /** Set when the connection belongs to an in-process worker: tasks start eagerly on it, and close() leaves it open. */
    private readonly borrowed = false,
  ) {}

  /**
   * A client over an in-process worker's connection. Tasks then start with eager workflow start:
   * the server hands the first workflow task straight back to this worker, saving a dispatch.
   */
  static overWorkerConnection(connection: ConnectionLike, config: Config): TaskClient {
    return new TaskClient(new Client({ connection, namespace: config.temporal.namespace }), config, true);
  }

  /** Connects to TEMPORAL_ADDRESS; throws UserError saying how to start a server when nothing answers. */
  static async connect(config: Config, options: { connectTimeoutMs?: number } = {}): Promise<TaskClient> {
    try {
      // Short by default: a person waiting on the CLI should hear quickly that nothing answers.
      const connection = await Connection.connect({ address: config.temporal.address, connectTimeout: options.connectTimeoutMs ?? 3_000 });
      return new TaskClient(new Client({ connection, namespace: config.temporal.namespace }), config);
    } catch (err) {
      throw new UserError(
        `cannot reach the Temporal server at ${config.temporal.address} (${(err as Error).message.split('\n')[0]}). ` +
          'Start the embedded one with `agent up`, or set TEMPORAL_ADDRESS to a running server.',
      );
    }
  }

  async close(): Promise<void> {
    if (!this.borrowed) await this.client.connection.close();
  }

  /** This user's approver key (created on first use under AGENT_USER_DIR). Throws UserError when it cannot be read or made. */
  async approver(): Promise<ApproverIdentity> {
    this.identity ??= loadApproverIdentity(this.config.userDir).catch((err: unknown) => {
      this.identity = null;
      if (err instanceof ApproverKeyError) throw new UserError(err.message);
      throw err;
    });
    return await this.identity;
  }

  /** The keys a task started here accepts decisions from: this user's, plus AGENT_APPROVER_KEYS (e.g. a chat receiver elsewhere). */
  async approverKeys(): Promise<ApproverKey[]> {
    const own = (await this.approver()).key;
    return [own, ...this.config.approverKeys.filter((k) => k.id !== own.id)];
  }

  /**
   * Validates the submission and starts the workflow; returns the task id. With `team`, the task
   * runs as an agent team (planner, parallel workers, verifier, memory agent) under those budgets.
   */
  async start(submission: TaskSubmission, options: { taskId?: string; team?: TeamSubmission['team'] } = {}): Promise<string> {
    const team = options.team !== undefined;
    // Only decisions signed by these keys can approve anything in the task (the sandbox can read none of them).
    const withKeys = { ...submission, approverKeys: submission.approverKeys ?? (await this.approverKeys()) };
    const parsed = team ? TeamInputSchema.safeParse({ ...withKeys, team: options.team }) : TaskInputSchema.safeParse(withKeys);
    if (!parsed.success) throw new UserError(`invalid task: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 2);
    const input = parsed.data;
    // A chosen id names files, URLs and log lines later: letters, digits, and . _ - inside, never a path.
    if (options.taskId !== undefined && !TASK_ID.test(options.taskId)) {
      throw new UserError(`task id "${options.taskId}" is not allowed: use 1–100 letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. release-1.4)`, 2);
    }
    // 48 random bits: a collision is unlikely before tens of millions of tasks, and REJECT_DUPLICATE catches it.
    const taskId = options.taskId ?? `${TASK_ID_PREFIX}${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const summary = input.prompt.split('\n')[0]!.slice(0, 150);
    await this.client.workflow
      .start(team ? AGENT_TEAM_WORKFLOW : AGENT_TASK_WORKFLOW, {
        workflowId: taskId,
        // A task id names one task forever, so `agent status <id>` is never ambiguous.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        taskQueue: this.config.temporal.taskQueue,
        args: [input],
        staticSummary: summary,
        staticDetails: `**${team ? 'Team task' : 'Task'}**\n\n${input.prompt}\n\n**Workspace:** \`${input.workspace}\` · submitted by ${input.submittedBy}`,
        memo: { summary },
        requestEagerStart: this.borrowed,
      })
      .catch((err: unknown) => {
        if (err instanceof WorkflowExecutionAlreadyStartedError) throw new UserError(`task id ${taskId} is already taken (see \`agent status ${taskId}\`)`, 2);
        throw err;
      });
    return taskId;
  }

  handle(taskId: string): WorkflowHandle<typeof agentTask> {
    return this.client.workflow.getHandle<typeof agentTask>(taskId);
  }

  /** The task's status; for a finished task it comes from the result, so it needs no worker. */
  async status(taskId: string): Promise<TaskStatusView> {
    const description = await this.describe(taskId);
    const handle = this.handle(taskId);
    switch (description.status.name) {
      case 'RUNNING': {
        const view = await this.query(taskId, () => handle.query(statusQuery));
        const retrying = retryingActivities(description.raw.pendingActivities ?? []);
        return retrying.length ? { ...view, retrying } : view;
      }
      case 'COMPLETED': {
        if (TEAM_CHILD_WORKFLOWS.includes(description.type)) {
          // A team's worker or verifier: its own result shape; the step's outcome is on the parent.
          const child = (await handle.result()) as unknown as { approvals?: ApprovalRecord[]; toolCalls?: number; tokens?: TokenUsage; turns?: number };
          return finishedView(taskId, 'completed', null, null, { summary: `${description.type} (see its parent's status for the step's outcome)` }, {
            approvals: child.approvals ?? [],
            toolCalls: child.toolCalls ?? 0,
            turns: child.turns ?? 0,
            ...(child.tokens ? { tokens: child.tokens } : {}),
          } as TaskResult);
        }
        const { trace: _trace, ...result } = await handle.result();
        return finishedView(taskId, result.status, result, null, description.memo, result);
      }
      case 'CANCELLED':
        return await this.endedView(taskId, 'cancelled', 'cancelled', description.memo);
      default: {
        const error = await handle.result().then(
          () => null,
          (err: Error) => innermostMessage(err),
        );
        return await this.endedView(taskId, 'failed', error ?? description.status.name.toLowerCase(), description.memo);
      }
    }
  }

  /**
   * A cancelled or failed task has no result: its plan, approvals and usage are what the workflow
   * held when it stopped, which a worker reproduces by replaying the history for a query. Without
   * a worker (or when it does not answer soon) only the summary is known.
   */
  private async endedView(taskId: string, status: 'cancelled' | 'failed', error: string, memo: Record<string, unknown> | undefined): Promise<TaskStatusView> {
    const last = (await this.workersPolling().catch(() => 0))
      ? await this.client.withDeadline(Date.now() + ENDED_QUERY_DEADLINE_MS, () => this.handle(taskId).query(statusQuery)).catch(() => null)
      : null;
    if (!last) return finishedView(taskId, status, null, error, memo);
    return { ...last, status, pendingApprovals: [], result: null, error };
  }

  /** How many workers polled the task queue in the last 90 s: with none, a new task waits and queries go unanswered. */
  async workersPolling(): Promise<number> {
    const response = await this.client.workflowService.describeTaskQueue({
      namespace: this.config.temporal.namespace,
      taskQueue: { name: this.config.temporal.taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    // The server lists a poller for minutes after it left; a live one polls at least once a minute.
    return (response.pollers ?? []).filter((p) => Number(p.lastAccessTime?.seconds ?? 0) * 1000 > Date.now() - 90_000).length;
  }

  /** Trace entries with seq >= fromSeq. A completed task's come from its result, so no worker is needed. */
  async trace(taskId: string, fromSeq = 0): Promise<TraceEntry[]> {
    const description = await this.describe(taskId);
    if (description.status.name === 'COMPLETED') {
      const { trace = [] } = await this.handle(taskId).result();
      return trace.filter((e) => e.seq >= fromSeq);
    }
    return await this.query(taskId, () => this.handle(taskId).query(traceQuery, fromSeq));
  }

  /** Waits for the end and returns the result; throws UserError for a failed or cancelled task. */
  async result(taskId: string): Promise<TaskResult> {
    try {
      return await this.handle(taskId).result();
    } catch (err) {
      throw new UserError(`task ${taskId} did not complete: ${innermostMessage(err as Error)}`);
    }
  }

  /**
   * Sends a decision. Without requestId, decides the only pending request (error if several).
   * Throws UserError when the request is unknown, expired, already decided or for another action.
   */
  async decide(taskId: string, requestId: string | undefined, decision: DecisionInput): Promise<ApprovalRecord | QueuedDecision> {
    let view: TaskStatusView;
    try {
      view = await this.status(taskId);
    } catch (err) {
      if (err instanceof NoWorkerAnsweredError) return await this.queueDecision(taskId, requestId, decision);
      throw err;
    }
    if (view.status !== 'running' && view.status !== 'waiting_approval') {
      throw new UserError(`task ${taskId} is ${view.status}; there is nothing to approve`);
    }
    const request = chooseRequest(taskId, view.pendingApprovals, requestId);
    // Unknown or already decided: send it anyway with a dummy hash so the workflow's validator gives the authoritative reason.
    // A team's request lives in the child that raised it (request.taskId); the decision goes there.
    return await this.sendDecision(
      request?.taskId ?? taskId,
      {
        ...decision,
        always: decision.always ?? false,
        requestId: request?.requestId ?? requestId!,
        actionHash: request?.actionHash ?? '0'.repeat(64),
      },
      request ?? null,
    );
  }

  /**
   * Sends a fully specified decision (bound to an action hash), signed with this user's approver
   * key, to the workflow that holds the request. `request` (as the status view shows it) saves a
   * query; without it the request is looked up, and a decision for a request that is not pending is
   * sent unsigned so the workflow's validator gives the authoritative reason.
   */
  async sendDecision(taskId: string, decision: Omit<ApprovalDecision, 'signature'>, request?: ApprovalRequest | null): Promise<ApprovalRecord> {
    const parsed = ApprovalDecisionSchema.safeParse(decision);
    if (!parsed.success) throw new UserError(`invalid decision: ${parsed.error.issues.map((i) => i.message).join('; ')}`, 2);
    const pending = request === undefined ? await this.pendingRequest(taskId, parsed.data.requestId) : request;
    const signed: ApprovalDecision =
      pending && pending.requestId === parsed.data.requestId
        ? {
            ...parsed.data,
            signature: (await this.approver()).sign(signedRequestOf(taskId, { ...pending, actionHash: parsed.data.actionHash }), parsed.data),
          }
        : parsed.data;
    try {
      return await this.handle(taskId).executeUpdate(decideApprovalUpdate, { args: [signed] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw new UserError(`rejected: ${innermostMessage(err)}`);
      if (err instanceof WorkflowNotFoundError) throw new UserError(`no task with id ${taskId}`);
      throw err;
    }
  }

  /**
   * Decides a request while no worker answers queries: the request comes from the memo the task
   * keeps of its pending requests, and the signed decision goes as a signal, which the server keeps
   * until a worker runs the task. Unlike an update it cannot be refused here; the task checks it then
   * and says in its trace when it did not apply it.
   */
  private async queueDecision(taskId: string, requestId: string | undefined, decision: DecisionInput): Promise<QueuedDecision> {
    const memo = (await this.describe(taskId)).memo as Record<string, unknown> | undefined;
    const recorded = memo?.[PENDING_APPROVALS_MEMO] as PendingApprovalMemo[] | undefined;
    if (!recorded)
      throw new UserError(
        `task ${taskId} is running but no worker answered, and it records no pending requests to decide (started by an older version); start a worker with \`agent worker\` or \`agent up\``,
      );
    const request = chooseRequest(taskId, recorded, requestId);
    if (!request) throw new UserError(`task ${taskId} has no pending approval request ${requestId}`);
    if (Date.now() >= Date.parse(request.expiresAt)) throw new UserError(`approval request ${request.requestId} expired at ${request.expiresAt}`);
    const holder = request.taskId ?? taskId;
    const parsed = ApprovalDecisionSchema.parse({ ...decision, always: decision.always ?? false, requestId: request.requestId, actionHash: request.actionHash });
    const signature = (await this.approver()).sign(signedRequestOf(holder, request), parsed);
    await this.handle(holder).signal(queuedDecisionSignal, { ...parsed, signature });
    return { queued: true, taskId: holder, requestId: request.requestId, tool: request.tool, approve: parsed.approve };
  }

  /** The pending request `requestId` of the workflow `workflowId`, or null when it has none (or is not running). */
  private async pendingRequest(workflowId: string, requestId: string): Promise<ApprovalRequest | null> {
    try {
      const view = await this.query(workflowId, () => this.handle(workflowId).query(statusQuery));
      return view.pendingApprovals.find((r) => r.requestId === requestId) ?? null;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new UserError(`no task with id ${workflowId}`);
      return null;
    }
  }

  async cancel(taskId: string): Promise<void> {
    const description = await this.describe(taskId);
    if (description.status.name !== 'RUNNING') throw new UserError(`task ${taskId} is not running (${description.status.name.toLowerCase()})`);
    await this.handle(taskId).cancel();
  }

  /** The newest tasks first. A task without a memo summary (a background agent's run) shows its static summary, else its parent. */
  async list(limit = 20): Promise<TaskListItem[]> {
    const items: (TaskListItem & { parent?: string })[] = [];
    for await (const wf of this.client.workflow.list({ query: `WorkflowType IN ('${AGENT_TASK_WORKFLOW}', '${AGENT_TEAM_WORKFLOW}')` })) {
      const attrs = wf.searchAttributes as Record<string, unknown[] | undefined>;
      const liveStatus = attrs.AgentStatus?.[0] as TaskStatus | undefined;
      items.push({
        taskId: wf.workflowId,
        status: wf.status.name === 'RUNNING' ? (liveStatus ?? 'running') : closedStatus(wf.status.name, liveStatus),
        summary: String((wf.memo as { summary?: string } | undefined)?.summary ?? ''),
        startTime: wf.startTime.toISOString(),
        ...(wf.parentExecution?.workflowId ? { parent: wf.parentExecution.workflowId } : {}),
      });
      if (items.length >= limit) break;
    }
    // Listing does not carry the static summary that child workflows are started with: ask for it (few tasks lack a memo).
    return await Promise.all(
      items.map(async ({ parent, ...item }) => {
        if (item.summary) return item;
        const summary = await this.handle(item.taskId)
          .describe()
          .then((d) => d.staticSummary())
          .catch(() => undefined);
        return { ...item, summary: summary || (parent ? `(a task of ${parent})` : '') };
      }),
    );
  }

  private async describe(taskId: string) {
    try {
      return await this.handle(taskId).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new UserError(`no task with id ${taskId} (see \`agent list\`)`);
      throw err;
    }
  }

  private async query<T>(taskId: string, fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + QUERY_DEADLINE_MS;
    try {
      return await this.client.withDeadline(deadline, fn);
    } catch (err) {
      // The gRPC error is wrapped ("Failed to query Workflow"); the cause says it was a timeout. When
      // the deadline lands while the server is still routing the query (its sticky queue points at a
      // worker that has gone), the call comes back CANCELLED instead of DEADLINE_EXCEEDED.
      const message = err instanceof Error ? `${err.message} ${innermostMessage(err)}` : String(err);
      const deadlinePassed = Date.now() >= deadline - 250;
      if (/deadline|timeout|timed out/i.test(message) || (deadlinePassed && /CANCELLED/.test(message))) {
        throw new NoWorkerAnsweredError(`task ${taskId} is running but no worker answered within ${QUERY_DEADLINE_MS / 1000}s; start one with \`agent worker\` or \`agent up\``);
      }
      throw err;
    }
  }
}

/** Activities past their first attempt (a model endpoint down, a flaky tool), so status says why a task is slow. */
function retryingActivities(
  pending: readonly {
    activityType?: { name?: string | null } | null;
    attempt?: number | null;
    lastFailure?: { message?: string | null } | null;
    nextAttemptScheduleTime?: unknown;
  }[],
) {
  return pending
    .filter((p) => (p.attempt ?? 1) > 1)
    .map((p) => ({ activity: p.activityType?.name ?? 'activity', attempt: p.attempt ?? 1, lastFailure: (p.lastFailure?.message ?? '').split('\n')[0]!.slice(0, 300) }));
}

function closedStatus(name: string, live: TaskStatus | undefined): TaskStatus {
  if (name === 'COMPLETED') return live && live !== 'running' && live !== 'waiting_approval' ? live : 'completed';
  if (name === 'CANCELLED') return 'cancelled';
  return 'failed';
}

function finishedView(
  taskId: string,
  status: TaskStatus,
  result: TaskResult | null,
  error: string | null,
  memo: Record<string, unknown> | undefined,
  from?: TaskResult,
): TaskStatusView {
  return {
    taskId,
    status,
    stage: 'done',
    summary: from?.summary ?? String(memo?.summary ?? ''),
    prompt: '',
    workspace: '',
    plan: from?.plan ?? [],
    pendingApprovals: [],
    approvals: from?.approvals ?? [],
    toolCalls: from?.toolCalls ?? 0,
    turns: from?.turns ?? 0,
    ...(from?.tokens ? { tokens: from.tokens } : {}),
    ...(from?.team ? { team: from.team } : {}),
    result,
    error,
  };
}
