/**
 * Runs one event's hooks: each matching command at once, in the OS sandbox (the workspace
 * writable, no network, the agent's own state hidden), with the event's JSON on stdin and a
 * timeout, then reads what it said the way Claude Code does:
 *
 *   - exit 0: stdout may be JSON: PreToolUse `hookSpecificOutput.permissionDecision` deny|ask (with
 *     `permissionDecisionReason`; the older `decision: "block"` with `reason` denies too), PostToolUse
 *     `decision: "block"` with `reason` or `hookSpecificOutput.additionalContext` (told to the model),
 *     Stop `decision: "block"` with `reason` (the model goes on with it);
 *   - exit 2: blocks, with stderr as the reason (deny a tool call, tell the model, keep it working);
 *   - anything else, a timeout or a hook that cannot start: said in the trace, and the task goes on.
 *
 * A hook cannot widen a permission: "allow" is noted and changes nothing, since the policy already
 * decided the call may run (or a person is asked).
 */
import type { HookEvent, HookOutcome } from '../../domain/hooks';
import { matcherCovers } from '../../domain/hooks';
import { detectSandbox } from '../sandbox/bubblewrap';
import { prepareCommand, spawnPrepared } from '../tools/run-command';
import { workspaceRoot } from '../tools/workspace';
import type { ResolvedHook } from './hook-config';

/** What one hook may print before the rest is dropped. */
const OUTPUT_CAP = 64 * 1024;

export interface HookRequest {
  event: HookEvent;
  /** Tool events: the tool the hooks are matched against. */
  tool?: string;
  /** The event's JSON (Claude Code's field names), without the common fields this adds. */
  payload: Record<string, unknown>;
  workspace: string;
  taskId: string;
  mode: string;
}

export interface HookRunnerOptions {
  /** What every sandbox hides and what its proxy refuses. */
  sandbox: { hidden: string[]; refuse: string[] };
}

interface HookRun {
  hook: ResolvedHook;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
  /** Why it did not run at all. */
  notRun?: string;
}

/** Runs the hooks of `request.event` that match; never throws for a hook's own failure. */
export async function runHooks(hooks: readonly ResolvedHook[], request: HookRequest, options: HookRunnerOptions): Promise<HookOutcome> {
  const matching = hooks.filter((h) => h.event === request.event && (request.tool === undefined || matcherCovers(h.matcher, request.tool)));
  if (matching.length === 0) return { decision: 'none', lines: [] };
  const root = await workspaceRoot(request.workspace);
  const input = JSON.stringify({
    session_id: request.taskId,
    transcript_path: '',
    cwd: root,
    permission_mode: request.mode,
    hook_event_name: request.event,
    ...request.payload,
  });
  const runs = await Promise.all(matching.map((hook) => runOne(hook, input, root, options)));
  return combine(request.event, runs);
}

async function runOne(hook: ResolvedHook, input: string, root: string, options: HookRunnerOptions): Promise<HookRun> {
  const started = performance.now();
  const result = (extra: Partial<HookRun>): HookRun => ({ hook, exitCode: null, stdout: '', stderr: '', timedOut: false, ms: performance.now() - started, ...extra });
  if (hook.sandbox && !(await detectSandbox()).available) {
    return result({ notRun: 'no OS sandbox on this worker (set "sandbox": false in its entry to run it outside one)' });
  }
  let prepared;
  try {
    prepared = await prepareCommand(
      root,
      hook.command,
      hook.sandbox ? { workspace: root, network: null, hidden: options.sandbox.hidden, refuse: options.sandbox.refuse } : undefined,
      // Scripts written for Claude Code find the project this way.
      { AGENT_PROJECT_DIR: root, CLAUDE_PROJECT_DIR: root },
    );
  } catch (err) {
    return result({ notRun: (err as Error).message });
  }
  try {
    const run = await spawnPrepared(prepared, { timeoutSeconds: hook.timeoutSeconds, capBytes: OUTPUT_CAP, stdin: input });
    return result({ exitCode: run.exitCode, stdout: run.stdout, stderr: run.stderr, timedOut: run.timedOut });
  } catch (err) {
    return result({ notRun: (err as Error).message });
  } finally {
    await prepared.release();
  }
}

/** What Claude Code's JSON output says for this event, or null when stdout is not such JSON. */
function decisionOf(event: HookEvent, stdout: string): { decision: HookOutcome['decision'] | 'allow'; reason?: string; context?: string } | null {
  const text = stdout.trim();
  if (!text.startsWith('{')) return null;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
  const specific = (json.hookSpecificOutput ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
  if (event === 'PreToolUse') {
    const permission = specific.permissionDecision ?? (json.decision === 'block' ? 'deny' : json.decision === 'approve' ? 'allow' : undefined);
    const reason = str(specific.permissionDecisionReason) ?? str(json.reason);
    if (permission === 'deny' || permission === 'ask' || permission === 'allow') return { decision: permission, ...(reason ? { reason } : {}) };
    return { decision: 'none' };
  }
  if (event === 'PostToolUse') {
    const context = [json.decision === 'block' ? str(json.reason) : undefined, str(specific.additionalContext)].filter(Boolean).join('\n');
    return context ? { decision: 'block', context } : { decision: 'none' };
  }
  if (event === 'Stop' && json.decision === 'block') return { decision: 'block', reason: str(json.reason) ?? 'a Stop hook asked to keep working' };
  return { decision: 'none' };
}

/** What a hook's answer does, as the trace says it: after a tool call nothing is blocked, the model is told. */
function traceVerb(event: HookEvent, decision: HookOutcome['decision']): string {
  if (decision !== 'block') return decision;
  if (event === 'PreToolUse') return 'deny';
  if (event === 'PostToolUse') return 'note for the model';
  if (event === 'Stop') return 'block';
  return 'exit 2 (nothing to block)';
}

/** One event's answer from all its hooks: deny beats ask; every block's reason is kept; each hook is one trace line. */
function combine(event: HookEvent, runs: HookRun[]): HookOutcome {
  const lines: string[] = [];
  const denied: string[] = [];
  const asked: string[] = [];
  const blocked: string[] = [];
  const context: string[] = [];
  for (const run of runs) {
    const name = run.hook.command.length > 60 ? `${run.hook.command.slice(0, 60)}…` : run.hook.command;
    const took = `${Math.round(run.ms)} ms`;
    const stderr = run.stderr.trim();
    if (run.notRun) {
      lines.push(`hook ${event} ${name}: not run: ${run.notRun}`);
      continue;
    }
    if (run.timedOut) {
      lines.push(`hook ${event} ${name}: timed out after ${run.hook.timeoutSeconds}s; ignored`);
      continue;
    }
    if (run.exitCode === 2) {
      const reason = stderr || `${name} exited 2`;
      if (event === 'PreToolUse') denied.push(reason);
      else if (event === 'PostToolUse') context.push(reason);
      else if (event === 'Stop') blocked.push(reason);
      lines.push(`hook ${event} ${name} → ${traceVerb(event, 'block')} (${took}): ${oneLine(reason)}`);
      continue;
    }
    if (run.exitCode !== 0) {
      lines.push(`hook ${event} ${name}: failed with exit ${run.exitCode ?? 'signal'} (${took}); ignored${stderr ? `: ${oneLine(stderr)}` : ''}`);
      continue;
    }
    const said = decisionOf(event, run.stdout);
    if (!said || said.decision === 'none') {
      lines.push(`hook ${event} ${name} → ok (${took})`);
      continue;
    }
    if (said.decision === 'allow') {
      lines.push(`hook ${event} ${name} → allow (${took}); a hook cannot widen the policy, so the policy's decision stands`);
      continue;
    }
    if (said.decision === 'deny') denied.push(said.reason ?? `denied by ${name}`);
    if (said.decision === 'ask') asked.push(said.reason ?? `${name} asks for a person`);
    if (said.decision === 'block' && event === 'Stop') blocked.push(said.reason!);
    if (said.context) context.push(said.context);
    lines.push(`hook ${event} ${name} → ${traceVerb(event, said.decision)} (${took})${(said.reason ?? said.context) ? `: ${oneLine(said.reason ?? said.context!)}` : ''}`);
  }
  if (denied.length) return { decision: 'deny', reason: denied.join('; '), lines };
  if (asked.length) return { decision: 'ask', reason: asked.join('; '), lines };
  if (blocked.length) return { decision: 'block', reason: blocked.join('\n'), lines };
  if (context.length) return { decision: 'block', context: context.join('\n'), lines };
  return { decision: 'none', lines };
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
