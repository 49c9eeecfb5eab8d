/**
 * `agent demo`: a complete task with no API key and no network. The scripted model (the same
 * fake-llm server the tests use) reads a file, asks to write one, and answers; the real
 * Anthropic SDK, Temporal server and worker do everything else.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../../client/user-error';
import { startFakeLlm } from '../../servers/fake-llm/fake-llm-server';
import { parseScript } from '../../servers/fake-llm/script';
import { AnthropicLlm } from '../../services/llm/llm-client';
import type { CliContext } from '../cli-context';
import { runTask } from './run';

const DEMO_NOTES = 'TODO: buy milk\nDone: call Bob\nTODO: write the docs\n';

export const DEMO_PROMPT = 'Count the TODO lines in notes.txt and write the count to todo-count.txt';

export const DEMO_SCRIPT = parseScript({
  latencyMs: 150,
  stages: {
    intent: {
      input: {
        goal: 'Count TODO lines in notes.txt and record the count in todo-count.txt',
        kind: 'change',
        needsWrite: true,
        needsShell: false,
        summary: 'Count TODOs in notes.txt',
      },
    },
    plan: {
      input: {
        steps: [
          { title: 'Read notes.txt', tool: 'read_file' },
          { title: 'Write the count to todo-count.txt', tool: 'write_file' },
        ],
      },
    },
    execute: [
      { text: 'I will read the notes first.', toolCalls: [{ name: 'read_file', input: { path: 'notes.txt' } }] },
      { text: 'There are 2 TODO lines.', toolCalls: [{ name: 'write_file', input: { path: 'todo-count.txt', content: '2\n' } }] },
      { text: 'notes.txt has 2 TODO lines; I wrote 2 to todo-count.txt.' },
    ],
    verify: { input: { passed: true, evidence: ['read_file notes.txt showed 2 lines starting with TODO', 'write_file created todo-count.txt (2 bytes)'], problems: [] } },
    respond: { text: 'notes.txt contains 2 TODO lines. I wrote the count to todo-count.txt.' },
  },
});

export const DEMO_TEAM_PROMPT = 'Count the TODO lines in notes.txt into todo-count.txt, list them in todos.md, then check both agree';

/** The team demo: two independent steps in parallel (each asks to write a file), then one that depends on both. */
export const DEMO_TEAM_SCRIPT = parseScript({
  latencyMs: 150,
  scenarios: [
    {
      match: 'Your step \\(count\\)',
      stages: {
        execute: [
          { text: 'Reading the notes.', toolCalls: [{ name: 'read_file', input: { path: 'notes.txt' } }] },
          { text: 'Two TODO lines.', toolCalls: [{ name: 'write_file', input: { path: 'todo-count.txt', content: '2\n' } }] },
          { text: 'Wrote 2 to todo-count.txt.' },
        ],
      },
    },
    {
      match: 'Your step \\(list\\)',
      stages: {
        execute: [
          { text: 'Reading the notes.', toolCalls: [{ name: 'read_file', input: { path: 'notes.txt' } }] },
          { text: 'Listing them.', toolCalls: [{ name: 'write_file', input: { path: 'todos.md', content: '- buy milk\n- write the docs\n' } }] },
          { text: 'Listed both TODOs in todos.md.' },
        ],
      },
    },
    {
      match: 'Your step \\(check\\)',
      stages: {
        execute: [
          {
            text: 'Comparing.',
            toolCalls: [
              { name: 'read_file', input: { path: 'todo-count.txt' } },
              { name: 'read_file', input: { path: 'todos.md' } },
            ],
          },
          { text: 'todo-count.txt says 2 and todos.md lists 2 items: they agree.' },
        ],
        verify: { input: { passed: true, evidence: ['read_file todo-count.txt showed 2; read_file todos.md showed 2 items'], problems: [] } },
      },
    },
    {
      match: '',
      stages: {
        intent: {
          input: {
            goal: 'Count and list the TODOs in notes.txt and check they agree',
            kind: 'change',
            needsWrite: true,
            needsShell: false,
            summary: 'Count and list TODOs (team)',
          },
        },
        plan: {
          input: {
            steps: [
              {
                id: 'count',
                title: 'Count the TODO lines',
                instructions: 'Count the lines of notes.txt that start with TODO and write the number to todo-count.txt.',
                dependsOn: [],
                evidence: [{ kind: 'file_contains', path: 'todo-count.txt', text: '2' }],
                risk: 'low',
              },
              {
                id: 'list',
                title: 'List the TODOs',
                instructions: 'Write each TODO of notes.txt as a bullet to todos.md.',
                dependsOn: [],
                evidence: [{ kind: 'file_contains', path: 'todos.md', text: 'buy milk' }],
                risk: 'low',
              },
              {
                id: 'check',
                title: 'Check count and list agree',
                instructions: 'Read todo-count.txt and todos.md and say whether they agree.',
                dependsOn: ['count', 'list'],
                evidence: [{ kind: 'judgement', criteria: 'the count equals the number of listed items' }],
                risk: 'low',
              },
            ],
          },
        },
        respond: { text: 'notes.txt has 2 TODOs: [count] wrote 2 to todo-count.txt, [list] listed them in todos.md, and [check] confirmed the two agree.' },
      },
    },
  ],
});

export async function demoCommand(ctx: CliContext, workspaceArg: string | undefined, options: { team?: boolean } = {}): Promise<number> {
  const workspace = workspaceArg ?? (await mkdtemp(path.join(os.tmpdir(), 'agent-demo-')));
  // The script reads notes.txt; give a --workspace that lacks one the sample (never overwrite a user's file).
  const created = await writeFile(path.join(workspace, 'notes.txt'), DEMO_NOTES, { flag: 'wx' }).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'EEXIST') return false;
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw new UserError(`workspace ${path.resolve(workspace)} does not exist or is not a directory`, 2);
      throw err;
    },
  );
  if (created && workspaceArg && !ctx.json) ctx.out(`demo: wrote a sample notes.txt into ${workspace}`);
  const fake = await startFakeLlm(options.team ? DEMO_TEAM_SCRIPT : DEMO_SCRIPT);
  try {
    if (!ctx.json) ctx.out(`demo: scripted model at ${fake.url}, workspace ${workspace}`);
    const llm = new AnthropicLlm({ apiKey: 'demo', baseURL: fake.url, model: ctx.config.llm.model, maxTokens: 1024 });
    // The scripted model lives in this process only: a task queue of its own keeps another worker
    // (`agent up`) from picking up the demo's steps and answering them with the real model.
    // No consolidation schedule for that throwaway queue.
    const { config } = ctx;
    const demoConfig = {
      ...config,
      temporal: { ...config.temporal, taskQueue: `demo-${randomUUID().slice(0, 8)}` },
      memory: { ...config.memory, dream: { ...config.memory.dream, schedule: null } },
    };
    const demoCtx = { ...ctx, config: demoConfig };
    return options.team
      ? await runTask(demoCtx, { prompt: DEMO_TEAM_PROMPT, workspace, wait: true, llm, team: {} })
      : await runTask(demoCtx, { prompt: DEMO_PROMPT, workspace, wait: true, llm });
  } finally {
    await fake.close();
  }
}
