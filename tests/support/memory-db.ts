/**
 * Memory services for tests on the real stores: PGlite in a temp dir, or a fresh database on the
 * suite's PostgreSQL 15 (with pgvector, or without it), optionally with vectors in the Qdrant
 * stand-in; and a memory peer, another process sharing an AGENT_HOME with the test.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import pg from 'pg';
import { inject } from 'vitest';
import { openPglite, openPostgres } from '../../services/memory/database';
import { HashedEmbedder, type Embedder } from '../../services/memory/embeddings';
import { MemoryService } from '../../services/memory/memory-service';
import { PgVectorIndex } from '../../services/memory/pgvector-index';
import { QdrantIndex } from '../../services/memory/qdrant-index';

export type MemoryBackend = 'pglite' | 'postgres' | 'postgres+qdrant';

/** Creates an empty database on the suite's PostgreSQL and returns its URL. */
export async function createTestDatabase(prefix = 'mem'): Promise<string> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: inject('postgresUrl') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(inject('postgresUrl'));
  url.pathname = `/${name}`;
  return url.toString();
}

export interface TestMemory {
  memory: MemoryService;
  /** Opens a second service over the same data (another process would). */
  reopen(embedder?: Embedder): Promise<MemoryService>;
  close(): Promise<void>;
}

export async function openTestMemory(backend: MemoryBackend, options: { qdrantUrl?: string; embedder?: Embedder } = {}): Promise<TestMemory> {
  const embedder = options.embedder ?? new HashedEmbedder(256);
  const opened: MemoryService[] = [];
  let open: (e: Embedder) => Promise<MemoryService>;
  if (backend === 'pglite') {
    const dir = await mkdtemp(path.join(inject('tmpRoot'), 'memory-pglite-'));
    open = async (e) => {
      const db = await openPglite(dir);
      return await MemoryService.fromParts({ db, index: new PgVectorIndex(db.pool), embedder: e });
    };
  } else {
    const url = await createTestDatabase();
    const collection = `test_${randomBytes(4).toString('hex')}`;
    open = async (e) => {
      const db = openPostgres(url, 12);
      const index = backend === 'postgres+qdrant' ? new QdrantIndex({ url: options.qdrantUrl!, collection }) : new PgVectorIndex(db.pool);
      return await MemoryService.fromParts({ db, index, embedder: e });
    };
  }
  const memory = await open(embedder);
  opened.push(memory);
  return {
    memory,
    async reopen(e = embedder) {
      const m = await open(e);
      opened.push(m);
      return m;
    },
    async close() {
      for (const m of opened.splice(0)) await m.close().catch(() => undefined);
    },
  };
}

/**
 * Creates an empty database on the suite's PostgreSQL that cannot have pgvector: it belongs to a
 * role without superuser rights, so CREATE EXTENSION vector is refused there, as on a server
 * without the extension. Returns the URL that connects as that role.
 */
export async function createDatabaseWithoutPgvector(prefix = 'novec'): Promise<string> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: inject('postgresUrl') });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE ${name} LOGIN`);
    await admin.query(`CREATE DATABASE ${name} OWNER ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(inject('postgresUrl'));
  url.username = name;
  url.pathname = `/${name}`;
  return url.toString();
}

/** What a memory peer answers to one command: a result, or the error's class and message. */
export interface PeerAnswer {
  result?: unknown;
  error?: string;
  name?: string;
}

export interface MemoryPeer {
  pid: number;
  /** Sends one command (`open`, `remember`, `burst`, `recall`, `role`, `close`) and waits for its answer. */
  ask(op: string, args?: Record<string, unknown>): Promise<PeerAnswer>;
  /** Settles when the process has exited. */
  exited: Promise<number | null>;
  /** Kills the process (SIGKILL by default: an owner that dies without cleaning up). */
  kill(signal?: NodeJS.Signals): void;
  /** Ends its input: after `close`, the process exits by itself. */
  end(): void;
  stderr(): string;
}

/**
 * The memory peer: a separate Node process that opens MemoryService with the given environment
 * (its AGENT_HOME) and runs commands read as JSON lines on stdin — another `agent` process, minus
 * Temporal. It scopes everything to workspace PEER_WORKSPACE (from its environment) and user "peer".
 */
const PEER_SOURCE = `
import readline from 'node:readline';
const root = process.env.PEER_ROOT;
const { loadConfig } = await import(root + '/services/config.ts');
const { MemoryService } = await import(root + '/services/memory/memory-service.ts');
const ctx = { workspace: process.env.PEER_WORKSPACE, user: 'peer' };
let m;
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const remember = (subject, attribute, value) => m.remember({ scope: 'workspace', subject, attribute, value, source: 'cli' }, ctx);
for await (const line of readline.createInterface({ input: process.stdin })) {
  const c = JSON.parse(line);
  try {
    let result;
    if (c.op === 'open') { m = await MemoryService.open(loadConfig(process.env)); result = m.db.role ?? m.db.kind; }
    else if (c.op === 'remember') result = (await remember(c.subject, c.attribute, c.value)).action;
    else if (c.op === 'burst') result = (await Promise.all(Array.from({ length: c.n }, (_, i) => remember(c.prefix + '-' + i, 'value', c.prefix + ' value ' + i)))).map((o) => o.action);
    else if (c.op === 'recall') result = (await m.recall({ query: c.query, scopes: m.scopesFor(ctx), budgetTokens: 4000 })).items.map((i) => i.key + '=' + i.value);
    else if (c.op === 'role') result = m.db.role;
    else if (c.op === 'close') { await m.close(); result = 'closed'; }
    say({ id: c.id, result });
  } catch (err) {
    say({ id: c.id, error: err.message, name: err.constructor.name });
  }
}
`;

export function spawnMemoryPeer(env: Record<string, string>, workspace: string): MemoryPeer {
  const root = path.resolve(import.meta.dirname, '..', '..');
  // A file, not --eval: worker threads inherit the parent's node options, and --input-type is only valid with --eval.
  const source = path.join(inject('tmpRoot'), 'memory-peer.mjs');
  if (!existsSync(source)) {
    // Test files run in parallel processes: never let one start a half-written script.
    writeFileSync(`${source}.${process.pid}`, PEER_SOURCE);
    renameSync(`${source}.${process.pid}`, source);
  }
  const child = spawn(process.execPath, ['--import', 'tsx', source], {
    cwd: root,
    env: { ...env, PEER_ROOT: root, PEER_WORKSPACE: workspace },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const waiting = new Map<number, (a: PeerAnswer) => void>();
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    const answer = JSON.parse(line) as PeerAnswer & { id: number };
    waiting.get(answer.id)?.(answer);
    waiting.delete(answer.id);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then(() => {
    for (const resolve of waiting.values()) resolve({ error: `the peer exited: ${stderr.trim().split('\n').at(-1) ?? ''}`, name: 'Exited' });
    waiting.clear();
  });
  let next = 0;
  return {
    pid: child.pid!,
    ask(op, args = {}) {
      const id = next++;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        child.stdin.write(`${JSON.stringify({ id, op, ...args })}\n`);
      });
    },
    exited,
    kill: (signal = 'SIGKILL') => void child.kill(signal),
    end: () => void child.stdin.end(),
    stderr: () => stderr,
  };
}
