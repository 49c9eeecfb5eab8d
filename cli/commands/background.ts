/** `agent bg start|send|pause|resume|stop|list|status`: persistent background agents. */
import { BackgroundClient } from '../../client/background-client';
import { UserError } from '../../client/user-error';
import type { BackgroundStatusView } from '../../domain/background-agent';
import { parseMode, parseTaskRules, resolveWorkspace } from '../arguments';
import { localUser, type CliContext } from '../cli-context';

export interface BackgroundStartOptions {
  name: string;
  goal?: string;
  every?: string;
  workspace: string;
  mode?: string;
  rules: string[];
  tasksPerDay?: number;
  tokensPerDay?: number;
  /** Model turns per inbox item's task. */
  maxTurns?: number;
}

async function backgroundClient(ctx: CliContext): Promise<BackgroundClient> {
  const tasks = await ctx.connect();
  return new BackgroundClient(tasks.client, ctx.config.temporal.taskQueue, () => tasks.approverKeys());
}

export async function bgStartCommand(ctx: CliContext, options: BackgroundStartOptions): Promise<number> {
  if (!options.goal?.trim()) throw new UserError('--goal is required: what should this agent keep doing?', 2);
  const workspace = await resolveWorkspace(options.workspace);
  const client = await backgroundClient(ctx);
  const workflowId = await client.start({
    name: options.name,
    goal: options.goal,
    workspace,
    // Unattended unless told otherwise: anything that would ask a human is denied.
    mode: options.mode ? parseMode(options.mode) : 'dont-ask',
    rules: parseTaskRules(options.rules),
    ...(options.every ? { every: options.every } : {}),
    ...(options.maxTurns !== undefined ? { maxTurns: options.maxTurns } : {}),
    // Unset limits take the schema's defaults (domain/background-agent.ts).
    budget: {
      ...(options.tasksPerDay !== undefined ? { tasksPerDay: options.tasksPerDay } : {}),
      ...(options.tokensPerDay !== undefined ? { tokensPerDay: options.tokensPerDay } : {}),
    },
    submittedBy: localUser(),
  });
  if (ctx.json) ctx.emit({ name: options.name, workflowId, every: options.every ?? null });
  else {
    ctx.out(`started background agent ${options.name} (workflow ${workflowId})${options.every ? `, triggered every ${options.every}` : ''}`);
    ctx.out(`send it work with: agent bg send ${options.name} "<message>"`);
  }
  return 0;
}

export async function bgSendCommand(ctx: CliContext, name: string, text: string, id?: string): Promise<number> {
  const client = await backgroundClient(ctx);
  const messageId = await client.send(name, text, localUser(), id);
  if (ctx.json) ctx.emit({ name, messageId });
  else ctx.out(`sent to ${name} (message ${messageId})`);
  return 0;
}

export async function bgControlCommand(ctx: CliContext, action: 'pause' | 'resume' | 'stop', name: string, reason?: string): Promise<number> {
  const client = await backgroundClient(ctx);
  if (action === 'pause') await client.pause(name, localUser(), reason);
  else if (action === 'resume') await client.resume(name, localUser());
  else await client.stop(name, localUser(), reason);
  const done = { pause: 'paused', resume: 'resumed', stop: 'stopping (the running task, if any, is cancelled)' }[action];
  if (ctx.json) ctx.emit({ name, action });
  else ctx.out(`${name}: ${done}`);
  return 0;
}

export async function bgListCommand(ctx: CliContext): Promise<number> {
  const client = await backgroundClient(ctx);
  const items = await client.list();
  if (ctx.json) ctx.emit(items);
  else if (!items.length) ctx.out('no background agents running (start one with `agent bg start <name> --goal "..."`)');
  else for (const item of items) ctx.out(`${item.name.padEnd(24)} ${item.status.padEnd(10)} since ${item.startTime}`);
  return 0;
}

export async function bgStatusCommand(ctx: CliContext, name: string): Promise<number> {
  const client = await backgroundClient(ctx);
  const view = await client.status(name);
  if (ctx.json) {
    ctx.emit(view);
    return 0;
  }
  for (const line of describeBackground(view)) ctx.out(line);
  return 0;
}

export function describeBackground(view: BackgroundStatusView): string[] {
  const lines = [
    `${view.name}  ${view.state}${view.pausedReason ? ` — ${view.pausedReason}` : ''}`,
    `goal: ${view.goal}`,
    `workspace: ${view.workspace} · mode ${view.mode}${view.every ? ` · every ${view.every}` : ''}`,
    `today (${view.usage.day} UTC): ${view.usage.tasks}/${view.budget.tasksPerDay} tasks, ${view.usage.tokens}/${view.budget.tokensPerDay} tokens`,
    `handled ${view.handledTotal} · inbox ${view.inbox.length} · last heartbeat ${view.lastHeartbeat} · history ${view.historyLength} events (generation ${view.generation})`,
  ];
  if (view.currentTaskId) lines.push(`working on: ${view.currentTaskId} (agent status ${view.currentTaskId})`);
  for (const item of view.inbox.slice(0, 10)) lines.push(`  queued ${item.kind} from ${item.from}: ${item.preview}`);
  if (view.recentRuns.length) lines.push('recent runs:');
  for (const run of view.recentRuns.slice(-5)) lines.push(`  ${run.taskId}  ${run.status.padEnd(10)} ${run.kind}  ${run.tokens} tokens  ${run.finishedAt}`);
  return lines;
}
