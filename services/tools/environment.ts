/**
 * inspect_environment: what a developer checks before touching a project — OS, runtimes on PATH,
 * git state, the project's scripts — and the NAMES of environment variables, never their values.
 */
import { execFile } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { hostEnvironment } from '../config';
import { allowListedEnv } from './redact';
import { workspaceRoot } from './workspace';

const VERSION_TIMEOUT_MS = 5_000;
const GIT_STATUS_LINES = 40;

/** [label, program, args]; the first line of output (stdout or stderr) is the version. */
const RUNTIMES: ReadonlyArray<readonly [string, string, string[]]> = [
  ['node', 'node', ['--version']],
  ['npm', 'npm', ['--version']],
  ['pnpm', 'pnpm', ['--version']],
  ['yarn', 'yarn', ['--version']],
  ['bun', 'bun', ['--version']],
  ['deno', 'deno', ['--version']],
  ['python3', 'python3', ['--version']],
  ['pip3', 'pip3', ['--version']],
  ['go', 'go', ['version']],
  ['java', 'java', ['-version']],
  ['rustc', 'rustc', ['--version']],
  ['cargo', 'cargo', ['--version']],
  ['ruby', 'ruby', ['--version']],
  ['gcc', 'gcc', ['--version']],
  ['make', 'make', ['--version']],
  ['git', 'git', ['--version']],
  ['docker', 'docker', ['--version']],
];

/**
 * Git reads repository config that can name programs to run (core.fsmonitor runs on `git status`,
 * core.pager, diff.external): a cloned repository must not get code execution from a read-only
 * look, so those are overridden on the command line, which beats repository config.
 */
const SAFE_GIT = ['-c', 'core.fsmonitor=false', '-c', 'core.hooksPath=/dev/null', '-c', 'core.pager=cat', '-c', 'diff.external=', '--no-optional-locks'];

interface RunResult {
  ok: boolean;
  out: string;
}

function run(file: string, args: string[], cwd: string, signal?: AbortSignal): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd, env: allowListedEnv(hostEnvironment()), timeout: VERSION_TIMEOUT_MS, maxBuffer: 512 * 1024, signal, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => resolve({ ok: !err, out: `${stdout}${stdout && stderr ? '\n' : ''}${stderr}`.trim() }),
    );
  });
}

async function osSection(): Promise<string[]> {
  const release = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(release)?.[1];
  return [
    `os: ${pretty ?? os.type()} (${os.platform()} ${os.release()}, ${os.arch()})`,
    `cpus: ${os.availableParallelism()}, memory: ${Math.round(os.totalmem() / 1024 ** 3)} GiB`,
    `shell for run_command: /bin/bash`,
  ];
}

async function runtimesSection(signal?: AbortSignal): Promise<string[]> {
  // Run in a neutral directory: version probes must not pick up (and act on) workspace files such
  // as rust-toolchain.toml, which makes rustup download a toolchain.
  // Every probe listens on the one signal at once; more than Node's default of 10 is expected here, not a leak.
  if (signal) setMaxListeners(RUNTIMES.length + 10, signal);
  const results = await Promise.all(RUNTIMES.map(async ([label, file, args]) => [label, await run(file, args, os.tmpdir(), signal)] as const));
  const found = results.filter(([, r]) => r.ok && r.out).map(([label, r]) => `  ${label}: ${r.out.split('\n')[0]!.slice(0, 120)}`);
  const missing = results.filter(([, r]) => !r.ok).map(([label]) => label);
  return ['runtimes on PATH:', ...(found.length ? found : ['  (none found)']), ...(missing.length ? [`not found: ${missing.join(', ')}`] : [])];
}

async function gitSection(root: string, signal?: AbortSignal): Promise<string[]> {
  const inside = await run('git', [...SAFE_GIT, 'rev-parse', '--is-inside-work-tree'], root, signal);
  if (!inside.ok || inside.out !== 'true') return ['git: not a git repository'];
  const [status, last] = await Promise.all([
    run('git', [...SAFE_GIT, 'status', '--porcelain=v1', '--branch', '--untracked-files=normal'], root, signal),
    run('git', [...SAFE_GIT, 'log', '-1', '--format=%h %s (%cr)'], root, signal),
  ]);
  const lines = status.out.split('\n').filter(Boolean);
  const header = lines[0]?.startsWith('## ') ? lines.shift()!.slice(3) : 'unknown';
  const branch = header.startsWith('No commits yet on ') ? `${header.slice('No commits yet on '.length)} (no commits yet)` : header;
  const shown = lines.slice(0, GIT_STATUS_LINES).map((l) => `  ${l}`);
  return [
    `git branch: ${branch}`,
    `last commit: ${last.ok && last.out ? last.out : '(none yet)'}`,
    lines.length ? `changes (${lines.length}):` : 'working tree clean',
    ...shown,
    ...(lines.length > GIT_STATUS_LINES ? [`  … and ${lines.length - GIT_STATUS_LINES} more`] : []),
  ];
}

async function projectSection(root: string): Promise<string[]> {
  const out: string[] = [];
  const read = (name: string) => readFile(path.join(root, name), 'utf8').catch(() => null);
  const pkg = await read('package.json');
  if (pkg !== null) {
    try {
      const json = JSON.parse(pkg) as { name?: string; scripts?: Record<string, unknown>; packageManager?: string };
      out.push(`package.json: ${json.name ?? '(unnamed)'}${json.packageManager ? ` (packageManager ${json.packageManager})` : ''}`);
      const scripts = Object.entries(json.scripts ?? {}).filter(([, v]) => typeof v === 'string');
      out.push(scripts.length ? 'package scripts:' : 'package scripts: (none)', ...scripts.map(([k, v]) => `  ${k}: ${String(v).slice(0, 200)}`));
    } catch {
      out.push('package.json: present but not valid JSON');
    }
  }
  const lockfiles = ['package-lock.json', 'pnpm-lock.yaml', 'yarn.lock', 'bun.lockb', 'poetry.lock', 'uv.lock', 'Cargo.lock', 'go.sum', 'Gemfile.lock'];
  const markers = [
    'pyproject.toml',
    'requirements.txt',
    'setup.py',
    'go.mod',
    'Cargo.toml',
    'Gemfile',
    'pom.xml',
    'build.gradle',
    'build.gradle.kts',
    'Dockerfile',
    'docker-compose.yml',
    'tsconfig.json',
  ];
  const present = (await Promise.all([...markers, ...lockfiles].map(async (f) => ((await read(f)) !== null ? f : null)))).filter(Boolean);
  if (present.length) out.push(`project files: ${present.join(', ')}`);
  const makefile = (await read('Makefile')) ?? (await read('makefile'));
  if (makefile !== null) {
    const targets = [...makefile.matchAll(/^([A-Za-z0-9][A-Za-z0-9_.\/-]*)\s*:(?!=)/gm)].map((m) => m[1]!).filter((t) => !t.startsWith('.'));
    out.push(`make targets: ${targets.length ? [...new Set(targets)].slice(0, 50).join(', ') : '(none)'}`);
  }
  return out.length ? out : ['project: no package.json, Makefile or other build files at the workspace root'];
}

function envSection(): string[] {
  const env = hostEnvironment();
  const names = Object.keys(env).sort();
  const passed = Object.keys(allowListedEnv(env)).sort();
  return [
    `environment variable names (${names.length}; values are never shown): ${names.join(', ')}`,
    `passed to run_command (the rest, including every secret, is withheld): ${passed.join(', ')}`,
  ];
}

export async function inspectEnvironmentTool(workspace: string, context: { signal?: AbortSignal } = {}): Promise<string> {
  const root = await workspaceRoot(workspace);
  const [osLines, runtimes, git, project] = await Promise.all([osSection(), runtimesSection(context.signal), gitSection(root, context.signal), projectSection(root)]);
  return [`workspace: ${root}`, ...osLines, '', ...runtimes, '', ...git, '', ...project, '', ...envSection()].join('\n');
}
