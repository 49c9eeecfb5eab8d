/**
 * Lifecycle hooks in real tasks on the real server: commands in the sandbox with the event's JSON on
 * stdin, written the way Claude Code's hooks are (matchers by its tool names, exit 2 or JSON
 * decisions). A PreToolUse hook denies or makes a call ask and can never widen the policy; a
 * PostToolUse hook's note reaches the model; a Stop hook sends the model back; Notification and
 * SessionEnd hooks see approvals and the end; a workspace's hooks run only once trusted.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { PolicySources } from '../../services/policy/policy-sources';
import { makeWorkspace, useTaskHarness, waitFor } from '../support/harness';
import { scenario, toolResultsAt } from '../support/scripts';

const call = (name: string, input: Record<string, unknown> = {}) => ({ toolCalls: [{ name, input }] });

const h = useTaskHarness({
  scenarios: [
    scenario('push-it', { needsShell: true, execute: [call('run_command', { command: 'git push origin main' }), call('run_command', { command: 'echo fine' }), { text: 'done' }] }),
    scenario('read-secrets', { execute: [call('read_file', { path: 'secrets.md' }), { text: 'read' }] }),
    scenario('write-and-format', { needsWrite: true, execute: [call('write_file', { path: 'a.txt', content: 'a\n' }), { text: 'wrote' }] }),
    scenario('finish-properly', {
      needsWrite: true,
      execute: [{ text: 'all done (not really)' }, call('write_file', { path: 'done.txt', content: 'yes\n' }), { text: 'now done' }],
    }),
    scenario('hooks-cannot-widen', { needsWrite: true, execute: [call('write_file', { path: 'b.txt', content: 'b\n' }), { text: 'wrote b' }] }),
  ],
});

async function setUserHooks(hooks: Record<string, unknown>): Promise<void> {
  await writeFile(path.join(h.env.AGENT_HOME!, 'hooks.json'), JSON.stringify({ hooks }));
}

const command = (cmd: string, extra: Record<string, unknown> = {}) => [{ hooks: [{ type: 'command', command: cmd, ...extra }] }];
const matched = (matcher: string, cmd: string) => [{ matcher, hooks: [{ type: 'command', command: cmd }] }];

async function pending(taskId: string) {
  return await waitFor(async () => {
    const view = await h.client.status(taskId);
    if (view.status !== 'running' && view.status !== 'waiting_approval') throw new Error(`task ended ${view.status}`);
    return view.pendingApprovals.length ? view.pendingApprovals : null;
  }, 'an approval request');
}

const traceOf = async (taskId: string) => (await h.client.trace(taskId)).map((e) => e.message);

describe('lifecycle hooks', () => {
  beforeEach(async () => {
    await setUserHooks({});
  });

  it('PreToolUse: a Claude Code style script (matcher Bash, exit 2) denies a push before anyone is asked; other commands run', { timeout: 120_000 }, async () => {
    await setUserHooks({ PreToolUse: matched('Bash', `grep -q 'git push' && { echo 'pushing is not allowed from agent tasks' >&2; exit 2; }; exit 0`) });
    const workspace = await makeWorkspace();
    const taskId = await h.client.start({ prompt: 'push-it', workspace });
    expect((await h.client.result(taskId)).status).toBe('completed');
    expect(toolResultsAt(h.fake.requests, taskId, 1)[0]).toMatchObject({
      is_error: true,
      content: 'Denied by a PreToolUse hook: pushing is not allowed from agent tasks. Do not retry this action.',
    });
    expect(toolResultsAt(h.fake.requests, taskId, 2)[0]!.content).toMatch(/^exit code 0\n--- stdout ---\nfine/);
    const trace = await traceOf(taskId);
    expect(
      trace.some((m) => /^hook PreToolUse grep -q 'git push' .* → deny \(\d+ ms\): pushing is not allowed from agent tasks$/.test(m)),
      trace.join('\n'),
    ).toBe(true);
    expect(trace.some((m) => /^hook PreToolUse grep -q 'git push' .* → ok \(\d+ ms\)$/.test(m))).toBe(true);
  });

  it('PreToolUse: JSON "ask" makes an allowed read wait for a person; the hook saw the call on stdin', { timeout: 120_000 }, async () => {
    const ask = JSON.stringify({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'ask', permissionDecisionReason: 'secrets need a person' } });
    await setUserHooks({ PreToolUse: matched('Read', `tee hook-input.json | grep -q secrets && echo '${ask}'; exit 0`) });
    const workspace = await makeWorkspace({ 'secrets.md': 'the secret\n' });
    const taskId = await h.client.start({ prompt: 'read-secrets', workspace });
    const [request] = await pending(taskId);
    expect(request).toMatchObject({ tool: 'read_file', risk: 'read-only' });
    expect(request!.reasons).toContain('a PreToolUse hook asks: secrets need a person');
    const input = JSON.parse(await readFile(path.join(workspace, 'hook-input.json'), 'utf8'));
    expect(input).toMatchObject({ session_id: taskId, hook_event_name: 'PreToolUse', tool_name: 'read_file', tool_input: { path: 'secrets.md' }, permission_mode: 'default' });
    expect(input.cwd).toBe(workspace);
    await h.client.decide(taskId, request!.requestId, { approve: true, decidedBy: 'tester', channel: 'cli' });
    expect((await h.client.result(taskId)).status).toBe('completed');
    expect(toolResultsAt(h.fake.requests, taskId, 1)[0]!.content).toMatch(/the secret/);
  });

  it('PreToolUse: "allow" cannot widen the policy — a write still asks', { timeout: 120_000 }, async () => {
    const allow = JSON.stringify({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'allow' } });
    await setUserHooks({ PreToolUse: matched('Write|Edit', `echo '${allow}'`) });
    const taskId = await h.client.start({ prompt: 'hooks-cannot-widen', workspace: await makeWorkspace() });
    const [request] = await pending(taskId);
    expect(request!.tool).toBe('write_file');
    expect((await traceOf(taskId)).some((m) => m.includes('→ allow') && m.endsWith("a hook cannot widen the policy, so the policy's decision stands"))).toBe(true);
    await h.client.cancel(taskId);
  });

  it('PostToolUse: the hook note follows the tool result the model reads', { timeout: 120_000 }, async () => {
    const note = JSON.stringify({ hookSpecificOutput: { hookEventName: 'PostToolUse', additionalContext: 'run the formatter on a.txt before finishing' } });
    await setUserHooks({ PostToolUse: matched('Write', `echo '${note}'`) });
    const workspace = await makeWorkspace();
    const taskId = await h.client.start({ prompt: 'write-and-format', workspace, mode: 'accept-edits' });
    expect((await h.client.result(taskId)).status).toBe('completed');
    expect(toolResultsAt(h.fake.requests, taskId, 1)[0]!.content).toMatch(/\n\n\[PostToolUse hook\] run the formatter on a\.txt before finishing$/);
  });

  it('Stop: a hook that finds the work unfinished sends the model back with its reason; Notification and SessionEnd see the task', { timeout: 120_000 }, async () => {
    await setUserHooks({
      Stop: command(`test -f done.txt || { echo 'write done.txt before finishing' >&2; exit 2; }`),
      SessionEnd: command('cat >> hook-events.jsonl; echo >> hook-events.jsonl'),
    });
    const workspace = await makeWorkspace();
    const taskId = await h.client.start({ prompt: 'finish-properly', workspace, mode: 'accept-edits' });
    expect((await h.client.result(taskId)).status).toBe('completed');
    const second = h.fake.requests.find((r) => r.task === taskId && r.stage === 'execute' && r.turn === 1)!;
    expect(second.body.messages.at(-1)).toMatchObject({
      role: 'user',
      content: [{ type: 'text', text: 'A Stop hook of this project did not let the task end yet:\nwrite done.txt before finishing' }],
    });
    expect(await readFile(path.join(workspace, 'done.txt'), 'utf8')).toBe('yes\n');
    const trace = await traceOf(taskId);
    expect(trace, trace.join('\n')).toContain('hooks: a Stop hook sent the model back: write done.txt before finishing');
    const ended = (await readFile(path.join(workspace, 'hook-events.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(ended).toEqual([expect.objectContaining({ hook_event_name: 'SessionEnd', reason: 'completed', session_id: taskId })]);
  });

  it('Notification: an approval request runs the hook while it waits', { timeout: 120_000 }, async () => {
    await setUserHooks({ Notification: command('cat > notification.json') });
    const workspace = await makeWorkspace();
    const taskId = await h.client.start({ prompt: 'hooks-cannot-widen', workspace });
    const [request] = await pending(taskId);
    const seen = await waitFor(async () => JSON.parse(await readFile(path.join(workspace, 'notification.json'), 'utf8')) as Record<string, unknown>, 'the Notification hook');
    expect(seen).toMatchObject({
      hook_event_name: 'Notification',
      request_id: request!.requestId,
      tool_name: 'write_file',
      message: `The agent needs your approval: write_file b.txt (${request!.requestId})`,
    });
    await h.client.cancel(taskId);
  });

  it("a workspace's hooks run only after `agent trust`", { timeout: 120_000 }, async () => {
    const workspace = await makeWorkspace();
    await mkdir(path.join(workspace, '.agent'), { recursive: true });
    await writeFile(path.join(workspace, '.agent', 'hooks.json'), JSON.stringify({ hooks: { SessionEnd: command('echo ran > ws-hook-ran') } }));
    const untrusted = await h.client.start({ prompt: 'read-secrets', workspace, rules: ['allow read_file'] });
    await h.client.result(untrusted);
    expect((await traceOf(untrusted)).some((m) => /^hooks: .*\.agent\/hooks\.json is not trusted, so its 1 hook do not run/.test(m))).toBe(true);
    await expect(readFile(path.join(workspace, 'ws-hook-ran'), 'utf8')).rejects.toThrow(/ENOENT/);
    await new PolicySources(h.env.AGENT_HOME!, h.env.AGENT_USER_DIR!).trust(workspace);
    const trusted = await h.client.start({ prompt: 'read-secrets', workspace, rules: ['allow read_file'] });
    await h.client.result(trusted);
    expect(await readFile(path.join(workspace, 'ws-hook-ran'), 'utf8')).toBe('ran\n');
  });
});
