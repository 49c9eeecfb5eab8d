/**
 * The `agent` CLI as a person meets it: at a terminal (a pseudo-terminal from util-linux `script`),
 * piped, or in CI. Ctrl-C, inline approvals decided elsewhere, approval requests announced when
 * nobody can answer, quiet output, and approval previews — each through the real CLI, server and
 * worker processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../servers/fake-llm/fake-llm-server';
import { parseScript } from '../../servers/fake-llm/script';
import { PROJECT_ROOT } from '../../services/temporal-dev-server';
import { AGENT_BIN, makeWorkspace, pendingViaCli, runCli, spawnCli, testEnv, waitFor } from '../support/harness';
import { scenario, toolResultsAt } from '../support/scripts';

const BIG_FILE = Array.from({ length: 300 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
const LONG_OLD = `const message = "${'x'.repeat(200)}";`;
const LONG_NEW = `const message = "${'y'.repeat(200)}";`;

const writes = (match: string, file: string, content: string, passed = true) =>
  scenario(match, { needsWrite: true, verifyPassed: passed, execute: [{ toolCalls: [{ name: 'write_file', input: { path: file, content } }] }, { text: `wrote ${file}` }] });

let fake: FakeLlm;
let env: Record<string, string>;

beforeAll(async () => {
  fake = await startFakeLlm(
    parseScript({
      scenarios: [
        scenario('sleep-long', {
          needsShell: true,
          execute: [
            { toolCalls: [{ name: 'run_command', input: { command: 'touch started.marker; sleep 300' } }] },
            { text: 'The sleep was interrupted; its outcome is unknown.' },
          ],
        }),
        writes('approve-elsewhere', 'b.txt', 'alpha\n'),
        writes('let-it-expire', 'b.txt', 'alpha\n', false),
        writes('no-terminal', 'c.txt', 'gamma\n'),
        writes('cancel-me', 'd.txt', 'delta\n'),
        writes('big-write', 'big.txt', BIG_FILE),
        scenario('long-edit', {
          needsWrite: true,
          execute: [{ toolCalls: [{ name: 'edit_file', input: { path: 'long.txt', oldString: LONG_OLD, newString: LONG_NEW } }] }, { text: 'edited' }],
        }),
        scenario('flaky-model', {
          intent: {
            errors: [{ status: 500, message: 'overloaded for a moment' }],
            input: { goal: 'answer', kind: 'question', needsWrite: false, needsShell: false, summary: 'flaky model' },
          },
          execute: [{ text: 'All good.' }],
        }),
        scenario('control-chars', {
          execute: [{ toolCalls: [{ name: 'read_file', input: { path: 'evil.txt' } }] }, { text: 'read it' }],
          respond: { text: 'The file says \u001b[31mred\u001b[0m.' },
        }),
        scenario('bg-item', { execute: [{ text: 'said hi' }] }),
      ],
    }),
  );
  // Two workers share this AGENT_HOME in some tests; the embedded memory database admits one.
  env = await testEnv(fake.url, { AGENT_MEMORY: 'off' });
});
afterAll(async () => {
  await fake?.close();
});

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const stripAnsi = (s: string) => s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');

interface Terminal {
  child: ChildProcess;
  /** Everything written to the terminal, escape sequences removed. */
  screen(): string;
  raw(): string;
  type(text: string): void;
  done: Promise<{ code: number | null; at: number }>;
}

/** The CLI at a terminal: `script` runs it on a pseudo-terminal (stdin, stdout and stderr), as a person's shell would. */
function spawnInTerminal(args: string[], extraEnv: Record<string, string> = {}): Terminal {
  const command = `stty cols 200 rows 50; exec ${[process.execPath, AGENT_BIN, ...args].map(quote).join(' ')}`;
  const child = spawn('script', ['-qefc', command, '/dev/null'], { env: { ...env, TERM: 'xterm-256color', ...extraEnv }, cwd: PROJECT_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let raw = '';
  child.stdout!.on('data', (d: Buffer) => (raw += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (raw += d.toString()));
  const done = new Promise<{ code: number | null; at: number }>((resolve) => child.on('close', (code) => resolve({ code, at: Date.now() })));
  return { child, screen: () => stripAnsi(raw), raw: () => raw, type: (text) => child.stdin!.write(text), done };
}

const pending = (taskId: string) => pendingViaCli(taskId, env, 45_000);

async function statusOf(taskId: string) {
  return JSON.parse((await runCli(['status', taskId, '--json'], env)).stdout);
}

describe('Ctrl-C', () => {
  it('while a command runs: one line and exit 130 at once; another worker finishes the task', { timeout: 150_000 }, async () => {
    const workspace = await makeWorkspace();
    const taskId = `task-ctrl-c-${Date.now()}`;
    const term = spawnInTerminal(['run', 'sleep-long: wait five minutes', '--workspace', workspace, '--mode', 'bypass', '--id', taskId]);
    let worker: ReturnType<typeof spawnCli> | null = null;
    try {
      // Only this CLI's worker polls until the command runs, so the sleep is in this process.
      await waitFor(async () => existsSync(path.join(workspace, 'started.marker')), 'the command to start', 60_000);
      worker = spawnCli(['worker'], env);
      let workerOut = '';
      worker.child.stdout!.on('data', (d: Buffer) => (workerOut += d.toString()));
      await waitFor(async () => workerOut.includes('worker polling'), 'the second worker to start', 60_000);

      const pressed = Date.now();
      term.type('\u0003');
      const exit = await term.done;
      expect(exit.code).toBe(130);
      expect(exit.at - pressed).toBeLessThan(2_500);
      expect(term.screen()).toContain('interrupted: the task keeps running in Temporal');

      // The other worker picks the task up; the interrupted command is reported, not run again.
      const done = await waitFor(
        async () => {
          const view = await statusOf(taskId);
          return view.status === 'completed' ? view : null;
        },
        `${taskId} to complete on the other worker`,
        90_000,
      );
      expect(done.result.answer).toBeTruthy();
      const [toolResult] = toolResultsAt(fake.requests, taskId, 1);
      expect(toolResult).toMatchObject({ is_error: true, content: expect.stringMatching(/^OUTCOME UNKNOWN: run_command was started/) });
    } finally {
      term.child.kill('SIGKILL');
      worker?.child.kill('SIGINT');
      await worker?.done;
    }
  });
});

describe('the inline approval prompt', () => {
  it('shows the change, and goes away with who decided when the request is approved in another terminal', { timeout: 120_000 }, async () => {
    const workspace = await makeWorkspace();
    const taskId = `task-elsewhere-${Date.now()}`;
    const term = spawnInTerminal(['run', 'approve-elsewhere: write b.txt', '--workspace', workspace, '--id', taskId]);
    try {
      await waitFor(async () => term.screen().includes('Approve? [y]es'), 'the prompt', 60_000);
      // The preview: kind, counts and the diff, its added line in green at a terminal.
      expect(term.screen()).toContain('write_file: b.txt — new file, +1 −0 (6 bytes)');
      expect(term.screen()).toMatch(/\+\+\+ b\/b\.txt\n\s+@@ -0,0 \+1(,1)? @@\n/);
      expect(term.raw()).toContain('\u001b[32m    +alpha');

      const approve = await runCli(['approve', taskId, 'apr-1'], { ...env, USER: 'bob' });
      expect(approve.code, approve.stderr).toBe(0);
      const exit = await term.done;
      expect(exit.code, term.screen()).toBe(0);
      expect(term.screen()).toContain('apr-1 approved by bob via cli');
      expect(term.screen()).toMatch(/✔ completed \(verified\)/);
      expect(term.screen()).not.toMatch(/no task with id|rejected/);
      expect(await readFile(path.join(workspace, 'b.txt'), 'utf8')).toBe('alpha\n');
    } finally {
      term.child.kill('SIGKILL');
    }
  });

  it('goes away when the request expires, saying so', { timeout: 120_000 }, async () => {
    const workspace = await makeWorkspace();
    const term = spawnInTerminal(['run', 'let-it-expire: write b.txt', '--workspace', workspace, '--approval-timeout', '3s']);
    try {
      const exit = await term.done;
      expect(term.screen()).toContain('Approve? [y]es');
      expect(term.screen()).toMatch(/apr-1 expired \(no decision within 3s\)/);
      expect(exit.code, term.screen()).toBe(3);
      expect(existsSync(path.join(workspace, 'b.txt'))).toBe(false);
    } finally {
      term.child.kill('SIGKILL');
    }
  });

  it("a team's request (held by a child workflow) decided elsewhere takes the prompt down too", { timeout: 180_000 }, async () => {
    const workspace = await makeWorkspace();
    const term = spawnInTerminal(['demo', '--team', '--workspace', workspace]);
    try {
      await waitFor(async () => term.screen().includes('Approve? [y]es'), 'the first prompt', 90_000);
      const taskId = /▶ (task-\w+)/.exec(term.screen())![1]!;
      const view = await waitFor(
        async () => {
          const v = await statusOf(taskId);
          return v.pendingApprovals.length === 2 ? v : null;
        },
        'both children to ask',
        60_000,
      );
      for (const r of view.pendingApprovals as { requestId: string }[]) {
        const res = await runCli(['approve', taskId, r.requestId], { ...env, USER: 'bob' });
        expect(res.code, res.stderr).toBe(0);
      }
      const exit = await term.done;
      expect(exit.code, term.screen()).toBe(0);
      expect(term.screen()).toMatch(/(count|list)\.1-apr-1 approved by bob via cli/);
      expect(term.screen()).not.toMatch(/no task with id|rejected/);
      expect(await readFile(path.join(workspace, 'todos.md'), 'utf8')).toContain('buy milk');
      expect(term.screen()).toMatch(/✔ completed \(verified\)/);
    } finally {
      term.child.kill('SIGKILL');
    }
  });
});

describe('without a terminal', () => {
  it('announces each pending request once on stderr, with the diff and the commands that decide it (also with --json)', { timeout: 120_000 }, async () => {
    const [human, json] = await Promise.all([makeWorkspace(), makeWorkspace()]);
    const ids = { human: `task-piped-${Date.now()}`, json: `task-piped-json-${Date.now()}` };
    const runs = {
      human: spawnCli(['run', 'no-terminal: write c.txt', '--workspace', human, '--id', ids.human], env),
      json: spawnCli(['run', 'no-terminal: write c.txt', '--workspace', json, '--id', ids.json, '--json'], env),
    };
    for (const id of Object.values(ids)) await pending(id);
    // Give the followers a poll or two to announce the request, then decide.
    await new Promise((r) => setTimeout(r, 1_500));
    for (const id of Object.values(ids)) expect((await runCli(['approve', id, 'apr-1'], env)).code).toBe(0);
    for (const key of ['human', 'json'] as const) {
      const result = await runs[key].done;
      const id = ids[key];
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr.match(/waiting for approval apr-1/g)).toHaveLength(1);
      expect(result.stderr).toContain(`waiting for approval apr-1 of ${id}: write_file: c.txt — new file, +1 −0 (6 bytes)`);
      expect(result.stderr).toContain('    +gamma');
      expect(result.stderr).toContain(`  approve: agent approve ${id} apr-1`);
      expect(result.stderr).toContain(`  deny:    agent deny ${id} apr-1 --reason "..."`);
      expect(result.stderr).toContain('--mode dont-ask');
      expect(result.stderr).not.toContain('\u001b[');
    }
    expect(JSON.parse((await runs.json.done).stdout)).toMatchObject({ taskId: ids.json, status: 'completed' });
  });

  it('agent run --no-wait --json warns on stderr when no worker polls the task queue', async () => {
    const lonely = await testEnv(fake.url);
    const workspace = await makeWorkspace();
    const res = await runCli(['run', 'nobody will run this', '--workspace', workspace, '--no-wait', '--json'], lonely);
    expect(res.code, res.stderr).toBe(0);
    const { taskId } = JSON.parse(res.stdout);
    expect(res.stderr.trim()).toBe(
      `warning: no worker is polling task queue "${lonely.AGENT_TASK_QUEUE}" on ${lonely.TEMPORAL_ADDRESS}; ${taskId} waits until one starts (\`agent worker\` or \`agent up\`)`,
    );
    expect((await runCli(['cancel', taskId], lonely)).code).toBe(0);
  });
});

describe('quiet, safe output', () => {
  it('SDK log lines go to AGENT_HOME/agent.log (the terminal only with --debug); `agent status <id> | head` exits quietly', { timeout: 120_000 }, async () => {
    const workspace = await makeWorkspace();
    const taskId = `task-flaky-${Date.now()}`;
    const quiet = await runCli(['run', 'flaky-model: say something', '--workspace', workspace, '--id', taskId], env);
    expect(quiet.code, quiet.stderr).toBe(0);
    // The model's first answer was a 500: the activity failed once and was retried.
    expect(fake.requests.filter((r) => r.task === taskId && r.stage === 'intent').length).toBeGreaterThanOrEqual(2);
    expect(`${quiet.stdout}${quiet.stderr}`).not.toMatch(/Activity failed|\[WARN\]|sdkComponent/);
    expect(await readFile(path.join(env.AGENT_HOME!, 'agent.log'), 'utf8')).toMatch(/\[WARN\] Activity failed/);

    const loud = await runCli(['run', 'flaky-model: say something', '--workspace', workspace, '--debug', '--json'], env);
    expect(loud.code, loud.stderr).toBe(0);
    expect(loud.stderr).toMatch(/\[WARN\] Activity failed/);
    expect(JSON.parse(loud.stdout)).toMatchObject({ status: 'completed' });

    // The reader of a pipe leaves after its first line: no EPIPE stack, exit 0.
    const status = spawn(process.execPath, [AGENT_BIN, 'status', taskId], { env, cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    status.stdout.destroy();
    let stderr = '';
    status.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => status.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('agent worker prints no bundler report: it is in agent.log', { timeout: 120_000 }, async () => {
    // Without the prebuilt bundle the worker bundles the workflow code with webpack, as in production.
    const { AGENT_WORKFLOW_BUNDLE: _prebuilt, ...bundling } = await testEnv(fake.url, { AGENT_MEMORY: 'off' });
    const worker = spawnCli(['worker'], bundling);
    let out = '';
    worker.child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    worker.child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(async () => out.includes('worker polling'), 'the worker to start', 90_000);
    } finally {
      worker.child.kill('SIGINT');
    }
    const result = await worker.done;
    expect(result.code).toBe(0);
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/webpack|asset workflow-bundle|\[INFO\]/);
    expect(result.stdout).toContain(`worker log: ${path.join(bundling.AGENT_HOME!, 'agent.log')}`);
    expect(await readFile(path.join(bundling.AGENT_HOME!, 'agent.log'), 'utf8')).toMatch(/webpack [\d.]+ compiled successfully/);
  });

  it('control characters from files and the model are shown escaped in follow output and agent logs', { timeout: 120_000 }, async () => {
    const workspace = await makeWorkspace({ 'evil.txt': '\u001b[2J\u001b]0;pwned\u0007hello\n' });
    const taskId = `task-ctrl-chars-${Date.now()}`;
    const run = await runCli(['run', 'control-chars: read evil.txt', '--workspace', workspace, '--id', taskId], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toMatch(/[\u0007\u001b]/);
    expect(run.stdout).toContain('The file says ␛[31mred␛[0m.');
    expect(run.stdout).toContain('␛[2J␛]0;pwned␇hello');
    const logs = await runCli(['logs', taskId], env);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).not.toMatch(/[\u0007\u001b]/);
    expect(logs.stdout).toContain('␛[2J');
  });
});

describe('with a worker running', () => {
  let worker: ReturnType<typeof spawnCli>;
  beforeAll(async () => {
    worker = spawnCli(['worker'], env);
    let out = '';
    worker.child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(async () => out.includes('worker polling'), 'the worker to start', 60_000);
  });
  afterAll(async () => {
    worker?.child.kill('SIGINT');
    await worker?.done;
  });

  async function submit(prompt: string, files: Record<string, string> = {}): Promise<string> {
    const workspace = await makeWorkspace(files);
    const res = await runCli(['run', prompt, '--workspace', workspace, '--no-wait', '--json'], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toBe(''); // a worker polls: no warning
    return JSON.parse(res.stdout).taskId;
  }

  it('after cancel, status keeps the plan the task had', { timeout: 90_000 }, async () => {
    const taskId = await submit('cancel-me: write d.txt');
    const before = await pending(taskId);
    expect(before.plan.length).toBeGreaterThan(0);
    expect((await runCli(['cancel', taskId], env)).code).toBe(0);
    const after = await waitFor(async () => {
      const view = await statusOf(taskId);
      return view.status === 'cancelled' ? view : null;
    }, `${taskId} to be cancelled`);
    expect(after.plan).toEqual(before.plan);
    expect(after.pendingApprovals).toEqual([]);
    const human = await runCli(['status', taskId], env);
    expect(human.stdout).toContain(`1. ${before.plan[0].title}`);
  });

  it('status shows a write as its diff, capped at 200 lines, and --json carries all of it', { timeout: 90_000 }, async () => {
    const taskId = await submit('big-write: write big.txt');
    await pending(taskId);
    const status = await runCli(['status', taskId], env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`Pending approval apr-1 — write_file: big.txt — new file, +300 −0 (${Buffer.byteLength(BIG_FILE)} bytes)`);
    expect(status.stdout).toContain('    +line 1\n');
    expect(status.stdout).toContain(`    … 103 more lines of the diff not shown (the whole diff: \`agent status ${taskId} --json\`)`);
    expect(status.stdout).not.toContain('+line 300');
    expect(status.stdout).not.toContain('\u001b['); // not a terminal: no colour
    const json = await statusOf(taskId);
    expect(json.pendingApprovals[0].preview).toMatchObject({ kind: 'new-file', path: 'big.txt', added: 300, removed: 0, truncated: false });
    expect(json.pendingApprovals[0].preview.diff).toContain('+line 300');
    expect((await runCli(['deny', taskId], env)).code).toBe(0);
  });

  it('an edit is shown whole as a diff, not cut at 120 characters', { timeout: 90_000 }, async () => {
    const taskId = await submit('long-edit: change the message', { 'long.txt': `// header\n${LONG_OLD}\n// footer\n` });
    await pending(taskId);
    const status = await runCli(['status', taskId], env);
    expect(status.stdout).toContain('edit_file: long.txt — edit, +1 −1');
    expect(status.stdout).toContain(`    -${LONG_OLD}\n`);
    expect(status.stdout).toContain(`    +${LONG_NEW}\n`);
    expect(status.stdout).not.toContain('replace "');
    expect((await runCli(['deny', taskId], env)).code).toBe(0);
  });

  it("agent list: aligned columns, and a background agent's run shows what it is about", { timeout: 90_000 }, async () => {
    const workspace = await makeWorkspace();
    const name = `lister${Date.now() % 100_000}`;
    expect((await runCli(['bg', 'start', name, '--goal', 'answer messages', '--workspace', workspace], env)).code).toBe(0);
    try {
      expect((await runCli(['bg', 'send', name, 'bg-item: say hi'], env)).code).toBe(0);
      const line = await waitFor(
        async () => {
          const list = await runCli(['list', '--limit', '50'], env);
          return list.stdout.split('\n').find((l) => l.startsWith(`bg-${name}-1 `)) && list.stdout;
        },
        'the background run in the list',
        60_000,
      );
      const lines = line.trim().split('\n');
      expect(lines.find((l) => l.startsWith(`bg-${name}-1 `))).toMatch(new RegExp(`  ${name}: bg-item: say hi$`));
      // Every row's start time begins in the same column.
      const columns = new Set(lines.map((l) => l.search(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/)));
      expect(columns.size).toBe(1);
    } finally {
      await runCli(['bg', 'stop', name], env);
    }
  });
});
