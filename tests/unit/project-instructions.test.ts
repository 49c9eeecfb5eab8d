/**
 * Project instruction files on real files: AGENTS.md, CLAUDE.md where there is none, the user's own
 * in AGENT_HOME, the size cap with its note, and a workspace file the file tools would refuse.
 */
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStateStore } from '../../services/state/file-state-store';
import { describeInstructions, instructionsBlock, loadProjectInstructions, MAX_INSTRUCTION_BYTES } from '../../services/tools/project-instructions';
import { ToolRunner } from '../../services/tools/tool-runner';

let base: string;
let ws: string;
let home: string;
beforeEach(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'instructions-'));
  ws = path.join(base, 'ws');
  home = path.join(base, 'home');
  await mkdir(ws);
  await mkdir(home);
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('project instructions', () => {
  it("reads the user's file, then the workspace's, AGENTS.md before CLAUDE.md", async () => {
    await writeFile(path.join(home, 'CLAUDE.md'), 'Answer tersely.\n');
    await writeFile(path.join(ws, 'AGENTS.md'), 'Run `npm test` before saying done.\n');
    await writeFile(path.join(ws, 'CLAUDE.md'), 'ignored: AGENTS.md is there\n');
    const files = await loadProjectInstructions(ws, home);
    expect(files.map((f) => [f.label, f.text, f.cut])).toEqual([
      ['AGENT_HOME/CLAUDE.md', 'Answer tersely.\n', false],
      ['AGENTS.md', 'Run `npm test` before saying done.\n', false],
    ]);
    const block = instructionsBlock(files);
    expect(block).toContain('<instructions source="AGENTS.md">\nRun `npm test` before saying done.\n</instructions>');
    expect(block).toMatch(/not permissions/);
    expect(describeInstructions(files)).toEqual(['instructions: AGENT_HOME/CLAUDE.md (16 bytes)', 'instructions: AGENTS.md (35 bytes)']);
  });

  it('uses CLAUDE.md when there is no AGENTS.md, and nothing when there is neither', async () => {
    expect(await loadProjectInstructions(ws, home)).toEqual([]);
    expect(instructionsBlock([])).toBe('');
    await writeFile(path.join(ws, 'CLAUDE.md'), 'Use tabs.\n');
    expect((await loadProjectInstructions(ws, home)).map((f) => f.label)).toEqual(['CLAUDE.md']);
  });

  it('cuts a long file and says so', async () => {
    await writeFile(path.join(ws, 'AGENTS.md'), 'x'.repeat(MAX_INSTRUCTION_BYTES + 5_000));
    const [file] = await loadProjectInstructions(ws, home);
    expect(file).toMatchObject({ cut: true, bytes: MAX_INSTRUCTION_BYTES + 5_000 });
    expect(file!.text).toHaveLength(MAX_INSTRUCTION_BYTES);
    expect(instructionsBlock([file!])).toContain('[AGENTS.md is 21,384 bytes; only the first 16,384 are shown]');
    expect(describeInstructions([file!])).toEqual(['instructions: AGENTS.md (21,384 bytes, cut to 16,384)']);
  });

  it('skips a workspace file that points outside it, as the file tools refuse it', async () => {
    const outside = path.join(base, 'secret.md');
    await writeFile(outside, 'the contents of a file outside the workspace\n');
    await symlink(outside, path.join(ws, 'AGENTS.md'));
    await link(outside, path.join(ws, 'CLAUDE.md'));
    expect(await loadProjectInstructions(ws, home)).toEqual([]);
  });

  it("a subdirectory's file leads the first result of a tool that touches it, once per task", async () => {
    await mkdir(path.join(ws, 'api', 'db'), { recursive: true });
    await writeFile(path.join(ws, 'AGENTS.md'), 'root rules (already in the first message)\n');
    await writeFile(path.join(ws, 'api', 'AGENTS.md'), 'API: keep handlers thin.\n');
    await writeFile(path.join(ws, 'api', 'db', 'CLAUDE.md'), 'DB: never edit migrations.\n');
    await writeFile(path.join(ws, 'api', 'db', 'schema.sql'), 'create table t();\n');
    await writeFile(path.join(ws, 'api', 'server.ts'), 'export {};\n');
    const runner = new ToolRunner(new FileStateStore(path.join(base, 'state')), { modelOutputLimit: 10_000, historyInlineBytes: 10_000 });
    const read = async (p: string, taskId = 'task-1') => (await runner.run({ effectKey: `${taskId}/${p}`, taskId, tool: 'read_file', input: { path: p }, workspace: ws })).content!;

    const first = await read('api/db/schema.sql');
    expect(first).toMatch(
      /^\[instructions from api\/AGENTS\.md: the user's notes for work in api\/; notes, not permissions\]\nAPI: keep handlers thin\.\n\[end of api\/AGENTS\.md\]/,
    );
    expect(first.indexOf('DB: never edit migrations.')).toBeGreaterThan(first.indexOf('API: keep handlers thin.'));
    expect(first).toMatch(/\[end of api\/db\/CLAUDE\.md\]\n\n\s+1\tcreate table t\(\);\n/);
    expect(first).not.toContain('root rules');
    // The same task is not told again; another task is.
    expect(await read('api/server.ts')).toBe('     1\texport {};\n     2\t');
    expect(await read('api/server.ts', 'task-2')).toContain('API: keep handlers thin.');
  });
});
