/**
 * docker-compose.yml is the production shape, and nothing else starts it in the test run, so this
 * keeps it honest: docker-compose itself accepts it, and the worker gets exactly the variables
 * services/config.ts reads, pointing at services that exist, in a form loadConfig accepts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EnvSchema, loadConfig } from '../../services/config';
import { PROJECT_ROOT } from '../../services/temporal-dev-server';

const COMPOSE_FILE = path.join(PROJECT_ROOT, 'docker-compose.yml');
/** What an operator must supply (`${VAR:?...}` in the file); everything else has a default. */
const PLACEHOLDERS = { ANTHROPIC_API_KEY: 'sk-ant-placeholder', POSTGRES_PASSWORD: 'placeholder-password' };
const REQUIRED_WORKER_VARS = ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'AGENT_TASK_QUEUE', 'DATABASE_URL', 'ANTHROPIC_API_KEY'];

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, unknown>;
  deploy?: { replicas?: number | string };
}
interface ComposeFile {
  services: Record<string, Service>;
}

const compose = parse(readFileSync(COMPOSE_FILE, 'utf8')) as ComposeFile;

/** Compose-style interpolation (${VAR}, ${VAR:-default}, ${VAR:?error}, $VAR, $$): enough for this file. */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\{(\w+)(?:(:?)([-?])([^}]*))?\}|\$(\w+)/g, (match, braced?: string, colon?: string, op?: string, arg?: string, bare?: string) => {
    if (match === '$$') return '$';
    const name = (braced ?? bare)!;
    const value = env[name];
    const unset = value === undefined || (colon === ':' && value === '');
    if (op === '-') return unset ? arg! : value!;
    if (op === '?' && unset) throw new Error(`${name} is required: ${arg}`);
    return value ?? '';
  });
}

/** A service's environment as written (list or mapping form); a bare `KEY` passes the host's value through. */
function rawEnvironment(service: Service): Record<string, string> {
  const entries = Array.isArray(service.environment)
    ? service.environment.map((line) => (line.includes('=') ? [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] : [line, null]))
    : Object.entries(service.environment ?? {});
  return Object.fromEntries(entries.map(([key, value]) => [key, value === null ? `\${${key}}` : String(value)]));
}

function resolvedEnvironment(service: Service, env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(rawEnvironment(service)).map(([key, value]) => [key, interpolate(value, env)]));
}

function dependencies(service: Service): string[] {
  return Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
}

let tmpDir: string;
let emptyEnvFile: string;

beforeAll(() => {
  tmpDir = mkdtempSync(path.join(os.tmpdir(), 'compose-test-'));
  // A developer's own .env beside the compose file must not make the result depend on their machine.
  emptyEnvFile = path.join(tmpDir, 'empty.env');
  writeFileSync(emptyEnvFile, '');
});

afterAll(() => rmSync(tmpDir, { recursive: true, force: true }));

/** Runs Debian's docker-compose (1.29) on the file with only the given variables; fails, never skips, if it is missing. */
function dockerCompose(args: string[], vars: Record<string, string>) {
  const result = spawnSync('docker-compose', ['--env-file', emptyEnvFile, '-f', COMPOSE_FILE, ...args], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...vars },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error('docker-compose is not installed, so docker-compose.yml cannot be validated: install it with `apt-get install -y docker-compose` (Debian; .ci/run does this)');
  }
  if (result.error) throw result.error;
  return result;
}

describe('docker-compose.yml, as docker-compose sees it', () => {
  it('passes `docker-compose config -q` without warnings', () => {
    const result = dockerCompose(['config', '-q'], PLACEHOLDERS);
    expect(result.stderr).not.toMatch(/warn/i);
    expect(result.status, result.stderr).toBe(0);
  });

  it.each(Object.keys(PLACEHOLDERS))('refuses to start without %s', (name) => {
    const vars = Object.fromEntries(Object.entries(PLACEHOLDERS).filter(([key]) => key !== name));
    const result = dockerCompose(['config', '-q'], vars);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`set ${name}`);
  });

  it('scales workers with AGENT_WORKERS and resolves the worker environment as this test does', () => {
    const result = dockerCompose(['config'], { ...PLACEHOLDERS, AGENT_WORKERS: '3' });
    expect(result.status, result.stderr).toBe(0);
    const resolved = parse(result.stdout) as ComposeFile;
    // 1.29 turns deploy.replicas into the scale of `up` (no --compatibility needed).
    expect(resolved.services.worker!.deploy?.replicas).toBe(3);
    expect(rawEnvironment(resolved.services.worker!)).toEqual(resolvedEnvironment(compose.services.worker!, PLACEHOLDERS));
  });
});

describe('docker-compose.yml worker service', () => {
  const worker = compose.services.worker!;
  const env = resolvedEnvironment(worker, PLACEHOLDERS);

  it('passes only variables services/config.ts reads, including the required ones', () => {
    const known = Object.keys(EnvSchema.shape);
    expect(
      Object.keys(env).filter((key) => !known.includes(key)),
      'passed to the worker but read by nobody',
    ).toEqual([]);
    expect(
      REQUIRED_WORKER_VARS.filter((key) => !(key in env)),
      'missing from the worker',
    ).toEqual([]);
    expect(env.AGENT_DEV_SERVER).toBe('never');
  });

  it('points TEMPORAL_ADDRESS at the temporal service, in the namespace it creates', () => {
    const [host, port] = env.TEMPORAL_ADDRESS!.split(':');
    expect(host).toBe('temporal');
    expect(port).toBe('7233');
    expect(compose.services.temporal?.image).toMatch(/^temporalio\/auto-setup:/);
    expect(resolvedEnvironment(compose.services.temporal!, PLACEHOLDERS).DEFAULT_NAMESPACE).toBe(env.TEMPORAL_NAMESPACE);
  });

  it('points DATABASE_URL at the postgres service, with its user, password and database', () => {
    const url = new URL(env.DATABASE_URL!);
    const postgres = resolvedEnvironment(compose.services.postgres!, PLACEHOLDERS);
    expect(url.hostname).toBe('postgres');
    // The memory layer needs the vector extension in the app database.
    expect(compose.services.postgres?.image).toMatch(/^pgvector\/pgvector:/);
    expect(url.username).toBe(postgres.POSTGRES_USER);
    expect(decodeURIComponent(url.password)).toBe(postgres.POSTGRES_PASSWORD);
    expect(url.pathname).toBe(`/${postgres.POSTGRES_DB}`);
  });

  it('is accepted by loadConfig', () => {
    const config = loadConfig(env, '/app');
    expect(config.temporal).toMatchObject({ address: 'temporal:7233', namespace: 'default', taskQueue: 'agent-tasks', devServer: 'never' });
    expect(config.databaseUrl).toBe(`postgres://agent:${PLACEHOLDERS.POSTGRES_PASSWORD}@postgres:5432/agent`);
    expect(config.llm.apiKey).toBe(PLACEHOLDERS.ANTHROPIC_API_KEY);
    // An empty ANTHROPIC_BASE_URL means "the default endpoint", not an invalid URL.
    expect(config.llm.baseURL).toBeUndefined();
    expect(path.isAbsolute(config.home)).toBe(true);
  });

  it('is built from a Dockerfile in the repo', () => {
    const build = typeof worker.build === 'string' ? { context: worker.build } : worker.build;
    expect(build, 'worker has no build').toBeDefined();
    expect(existsSync(path.join(PROJECT_ROOT, build!.context ?? '.', build!.dockerfile ?? 'Dockerfile'))).toBe(true);
  });
});

describe('docker-compose.yml services', () => {
  it.each(Object.entries(compose.services))('%s depends only on services that exist', (_name, service) => {
    expect(dependencies(service).filter((dep) => !(dep in compose.services))).toEqual([]);
  });
});
