/**
 * The look-around tools and background jobs inside a real task on a real Temporal server:
 * search_files and inspect_environment run without asking (read-only in every mode), and a
 * background job the model starts is stopped when the task ends, not left running.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { makeWorkspace, useTaskHarness, waitFor } from '../support/harness';
import { scenario, toolResultsAt } from '../support/scripts';

// A sleep length no other process on the machine uses, so pgrep finds only this job.
const SLEEP_SECONDS = 3000 + Math.floor(Math.random() * 900);

const h = useTaskHarness({
  scenarios: [
    scenario('look-around', {
      execute: [
        {
          toolCalls: [
            { name: 'search_files', input: { pattern: 'deploy target', caseInsensitive: true } },
            { name: 'inspect_environment', input: {} },
            { name: 'list_files', input: { pattern: '**/*.md' } },
          ],
        },
        { text: 'Deploys go to staging.' },
      ],
    }),
    scenario('start-a-server', {
      needsShell: true,
      execute: [{ toolCalls: [{ name: 'run_command', input: { command: `sleep ${SLEEP_SECONDS}`, background: true } }] }, { text: 'Started it.' }],
    }),
  ],
});

function sleepers(): string[] {
  try {
    return execFileSync('pgrep', ['-f', `^sleep ${SLEEP_SECONDS}$`], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

describe('tools inside a task', () => {
  it('search_files, inspect_environment and glob list_files run without an approval, in plan mode too', async () => {
    const workspace = await makeWorkspace({ 'docs/deploy.md': '# Deploy\nThe deploy target is staging.\n', 'src/app.ts': 'export {}\n' });
    const taskId = await h.client.start({ prompt: 'look-around: where do deploys go?', workspace, mode: 'plan', confirmResult: 'never' });
    const result = await h.client.result(taskId);
    expect(result.status).toBe('completed');
    expect(result.approvals).toEqual([]);
    // Every model call's usage is counted (budgets of background agents and the team depend on it).
    expect(result.tokens!.input).toBeGreaterThan(0);
    expect(result.tokens!.output).toBeGreaterThan(0);
    const [search, env, list] = toolResultsAt(h.fake.requests, taskId, 1);
    expect(search).toMatchObject({ is_error: false });
    expect(search!.content).toContain('docs/deploy.md:2: The deploy target is staging.');
    expect(env!.content).toContain('runtimes on PATH:');
    expect(env!.content).toMatch(/environment variable names \(\d+; values are never shown\)/);
    expect(list!.content).toBe('docs/deploy.md');
    expect(result.trace!.map((e) => e.message).join('\n')).toMatch(/search_files \/deploy target\/ → ok/);
  });

  it('a background job is stopped when its task ends', async () => {
    const workspace = await makeWorkspace({});
    const taskId = await h.client.start({
      prompt: 'start-a-server: start it',
      workspace,
      rules: [`allow run_command(sleep *)`],
      confirmResult: 'never',
    });
    const result = await h.client.result(taskId);
    expect(result.status).toBe('completed');
    const [started] = toolResultsAt(h.fake.requests, taskId, 1);
    expect(started!.content).toMatch(/started background job job-[0-9a-f]{12}/);
    const trace = result.trace!.map((e) => e.message).join('\n');
    expect(trace).toContain('stopped 1 background job still running');
    expect(trace).toMatch(/run_command \[background\] sleep \d+ → ok/);
    // The process group is killed when the task ends; the sandbox's teardown may take a moment on a busy machine.
    await waitFor(async () => sleepers().length === 0, 'the background sleep to be gone', 10_000);
  });
});
