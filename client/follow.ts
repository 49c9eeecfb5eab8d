/**
 * Following a task from the terminal: prints new trace entries as they happen (stage, plan, tool
 * calls, approvals) and asks for approvals inline when a person is at the keyboard.
 */
import readline from 'node:readline/promises';
import type { ApprovalRecord, ApprovalRequest, TaskStatusView, TraceEntry } from '../domain/task';
import { localUser } from './cli-context';
import { innermostMessage, NoWorkerAnsweredError, TaskClient, UserError } from './task-client';

export interface FollowOptions {
  /** Print progress lines (false for --json). */
  progress: boolean;
  /** Ask approvals on this terminal (stdin is a TTY and not --json). */
  interactive: boolean;
  pollMs?: number;
  out?: (line: string) => void;
  /** How long queries may go unanswered before following gives up (the task itself keeps running). */
  unansweredGiveUpMs?: number;
}

export interface FollowOutcome {
  view: TaskStatusView;
  approvals: ApprovalRecord[];
}

export function formatTrace(entry: TraceEntry): string {
  const time = entry.at.slice(11, 19);
  return `${time} [${entry.stage}] ${entry.message}`;
}

export function describeApproval(request: ApprovalRequest): string {
  const input = request.input as Record<string, unknown>;
  const detail =
    request.tool === 'run_command'
      ? `$ ${String(input.command)}`
      : request.tool === 'write_file'
        ? `${String(input.path)} (${Buffer.byteLength(String(input.content ?? ''))} bytes)`
        : request.tool === 'edit_file'
          ? `${String(input.path)}: replace ${JSON.stringify(String(input.oldString).slice(0, 120))} with ${JSON.stringify(String(input.newString).slice(0, 120))}${input.replaceAll ? ' (every occurrence)' : ''}`
          : JSON.stringify(input).slice(0, 300);
  return `${request.tool}: ${detail}\n    risk: ${request.risk} — ${request.reasons.join('; ')}\n    expires: ${request.expiresAt}`;
}

/** Follows until the task leaves running/waiting_approval; throws UserError if the server goes away. */
export async function followTask(client: TaskClient, taskId: string, options: FollowOptions): Promise<FollowOutcome> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const pollMs = options.pollMs ?? 250;
  let nextSeq = 1;
  const asked = new Set<string>();
  const rl = options.interactive ? readline.createInterface({ input: process.stdin, output: process.stdout }) : null;
  const hinted = new Set<string>();
  /** A worker busy in a long workflow task (e.g. opening the embedded memory database) cannot answer queries for a while. */
  let unansweredSince: number | null = null;
  try {
    for (;;) {
      let view;
      try {
        view = await client.status(taskId);
        unansweredSince = null;
      } catch (err) {
        if (!(err instanceof NoWorkerAnsweredError)) throw err;
        unansweredSince ??= Date.now();
        if (Date.now() - unansweredSince > (options.unansweredGiveUpMs ?? 60_000)) throw err;
        continue;
      }
      if (view.status === 'running' || view.status === 'waiting_approval') {
        if (options.progress) {
          for (const entry of await client.trace(taskId, nextSeq).catch((err: unknown) => {
            if (err instanceof NoWorkerAnsweredError) return []; // busy worker: the entries come on a later poll
            throw err;
          })) {
            out(formatTrace(entry));
            nextSeq = entry.seq + 1;
          }
        }
        for (const request of view.pendingApprovals) {
          if (rl && !asked.has(request.requestId)) {
            asked.add(request.requestId);
            await askInline(client, taskId, request, rl, out);
          } else if (!rl && options.progress && !hinted.has(request.requestId)) {
            hinted.add(request.requestId);
            out(`  waiting for approval ${request.requestId}: ${describeApproval(request)}`);
            out(`  → agent approve ${taskId} ${request.requestId}   |   agent deny ${taskId} ${request.requestId}`);
          }
        }
        await new Promise((r) => setTimeout(r, pollMs));
        continue;
      }
      return { view, approvals: view.result?.approvals ?? view.approvals };
    }
  } finally {
    rl?.close();
  }
}

async function askInline(client: TaskClient, taskId: string, request: ApprovalRequest, rl: readline.Interface, out: (line: string) => void) {
  out(`\n? Approval needed (${request.requestId}) — ${describeApproval(request)}`);
  for (;;) {
    const answer = (await rl.question('  Approve? [y]es / [n]o / [a]lways (in this workspace): ')).trim().toLowerCase();
    const choice = { y: 'yes', yes: 'yes', n: 'no', no: 'no', a: 'always', always: 'always' }[answer];
    if (!choice) continue;
    let reason: string | undefined;
    if (choice === 'no') reason = (await rl.question('  Reason (optional, told to the model): ')).trim() || undefined;
    try {
      // A team's request is held by the child that raised it.
      const record = await client.sendDecision(request.taskId ?? taskId, {
        requestId: request.requestId,
        actionHash: request.actionHash,
        approve: choice !== 'no',
        always: choice === 'always',
        reason,
        decidedBy: localUser(),
        channel: 'cli',
      }, request);
      out(`  ${record.outcome}${record.always ? ' (always, in this workspace)' : ''}\n`);
    } catch (err) {
      // Someone else decided first (another terminal, chat) or it expired: say so and move on.
      out(`  ${err instanceof UserError ? err.message : innermostMessage(err as Error)}\n`);
    }
    return;
  }
}
