/**
 * Per-command help and usage errors of the `agent` CLI: `agent <command> --help` and `agent help
 * <command>` describe that command; a mistake is one line plus that command's usage line.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/harness';

// Nothing here reaches a server: an address nothing answers at proves it.
const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', TEMPORAL_ADDRESS: '127.0.0.1:1', AGENT_DEV_SERVER: 'never' };

describe('agent <command> --help', () => {
  it('agent run --help is the help of run: its usage, every flag, an example; not the overview', async () => {
    const res = await runCli(['run', '--help'], env);
    expect(res.code).toBe(0);
    expect(res.stdout.split('\n')[0]).toMatch(/^usage: agent run "<task>"/);
    for (const flag of [
      '--workspace DIR',
      '--no-wait',
      '--json',
      '--approval-timeout 30m',
      '--mode M',
      '--rule R',
      '--max-turns N',
      '--max-cost USD',
      '--team',
      '--parallel N',
      '--debug',
    ]) {
      expect(res.stdout).toContain(flag);
    }
    expect(res.stdout).toMatch(/examples?:\n {2}agent run "/);
    expect(res.stdout).toContain('--mode dont-ask');
    expect(res.stdout).not.toContain('agent bg start');
    expect(await runCli(['help', 'run'], env)).toEqual(res);
  });

  it('subcommands have their own help; a group lists its subcommands', async () => {
    const start = await runCli(['bg', 'start', '--help'], env);
    expect(start.code).toBe(0);
    expect(start.stdout).toMatch(/^usage: agent bg start <name> --goal/);
    expect(start.stdout).toContain('--tasks-per-day N');
    expect(await runCli(['help', 'bg', 'start'], env)).toEqual(start);
    const group = await runCli(['bg', '--help'], env);
    expect(group.code).toBe(0);
    expect(group.stdout).toContain('agent bg send <name> "<message>"');
    expect(group.stdout).not.toContain('agent run');
  });

  it('agent --help and agent help stay the overview', async () => {
    const overview = await runCli(['--help'], env);
    expect(overview.code).toBe(0);
    expect(overview.stdout).toMatch(/^agent — durable agent tasks on Temporal/);
    expect(overview.stdout).toContain('agent bg start');
    expect(overview.stdout).toContain('agent <command> --help');
    expect(await runCli(['help'], env)).toEqual(overview);
  });
});

describe('usage errors: one line, then the usage line of that command', () => {
  it('a missing argument', async () => {
    const res = await runCli(['status'], env);
    expect(res).toEqual({ code: 2, stdout: '', stderr: 'agent: missing the task id\nusage: agent status <taskId> [--json]  (more: agent status --help)\n' });
  });

  it('a flag the command does not take names the flag and the command', async () => {
    const res = await runCli(['status', 'task-1', '--follow'], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toBe('agent: --follow does not apply to `agent status`\nusage: agent status <taskId> [--json]  (more: agent status --help)\n');
    const deny = await runCli(['deny', 'task-1', '--always'], env);
    expect(deny.stderr.split('\n')[0]).toBe('agent: --always does not apply to `agent deny`');
  });

  it('an unknown option, or a value left out', async () => {
    const unknown = await runCli(['run', 'x', '--frobnicate'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toEqual(['agent: unknown option --frobnicate', expect.stringMatching(/^usage: agent run "<task>" .*\(more: agent run --help\)$/)]);
    const missing = await runCli(['list', '--limit'], env);
    expect(missing).toMatchObject({ code: 2, stderr: 'agent: --limit needs a value\nusage: agent list [--limit N] [--json]  (more: agent list --help)\n' });
  });

  it('an unknown command or subcommand', async () => {
    const res = await runCli(['frobnicate'], env);
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(2);
    expect(res.stderr).toMatch(/^agent: unknown command "frobnicate" \(the commands: .*run.*\)\nusage: agent <command>/);
    const sub = await runCli(['bg', 'frob'], env);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toBe(
      'agent: unknown bg command "frob" (start, send, pause, resume, stop, list, status)\nusage: agent bg start|send|pause|resume|stop|list|status ... (more: agent bg <command> --help)\n',
    );
  });
});
