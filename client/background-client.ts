/**
 * Talks to background agents through Temporal: start (with an optional Schedule trigger), send,
 * pause, resume, stop, status and list. Every failure a person can fix becomes a UserError.
 */
import { randomUUID } from 'node:crypto';
import { ScheduleNotFoundError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  BACKGROUND_AGENT_WORKFLOW,
  BACKGROUND_ID_PREFIX,
  BACKGROUND_TICK_WORKFLOW,
  BackgroundAgentConfigSchema,
  BackgroundNameSchema,
  backgroundScheduleId,
  backgroundStatusQuery,
  backgroundWorkflowId,
  messageSignal,
  pauseSignal,
  resumeSignal,
  stopSignal,
  type BackgroundAgentSubmission,
  type BackgroundStatusView,
} from '../domain/background-agent';
import type { ApproverKey } from '../domain/approver-signature';
import { parseDuration } from '../services/config';
import { UserError } from './user-error';

export interface BackgroundListItem {
  name: string;
  status: string;
  startTime: string;
}

/** "15m" / "30s" → an interval; five or six cron fields → a cron expression; anything else is a usage error. */
export function parseEvery(every: string): { intervals: { every: number }[] } | { cronExpressions: string[] } {
  const text = every.trim();
  if (/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/.test(text)) {
    const ms = parseDuration(text);
    if (ms < 1_000) throw new UserError(`--every must be at least 1s, got "${every}"`, 2);
    return { intervals: [{ every: ms }] };
  }
  const fields = text.split(/\s+/);
  if ((fields.length === 5 || fields.length === 6) && fields.every((f) => /^[\d*/,\-A-Za-z?LW#]+$/.test(f))) return { cronExpressions: [text] };
  if (/^@(yearly|annually|monthly|weekly|daily|hourly|every\s.+)$/.test(text)) return { cronExpressions: [text] };
  throw new UserError(`--every must be an interval like "15m" or a cron expression like "0 9 * * 1-5", got "${every}"`, 2);
}

export class BackgroundClient {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    /** Whose signed decisions the agent's tasks accept (TaskClient.approverKeys); none: nobody can approve what they ask. */
    private readonly approverKeys: () => Promise<ApproverKey[]> = async () => [],
  ) {}

  private name(name: string): string {
    const parsed = BackgroundNameSchema.safeParse(name);
    if (!parsed.success) throw new UserError(parsed.error.issues[0]!.message, 2);
    return parsed.data;
  }

  /** Starts the agent and, with `every`, its Schedule. Throws UserError when the name is taken. */
  async start(submission: BackgroundAgentSubmission): Promise<string> {
    const parsed = BackgroundAgentConfigSchema.safeParse({ ...submission, approverKeys: submission.approverKeys ?? (await this.approverKeys()) });
    if (!parsed.success) throw new UserError(`invalid background agent: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}`, 2);
    const config = parsed.data;
    const spec = config.every ? parseEvery(config.every) : null;
    const workflowId = backgroundWorkflowId(config.name);
    await this.client.workflow
      .start(BACKGROUND_AGENT_WORKFLOW, {
        workflowId,
        // A stopped agent's name may be used again; a running one's may not.
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        taskQueue: this.taskQueue,
        args: [config],
        staticSummary: `background agent ${config.name}: ${config.goal.split('\n')[0]!.slice(0, 120)}`,
        staticDetails: `**Background agent** \`${config.name}\`\n\n**Goal:** ${config.goal}\n\n**Workspace:** \`${config.workspace}\` · mode ${config.mode}${config.every ? ` · every ${config.every}` : ''}`,
        memo: { goal: config.goal.slice(0, 500) },
      })
      .catch((err: unknown) => {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          throw new UserError(`a background agent named ${config.name} is already running (see \`agent bg status ${config.name}\`)`, 2);
        }
        throw err;
      });
    if (spec) {
      const scheduleId = backgroundScheduleId(config.name);
      // A leftover schedule of an earlier agent with this name is replaced, not an error.
      await this.client.schedule
        .getHandle(scheduleId)
        .delete()
        .catch(() => {});
      await this.client.schedule.create({
        scheduleId,
        spec,
        action: {
          type: 'startWorkflow',
          workflowType: BACKGROUND_TICK_WORKFLOW,
          args: [config.name, workflowId],
          taskQueue: this.taskQueue,
          workflowId: `${workflowId}-tick`,
        },
        // A tick only drops a trigger in the inbox; a missed one is not worth a burst of catch-up runs.
        policies: { overlap: 'SKIP', catchupWindow: '1 minute' },
        memo: { agent: config.name },
      });
    }
    return workflowId;
  }

  /** Sends a message; the id (random unless given) makes a re-send harmless. Returns the id. */
  async send(name: string, text: string, from: string, id: string = randomUUID()): Promise<string> {
    if (!text.trim()) throw new UserError('the message is empty', 2);
    await this.running(name);
    await this.client.workflow.getHandle(backgroundWorkflowId(this.name(name))).signal(messageSignal, { id, text, from });
    return id;
  }

  async pause(name: string, by: string, reason?: string): Promise<void> {
    await this.running(name);
    await this.client.workflow.getHandle(backgroundWorkflowId(name)).signal(pauseSignal, { by, ...(reason ? { reason } : {}) });
    await this.schedule(name, (h) => h.pause(`paused by ${by}`));
  }

  async resume(name: string, by: string): Promise<void> {
    await this.running(name);
    await this.client.workflow.getHandle(backgroundWorkflowId(name)).signal(resumeSignal, { by });
    await this.schedule(name, (h) => h.unpause(`resumed by ${by}`));
  }

  /** The kill switch: deletes the schedule, cancels the running task, ends the agent. */
  async stop(name: string, by: string, reason?: string): Promise<void> {
    await this.schedule(name, (h) => h.delete());
    await this.running(name);
    await this.client.workflow.getHandle(backgroundWorkflowId(name)).signal(stopSignal, { by, ...(reason ? { reason } : {}) });
  }

  async status(name: string): Promise<BackgroundStatusView> {
    await this.running(name);
    return await this.client.workflow.getHandle(backgroundWorkflowId(name)).query(backgroundStatusQuery);
  }

  async list(limit = 50): Promise<BackgroundListItem[]> {
    const items: BackgroundListItem[] = [];
    for await (const wf of this.client.workflow.list({ query: `WorkflowType = '${BACKGROUND_AGENT_WORKFLOW}' AND ExecutionStatus = 'Running'` })) {
      items.push({ name: wf.workflowId.slice(BACKGROUND_ID_PREFIX.length), status: wf.status.name.toLowerCase(), startTime: wf.startTime.toISOString() });
      if (items.length >= limit) break;
    }
    return items;
  }

  private async running(name: string): Promise<void> {
    const workflowId = backgroundWorkflowId(this.name(name));
    try {
      const description = await this.client.workflow.getHandle(workflowId).describe();
      if (description.status.name !== 'RUNNING') {
        throw new UserError(`background agent ${name} is not running (${description.status.name.toLowerCase()}); start it with \`agent bg start ${name} --goal ...\``);
      }
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new UserError(`no background agent named ${name} (see \`agent bg list\`)`);
      throw err;
    }
  }

  private async schedule(name: string, fn: (handle: ReturnType<Client['schedule']['getHandle']>) => Promise<void>): Promise<void> {
    try {
      await fn(this.client.schedule.getHandle(backgroundScheduleId(name)));
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
}
