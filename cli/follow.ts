/**
 * Following a task from the terminal: prints new trace entries as they happen (stage, plan, tool
 * calls, approvals) and asks for approvals inline when a person is at the keyboard. When nobody can
 * answer here (no terminal, or --json), each pending request is announced once on stderr with the
 * commands that decide it, so a CI log or a piped run never waits in silence.
 */
import readline from 'node:readline/promises';
import { NoWorkerAnsweredError, TaskClient } from '../client/task-client';
import { innermostMessage, UserError } from '../client/user-error';
import type { ApprovalRecord, ApprovalRequest, TaskStatusView, TraceEntry } from '../domain/task';
import { colourOn, localUser, printable } from './cli-context';

/** A person at a terminal: answers are read from `input`, the question is written to `output`. */
export interface PromptStreams {
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
}

export interface FollowOptions {
  /** Print progress lines (false for --json). */
  progress: boolean;
  /** Ask approvals here; null when nobody can answer (see promptStreams). */
  ask: PromptStreams | null;
  pollMs?: number;
  /** Progress lines (stdout by default); they are made printable before they are written. */
  out?: (line: string) => void;
  /** Announcements of pending requests when `ask` is null (stderr by default); the text is already printable. */
  hint?: (text: string) => void;
  /** How long queries may go unanswered before following gives up (the task itself keeps running). */
  unansweredGiveUpMs?: number;
}

export interface FollowOutcome {
  view: TaskStatusView;
  approvals: ApprovalRecord[];
}

/**
 * Where to ask approvals: stdin must be a terminal, and the question goes to stdout, or to stderr
 * when stdout is piped (`agent demo | tail`) so the person still sees it. Null with --json.
 */
export function promptStreams(json: boolean): PromptStreams | null {
  if (json || !process.stdin.isTTY) return null;
  if (process.stdout.isTTY) return { input: process.stdin, output: process.stdout };
  if (process.stderr.isTTY) return { input: process.stdin, output: process.stderr };
  return null;
}

export function formatTrace(entry: TraceEntry): string {
  const time = entry.at.slice(11, 19);
  return `${time} [${entry.stage}] ${entry.message}`;
}

export interface DescribeOptions {
  /** Colour the diff's added and removed lines (the output is a terminal). */
  colour?: boolean;
  /** The task the request belongs to, for the "see the whole diff" note. */
  taskId?: string;
  /** Diff lines shown before the rest is left out. */
  maxDiffLines?: number;
}

/** Diff lines shown in a prompt, a hint or `agent status`; `agent status --json` carries the whole diff. */
export const MAX_DIFF_LINES = 200;

const KIND_LABEL = { 'new-file': 'new file', overwrite: 'overwrite', edit: 'edit' } as const;
const GREEN = '\u001b[32m';
const RED = '\u001b[31m';
const RESET = '\u001b[0m';

/**
 * A pending request as a person reads it: the action, its risk and expiry, and for file writes the
 * change itself (kind, +added −removed, the unified diff, at most `maxDiffLines` of it). The result
 * is printable (control characters from the action are escaped) and may carry colour codes.
 */
export function describeApproval(request: ApprovalRequest, options: DescribeOptions = {}): string {
  const input = request.input as Record<string, unknown>;
  const preview = request.preview;
  const change = preview ? ` — ${KIND_LABEL[preview.kind]}, +${preview.added} −${preview.removed}` : '';
  const detail =
    request.tool === 'run_command'
      ? `$ ${String(input.command)}`
      : request.tool === 'write_file'
        ? `${String(input.path)}${change} (${Buffer.byteLength(String(input.content ?? ''))} bytes)`
        : request.tool === 'edit_file'
          ? preview
            ? `${String(input.path)}${change}${input.replaceAll ? ' (every occurrence)' : ''}`
            : `${String(input.path)}: replace ${JSON.stringify(String(input.oldString).slice(0, 120))} with ${JSON.stringify(String(input.newString).slice(0, 120))}${input.replaceAll ? ' (every occurrence)' : ''}`
          : JSON.stringify(input).slice(0, 300);
  const lines = [printable(`${request.tool}: ${detail}`), printable(`    risk: ${request.risk} — ${request.reasons.join('; ')}`), `    expires: ${request.expiresAt}`];
  if (preview?.diff) lines.push(...diffLines(preview.diff, options));
  return lines.join('\n');
}

function diffLines(diff: string, options: DescribeOptions): string[] {
  const all = diff.replace(/\n$/, '').split('\n');
  const max = options.maxDiffLines ?? MAX_DIFF_LINES;
  const shown = all.slice(0, max).map((line) => {
    const text = `    ${printable(line)}`;
    if (!options.colour) return text;
    if (line.startsWith('+') && !line.startsWith('+++')) return `${GREEN}${text}${RESET}`;
    if (line.startsWith('-') && !line.startsWith('---')) return `${RED}${text}${RESET}`;
    return text;
  });
  const left = all.length - shown.length;
  if (left > 0) shown.push(`    … ${left} more line${left === 1 ? '' : 's'} of the diff not shown (the whole diff: \`agent status ${options.taskId ?? '<taskId>'} --json\`)`);
  return shown;
}

/** One line for a decision, as the person who did not make it reads it. */
export function describeDecision(record: ApprovalRecord): string {
  if (record.outcome === 'expired') return `${record.requestId} expired${record.reason ? ` (${record.reason})` : ''}`;
  return `${record.requestId} ${record.outcome} by ${record.decidedBy} via ${record.channel}${record.always ? ' (always, in this workspace)' : ''}${record.reason ? `: ${record.reason}` : ''}`;
}

/** The announcement of a request nobody can answer here, with the commands that decide it. */
export function approvalHint(taskId: string, request: ApprovalRequest, options: DescribeOptions & { advice?: boolean } = {}): string {
  return [
    `waiting for approval ${request.requestId} of ${taskId}: ${describeApproval(request, { ...options, taskId })}`,
    `  approve: agent approve ${taskId} ${request.requestId}`,
    `  deny:    agent deny ${taskId} ${request.requestId} --reason "..."`,
    ...(options.advice ? ['  (for unattended runs: --mode dont-ask denies whatever would ask, --approval-timeout bounds the wait)'] : []),
  ].join('\n');
}

/** Follows until the task leaves running/waiting_approval; throws UserError if the server goes away. */
export async function followTask(client: TaskClient, taskId: string, options: FollowOptions): Promise<FollowOutcome> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${printable(line)}\n`));
  const hint = options.hint ?? ((text: string) => process.stderr.write(`${text}\n`));
  const pollMs = options.pollMs ?? 250;
  let nextSeq = 1;
  /** Requests asked at this terminal or announced on stderr: each once. */
  const handled = new Set<string>();
  let advised = false;
  /** A worker busy in a long workflow task (e.g. opening the embedded memory database) cannot answer queries for a while. */
  let unansweredSince: number | null = null;
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
    const live = view.status === 'running' || view.status === 'waiting_approval';
    if (options.progress) {
      // A finished task's last entries too (what happened after a prompt, the outcome); a task that
      // failed or was cancelled may have no worker left to replay them, which is no reason to fail.
      for (const entry of await client.trace(taskId, nextSeq).catch((err: unknown) => {
        if (err instanceof NoWorkerAnsweredError || !live) return []; // busy worker: the entries come on a later poll
        throw err;
      })) {
        out(formatTrace(entry));
        nextSeq = entry.seq + 1;
      }
    }
    if (!live) return { view, approvals: view.result?.approvals ?? view.approvals };
    for (const request of view.pendingApprovals) {
      if (handled.has(request.requestId)) continue;
      handled.add(request.requestId);
      if (options.ask) {
        await askInline(client, taskId, request, options.ask, Math.max(pollMs, 500));
        continue;
      }
      // The advice for unattended runs once per follow; the commands with every request.
      hint(approvalHint(taskId, request, { colour: colourOn(process.stderr), advice: !advised }));
      advised = true;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

const CHOICES: Record<string, 'yes' | 'no' | 'always'> = { y: 'yes', yes: 'yes', n: 'no', no: 'no', a: 'always', always: 'always' };

/**
 * Asks one request at the terminal while watching it: when it is decided anywhere else (another
 * terminal, chat, a webhook, expiry) the question is taken down and who decided is printed.
 * Ctrl-D leaves it to be decided elsewhere.
 */
async function askInline(client: TaskClient, taskId: string, request: ApprovalRequest, ask: PromptStreams, pollMs: number): Promise<void> {
  const say = (line: string) => ask.output.write(`${line}\n`);
  // A team's request is held by the child that raised it: that is where it is decided and watched.
  const holder = request.taskId ?? taskId;
  // The team's view of its children lags: a request it still lists may be decided already (the trace says by whom).
  if (request.taskId && (await decisionOf(client, holder, request.requestId).catch(() => null)) !== null) return;
  say(`\n? Approval needed (${request.requestId}) — ${describeApproval(request, { colour: colourOn(ask.output), taskId })}`);
  const rl = readline.createInterface({ input: ask.input, output: ask.output });
  // readline puts the terminal in raw mode, so Ctrl-C arrives as a key: make it the signal it means
  // (detach, exit 130), instead of readline's default of silently closing the prompt.
  rl.on('SIGINT', () => process.kill(process.pid, 'SIGINT'));
  const asking = new AbortController();
  const watching = new AbortController();
  let elsewhere: string | null = null;
  void watchRequest(client, holder, request.requestId, watching.signal, pollMs).then((decided) => {
    if (decided === null) return;
    elsewhere = decided;
    asking.abort();
  });
  try {
    let choice: 'yes' | 'no' | 'always' | undefined;
    while (!choice) choice = CHOICES[(await rl.question('  Approve? [y]es / [n]o / [a]lways (in this workspace): ', { signal: asking.signal })).trim().toLowerCase()];
    const reason = choice === 'no' ? (await rl.question('  Reason (optional, told to the model): ', { signal: asking.signal })).trim() || undefined : undefined;
    watching.abort();
    try {
      const record = await client.sendDecision(
        holder,
        {
          requestId: request.requestId,
          actionHash: request.actionHash,
          approve: choice !== 'no',
          always: choice === 'always',
          reason,
          decidedBy: localUser(),
          channel: 'cli',
        },
        request,
      );
      say(`  ${printable(describeDecision(record))}\n`);
    } catch (err) {
      // Decided elsewhere at the same moment, or expired: say by whom rather than why the update failed.
      const decided = await decisionOf(client, holder, request.requestId).catch(() => null);
      say(`  ${printable(decided ?? (err instanceof UserError ? err.message : innermostMessage(err as Error)))}\n`);
    }
  } catch (err) {
    if (elsewhere !== null) {
      // Take the unanswered question off the screen (readline has just moved below it); the
      // request's description above stays.
      if (ask.output.isTTY) ask.output.write('\u001b[1A\r\u001b[2K');
      say(`  ${printable(elsewhere)}\n`);
      return;
    }
    if ((err as Error).name === 'AbortError') {
      // Ctrl-D: not here, then; the request stays pending and the follow goes on.
      say(`\n  not answered here; decide with: agent approve ${taskId} ${request.requestId}   |   agent deny ${taskId} ${request.requestId} --reason "..."\n`);
      return;
    }
    throw err;
  } finally {
    watching.abort();
    rl.close();
  }
}

/** Polls the holder until the request is no longer pending; resolves with who decided it, or null when stopped. */
async function watchRequest(client: TaskClient, holder: string, requestId: string, stop: AbortSignal, pollMs: number): Promise<string | null> {
  while (!stop.aborted) {
    await new Promise((r) => setTimeout(r, pollMs));
    if (stop.aborted) return null;
    const decided = await decisionOf(client, holder, requestId).catch(() => null); // a failed poll is retried
    if (decided !== null && !stop.aborted) return decided;
  }
  return null;
}

/** Null while the request is pending; otherwise who decided it (or why it is gone). Throws when the task cannot be read. */
async function decisionOf(client: TaskClient, holder: string, requestId: string): Promise<string | null> {
  const view = await client.status(holder);
  if (view.pendingApprovals.some((r) => r.requestId === requestId)) return null;
  const record = [...view.approvals, ...(view.result?.approvals ?? [])].find((a) => a.requestId === requestId);
  if (record) return describeDecision(record);
  // Not yet in the record while the task still runs: a decision is being applied right now.
  if (view.status === 'running' || view.status === 'waiting_approval') return null;
  return `${requestId} is no longer pending: the task ${view.status === 'completed' ? 'finished' : `is ${view.status}`}`;
}
