/**
 * Hooks on real processes (in bubblewrap): what each way a hook can answer means (exit codes, JSON
 * of both Claude Code shapes, a timeout, a crash, a hook that reads nothing), how several answers
 * combine, what the sandbox keeps from a hook, and how a hooks file is read.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hooksApply, matcherCovers } from '../../domain/hooks';
import { loadHooks, type ResolvedHook } from '../../services/hooks/hook-config';
import { runHooks, type HookRequest } from '../../services/hooks/hook-runner';

let base: string;
let ws: string;
let home: string;
beforeEach(async () => {
  // Not under /tmp, which every sandbox replaces: what the sandbox hides here, it hides on purpose.
  base = await mkdtemp(path.join('/var/tmp', 'hooks-'));
  ws = path.join(base, 'ws');
  home = path.join(base, 'home');
  await mkdir(ws);
  await mkdir(home);
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const hook = (command: string, extra: Partial<ResolvedHook> = {}): ResolvedHook => ({ event: 'PreToolUse', command, timeoutSeconds: 10, sandbox: true, source: 'user', ...extra });
const request = (extra: Partial<HookRequest> = {}): HookRequest => ({
  event: 'PreToolUse',
  tool: 'run_command',
  payload: { tool_name: 'run_command', tool_input: { command: 'ls' } },
  workspace: ws,
  taskId: 'task-1',
  mode: 'default',
  ...extra,
});
const run = (hooks: ResolvedHook[], extra: Partial<HookRequest> = {}) => runHooks(hooks, request(extra), { sandbox: { hidden: [home], refuse: [] } });

describe('a hook answers', () => {
  it('with exit 2 (stderr is the reason), JSON deny or ask, or the older decision: block', async () => {
    expect(await run([hook(`echo 'not here' >&2; exit 2`)])).toMatchObject({ decision: 'deny', reason: 'not here' });
    const deny = JSON.stringify({ hookSpecificOutput: { permissionDecision: 'deny', permissionDecisionReason: 'policy of the repo' } });
    expect(await run([hook(`echo '${deny}'`)])).toMatchObject({ decision: 'deny', reason: 'policy of the repo' });
    expect(await run([hook(`echo '{"decision":"block","reason":"old style"}'`)])).toMatchObject({ decision: 'deny', reason: 'old style' });
    expect(await run([hook(`echo '{"hookSpecificOutput":{"permissionDecision":"ask"}}'`)])).toMatchObject({ decision: 'ask' });
  });

  it('deny beats ask, and every hook is one trace line', async () => {
    const outcome = await run([hook(`echo '{"hookSpecificOutput":{"permissionDecision":"ask","permissionDecisionReason":"look"}}'`), hook(`echo no >&2; exit 2`), hook('true')]);
    expect(outcome.decision).toBe('deny');
    expect(outcome.reason).toBe('no');
    expect(outcome.lines).toHaveLength(3);
  });

  it('a failure, a timeout, plain output or a hook that reads nothing changes nothing, and says so', async () => {
    const failed = await run([hook('echo broken >&2; exit 1')]);
    expect(failed).toMatchObject({ decision: 'none' });
    expect(failed.lines[0]).toMatch(/^hook PreToolUse echo broken >&2; exit 1: failed with exit 1 \(\d+ ms\); ignored: broken$/);
    const started = Date.now();
    const slow = await run([hook('sleep 30', { timeoutSeconds: 1 })]);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(slow).toEqual({ decision: 'none', lines: ['hook PreToolUse sleep 30: timed out after 1s; ignored'] });
    expect(await run([hook('echo just text')])).toMatchObject({ decision: 'none', lines: [expect.stringMatching(/→ ok/)] });
    expect(await run([hook('exit 0')])).toMatchObject({ decision: 'none' });
  });

  it('Stop and PostToolUse: block carries the reason; additionalContext is for the model', async () => {
    expect(await run([hook(`echo '{"decision":"block","reason":"tests fail"}'`, { event: 'Stop' })], { event: 'Stop', tool: undefined, payload: {} })).toMatchObject({
      decision: 'block',
      reason: 'tests fail',
    });
    const ctx = JSON.stringify({ hookSpecificOutput: { hookEventName: 'PostToolUse', additionalContext: 'lint: 2 warnings' } });
    const noted = await run([hook(`echo '${ctx}'`, { event: 'PostToolUse' })], { event: 'PostToolUse' });
    expect(noted).toMatchObject({ decision: 'block', context: 'lint: 2 warnings' });
    // The call already ran: the trace says the model is told, not that something was blocked.
    expect(noted.lines).toEqual([expect.stringMatching(/^hook PostToolUse echo .* → note for the model \(\d+ ms\): lint: 2 warnings$/)]);
  });

  it('runs in the sandbox: the agent home is hidden and the network is not there', async () => {
    await writeFile(path.join(home, 'state.json'), '{"secret":true}');
    await writeFile(path.join(ws, 'visible.txt'), 'workspace');
    const probe = `cat visible.txt >&2; test -e ${path.join(home, 'state.json')} && exit 2; curl -s --max-time 2 http://example.com >/dev/null && exit 2; exit 1`;
    const outcome = await run([hook(probe)]);
    // Exit 1: it read the workspace, found no agent state and reached no network.
    expect(outcome.lines[0]).toMatch(/: failed with exit 1 \(\d+ ms\); ignored: workspace$/);
    // The same probe outside the sandbox does find the agent state.
    expect((await run([hook(probe, { sandbox: false })])).decision).toBe('deny');
  });

  it('matchers: anchored expressions over our names and Claude Code names', () => {
    expect(matcherCovers('Bash', 'run_command')).toBe(true);
    expect(matcherCovers('Edit|Write', 'write_file')).toBe(true);
    expect(matcherCovers('Write', 'write_file_extra')).toBe(false);
    expect(matcherCovers('mcp__github__.*', 'mcp__github__get_issue')).toBe(true);
    expect(matcherCovers('read', 'read_file')).toBe(false);
    expect(matcherCovers(undefined, 'anything')).toBe(true);
    expect(hooksApply({ ref: 'r', matchers: { PreToolUse: ['Bash'] } }, 'PreToolUse', 'read_file')).toBe(false);
    expect(hooksApply({ ref: 'r', matchers: { PreToolUse: ['Bash'] } }, 'PostToolUse', 'run_command')).toBe(false);
  });
});

describe('a hooks file', () => {
  it('is read in Claude Code shape; unknown events and bad entries are skipped with the reason', async () => {
    await writeFile(
      path.join(home, 'hooks.json'),
      JSON.stringify({
        model: 'ignored, as in a settings file',
        hooks: {
          PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: './check.sh', timeout: 5 }] }],
          UserPromptSubmit: [{ hooks: [{ type: 'command', command: 'x' }] }],
          PostToolUse: [{ matcher: '(', hooks: [{ type: 'command', command: 'y' }] }],
          Stop: [{ hooks: [{ type: 'prompt', prompt: 'z' }] }],
        },
      }),
    );
    const loaded = await loadHooks(home, ws, async () => false);
    expect(loaded.hooks).toEqual([{ event: 'PreToolUse', matcher: 'Bash', command: './check.sh', timeoutSeconds: 5, sandbox: true, source: 'user' }]);
    expect(loaded.notices).toHaveLength(3);
    expect(loaded.notices.join('\n')).toMatch(/UserPromptSubmit hooks skipped: this runtime runs PreToolUse, PostToolUse, Stop, Notification, SessionEnd/);
    expect(loaded.notices.join('\n')).toMatch(/matcher "\(" is not a valid regular expression/);
  });
});
