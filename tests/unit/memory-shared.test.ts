/**
 * The embedded memory database shared by several processes on one AGENT_HOME (`agent up` in one
 * terminal, `agent run` or `agent memory …` in another): the first process owns it and serves it on
 * a unix socket, the others join; both remember and recall; concurrent writes from both stay
 * consistent; when the owner exits or is killed the next process takes over. Real processes, real
 * PGlite, real sockets.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../services/config';
import { openPglite, type MemoryDatabase } from '../../services/memory/database';
import { MemoryService } from '../../services/memory/memory-service';
import { MemoryUnavailableError } from '../../services/memory/unavailable';
import { makeWorkspace, runCli } from '../support/harness';
import { spawnMemoryPeer, type MemoryPeer } from '../support/memory-db';

/** The workspace every process here (this one, the peers, the CLI) files memories under. */
let ctx: { workspace: string; user: string };
beforeAll(async () => {
  ctx = { workspace: await makeWorkspace(), user: 'peer' };
});

async function newHome(name = 'shared-'): Promise<string> {
  return await mkdtemp(path.join(inject('tmpRoot'), name));
}

const envFor = (home: string): Record<string, string> => ({
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '/root',
  AGENT_HOME: home,
  AGENT_DREAM_SCHEDULE: 'off',
});

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => undefined);
});

async function openHere(home: string): Promise<MemoryService> {
  const memory = await MemoryService.open(loadConfig(envFor(home)));
  cleanup.push(() => memory.close());
  return memory;
}

function peer(home: string): MemoryPeer {
  const p = spawnMemoryPeer(envFor(home), ctx.workspace);
  cleanup.push(async () => {
    p.kill();
    await p.exited;
  });
  return p;
}

const remember = (m: MemoryService, subject: string, value: string) => m.remember({ scope: 'workspace', subject, attribute: 'value', value, source: 'cli' }, ctx);
const recallKeys = async (m: MemoryService, query: string) => (await m.recall({ query, scopes: m.scopesFor(ctx), budgetTokens: 4000 })).items.map((i) => `${i.key}=${i.value}`);

/** A process that certainly runs and is certainly not ours: its pid can stand in for another owner. */
function bystander() {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  cleanup.push(async () => void child.kill('SIGKILL'));
  return child;
}

describe('the embedded memory database shared between processes', () => {
  it('a second process joins the owner instead of failing: both remember and recall, and the CLI works meanwhile', async () => {
    const home = await newHome();
    const here = await openHere(home);
    const other = peer(home);
    expect(await other.ask('open')).toEqual({ id: 0, result: 'joined' });
    expect(here.db.role).toBe('owner');
    const lock = JSON.parse(await readFile(path.join(home, 'memory.lock'), 'utf8'));
    expect(lock).toMatchObject({ pid: process.pid, serving: { socket: path.join(home, 'memory-socket', '.s.PGSQL.5432') } });
    // Only this user may connect: the socket and its directory are private.
    expect((await stat(lock.serving.socket)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(lock.serving.socket))).mode & 0o777).toBe(0o700);
    expect((await other.ask('remember', { subject: 'deploy', attribute: 'target', value: 'deploys go to prod-eu' })).result).toBe('created');
    await remember(here, 'release', 'releases go out on Tuesdays');
    expect((await other.ask('recall', { query: 'when do releases go out' })).result).toContain('release:value=releases go out on Tuesdays');
    expect(await recallKeys(here, 'where do deploys go')).toContain('deploy:target=deploys go to prod-eu');

    // `agent memory …` is a third process: it joins too, where it used to refuse while a worker ran.
    const add = await runCli(['memory', 'add', 'lint:command', 'npm run lint', '--workspace', ctx.workspace, '--json'], envFor(home));
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const list = await runCli(['memory', 'list', '--workspace', ctx.workspace, '--json'], envFor(home));
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { key: string }[]).map((i) => i.key).sort()).toEqual(['deploy:target', 'lint:command', 'release:value']);
  });

  it('writes from two processes at once stay consistent: one current value per key, every chain intact', async () => {
    const home = await newHome();
    const here = await openHere(home);
    const other = peer(home);
    expect((await other.ask('open')).result).toBe('joined');
    // Many parameterised statements and transactions from both sides interleave on PGlite's one session.
    const [theirs, ours] = await Promise.all([
      other.ask('burst', { prefix: 'theirs', n: 40 }),
      Promise.all(Array.from({ length: 40 }, (_, i) => remember(here, `ours-${i}`, `ours value ${i}`))),
    ]);
    expect(theirs.error).toBeUndefined();
    expect(theirs.result).toEqual(Array(40).fill('created'));
    expect(ours.map((o) => o.action)).toEqual(Array(40).fill('created'));
    // The same key from both sides: each write supersedes the one before, whichever process made it;
    // a write whose time is older than the value already current (it waited for the other's commit)
    // is recorded as stale and changes nothing.
    let stale = 0;
    for (let round = 0; round < 5; round++) {
      const [a, b] = await Promise.all([other.ask('remember', { subject: 'shared', attribute: 'value', value: `theirs ${round}` }), remember(here, 'shared', `ours ${round}`)]);
      expect(a.error).toBeUndefined();
      expect(['created', 'superseded', 'stale']).toContain(a.result);
      expect(['created', 'superseded', 'stale']).toContain(b.action);
      stale += [a.result, b.action].filter((action) => action === 'stale').length;
    }
    const items = await here.store.list({ scopes: here.scopesFor(ctx), limit: 500 });
    expect(items.length).toBe(81);
    const chain = await here.history('shared:value', here.scopesFor(ctx));
    expect(chain.length).toBe(10 - stale);
    expect(chain.filter((i) => !i.invalidatedAt).length).toBe(1);
  });

  it('killing the owner lets the next process take over, with every memory kept', async () => {
    const home = await newHome();
    const owner = peer(home);
    expect(await owner.ask('open')).toEqual({ id: 0, result: 'owner' });
    expect((await owner.ask('remember', { subject: 'db', attribute: 'port', value: 'the database listens on 5433' })).result).toBe('created');
    const here = await openHere(home);
    expect(here.db.role).toBe('joined');
    expect(here.db.where).toContain(`served by process ${owner.pid}`);
    await remember(here, 'cache', 'the cache lives in .cache');

    owner.kill('SIGKILL');
    await owner.exited;
    // The next query reconnects: the lock is stale, so this process opens the database itself.
    expect(await recallKeys(here, 'which port does the database listen on, where is the cache')).toEqual(
      expect.arrayContaining(['db:port=the database listens on 5433', 'cache:value=the cache lives in .cache']),
    );
    expect(here.db.role).toBe('owner');
    expect(JSON.parse(await readFile(path.join(home, 'memory.lock'), 'utf8')).pid).toBe(process.pid);

    const next = peer(home);
    expect((await next.ask('open')).result).toBe('joined');
    expect((await next.ask('recall', { query: 'database port' })).result).toContain('db:port=the database listens on 5433');
  });

  it('an owner that exits cleanly hands over too', async () => {
    const home = await newHome();
    const owner = peer(home);
    expect(await owner.ask('open')).toEqual({ id: 0, result: 'owner' });
    const here = await openHere(home);
    expect(here.db.role).toBe('joined');
    expect((await owner.ask('close')).result).toBe('closed');
    owner.end();
    expect(await owner.exited).toBe(0);
    await remember(here, 'after', 'written after the owner left');
    expect(here.db.role).toBe('owner');
    expect(await recallKeys(here, 'written after the owner left')).toContain('after:value=written after the owner left');
  });

  it('interleaved statements and transactions from several connections each get their own answers', async () => {
    const dir = path.join(await newHome(), 'memory');
    const dbs: MemoryDatabase[] = [];
    for (let i = 0; i < 4; i++) dbs.push(await openPglite(dir));
    cleanup.push(async () => {
      for (const db of dbs) await db.close();
    });
    await dbs[0]!.pool.query('CREATE TABLE t (id int PRIMARY KEY, who text)');
    const work = dbs.map(async (db, k) => {
      for (let i = 0; i < 100; i++) {
        const { rows } = await db.pool.query<{ x: number; who: string }>(`SELECT $1::int * ${k + 1} AS x, $2::text AS who`, [i, `c${k}`]);
        expect(rows).toEqual([{ x: i * (k + 1), who: `c${k}` }]);
        if (i % 10 === 0) {
          const c = await db.pool.connect();
          try {
            await c.query('BEGIN');
            await c.query('INSERT INTO t VALUES ($1, $2)', [k * 1000 + i, `c${k}`]);
            // Inside the transaction this connection sees its own insert and nobody else's half-done work.
            const { rows: mine } = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM t WHERE who = $1', [`c${k}`]);
            expect(mine[0]!.n).toBe(i / 10 + 1 - (k === 1 ? i / 10 : 0));
            await c.query(k === 1 ? 'ROLLBACK' : 'COMMIT');
          } finally {
            c.release();
          }
        }
      }
    });
    await Promise.all(work);
    const { rows } = await dbs[0]!.pool.query<{ who: string; n: number }>('SELECT who, count(*)::int AS n FROM t GROUP BY who ORDER BY who');
    expect(rows).toEqual([
      { who: 'c0', n: 10 },
      { who: 'c2', n: 10 },
      { who: 'c3', n: 10 },
    ]);
  });

  it('an AGENT_HOME that does not exist yet is made, and memory works there (a worker started by a program, not the CLI)', async () => {
    const home = path.join(await newHome(), 'not', 'yet');
    const here = await openHere(home);
    expect(here.db.role).toBe('owner');
    await remember(here, 'fresh:home', 'works');
    expect(await recallKeys(here, 'fresh home')).toEqual(['fresh-home:value=works']);
  });

  it('a stale lock left by a dead process is taken over', async () => {
    const home = await newHome();
    const dead = spawn('true');
    await new Promise((resolve) => dead.once('exit', resolve));
    await writeFile(
      path.join(home, 'memory.lock'),
      JSON.stringify({ pid: dead.pid, start: '1', host: null, since: null, serving: { socket: path.join(home, 'gone', '.s.PGSQL.5432') } }),
    );
    const here = await openHere(home);
    expect(here.db.role).toBe('owner');
  });

  it('a holder that cannot share says so in one line, quickly: an older version, or a process that does not answer', async () => {
    const home = await newHome();
    const dir = path.join(home, 'memory');
    const other = bystander();
    await writeFile(path.join(home, 'memory.lock'), String(other.pid));
    const started = Date.now();
    const older = await openPglite(dir).then(
      () => null,
      (err: unknown) => err,
    );
    expect(older).toBeInstanceOf(MemoryUnavailableError);
    expect((older as Error).message).toMatch(
      new RegExp(`^the embedded memory database .* is held by process ${other.pid}, an older version of the agent that cannot share it: restart`),
    );
    expect(Date.now() - started).toBeLessThan(2_000);

    await writeFile(
      path.join(home, 'memory.lock'),
      JSON.stringify({ pid: other.pid, start: null, host: null, since: null, serving: { socket: path.join(home, 'nobody', '.s.PGSQL.5432') } }),
    );
    const silent = await openPglite(dir, { waitMs: 300 }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(silent).toBeInstanceOf(MemoryUnavailableError);
    expect((silent as Error).message).toMatch(new RegExp(`^process ${other.pid} holds the embedded memory database .* but does not answer at .*: if it is stuck, stop it$`));
    expect((silent as Error).message).not.toContain('\n');
  });

  it('where a unix socket path would be too long, the owner serves on loopback TCP and others join there', async () => {
    const home = path.join(await newHome(), 'a-rather-long-directory-name-'.repeat(3));
    await mkdir(home, { recursive: true });
    const here = await openHere(home);
    const lock = JSON.parse(await readFile(path.join(home, 'memory.lock'), 'utf8'));
    expect(lock.serving).toEqual({ host: '127.0.0.1', port: expect.any(Number) });
    await remember(here, 'tcp', 'served over loopback');
    const other = peer(home);
    expect((await other.ask('open')).result).toBe('joined');
    expect((await other.ask('recall', { query: 'served over loopback' })).result).toContain('tcp:value=served over loopback');
  });
});
