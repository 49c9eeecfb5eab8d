import { TaskClient } from '../../client/task-client';
import { UserError } from '../../client/user-error';
import type { Mode } from '../../domain/policy';
import type { TaskStatus } from '../../domain/task';
import type { TeamSubmission } from '../../domain/team';
import { formatUsage } from '../../domain/usage';
import type { LlmClient } from '../../services/llm/llm-client';
import { createAgentWorker, type AgentWorker } from '../../workers/worker';
import { resolveWorkspace } from '../arguments';
import { localUser, type CliContext } from '../cli-context';
import { ensureServer, webUiLink } from '../embedded';
import { followTask, promptStreams } from '../follow';

export interface RunOptions {
  prompt: string;
  workspace: string;
  wait: boolean;
  taskId?: string;
  approvalTimeoutMs?: number;
  mode?: Mode;
  rules?: string[];
  /** Tests and the demo inject a model client; normal runs use ANTHROPIC_* from the environment. */
  llm?: LlmClient;
  /** Run as an agent team under these budgets (see domain/team.ts). */
  team?: TeamSubmission['team'];
  maxTurns?: number;
  maxCostUsd?: number;
}

/** Exit codes: 0 completed, 1 failed, 3 denied, 4 cancelled, 5 refused, 6 incomplete (documented in the README). */
export const EXIT_CODES: Record<TaskStatus, number> = { completed: 0, failed: 1, denied: 3, cancelled: 4, refused: 5, incomplete: 6, running: 0, waiting_approval: 0 };

/** Submits a task, runs a worker in this process while it waits, follows progress and prints the answer. */
export async function runTask(ctx: CliContext, options: RunOptions): Promise<number> {
  const workspace = await resolveWorkspace(options.workspace);
  if (!options.llm && !ctx.config.llm.apiKey) {
    throw new UserError(
      'ANTHROPIC_API_KEY is not set: export it (and ANTHROPIC_BASE_URL for a compatible endpoint), or try `agent demo` for an offline run with the scripted model',
      2,
    );
  }
  const log = (line: string) => (ctx.json ? process.stderr.write(`${line}\n`) : ctx.out(line));
  await ensureServer(ctx.config, { detached: true, log });
  let worker: AgentWorker | null = null;
  let running: Promise<void> | null = null;
  let client: TaskClient;
  if (options.wait) {
    // A worker in this process guarantees progress; extra workers beside `agent up` are harmless (stateless).
    worker = await createAgentWorker(ctx.config, { llm: options.llm });
    running = worker.run();
    // A worker that dies must say why, not surface later as "Not running" from shutdown().
    running.catch((err: Error) => log(`worker stopped: ${err.message}`));
    client = TaskClient.overWorkerConnection(worker.connection, ctx.config);
  } else {
    client = await ctx.connect();
  }
  try {
    const taskId = await client.start(
      {
        prompt: options.prompt,
        workspace,
        ...(options.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: options.approvalTimeoutMs } : {}),
        ...(options.maxTurns !== undefined ? { maxTurns: options.maxTurns } : {}),
        ...(options.maxCostUsd !== undefined ? { maxCostUsd: options.maxCostUsd } : {}),
        submittedBy: localUser(),
        mode: options.mode,
        rules: options.rules,
      },
      { taskId: options.taskId, ...(options.team ? { team: options.team } : {}) },
    );
    if (!options.wait) {
      if (ctx.json) ctx.emit({ taskId, status: 'running', result: null, approvals: [] });
      else ctx.out(`submitted ${taskId} — follow with \`agent logs ${taskId} --follow\`, Web UI: ${webUiLink(ctx.config, taskId)}`);
      // Submitting succeeds with nobody to run the task: say so now rather than leave a script waiting on it.
      if ((await client.workersPolling().catch(() => null)) === 0) {
        process.stderr.write(
          `warning: no worker is polling task queue "${ctx.config.temporal.taskQueue}" on ${ctx.config.temporal.address}; ${taskId} waits until one starts (\`agent worker\` or \`agent up\`)\n`,
        );
      }
      return 0;
    }
    if (!ctx.json) ctx.out(`▶ ${taskId}  ${webUiLink(ctx.config, taskId)}`);
    const startedAt = Date.now();
    const { view, approvals } = await followTask(client, taskId, { progress: !ctx.json, ask: promptStreams(ctx.json) });
    if (ctx.json) {
      ctx.emit({ taskId, status: view.status, result: view.result, approvals, error: view.error });
    } else {
      const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
      const mark = view.status === 'completed' ? '✔' : '✖';
      ctx.out(
        `\n${mark} ${view.status}${view.result ? (view.result.verified ? ' (verified)' : ' (not verified)') : ''} in ${seconds}s${view.result?.stopReason ? ` — stopped: ${view.result.stopReason}` : ''}`,
      );
      if (view.result?.tokens) ctx.out(`  ${formatUsage(view.result.tokens)}${view.result.compactions ? ` · context compacted ${view.result.compactions}×` : ''}`);
      if (view.result) {
        ctx.out(`\n${view.result.answer}`);
        if (view.result.evidence.length) ctx.out(`\nEvidence:\n${view.result.evidence.map((e) => `  - ${e}`).join('\n')}`);
      }
      if (view.error) ctx.out(`error: ${view.error}`);
    }
    return EXIT_CODES[view.status];
  } finally {
    if (worker) {
      if (worker.worker.getState() === 'RUNNING') worker.worker.shutdown();
      await running?.catch(() => undefined);
    }
  }
}
