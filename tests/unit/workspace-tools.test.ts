import { mkdir, mkdtemp, readFile, realpath, rm, stat, symlink, writeFile, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { editFileTool, listFilesTool, readFileTool, writeFileTool } from '../../services/tools/file-tools';
import { runCommand, formatCommandResult } from '../../services/tools/run-command';
import { actionHash, gateToolCall } from '../../services/policy/gate';
import { resolveInWorkspace, ToolInputError, workspaceRoot } from '../../services/tools/workspace';

let base: string;
let ws: string;
let outside: string;

beforeEach(async () => {
  base = await realpath(await mkdtemp(path.join(os.tmpdir(), 'ws-tools-')));
  ws = path.join(base, 'app');
  outside = path.join(base, 'outside');
  await mkdir(ws);
  await mkdir(outside);
  await writeFile(path.join(outside, 'secret.txt'), 'top secret\n');
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

async function exists(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null)) !== null;
}

describe('workspace confinement', () => {
  it('rejects a .. escape', async () => {
    await expect(resolveInWorkspace(ws, '../outside/secret.txt')).rejects.toThrow(ToolInputError);
    await expect(readFileTool(ws, { path: '../outside/secret.txt' })).rejects.toThrow(/outside the workspace/);
    await expect(writeFileTool(ws, { path: 'a/../../outside/new.txt', content: 'x' })).rejects.toThrow(/outside the workspace/);
    expect(await exists(path.join(outside, 'new.txt'))).toBe(false);
  });

  it('rejects an absolute path outside the workspace and accepts one inside', async () => {
    await expect(readFileTool(ws, { path: path.join(outside, 'secret.txt') })).rejects.toThrow(/outside the workspace/);
    await expect(readFileTool(ws, { path: '/etc/passwd' })).rejects.toThrow(ToolInputError);
    await writeFile(path.join(ws, 'in.txt'), 'inside');
    expect(await readFileTool(ws, { path: path.join(ws, 'in.txt') })).toContain('inside');
  });

  it('rejects the sibling-prefix trick (app vs app-evil)', async () => {
    const evil = path.join(base, 'app-evil');
    await mkdir(evil);
    await writeFile(path.join(evil, 'x.txt'), 'evil');
    await expect(readFileTool(ws, { path: '../app-evil/x.txt' })).rejects.toThrow(ToolInputError);
    await expect(readFileTool(ws, { path: path.join(evil, 'x.txt') })).rejects.toThrow(ToolInputError);
    await expect(writeFileTool(ws, { path: `${evil}/y.txt`, content: 'x' })).rejects.toThrow(ToolInputError);
    expect(await exists(path.join(evil, 'y.txt'))).toBe(false);
  });

  it('rejects a file symlink pointing outside, for read and for write', async () => {
    await symlink(path.join(outside, 'secret.txt'), path.join(ws, 'link.txt'));
    await expect(readFileTool(ws, { path: 'link.txt' })).rejects.toThrow(/through a symlink/);
    await expect(writeFileTool(ws, { path: 'link.txt', content: 'pwned' })).rejects.toThrow(/through a symlink/);
    expect(await readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('top secret\n');
  });

  it('rejects paths through a symlinked directory that points outside', async () => {
    await symlink(outside, path.join(ws, 'dirlink'));
    await expect(readFileTool(ws, { path: 'dirlink/secret.txt' })).rejects.toThrow(/through a symlink/);
    await expect(writeFileTool(ws, { path: 'dirlink/new.txt', content: 'x' })).rejects.toThrow(/through a symlink/);
    await expect(writeFileTool(ws, { path: 'dirlink/sub/new.txt', content: 'x' })).rejects.toThrow(ToolInputError);
    await expect(listFilesTool(ws, { path: 'dirlink', recursive: false })).rejects.toThrow(ToolInputError);
    expect(await readdir(outside)).toEqual(['secret.txt']);
  });

  it('rejects writing through a dangling symlink (which would create a file outside)', async () => {
    const target = path.join(outside, 'created-by-agent.txt');
    await symlink(target, path.join(ws, 'dangling'));
    await expect(writeFileTool(ws, { path: 'dangling', content: 'x' })).rejects.toThrow(/dangling symlink/);
    await symlink(path.join(outside, 'nodir'), path.join(ws, 'dangling-dir'));
    await expect(writeFileTool(ws, { path: 'dangling-dir/f.txt', content: 'x' })).rejects.toThrow(/dangling symlink/);
    expect(await exists(target)).toBe(false);
    expect(await exists(path.join(outside, 'nodir'))).toBe(false);
  });

  it('allows a symlink whose target stays inside the workspace', async () => {
    await mkdir(path.join(ws, 'real'));
    await writeFile(path.join(ws, 'real', 'f.txt'), 'hello');
    await symlink(path.join(ws, 'real'), path.join(ws, 'alias'));
    expect(await readFileTool(ws, { path: 'alias/f.txt' })).toBe('     1\thello');
  });

  it('allows a new file in new subdirectories and creates them', async () => {
    expect(await writeFileTool(ws, { path: 'src/deep/new.txt', content: 'héllo' })).toBe('created src/deep/new.txt (6 bytes)');
    expect(await readFile(path.join(ws, 'src', 'deep', 'new.txt'), 'utf8')).toBe('héllo');
    expect(await writeFileTool(ws, { path: 'src/deep/new.txt', content: 'again' })).toBe('overwrote src/deep/new.txt (5 bytes)');
    // The temp file used for the atomic rename is gone.
    expect(await readdir(path.join(ws, 'src', 'deep'))).toEqual(['new.txt']);
  });

  it('refuses to overwrite a directory', async () => {
    await mkdir(path.join(ws, 'd'));
    await expect(writeFileTool(ws, { path: 'd', content: 'x' })).rejects.toThrow(/not a regular file/);
  });

  it('rejects a NUL byte and a missing workspace', async () => {
    await expect(resolveInWorkspace(ws, 'a\0b')).rejects.toThrow(/NUL/);
    await expect(workspaceRoot(path.join(base, 'nope'))).rejects.toThrow(/does not exist/);
    await writeFile(path.join(base, 'file'), '');
    await expect(workspaceRoot(path.join(base, 'file'))).rejects.toThrow(/not a directory/);
  });
});

describe('read_file and list_files', () => {
  it('gives ToolInputError for a directory and for a missing file', async () => {
    await mkdir(path.join(ws, 'dir'));
    await expect(readFileTool(ws, { path: 'dir' })).rejects.toThrow(new ToolInputError('dir is a directory, not a regular file'));
    await expect(readFileTool(ws, { path: 'missing.txt' })).rejects.toThrow(new ToolInputError('missing.txt does not exist'));
    await expect(readFileTool(ws, { path: 'missing.txt' })).rejects.toBeInstanceOf(ToolInputError);
  });

  it('numbers lines from the offset and honours limit', async () => {
    await writeFile(path.join(ws, 'f.txt'), 'one\ntwo\nthree\nfour\nfive');
    expect(await readFileTool(ws, { path: 'f.txt' })).toBe('     1\tone\n     2\ttwo\n     3\tthree\n     4\tfour\n     5\tfive');
    expect(await readFileTool(ws, { path: 'f.txt', offset: 2, limit: 2 })).toBe('     2\ttwo\n     3\tthree');
    expect(await readFileTool(ws, { path: 'f.txt', offset: 4 })).toBe('     4\tfour\n     5\tfive');
    expect(await readFileTool(ws, { path: 'f.txt', limit: 1 })).toBe('     1\tone');
  });

  it('lists recursively, marks directories and skips the contents of .git and node_modules', async () => {
    await mkdir(path.join(ws, 'src', 'lib'), { recursive: true });
    await mkdir(path.join(ws, '.git', 'objects'), { recursive: true });
    await mkdir(path.join(ws, 'node_modules', 'pkg'), { recursive: true });
    await writeFile(path.join(ws, 'src', 'lib', 'a.ts'), '');
    await writeFile(path.join(ws, 'README.md'), '');
    await writeFile(path.join(ws, '.git', 'HEAD'), '');
    await writeFile(path.join(ws, 'node_modules', 'pkg', 'index.js'), '');
    await symlink(outside, path.join(ws, 'out'));

    const listing = (await listFilesTool(ws, { path: '.', recursive: true })).split('\n');
    expect(listing).toEqual(expect.arrayContaining(['.git/', 'node_modules/', 'README.md', 'src/', 'src/lib/', 'src/lib/a.ts', 'out -> (symlink)']));
    expect(listing.filter((l) => l.startsWith('.git/') && l !== '.git/')).toEqual([]);
    expect(listing.filter((l) => l.startsWith('node_modules/') && l !== 'node_modules/')).toEqual([]);
    // The symlinked directory is not followed.
    expect(listing.some((l) => l.includes('secret.txt'))).toBe(false);

    const flat = (await listFilesTool(ws, { path: '.', recursive: false })).split('\n');
    expect(flat).not.toContain('src/lib/');
    expect(await listFilesTool(ws, { path: 'src', recursive: false })).toBe('src/lib/');
  });

  it('reports an empty directory and refuses a file as the listing root', async () => {
    expect(await listFilesTool(ws, { path: '.', recursive: false })).toBe('(empty directory)');
    await writeFile(path.join(ws, 'f'), '');
    await expect(listFilesTool(ws, { path: 'f', recursive: false })).rejects.toThrow(/not a directory/);
  });
});

describe('gateToolCall', () => {
  const all = ['read_file', 'list_files', 'write_file', 'run_command'] as const;
  const gate = (tool: string, input: unknown, offered: readonly string[] = all, workspace = ws) =>
    gateToolCall({ tool, input, workspace, offeredTools: [...offered] as never, mode: 'default', rules: [] });

  it('rejects an unknown tool', async () => {
    expect(await gate('delete_everything', {})).toEqual({ kind: 'invalid', message: 'unknown tool "delete_everything"' });
  });

  it('rejects a known tool that was not offered for this task', async () => {
    const result = await gate('run_command', { command: 'ls' }, ['read_file', 'list_files']);
    expect(result.kind).toBe('invalid');
    expect(result.kind === 'invalid' && result.message).toMatch(/"run_command" is not available.*offered: read_file, list_files/);
  });

  it('rejects invalid arguments with a message naming the problem', async () => {
    const result = await gate('read_file', { paht: 'x' });
    expect(result.kind).toBe('invalid');
    const message = result.kind === 'invalid' ? result.message : '';
    expect(message).toMatch(/^invalid arguments for read_file: /);
    expect(message).toMatch(/path: /);
    expect(message).toContain('paht');
  });

  it('rejects a missing workspace as invalid rather than throwing', async () => {
    const result = await gate('read_file', { path: 'x' }, all, path.join(base, 'gone'));
    expect(result).toEqual({ kind: 'invalid', message: `workspace ${path.join(base, 'gone')} does not exist` });
  });

  it('decides valid calls with defaults filled in and the policy verdict', async () => {
    const result = await gate('run_command', { command: 'npm run build' });
    expect(result).toMatchObject({ kind: 'decided', tool: 'run_command', input: { command: 'npm run build', timeoutSeconds: 120 }, verdict: { decision: 'ask' } });
    // The rule an "always" answer would add: exactly these words, as a prefix rule.
    expect(result.kind === 'decided' && result.grantRules.map((r) => r.text)).toEqual(['allow run_command(npm run build)']);
    // A file write grants its directory; a top-level file only top-level files, never "every write".
    const top = await gate('write_file', { path: 'a.txt', content: 'x' });
    expect(top.kind === 'decided' && top.grantRules.map((r) => r.text)).toEqual(['allow write_file(./*)']);
    const nested = await gate('write_file', { path: 'src/lib/a.ts', content: 'x' });
    expect(nested.kind === 'decided' && nested.grantRules.map((r) => r.text)).toEqual(['allow write_file(src/lib/**)']);
    expect(await gate('list_files', {})).toMatchObject({ kind: 'decided', input: { path: '.', recursive: false }, verdict: { decision: 'allow' } });
  });

  it('binds the action hash to canonical input, content and the real workspace', async () => {
    const first = await gate('write_file', { path: 'a.txt', content: 'x' });
    const permuted = await gate('write_file', { content: 'x', path: 'a.txt' });
    const changed = await gate('write_file', { path: 'a.txt', content: 'y' });
    const other = await mkdtemp(path.join(base, 'other-'));
    const elsewhere = await gate('write_file', { path: 'a.txt', content: 'x' }, all, other);
    await symlink(ws, path.join(base, 'ws-alias'));
    const viaAlias = await gate('write_file', { path: 'a.txt', content: 'x' }, all, path.join(base, 'ws-alias'));
    const hash = (r: Awaited<ReturnType<typeof gate>>) => (r.kind === 'decided' ? r.actionHash : `invalid: ${r.message}`);

    expect(hash(first)).toMatch(/^[0-9a-f]{64}$/);
    expect(hash(permuted)).toBe(hash(first));
    expect(hash(viaAlias)).toBe(hash(first));
    expect(hash(changed)).not.toBe(hash(first));
    expect(hash(elsewhere)).not.toBe(hash(first));
    expect(hash(first)).toBe(actionHash('write_file', { content: 'x', path: 'a.txt' }, ws));
    expect(actionHash('write_file', { path: 'a', content: 'x' }, ws)).not.toBe(actionHash('run_command', { path: 'a', content: 'x' }, ws));
  });
});

describe('runCommand', () => {
  const secretBefore = process.env.SECRET_TOKEN;
  afterAll(() => {
    if (secretBefore === undefined) delete process.env.SECRET_TOKEN;
    else process.env.SECRET_TOKEN = secretBefore;
  });

  /** Running, not merely a zombie: an orphan killed with its group may wait for a PID 1 that never reaps. */
  async function alive(pid: number): Promise<boolean> {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    if (stat === null) return false;
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  }

  it('captures exit code, stdout and stderr, with cwd = workspace', async () => {
    const result = await runCommand(ws, { command: 'echo out; echo err >&2; pwd; exit 3', timeoutSeconds: 10 });
    expect(result).toEqual({ exitCode: 3, signal: null, timedOut: false, stdout: `out\n${ws}\n`, stderr: 'err\n' });
    expect(formatCommandResult(result, 10)).toBe(`exit code 3\n--- stdout ---\nout\n${ws}\n\n--- stderr ---\nerr\n`);
  });

  it('does not pass secrets from process.env to the command', async () => {
    process.env.SECRET_TOKEN = 's3cr3t';
    const result = await runCommand(ws, { command: 'echo "token=[$SECRET_TOKEN]"; env', timeoutSeconds: 10 });
    expect(result.stdout).toContain('token=[]');
    expect(result.stdout).not.toContain('s3cr3t');
    // PATH is passed on, so ordinary commands still work.
    expect(result.stdout).toMatch(/^PATH=/m);
  });

  it('on timeout kills the whole process group, background jobs included', async () => {
    const pidFile = path.join(ws, 'bg.pid');
    const started = Date.now();
    const result = await runCommand(ws, { command: `sleep 30 & echo $! > ${pidFile}; sleep 30`, timeoutSeconds: 1 });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBeNull();
    expect(result.signal).toBe('SIGKILL');
    expect(formatCommandResult(result, 1)).toMatch(/^timed out after 1s \(process group killed\)/);
    const bgPid = Number((await readFile(pidFile, 'utf8')).trim());
    expect(bgPid).toBeGreaterThan(0);
    expect(await alive(bgPid)).toBe(false);
  });

  it('an AbortSignal kills the whole process group', async () => {
    const pidFile = path.join(ws, 'bg.pid');
    const controller = new AbortController();
    const started = Date.now();
    const running = runCommand(ws, { command: `sleep 30 & echo $! > ${pidFile}; sleep 30`, timeoutSeconds: 60 }, { signal: controller.signal });
    // Abort only once the background job exists.
    while (!(await exists(pidFile)) || !(await readFile(pidFile, 'utf8')).trim()) await new Promise((r) => setTimeout(r, 20));
    const bgPid = Number((await readFile(pidFile, 'utf8')).trim());
    expect(await alive(bgPid)).toBe(true);
    controller.abort();
    const result = await running;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.timedOut).toBe(false);
    expect(result.signal).toBe('SIGKILL');
    expect(await alive(bgPid)).toBe(false);
  });

  it('rejects a workspace that does not exist', async () => {
    await expect(runCommand(path.join(base, 'gone'), { command: 'true', timeoutSeconds: 5 })).rejects.toThrow(ToolInputError);
  });
});

// Regressions for bugs found by these tests.
describe('edge cases', () => {
  it('a signal aborted before the start means the command never runs', async () => {
    const started = Date.now();
    await expect(runCommand(ws, { command: 'sleep 2; echo ran > ran.txt', timeoutSeconds: 10 }, { signal: AbortSignal.abort() })).rejects.toThrow(/cancelled before it started/);
    expect(Date.now() - started).toBeLessThan(1_500);
    await expect(readFile(path.join(ws, 'ran.txt'))).rejects.toThrow();
  });

  it('a name that merely starts with ".." (e.g. "..env") is inside the workspace', async () => {
    await writeFile(path.join(ws, '..env'), 'x');
    expect(await readFileTool(ws, { path: '..env' })).toBe('     1\tx');
  });
});

describe('edit_file', () => {
  it('replaces a unique string, refuses missing or ambiguous ones, and stays confined', async () => {
    await writeFile(path.join(ws, 'edit.ts'), 'const a = 1;\nconst b = 1;\nconst price = "$5";\n');
    expect(await editFileTool(ws, { path: 'edit.ts', oldString: 'const a = 1;', newString: 'const a = 2;', replaceAll: false })).toBe('edited edit.ts: replaced 1 occurrence');
    // Replacement text is literal: "$&" and friends are not special.
    await editFileTool(ws, { path: 'edit.ts', oldString: '"$5"', newString: '"$&$1"', replaceAll: false });
    expect(await readFile(path.join(ws, 'edit.ts'), 'utf8')).toBe('const a = 2;\nconst b = 1;\nconst price = "$&$1";\n');
    await expect(editFileTool(ws, { path: 'edit.ts', oldString: 'nope', newString: 'x', replaceAll: false })).rejects.toThrow(/not found/);
    await expect(editFileTool(ws, { path: 'edit.ts', oldString: 'const', newString: 'let', replaceAll: false })).rejects.toThrow(/occurs 3 times/);
    expect(await editFileTool(ws, { path: 'edit.ts', oldString: 'const', newString: 'let', replaceAll: true })).toBe('edited edit.ts: replaced 3 occurrences');
    await expect(editFileTool(ws, { path: 'missing.ts', oldString: 'a', newString: 'b', replaceAll: false })).rejects.toThrow(/does not exist/);
    await expect(editFileTool(ws, { path: '../outside.ts', oldString: 'a', newString: 'b', replaceAll: false })).rejects.toThrow(ToolInputError);
  });
});
