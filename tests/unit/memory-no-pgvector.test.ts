/**
 * Memory on a PostgreSQL without pgvector (here: a database whose role may not create the
 * extension, on the suite's real PostgreSQL 15): it keeps working on full-text and key matches,
 * says so once, and indexes everything once pgvector appears. And memory that cannot be opened at
 * all says why in one line — once per process, and as a BENIGN activity failure (no stack trace in
 * the worker's log).
 */
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createMemoryActivities } from '../../activities/memory';
import { loadConfig } from '../../services/config';
import { lazyMemoryService, MemoryService } from '../../services/memory/memory-service';
import { MemoryUnavailableError } from '../../services/memory/unavailable';
import { makeWorkspace } from '../support/harness';
import { createDatabaseWithoutPgvector } from '../support/memory-db';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => undefined);
});

const configFor = (databaseUrl: string) => loadConfig({ PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl, AGENT_HOME: inject('tmpRoot'), AGENT_DREAM_SCHEDULE: 'off' });

async function open(databaseUrl: string): Promise<MemoryService> {
  const memory = await MemoryService.open(configFor(databaseUrl));
  cleanup.push(() => memory.close());
  return memory;
}

describe('memory on PostgreSQL without pgvector', () => {
  it('opens without vectors, says why and how to get them, and remembers, recalls, supersedes and forgets on text and keys', async () => {
    const url = await createDatabaseWithoutPgvector();
    const memory = await open(url);
    expect(memory.index.kind).toBe('none');
    expect(memory.notice).toMatch(
      /^memory: PostgreSQL at 127\.0\.0\.1:\d+\/novec_\w+ has no pgvector extension \(permission denied to create extension "vector"\), so recall uses full-text and key matches only; for vector recall install pgvector/,
    );
    expect(memory.notice).toContain('bash scripts/install-pgvector.sh');
    expect(memory.notice).not.toContain('postgresql-15-pgvector');
    expect(memory.notice).not.toContain('\n');

    const ctx = { workspace: await makeWorkspace(), user: 'ada' };
    const add = (subject: string, attribute: string, value: string) => memory.remember({ scope: 'workspace', subject, attribute, value, source: 'cli' }, ctx);
    expect((await add('deploy', 'target', 'deploys go to staging')).action).toBe('created');
    expect((await add('deploy', 'target', 'deploys go to prod-eu')).action).toBe('superseded');
    await add('lint', 'command', 'npm run lint');
    await add('release', 'day', 'releases go out on Tuesdays');

    const recalled = await memory.recall({ query: 'where do deploys go?', scopes: memory.scopesFor(ctx), budgetTokens: 800 });
    expect(recalled.items.map((i) => i.value)).toContain('deploys go to prod-eu');
    expect(recalled.block).not.toContain('staging');
    expect(recalled.items.every((i) => !i.via.includes('vector'))).toBe(true);
    // Found by its words alone, with no key named: the full-text retriever carries recall.
    const byWords = await memory.recall({ query: 'which weekday are releases shipped? Tuesdays?', scopes: memory.scopesFor(ctx), budgetTokens: 800 });
    expect(byWords.items[0]).toMatchObject({ key: 'release:day', via: ['text'] });

    expect((await memory.forget('lint:command', { scopes: memory.scopesFor(ctx), reason: 'no linter any more' })).map((i) => i.value)).toEqual(['npm run lint']);
    expect(await memory.reindex()).toBe(0);
  });

  it('once pgvector is there, the next open indexes what was written without it', async () => {
    const url = await createDatabaseWithoutPgvector();
    const before = await open(url);
    const ctx = { workspace: await makeWorkspace(), user: 'ada' };
    for (const [subject, value] of [
      ['cache', 'the cache lives in .cache'],
      ['port', 'the api listens on 8080'],
    ] as const) {
      await before.remember({ scope: 'workspace', subject, attribute: 'note', value, source: 'cli' }, ctx);
    }
    await before.close();

    // An administrator installs the extension in that database.
    const admin = new pg.Client({ connectionString: Object.assign(new URL(url), { username: 'postgres' }).toString() });
    await admin.connect();
    await admin.query('CREATE EXTENSION vector');
    await admin.end();

    const after = await open(url);
    expect(after.index.kind).toBe('pgvector');
    expect(after.notice).toBeNull();
    const { rows } = await after.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM memory_vectors');
    expect(rows[0]!.n).toBe(2);
    const recalled = await after.recall({ query: 'where does the cache live', scopes: after.scopesFor(ctx), budgetTokens: 800 });
    expect(recalled.items[0]).toMatchObject({ key: 'cache:note', via: expect.arrayContaining(['vector']) });
  });

  it('a worker tells the missing extension once, however many tasks open memory', async () => {
    const url = await createDatabaseWithoutPgvector();
    const told: string[] = [];
    for (let i = 0; i < 3; i++) {
      const lazy = lazyMemoryService(configFor(url), { tell: (line) => told.push(line) });
      cleanup.push(() => lazy.close());
      expect((await lazy.get()).index.kind).toBe('none');
    }
    // Each database has its own name, so this line is this test's alone.
    expect(told.filter((l) => l.includes(new URL(url).pathname))).toHaveLength(1);
  });
});

describe('memory that cannot be opened', () => {
  const unreachable = () => {
    const url = new URL(inject('postgresUrl'));
    url.port = '1';
    url.pathname = `/nowhere_${Date.now()}`;
    return url.toString();
  };

  it('names the store and the fix in one line, and a worker says it once', async () => {
    const url = unreachable();
    const err = await MemoryService.open(configFor(url)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MemoryUnavailableError);
    expect((err as Error).message).toMatch(
      /^cannot reach the memory store, PostgreSQL at 127\.0\.0\.1:1\/nowhere_\d+: connect ECONNREFUSED 127\.0\.0\.1:1 — start it or fix DATABASE_URL$/,
    );

    const told: string[] = [];
    const lazy = lazyMemoryService(configFor(url), { tell: (line) => told.push(line) });
    await expect(lazy.get()).rejects.toThrow(MemoryUnavailableError);
    await expect(lazy.get()).rejects.toThrow(MemoryUnavailableError);
    expect(told).toEqual([`memory unavailable, tasks go on without it: ${(err as Error).message}`]);
  });

  it('fails memory activities as BENIGN (logged without a stack trace): unavailable is final, a dropped connection is retried', async () => {
    const failWith = (err: Error) =>
      createMemoryActivities(
        { memory: () => Promise.reject(err), model: {} as never, settings: { enabled: true, recallTokens: 800, decayAfterMs: 0, dreamEpisodeThreshold: 20 } },
        (fn) => fn({} as never),
      );
    const input = { taskId: 't', query: 'q', workspace: '/w', user: 'u' };

    const unavailable = await failWith(new MemoryUnavailableError('the store is gone\n    at somewhere (file.ts:1:1)'))
      .recallMemories(input)
      .catch((e: unknown) => e);
    expect(unavailable).toBeInstanceOf(ApplicationFailure);
    expect(unavailable).toMatchObject({ type: 'MemoryUnavailable', message: 'the store is gone', nonRetryable: true, category: ApplicationFailureCategory.BENIGN });

    const dropped = Object.assign(new Error('connect ECONNREFUSED /home/x/.agent/memory-socket/.s.PGSQL.5432'), { code: 'ECONNREFUSED' });
    const lost = await failWith(dropped)
      .writeMemories({ episode: {} as never, user: 'u' })
      .catch((e: unknown) => e);
    expect(lost).toMatchObject({ type: 'MemoryConnectionLost', nonRetryable: false, category: ApplicationFailureCategory.BENIGN });

    const bug = new TypeError('x is not a function');
    expect(
      await failWith(bug)
        .listDreamScopes()
        .catch((e: unknown) => e),
    ).toBe(bug);
  });
});
