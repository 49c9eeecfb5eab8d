/**
 * The file tools' checks on what they actually opened (hard links, FIFOs, devices, directories),
 * the per-tool timeouts the runner enforces, background jobs under the real sandbox, and
 * inspect_environment's promise to show variable names and never values.
 */
import { execFileSync } from 'node:child_process';
import { link, mkdir, mkdtemp, readFile, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TOOL_SPECS } from '../../domain/tool-catalog';
import { FileStateStore } from '../../services/state/file-state-store';
import { inspectEnvironmentTool } from '../../services/tools/environment';
import { editFileTool, readFileTool, writeFileTool } from '../../services/tools/file-tools';
import type { ToolRunRequest } from '../../services/tools/tool-call';
import { ToolRunner } from '../../services/tools/tool-runner';

let base: string;
let ws: string;
let outside: string;
let store: FileStateStore;
let runner: ToolRunner;
let seq = 0;

beforeEach(async () => {
  base = await realpath(await mkdtemp(path.join(os.tmpdir(), 'hardening-')));
  ws = path.join(base, 'ws');
  outside = path.join(base, 'outside');
  await mkdir(ws);
  await mkdir(outside);
  await writeFile(path.join(outside, 'secret.txt'), 'outside secret\n');
  store = new FileStateStore(path.join(base, 'state'));
  runner = new ToolRunner(store, { modelOutputLimit: 100_000, historyInlineBytes: 100_000 });
});

afterEach(async () => {
  runner.jobs.stopAll();
  await rm(base, { recursive: true, force: true });
});

const call = (tool: ToolRunRequest['tool'], input: Record<string, unknown>, taskId = 'task-a') =>
  runner.run({ effectKey: `${taskId}/call-${++seq}`, taskId, tool, input, workspace: ws, requireSandbox: true });

describe('file tools check what they opened', () => {
  it('refuses a hard link to a file outside the workspace, for read, edit and overwrite', async () => {
    await link(path.join(outside, 'secret.txt'), path.join(ws, 'innocent.txt'));
    await expect(readFileTool(ws, { path: 'innocent.txt' })).rejects.toThrow(/2 hard links/);
    await expect(editFileTool(ws, { path: 'innocent.txt', oldString: 'outside', newString: 'pwned', replaceAll: false })).rejects.toThrow(/hard links/);
    await expect(writeFileTool(ws, { path: 'innocent.txt', content: 'pwned' })).rejects.toThrow(/hard links/);
    expect(await readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('outside secret\n');
  });

  it('refuses a FIFO without hanging, and a symlink to a device', async () => {
    execFileSync('mkfifo', [path.join(ws, 'pipe')]);
    const started = Date.now();
    await expect(readFileTool(ws, { path: 'pipe' })).rejects.toThrow(/not a regular file/);
    await expect(writeFileTool(ws, { path: 'pipe', content: 'x' })).rejects.toThrow(/not a regular file/);
    expect(Date.now() - started).toBeLessThan(5_000);
    await symlink('/dev/zero', path.join(ws, 'zero'));
    await expect(readFileTool(ws, { path: 'zero' })).rejects.toThrow(/outside the workspace/);
  });

  it('writes through a fresh temp file and leaves no temp files behind', async () => {
    await writeFileTool(ws, { path: 'a/b.txt', content: 'one' });
    await editFileTool(ws, { path: 'a/b.txt', oldString: 'one', newString: 'two', replaceAll: false });
    expect(await readFile(path.join(ws, 'a/b.txt'), 'utf8')).toBe('two');
    expect(execFileSync('ls', ['-A', path.join(ws, 'a')], { encoding: 'utf8' }).trim()).toBe('b.txt');
    expect((await stat(path.join(ws, 'a/b.txt'))).nlink).toBe(1);
  });
});

describe('per-tool timeouts', () => {
  it('every tool declares a timeout and the runner enforces it, reporting a tool error', async () => {
    for (const spec of Object.values(TOOL_SPECS)) expect(spec.timeoutSeconds, spec.name).toBeGreaterThan(0);
    // command_status is bounded at 1 s in this runner; asking it to wait 20 s must stop at the bound.
    const bounded = new ToolRunner(store, { modelOutputLimit: 10_000, historyInlineBytes: 10_000, timeoutSeconds: { command_status: 1 } });
    const run = (tool: ToolRunRequest['tool'], input: Record<string, unknown>) =>
      bounded.run({ effectKey: `bounded/call-${++seq}`, taskId: 'task-t', tool, input, workspace: ws, requireSandbox: true });
    const started = await run('run_command', { command: 'sleep 30', background: true, timeoutSeconds: 60 });
    const jobId = /job-[0-9a-f]{12}/.exec(started.content!)![0];
    const t0 = Date.now();
    const outcome = await run('command_status', { jobId, waitSeconds: 20 });
    bounded.jobs.stopAll();
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(outcome).toMatchObject({ status: 'error', isError: true });
    expect(outcome.content).toBe('command_status timed out after 1s');
  });

  it('a foreground command keeps its own, longer timeout', async () => {
    const quick = new ToolRunner(store, { modelOutputLimit: 10_000, historyInlineBytes: 10_000, timeoutSeconds: { run_command: 1 } });
    const outcome = await quick.run({ effectKey: 'fg', taskId: 't', tool: 'run_command', input: { command: 'sleep 2; echo done', timeoutSeconds: 5 }, workspace: ws });
    expect(outcome.status).toBe('ok');
    expect(outcome.content).toContain('done');
  });
});

describe('background jobs', () => {
  it('runs in the background under the sandbox, reports new output, waits for the end', async () => {
    const started = await call('run_command', { command: 'echo first; sleep 0.5; echo second > made.txt; echo second', background: true });
    expect(started.status).toBe('ok');
    expect(started.content).toMatch(/started background job job-[0-9a-f]{12}/);
    const jobId = /job-[0-9a-f]{12}/.exec(started.content!)![0];
    const finished = await call('command_status', { jobId, waitSeconds: 10 });
    expect(finished.content).toMatch(new RegExp(`job ${jobId} exited with code 0 after`));
    expect(finished.content).toContain('first\nsecond');
    expect(await readFile(path.join(ws, 'made.txt'), 'utf8')).toBe('second\n');
    const again = await call('command_status', { jobId });
    expect(again.content).toContain('(no new output)');
  });

  it('stops a job on request, killing its whole process tree', async () => {
    const started = await call('run_command', { command: '(sleep 300; echo late > late.txt) & sleep 300', background: true });
    const jobId = /job-[0-9a-f]{12}/.exec(started.content!)![0];
    expect((await call('command_status', { jobId })).content).toContain('is running');
    const stopped = await call('command_status', { jobId, stop: true });
    expect(stopped.content).toContain('was stopped');
    await new Promise((r) => setTimeout(r, 300));
    expect(await stat(path.join(ws, 'late.txt')).catch(() => null)).toBeNull();
  });

  it('kills a job at its deadline', async () => {
    const started = await call('run_command', { command: 'echo tick; sleep 60', background: true, timeoutSeconds: 1 });
    const jobId = /job-[0-9a-f]{12}/.exec(started.content!)![0];
    await new Promise((r) => setTimeout(r, 1_500));
    const status = await call('command_status', { jobId });
    expect(status.content).toContain('was killed after its 1s limit');
    expect(status.content).toContain('tick');
  });

  it("a task cannot see another task's jobs, and a task's jobs stop when it ends", async () => {
    const started = await call('run_command', { command: 'sleep 60', background: true }, 'task-a');
    const jobId = /job-[0-9a-f]{12}/.exec(started.content!)![0];
    const foreign = await call('command_status', { jobId }, 'task-b');
    expect(foreign).toMatchObject({ status: 'error' });
    expect(foreign.content).toContain(`no background job ${jobId} for this task`);
    expect(runner.jobs.stopTask('task-a')).toBe(1);
    expect((await call('command_status', { jobId }, 'task-a')).content).toContain('no background job');
  });

  it('a retried start (same effect key) does not start a second job', async () => {
    const request: ToolRunRequest = { effectKey: 'task-r/toolu_1', taskId: 'task-r', tool: 'run_command', input: { command: 'sleep 30', background: true }, workspace: ws };
    const first = await runner.run(request);
    const second = await runner.run(request);
    expect(second.replayed).toBe(true);
    expect(second.content).toBe(first.content);
    expect(runner.jobs.stopTask('task-r')).toBe(1);
  });

  it('a foreground command may not ask for more than 600 s', () => {
    const parsed = TOOL_SPECS.run_command.input.safeParse({ command: 'make', timeoutSeconds: 1200 });
    expect(parsed.success).toBe(false);
    expect(TOOL_SPECS.run_command.input.safeParse({ command: 'make', timeoutSeconds: 1200, background: true }).success).toBe(true);
  });
});

describe('inspect_environment', () => {
  it('reports OS, runtimes, git state and package scripts, and env var names without values', async () => {
    const secretValue = `sk-ant-api03-${'Z'.repeat(40)}`;
    process.env.AGENT_TEST_SECRET_TOKEN = secretValue;
    try {
      await writeFile(path.join(ws, 'package.json'), JSON.stringify({ name: 'demo', scripts: { test: 'vitest run', build: 'tsc' } }));
      await writeFile(path.join(ws, 'Makefile'), 'all: build\nbuild:\n\techo hi\n.PHONY: all\nVAR := 1\n');
      execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: ws });
      await writeFile(path.join(ws, 'new.txt'), 'x');
      const out = await inspectEnvironmentTool(ws);
      expect(out).toMatch(/^os: .+\(linux /m);
      expect(out).toContain(`  node: ${process.version}`);
      expect(out).toContain('git branch: main');
      expect(out).toContain('?? new.txt');
      expect(out).toContain('package.json: demo');
      expect(out).toContain('  test: vitest run');
      expect(out).toMatch(/make targets: all, build$/m);
      expect(out).toContain('AGENT_TEST_SECRET_TOKEN');
      expect(out).not.toContain(secretValue);
      expect(out).toMatch(/passed to run_command .*: .*PATH/);
      expect(out.split('\n').find((l) => l.startsWith('passed to run_command'))).not.toContain('AGENT_TEST_SECRET_TOKEN');
    } finally {
      delete process.env.AGENT_TEST_SECRET_TOKEN;
    }
  });

  it("probes every runtime at once under the activity's cancellation signal without a listener-leak warning", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const out = await inspectEnvironmentTool(ws, { signal: new AbortController().signal });
      expect(out).toContain(`  node: ${process.version}`);
      // Warnings are emitted on the next tick.
      await new Promise((r) => setImmediate(r));
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it("does not run a repository's configured fsmonitor program during git status", async () => {
    execFileSync('git', ['init', '-q'], { cwd: ws });
    const marker = path.join(outside, 'fsmonitor-ran');
    execFileSync('git', ['config', 'core.fsmonitor', `touch ${marker}; false`], { cwd: ws });
    const out = await inspectEnvironmentTool(ws);
    expect(out).toContain('git branch:');
    expect(await stat(marker).catch(() => null)).toBeNull();
  });
});
