/**
 * search_files and glob list_files on a real directory tree: .gitignore (nested, negated, and
 * .git/info/exclude), binary and protected files, symlinks that must not be followed, bad and
 * catastrophic regexes.
 */
import { execFileSync } from 'node:child_process';
import { link, mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TOOL_SPECS } from '../../domain/tool-catalog';
import { listFilesTool, searchFilesTool } from '../../services/tools/file-tools';
import { ToolInputError } from '../../services/tools/workspace';

let base: string;
let ws: string;

async function put(rel: string, content: string | Buffer) {
  await mkdir(path.dirname(path.join(ws, rel)), { recursive: true });
  await writeFile(path.join(ws, rel), content);
}

const search = (input: Record<string, unknown>) => searchFilesTool(ws, TOOL_SPECS.search_files.input.parse(input));
const list = (input: Record<string, unknown>) => listFilesTool(ws, TOOL_SPECS.list_files.input.parse(input));

beforeEach(async () => {
  base = await realpath(await mkdtemp(path.join(os.tmpdir(), 'search-')));
  ws = path.join(base, 'ws');
  await mkdir(ws);
  await put('src/app.ts', 'const a = 1;\n// TODO: fix the parser\nexport default a;\n');
  await put('src/lib/util.ts', 'export function util() {\n  return 42; // todo later\n}\n');
  await put('src/lib/util.test.ts', 'test("util", () => {});\n');
  await put('README.md', '# Project\nTODO: docs\n');
  await put('.gitignore', 'dist/\n*.log\n!keep.log\n');
  await put('dist/bundle.js', '// TODO in build output\n');
  await put('debug.log', 'TODO in a log\n');
  await put('keep.log', 'TODO kept log\n');
  await put('src/.gitignore', 'generated.ts\n');
  await put('src/generated.ts', '// TODO generated\n');
  await put('node_modules/pkg/index.js', '// TODO in a dependency\n');
  await put('.git/info/exclude', 'scratch/\n');
  await put('scratch/notes.txt', 'TODO scratch\n');
  await put('.env', 'API_TOKEN=TODO-secret\n');
  await put('image.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0x54, 0x4f, 0x44, 0x4f]));
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('search_files', () => {
  it('finds matching lines with path and line number, respecting nested .gitignore files and .git/info/exclude', async () => {
    const out = await search({ pattern: 'TODO' });
    const lines = out.split('\n');
    expect(lines).toContain('src/app.ts:2: // TODO: fix the parser');
    expect(lines).toContain('README.md:2: TODO: docs');
    expect(lines).toContain('keep.log:1: TODO kept log');
    const matches = lines.slice(0, -1).join('\n');
    for (const hidden of ['dist/bundle.js', 'debug.log', 'src/generated.ts', 'node_modules/', 'scratch/', 'image.png', '.env']) {
      expect(matches).not.toContain(hidden);
    }
    expect(out).not.toContain('TODO-secret');
    expect(lines.at(-1)).toMatch(/^3 matching lines in 3 files \(\d+ searched; skipped 1 binary, 1 protected/);
  });

  it('is case-sensitive unless asked, and filters by glob relative to the search path', async () => {
    expect(await search({ pattern: 'todo later' })).toContain('src/lib/util.ts:2:');
    expect(await search({ pattern: 'TODO later' })).toMatch(/^no matches/);
    expect(await search({ pattern: 'TODO later', caseInsensitive: true })).toContain('src/lib/util.ts:2:');
    const scoped = await search({ pattern: 'util', path: 'src', glob: 'lib/*.test.ts' });
    expect(scoped.split('\n')[0]).toBe('src/lib/util.test.ts:1: test("util", () => {});');
    expect(scoped).not.toContain('src/lib/util.ts');
  });

  it('searches one file when path is a file, and stops at maxResults', async () => {
    await put('many.txt', Array.from({ length: 50 }, (_, i) => `hit ${i}`).join('\n'));
    const out = await search({ pattern: '^hit', path: 'many.txt', maxResults: 5 });
    expect(out.split('\n').filter((l) => l.startsWith('many.txt:'))).toHaveLength(5);
    expect(out).toContain('[stopped after 5 matching lines');
  });

  it('rejects an invalid regex with the reason, as a tool error', async () => {
    await expect(search({ pattern: '(unclosed' })).rejects.toThrow(ToolInputError);
    await expect(search({ pattern: '(unclosed' })).rejects.toThrow(/invalid regular expression/);
  });

  it('stops a catastrophically backtracking regex instead of freezing the worker', async () => {
    await put('evil.txt', `${'a'.repeat(40)}!\n`);
    const started = Date.now();
    await expect(search({ pattern: '^(a+)+$', path: 'evil.txt' })).rejects.toThrow(/catastrophic backtracking/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('never follows symlinks out of the workspace and refuses hard-linked files', async () => {
    const outside = path.join(base, 'outside');
    await mkdir(outside);
    await writeFile(path.join(outside, 'secret.txt'), 'TODO outside secret\n');
    await symlink(outside, path.join(ws, 'linked-dir'));
    await symlink(path.join(outside, 'secret.txt'), path.join(ws, 'linked-file.txt'));
    await link(path.join(outside, 'secret.txt'), path.join(ws, 'hardlink.txt'));
    const out = await search({ pattern: 'outside secret' });
    expect(out).toMatch(/^no matches/);
    expect(out).toContain('1 refused (hard-linked or not regular)');
    await expect(search({ pattern: 'x', path: 'linked-dir' })).rejects.toThrow(/through a symlink/);
  });

  it('rejects a path outside the workspace', async () => {
    await expect(search({ pattern: 'root', path: '/etc' })).rejects.toThrow(/outside the workspace/);
    await expect(search({ pattern: 'root', path: '../' })).rejects.toThrow(/outside the workspace/);
  });

  it('stops walking when its signal fires (the per-tool timeout)', async () => {
    const controller = new AbortController();
    controller.abort(new Error('deadline'));
    await expect(searchFilesTool(ws, TOOL_SPECS.search_files.input.parse({ pattern: 'x' }), { signal: controller.signal })).rejects.toThrow('deadline');
  });
});

describe('list_files with a glob', () => {
  it('lists matching files in all subdirectories, skipping .gitignored ones', async () => {
    expect((await list({ pattern: '**/*.ts' })).split('\n')).toEqual(['src/app.ts', 'src/lib/util.test.ts', 'src/lib/util.ts']);
    expect((await list({ pattern: '*.log' })).split('\n')).toEqual(['keep.log']);
    expect((await list({ path: 'src', pattern: 'lib/*.ts' })).split('\n')).toEqual(['src/lib/util.test.ts', 'src/lib/util.ts']);
    expect(await list({ pattern: '**/*.rs' })).toBe('no files match **/*.rs under .');
  });

  it('hides .gitignored entries from a recursive listing too, but still names .git and node_modules', async () => {
    const out = (await list({ recursive: true })).split('\n');
    expect(out).toEqual(expect.arrayContaining(['.git/', 'node_modules/', 'src/', 'src/lib/', 'src/app.ts', '.gitignore', 'keep.log']));
    for (const hidden of ['dist/', 'debug.log', 'src/generated.ts', 'scratch/', 'node_modules/pkg/', '.git/info/']) expect(out).not.toContain(hidden);
  });

  it('matches dotfiles with a glob that names them', async () => {
    expect((await list({ pattern: '**/.gitignore' })).split('\n')).toEqual(['.gitignore', 'src/.gitignore']);
  });

  it('agrees with git about what .gitignore hides', async () => {
    execFileSync('git', ['init', '-q'], { cwd: ws });
    const gitFiles = execFileSync('git', ['ls-files', '--others', '--exclude-standard'], { cwd: ws, encoding: 'utf8' })
      .split('\n')
      .filter((f) => f && !f.startsWith('node_modules/'));
    const ours = (await list({ pattern: '**' })).split('\n').filter((f) => !f.startsWith('.git/') && !f.startsWith('node_modules/'));
    expect(ours.sort()).toEqual(gitFiles.sort());
  });
});
