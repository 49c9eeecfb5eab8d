/** Commands that inspect or steer an existing task: status, list, approve, deny, cancel, logs. */
import type { TaskStatusView } from '../../domain/task';
import { formatUsage } from '../../domain/usage';
import { colourOn, localUser, printable, type CliContext } from '../cli-context';
import { webUiLink } from '../embedded';
import { describeApproval, formatTrace } from '../follow';

export async function statusCommand(ctx: CliContext, taskId: string): Promise<number> {
  const client = await ctx.connect();
  const view = await client.status(taskId);
  if (ctx.json) {
    ctx.emit(statusJson(view));
    return 0;
  }
  ctx.out(`${view.taskId}  ${view.status}  (stage: ${view.stage})  ${view.summary}`);
  ctx.out(`Web UI: ${webUiLink(ctx.config, taskId)}`);
  if (view.team) {
    const b = view.team.budget;
    ctx.out(
      `Team: steps ${b.stepsStarted}/${b.maxSteps}, tokens ${b.tokensUsed}/${b.maxTokens}, wall ${Math.round(b.elapsedMs / 1000)}s/${Math.round(b.maxWallMs / 1000)}s, re-plans ${b.replans}/${b.maxReplans}, parallel ≤ ${b.maxParallel}${b.exhausted ? `; budget exhausted: ${b.exhausted}` : ''}`,
    );
    for (const s of view.team.steps) {
      ctx.out(`  ${s.state.padEnd(9)} ${s.id}: ${s.title}${s.dependsOn.length ? `  (after ${s.dependsOn.join(', ')})` : ''}${s.workerId ? `  [${s.workerId}]` : ''}`);
      for (const e of s.evidence) ctx.out(`            ✔ ${e}`);
      for (const p of s.problems) ctx.out(`            ✖ ${p}`);
    }
  } else if (view.plan.length) {
    ctx.out('Plan:');
    for (const step of view.plan) ctx.out(`  ${step.state === 'done' ? '[x]' : '[ ]'} ${step.index}. ${step.title}`);
  }
  for (const r of view.pendingApprovals) {
    ctx.outRaw(`Pending approval ${printable(r.requestId)} — ${describeApproval(r, { colour: colourOn(process.stdout), taskId })}`);
    ctx.out(`  → agent approve ${taskId} ${r.requestId}   |   agent deny ${taskId} ${r.requestId}`);
  }
  for (const a of view.approvals) ctx.out(`Approval ${a.requestId} ${a.tool}: ${a.outcome} by ${a.decidedBy} via ${a.channel} at ${a.decidedAt}`);
  // A team's turns are its children's (see `agent status <child id>`).
  ctx.out(`Tool calls: ${view.toolCalls}${view.team ? '' : `, model turns: ${view.turns}`}`);
  for (const r of view.retrying ?? []) ctx.out(`Retrying ${r.activity} (attempt ${r.attempt}): ${r.lastFailure}`);
  if (view.tokens) ctx.out(`Usage: ${formatUsage(view.tokens)}`);
  if (view.context?.window)
    ctx.out(
      `Context: ${view.context.tokens.toLocaleString('en-US')} of ${view.context.window.toLocaleString('en-US')} tokens${view.context.compactions ? `, compacted ${view.context.compactions}×` : ''}`,
    );
  if (view.result?.stopReason) ctx.out(`Stopped: ${view.result.stopReason}`);
  if (view.result) ctx.out(`\nResult (${view.result.verified ? 'verified' : 'not verified'}):\n${view.result.answer}`);
  if (view.error) ctx.out(`Error: ${view.error}`);
  return 0;
}

/** The documented `agent status --json` shape. */
export function statusJson(view: TaskStatusView) {
  return {
    taskId: view.taskId,
    status: view.status,
    stage: view.stage,
    summary: view.summary,
    plan: view.plan,
    pendingApprovals: view.pendingApprovals.map((r) => ({
      requestId: r.requestId,
      tool: r.tool,
      input: r.input,
      risk: r.risk,
      reasons: r.reasons,
      actionHash: r.actionHash,
      expiresAt: r.expiresAt,
      ...(r.taskId ? { heldBy: r.taskId } : {}),
      ...(r.preview ? { preview: r.preview } : {}),
    })),
    approvals: view.approvals,
    toolCalls: view.toolCalls,
    turns: view.turns,
    ...(view.tokens ? { tokens: view.tokens } : {}),
    ...(view.context ? { context: view.context } : {}),
    ...(view.retrying ? { retrying: view.retrying } : {}),
    ...(view.team ? { team: view.team } : {}),
    result: view.result,
    error: view.error,
  };
}

export async function listCommand(ctx: CliContext, limit: number): Promise<number> {
  const client = await ctx.connect();
  const items = await client.list(limit);
  if (ctx.json) {
    ctx.emit(items);
    return 0;
  }
  if (items.length === 0) ctx.out('no tasks yet — start one with `agent run "<task>" --workspace DIR`');
  // Ids differ in length (a background agent's runs are named after it): pad to the longest.
  const idWidth = Math.max(0, ...items.map((t) => t.taskId.length));
  const statusWidth = Math.max(0, ...items.map((t) => t.status.length));
  for (const t of items) ctx.out(`${t.taskId.padEnd(idWidth)}  ${t.status.padEnd(statusWidth)}  ${t.startTime.slice(0, 19).replace('T', ' ')}  ${t.summary.replace(/\s+/g, ' ')}`);
  return 0;
}

export async function decideCommand(
  ctx: CliContext,
  taskId: string,
  requestId: string | undefined,
  approve: boolean,
  options: { reason?: string; always?: boolean },
): Promise<number> {
  const client = await ctx.connect();
  const record = await client.decide(taskId, requestId, {
    approve,
    always: options.always,
    reason: options.reason,
    decidedBy: localUser(),
    channel: 'cli',
  });
  if (ctx.json) ctx.emit(record);
  else if ('queued' in record) {
    ctx.out(`${record.requestId} (${record.tool}) ${record.approve ? 'approval' : 'denial'} queued: no worker is running this task; it is applied when one does (\`agent up\`)`);
  } else ctx.out(`${record.requestId} (${record.tool}) ${record.outcome}${record.always ? ' — always, for the rest of this task' : ''}`);
  return 0;
}

export async function cancelCommand(ctx: CliContext, taskId: string): Promise<number> {
  const client = await ctx.connect();
  await client.cancel(taskId);
  if (ctx.json) ctx.emit({ taskId, cancelRequested: true });
  else ctx.out(`cancellation requested for ${taskId}; running tools are stopped and the task ends as cancelled`);
  return 0;
}

export async function logsCommand(ctx: CliContext, taskId: string, follow: boolean): Promise<number> {
  const client = await ctx.connect();
  let next = 1;
  for (;;) {
    const view = await client.status(taskId);
    const live = view.status === 'running' || view.status === 'waiting_approval';
    // A finished task's trace is replayed by a worker; TaskClient says what to do when none runs.
    const entries = await client.trace(taskId, next);
    for (const e of entries) {
      ctx.out(ctx.json ? JSON.stringify(e) : formatTrace(e));
      next = e.seq + 1;
    }
    if (!follow || !live) return 0;
    await new Promise((r) => setTimeout(r, 500));
  }
}
