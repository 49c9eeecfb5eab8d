/**
 * One contract, two adapters: FileStateStore on a temp dir and PgStateStore on the suite's real
 * PostgreSQL (a fresh database per run, so parallel files and reruns never see each other's rows).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FileStateStore } from '../../services/state/file-state-store';
import { PgStateStore } from '../../services/state/pg-state-store';
import { BlobNotFoundError, type StateStore } from '../../services/state/state-store';

const sha256Ref = /^sha256:[0-9a-f]{64}$/;
const unique = () => `${Date.now()}-${randomBytes(6).toString('hex')}`;

/** A pool whose idle clients may be terminated by DROP DATABASE ... WITH FORCE without crashing the test file. */
function newPool(connectionString: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString, max });
  pool.on('error', () => undefined);
  return pool;
}

interface Adapter {
  name: string;
  open(): Promise<StateStore>;
  /** Opens a second store over the same data, as another worker process would. */
  reopen(): Promise<StateStore>;
  cleanup(): Promise<void>;
}

function fileAdapter(): Adapter {
  let dir = '';
  return {
    name: 'FileStateStore',
    async open() {
      dir = await mkdtemp(path.join(os.tmpdir(), 'state-store-'));
      return new FileStateStore(dir);
    },
    async reopen() {
      return new FileStateStore(dir);
    },
    async cleanup() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function pgAdapter(): Adapter {
  const dbName = `test_${randomBytes(8).toString('hex')}`;
  const pools: pg.Pool[] = [];
  let admin: pg.Pool | undefined;
  const dbUrl = () => {
    const url = new URL(inject('postgresUrl'));
    url.pathname = `/${dbName}`;
    return url.toString();
  };
  const poolForDb = () => {
    const pool = newPool(dbUrl(), 12);
    pools.push(pool);
    return pool;
  };
  return {
    name: 'PgStateStore',
    async open() {
      admin = newPool(inject('postgresUrl'), 1);
      await admin.query(`CREATE DATABASE ${dbName}`);
      return await PgStateStore.open(poolForDb());
    },
    async reopen() {
      return await PgStateStore.open(poolForDb());
    },
    async cleanup() {
      await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
      await admin?.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin?.end();
    },
  };
}

describe.each([fileAdapter(), pgAdapter()])('$name contract', (adapter) => {
  let store: StateStore;

  beforeAll(async () => {
    store = await adapter.open();
  });

  afterAll(async () => {
    await adapter.cleanup();
  });

  describe('blobs', () => {
    it('are content-addressed and idempotent', async () => {
      const data = `blob ${unique()} ✓ \n with "quotes"`;
      const ref = await store.putBlob(data);
      expect(ref).toMatch(sha256Ref);
      expect(await store.putBlob(data)).toBe(ref);
      expect(await store.putBlob(`${data}!`)).not.toBe(ref);
      expect(await store.getBlob(ref)).toBe(data);
    });

    it('store the empty string and large data', async () => {
      expect(await store.getBlob(await store.putBlob(''))).toBe('');
      const big = 'ab'.repeat(1_000_000);
      expect(await store.getBlob(await store.putBlob(big))).toBe(big);
    });

    it('throw BlobNotFoundError for an unknown or malformed ref', async () => {
      const unknown = `sha256:${'0'.repeat(64)}`;
      await expect(store.getBlob(unknown)).rejects.toBeInstanceOf(BlobNotFoundError);
      await expect(store.getBlob(unknown)).rejects.toThrow(`blob ${unknown} not found`);
      await expect(store.getBlob('sha256:../../etc/passwd')).rejects.toBeInstanceOf(BlobNotFoundError);
      await expect(store.getBlob('not-a-ref')).rejects.toBeInstanceOf(BlobNotFoundError);
    });

    it('are visible to another store over the same data', async () => {
      const ref = await store.putBlob(`shared ${unique()}`);
      const other = await adapter.reopen();
      expect(await other.getBlob(ref)).toMatch(/^shared /);
    });

    it('the same content written many times at once, from two stores, all succeed with one ref', async () => {
      const other = await adapter.reopen();
      const data = `same ${unique()} `.repeat(2_000);
      const refs = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? other : store).putBlob(data)));
      expect(new Set(refs).size).toBe(1);
      expect(await store.getBlob(refs[0]!)).toBe(data);
    });
  });

  describe('effects', () => {
    it('beginEffect returns null first, then the started record', async () => {
      const key = `effect-${unique()}`;
      const before = Date.now();
      expect(await store.beginEffect(key)).toBeNull();
      const again = await store.beginEffect(key);
      expect(again).toMatchObject({ state: 'started', startedAt: expect.any(String) });
      // Allow for clock skew between this process and the database server.
      expect(Math.abs(Date.parse(again!.startedAt) - before)).toBeLessThan(60_000);
    });

    it('after finishEffect, beginEffect returns the finished outcome', async () => {
      const key = `effect-${unique()}`;
      await store.beginEffect(key);
      const started = await store.beginEffect(key);
      const outcome = JSON.stringify({ status: 'ok', content: 'créé ✓' });
      await store.finishEffect(key, outcome);
      const finished = await store.beginEffect(key);
      expect(finished).toMatchObject({ state: 'finished', outcome });
      expect(finished!.startedAt).toBe(started!.startedAt);
      // Stays finished on every later attempt.
      expect(await store.beginEffect(key)).toMatchObject({ state: 'finished', outcome });
    });

    it('exactly one of 10 concurrent beginEffect calls owns the effect', async () => {
      const key = `race-${unique()}`;
      const results = await Promise.all(Array.from({ length: 10 }, () => store.beginEffect(key)));
      expect(results.filter((r) => r === null)).toHaveLength(1);
      expect(results.filter((r) => r?.state === 'started')).toHaveLength(9);
    });

    it('exactly one owner across two stores over the same data', async () => {
      const key = `race2-${unique()}`;
      const other = await adapter.reopen();
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? other : store).beginEffect(key)));
      expect(results.filter((r) => r === null)).toHaveLength(1);
    });

    it('keys are independent', async () => {
      const a = `a-${unique()}`;
      await store.beginEffect(a);
      await store.finishEffect(a, 'A');
      expect(await store.beginEffect(`b-${unique()}`)).toBeNull();
    });
  });

  // PostgreSQL text and jsonb reject U+0000; tool output (e.g. `find -print0`) may contain it.
  it('round-trips a blob containing a NUL character', async () => {
    const data = 'before\u0000after';
    expect(await store.getBlob(await store.putBlob(data))).toBe(data);
  });
});

describe('PgStateStore migrations', () => {
  const dbName = `test_${randomBytes(8).toString('hex')}`;
  let admin: pg.Pool;
  const pools: pg.Pool[] = [];
  const pool = () => {
    const url = new URL(inject('postgresUrl'));
    url.pathname = `/${dbName}`;
    const p = newPool(url.toString());
    pools.push(p);
    return p;
  };

  beforeAll(async () => {
    admin = newPool(inject('postgresUrl'), 1);
    await admin.query(`CREATE DATABASE ${dbName}`);
  });

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  });

  it('are idempotent: open twice, and concurrently, on the same database', async () => {
    const first = await PgStateStore.open(pool());
    const ref = await first.putBlob('survives a second open');
    const second = await PgStateStore.open(pool());
    expect(await second.getBlob(ref)).toBe('survives a second open');
    await Promise.all([PgStateStore.open(pool()), PgStateStore.open(pool()), PgStateStore.open(pool())]);
    const check = pool();
    const { rows } = await check.query<{ id: string }>('SELECT id FROM agent_migrations ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual(['001_agent_state']);
  });

  it('close() ends the pool', async () => {
    const store = await PgStateStore.open(pool());
    await store.close();
    await expect(store.putBlob('x')).rejects.toThrow();
  });
});
