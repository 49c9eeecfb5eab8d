/**
 * Memory benchmark: recall latency (p50/p99) and recall@10 of the vector index against exact
 * search at 10k and 100k memories, write throughput, knowledge-update accuracy on a scenario set,
 * and consolidation time for 1,000 episodes — on PGlite (the embedded default) and PostgreSQL.
 *
 * Usage: node --import tsx bench/memory.ts [--sizes 10000,100000] [--backends pglite,postgres] [--skip-dream | --only-dream]
 * PostgreSQL: DATABASE_URL when set (the bench creates and drops its own database there), otherwise
 * a throwaway cluster from Debian's postgresql package with pgvector (as the tests use).
 * Tables go to stdout, progress to stderr.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import pg from 'pg';
import { startDream } from '../workers/dream-schedule';
import { startFakeLlm } from '../servers/fake-llm/fake-llm-server';
import { parseScript } from '../servers/fake-llm/script';
import { TaskClient } from '../client/task-client';
import { loadConfig } from '../services/config';
import { openPglite, openPostgres, type MemoryDatabase } from '../services/memory/database';
import { HashedEmbedder } from '../services/memory/embeddings';
import { memoryKey, normaliseValue } from '../services/memory/keys';
import { embeddingText, MemoryService } from '../services/memory/memory-service';
import { PgVectorIndex } from '../services/memory/pgvector-index';
import type { NewMemory } from '../services/memory/types';
import { startTestPostgres } from '../tests/support/postgres';
import { createAgentWorker } from '../workers/worker';
import type { dream, DreamReport } from '../workflows/dream';
import { freePort } from '../services/temporal-dev-server';
import { startBenchDevServer } from './dev-server';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const SIZES = (arg('sizes') ?? '10000,100000')
  .split(',')
  .map(Number)
  .sort((a, b) => a - b);
const BACKENDS = (arg('backends') ?? 'pglite,postgres').split(',') as ('pglite' | 'postgres')[];
const SKIP_DREAM = process.argv.includes('--skip-dream');
const ONLY_DREAM = process.argv.includes('--only-dream');
const QUERIES = 300;
const RECALL_AT_K_QUERIES = 100;
const WRITE_SAMPLE = 2_000;

const log = (line: string) => process.stderr.write(`${line}\n`);
const cleanups: { what: string; fn: () => Promise<unknown> | unknown }[] = [];
async function cleanup() {
  for (const { what, fn } of cleanups.splice(0).reverse()) {
    try {
      await fn();
    } catch (err) {
      log(`cleanup of ${what} failed: ${(err as Error).message}`);
    }
  }
}
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

/** Deterministic PRNG, so every run benchmarks the same data and queries. */
function mulberry32(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(42);
const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;

const NOUNS =
  'api billing cache cluster config database deploy docker endpoint gateway index ingest job kafka lambda ledger login mailer metrics migration monitor network notifier oauth orders payment pipeline proxy queue redis release report router scheduler search secret service session shard storage stream tenant token upload user vault webhook worker build test lint bundle schema backup cdn dns firewall invoice logger mobile portal profile quota ranking refund region replica sandbox sdk sitemap snapshot sync template theme tracker translation'.split(
    ' ',
  );
const ADJ =
  'admin analytics async audit batch central core customer daily edge external frontend global internal legacy main nightly offline partner primary public realtime regional shared staging'.split(
    ' ',
  );
const ATTRS = 'owner runtime version port host timeout retries command region schedule language format limit policy endpoint branch'.split(' ');
const VERBS = 'uses runs needs calls stores writes reads keeps sends waits fails retries scales depends prefers ships requires blocks expires rotates'.split(' ');
/** Real text is Zipfian: a few very common words and thousands of rare ones (names, versions, paths). */
const SYLLABLES = 'ka lo mi ne ru sa te vo xi zu ba de fi go hu ja ke li mo nu pa qui ro si tu va we xo yu za'.split(' ');
const RARE = Array.from({ length: 6_000 }, (_, i) => SYLLABLES[i % 29]! + SYLLABLES[Math.floor(i / 29) % 29]! + (i >= 841 ? SYLLABLES[Math.floor(i / 841) % 29]! : ''));
const WORDS = [...VERBS, ...NOUNS, ...ADJ, ...RARE];
const ZIPF = (() => {
  const weights = WORDS.map((_, r) => 1 / Math.pow(r + 1, 1.05));
  const total = weights.reduce((a, b) => a + b, 0);
  let acc = 0;
  return weights.map((w) => (acc += w / total));
})();
function word(): string {
  const x = rand();
  let lo = 0;
  let hi = ZIPF.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ZIPF[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return WORDS[lo]!;
}
const SCOPES = (ws: string) => [`workspace:${ws}`, 'user:bench', 'global'];

function sentence(n: number) {
  return Array.from({ length: n }, word).join(' ');
}

/** The i-th synthetic memory, with a unique (scope, key) for every i. */
function synthetic(i: number, ws: string): NewMemory {
  const scope = SCOPES(ws)[i % 3]!;
  const j = Math.floor(i / 3);
  const round = Math.floor(j / (ADJ.length * NOUNS.length * ATTRS.length));
  const subject = `${ADJ[j % ADJ.length]}-${NOUNS[Math.floor(j / ADJ.length) % NOUNS.length]}${round ? `-${round + 1}` : ''}`;
  const attribute = ATTRS[Math.floor(j / (ADJ.length * NOUNS.length)) % ATTRS.length]!;
  return {
    scope,
    kind: i % 7 === 0 ? 'preference' : i % 11 === 0 ? 'procedure' : 'fact',
    subject,
    attribute,
    value: `${subject.replace('-', ' ')} ${attribute} ${sentence(8 + Math.floor(rand() * 10))}`,
    confidence: 0.5 + rand() / 2,
    importance: rand(),
    source: 'writer',
    provenance: { taskId: `bench-${Math.floor(i / 10)}` },
    validFrom: new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString(),
  };
}

/** Loads memories without the per-item supersession path (the write benchmark measures that separately). */
async function bulkLoad(memory: MemoryService, from: number, to: number, ws: string) {
  const embedder = memory.embedder;
  for (let start = from; start < to; start += 1_000) {
    const batch = Array.from({ length: Math.min(1_000, to - start) }, (_, k) => synthetic(start + k, ws));
    const ids = batch.map(() => randomUUID());
    const values: unknown[] = [];
    const rows = batch.map((m, k) => {
      const { subject, attribute, key } = memoryKey(m.subject, m.attribute);
      const hash = createHash('sha256').update(normaliseValue(m.value)).digest('hex');
      values.push(
        ids[k],
        m.scope,
        m.kind,
        key,
        subject,
        attribute,
        m.value,
        hash,
        m.confidence,
        m.importance,
        m.source,
        m.provenance.taskId,
        JSON.stringify(m.provenance),
        m.validFrom,
      );
      const b = k * 14;
      return `(${Array.from({ length: 14 }, (_, x) => `$${b + x + 1}`).join(', ')})`;
    });
    await memory.db.pool.query(
      `INSERT INTO memory_items (id, scope, kind, key, subject, attribute, value, content_hash, confidence, importance, source, task_id, provenance, valid_from) VALUES ${rows.join(', ')}`,
      values,
    );
    const vectors = await embedder.embed(
      batch.map((m) => embeddingText({ subject: memoryKey(m.subject, m.attribute).subject, attribute: memoryKey(m.subject, m.attribute).attribute, value: m.value })),
      'document',
    );
    await memory.index.upsert(batch.map((m, k) => ({ id: ids[k]!, scope: m.scope, vector: vectors[k]! })));
    if ((start - from) % 10_000 === 0) log(`  loaded ${start + batch.length}`);
  }
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const ms = (x: number) => x.toFixed(1);

function queries(n: number, ws: string): string[] {
  return Array.from({ length: n }, (_, q) => {
    const m = synthetic(Math.floor(rand() * SIZES[0]!), ws);
    return q % 2 === 0
      ? `what is the ${m.attribute} of the ${m.subject.replace('-', ' ')}?`
      : m.value
          .split(' ')
          .slice(2)
          .sort(() => rand() - 0.5)
          .slice(0, 4)
          .join(' ');
  });
}

async function recallLatency(memory: MemoryService, ws: string) {
  const qs = queries(QUERIES + 20, ws);
  const times: number[] = [];
  for (const [i, q] of qs.entries()) {
    const t = performance.now();
    await memory.recall({ query: q, scopes: SCOPES(ws), workspace: undefined, budgetTokens: 800 });
    if (i >= 20) times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { p50: pct(times, 50), p95: pct(times, 95), p99: pct(times, 99) };
}

async function recallAtK(memory: MemoryService, ws: string, k = 10) {
  let overlap = 0;
  const qs = queries(RECALL_AT_K_QUERIES, ws);
  for (const q of qs) {
    const [v] = await memory.embedder.embed([q], 'query');
    const [approx, exact] = [await memory.index.search(v!, { limit: k, scopes: SCOPES(ws) }), await memory.index.search(v!, { limit: k, scopes: SCOPES(ws), exact: true })];
    const exactIds = new Set(exact.map((h) => h.id));
    // Ties at the cut-off: any point scoring at least the exact k-th is a correct answer.
    const kth = exact.at(-1)?.score ?? 1;
    overlap += approx.filter((h) => exactIds.has(h.id) || h.score >= kth - 1e-6).length / Math.max(1, exact.length);
  }
  return overlap / qs.length;
}

/**
 * Knowledge updates: 100 keys each changed 1–4 times, every key with two near-neighbour keys
 * (similar subject or attribute). Correct = recall for the key returns only its newest value,
 * and no neighbour lost its value.
 */
async function knowledgeUpdates(memory: MemoryService) {
  const ws = `/bench/ku-${randomUUID().slice(0, 6)}`;
  const scope = `workspace:${ws}`;
  let correct = 0;
  let total = 0;
  for (let k = 0; k < 100; k++) {
    const subject = `${pick(ADJ)} ${pick(NOUNS)} ${k}`;
    const attribute = pick(ATTRS);
    const neighbours = [
      { subject, attribute: `${attribute} backup` },
      { subject: `${subject} v2`, attribute },
    ];
    let t = Date.UTC(2025, 3, 1) + k * 3_600_000;
    const at = () => new Date((t += 60_000)).toISOString();
    const base = { scope, kind: 'fact' as const, confidence: 0.8, importance: 0.6, source: 'writer' as const, provenance: {} };
    await memory.write(neighbours.map((n, i) => ({ ...base, ...n, value: `neighbour ${i} of key ${k}`, validFrom: at() })));
    const updates = 1 + (k % 4);
    let latest = '';
    for (let u = 0; u <= updates; u++) {
      latest = `value ${u} of key ${k}: ${sentence(5)}`;
      await memory.write([{ ...base, subject, attribute, value: latest, validFrom: at() }]);
    }
    const { key } = memoryKey(subject, attribute);
    const r = await memory.recall({ query: `${subject} ${attribute}`, scopes: [scope], budgetTokens: 2_000 });
    const forKey = r.items.filter((i) => i.key === key).map((i) => i.value);
    const neighboursIntact = await Promise.all(
      neighbours.map(async (n, i) => (await memory.store.current(scope, memoryKey(n.subject, n.attribute).key))?.value === `neighbour ${i} of key ${k}`),
    );
    total++;
    if (forKey.length === 1 && forKey[0] === latest && neighboursIntact.every(Boolean)) correct++;
  }
  return correct / total;
}

async function writeThroughput(memory: MemoryService, ws: string) {
  const t = performance.now();
  for (let i = 0; i < WRITE_SAMPLE; i += 50) {
    await memory.write(Array.from({ length: 50 }, (_, k) => synthetic(i + k, ws)));
  }
  return WRITE_SAMPLE / ((performance.now() - t) / 1000);
}

async function openBackend(backend: 'pglite' | 'postgres', tmp: string, postgresUrl: () => Promise<string>): Promise<MemoryService> {
  let db: MemoryDatabase;
  if (backend === 'pglite') db = await openPglite(path.join(tmp, `pglite-${randomUUID().slice(0, 6)}`));
  else db = openPostgres(await postgresUrl(), 4);
  return await MemoryService.fromParts({ db, index: new PgVectorIndex(db.pool), embedder: new HashedEmbedder(256) });
}

async function consolidation(backend: 'pglite' | 'postgres', tmp: string, databaseUrl: string | null) {
  // Its own resources only: the PostgreSQL cluster and temp dir outlive this measurement.
  const mark = cleanups.length;
  try {
    return await consolidationRun(backend, tmp, databaseUrl);
  } finally {
    for (const { what, fn } of cleanups.splice(mark).reverse()) await Promise.resolve(fn()).catch((err: Error) => log(`cleanup of ${what} failed: ${err.message}`));
  }
}

async function consolidationRun(backend: 'pglite' | 'postgres', tmp: string, databaseUrl: string | null) {
  const fake = await startFakeLlm(
    parseScript({
      stages: {
        remember: {
          input: {
            memories: [
              { scope: 'workspace', kind: 'fact', subject: 'deploy', attribute: 'target', value: 'prod-eu', confidence: 0.9, importance: 0.7 },
              { scope: 'workspace', kind: 'procedure', subject: 'release', attribute: 'steps', value: 'tag, build, publish', confidence: 0.8, importance: 0.6 },
            ],
          },
        },
      },
    }),
  );
  cleanups.push({ what: 'fake LLM', fn: () => fake.close() });
  const { server } = await startBenchDevServer(tmp, `temporal-${backend}`);
  cleanups.push({ what: 'Temporal dev server', fn: () => server.stop() });
  const config = loadConfig({
    TEMPORAL_ADDRESS: server.address,
    AGENT_DEV_SERVER: 'never',
    AGENT_TASK_QUEUE: `bench-${randomUUID().slice(0, 8)}`,
    AGENT_HOME: path.join(tmp, `home-${backend}`),
    ANTHROPIC_API_KEY: 'bench',
    ANTHROPIC_BASE_URL: fake.url,
    AGENT_DREAM_SCHEDULE: 'off',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  // Seed 1,000 episodes through the same service the worker will use (opened and closed first: PGlite is one process's).
  const seeded = await MemoryService.open(config);
  const scope = 'workspace:/bench/dream';
  for (let i = 0; i < 1_000; i++) {
    await seeded.store.putEpisode({
      taskId: `ep-${i}`,
      scope,
      prompt: `task ${i}: ${sentence(12)}`,
      status: 'completed',
      summary: `Goal: ${sentence(10)}\nOutcome: completed; verification passed; ${i % 7} tool calls\nEvidence: ${sentence(15)}`,
      transcriptHead: null,
      data: {},
      recordedAt: new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString(),
    });
  }
  await seeded.close();
  const worker = await createAgentWorker(config);
  const running = worker.run();
  cleanups.push({ what: 'worker', fn: async () => (worker.worker.shutdown(), await running) });
  const client = TaskClient.overWorkerConnection(worker.connection, config);
  const t = performance.now();
  const run = await startDream(client.client, config, scope, 'bench', { batchSize: 10 });
  const report: DreamReport = await client.client.workflow.getHandle<typeof dream>(run.workflowId, run.runId).result();
  const seconds = (performance.now() - t) / 1000;
  return { seconds, report };
}

function printRecallTables(rows: string[], writes: string[], updates: string[]) {
  console.log('\n### Recall (hybrid: vector + full text + key; no LLM), hashed 256-d embeddings, pgvector HNSW\n');
  console.log('| backend | memories | p50 (ms) | p95 (ms) | p99 (ms) | recall@10 vs exact |\n| --- | ---: | ---: | ---: | ---: | ---: |');
  console.log(rows.join('\n'));
  console.log('\n### Write throughput (dedupe + supersession + embedding + index, batches of 50)\n');
  console.log('| backend | memories/s |\n| --- | ---: |');
  console.log(writes.join('\n'));
  console.log('\n### Knowledge-update accuracy (100 keys, 1–4 updates each, 2 near-neighbour keys each)\n');
  console.log('| backend | accuracy |\n| --- | ---: |');
  console.log(updates.join('\n'));
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'bench-memory-'));
  cleanups.push({ what: 'temp dir', fn: () => rm(tmp, { recursive: true, force: true }) });
  let clusterUrl: string | null = process.env.DATABASE_URL ?? null;
  const databases: string[] = [];
  const postgresUrl = async () => {
    if (!clusterUrl) {
      log('starting a throwaway PostgreSQL cluster');
      const cluster = startTestPostgres(await freePort());
      cleanups.push({ what: 'PostgreSQL cluster', fn: () => cluster.stop() });
      clusterUrl = cluster.url;
    }
    const name = `bench_memory_${randomUUID().slice(0, 8)}`;
    const admin = new pg.Client({ connectionString: clusterUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    databases.push(name);
    cleanups.push({
      what: `database ${name}`,
      fn: async () => {
        const c = new pg.Client({ connectionString: clusterUrl! });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      },
    });
    const url = new URL(clusterUrl);
    url.pathname = `/${name}`;
    return url.toString();
  };

  const rows: string[] = [];
  const writes: string[] = [];
  const updates: string[] = [];
  try {
    for (const backend of ONLY_DREAM ? [] : BACKENDS) {
      log(`${backend}: opening`);
      const memory = await openBackend(backend, tmp, postgresUrl);
      const ws = '/bench/workspace';
      log(`${backend}: write throughput (${WRITE_SAMPLE} memories through the full write path, batches of 50)`);
      const wps = await writeThroughput(memory, ws);
      writes.push(`| ${backend} | ${Math.round(wps)} |`);
      let loaded = WRITE_SAMPLE;
      for (const size of SIZES) {
        log(`${backend}: loading to ${size}`);
        await bulkLoad(memory, loaded, size, ws);
        loaded = size;
        await memory.db.pool.query('ANALYZE memory_items');
        await memory.db.pool.query('ANALYZE memory_vectors');
        log(`${backend}: recall latency at ${size}`);
        const lat = await recallLatency(memory, ws);
        log(`${backend}: recall@10 at ${size}`);
        const r10 = await recallAtK(memory, ws);
        rows.push(`| ${backend} | ${size.toLocaleString('en')} | ${ms(lat.p50)} | ${ms(lat.p95)} | ${ms(lat.p99)} | ${r10.toFixed(3)} |`);
        log(rows.at(-1)!);
        if (size === SIZES[0]) {
          log(`${backend}: knowledge-update scenarios`);
          updates.push(`| ${backend} | ${(100 * (await knowledgeUpdates(memory))).toFixed(0)}% |`);
        }
      }
      await memory.close();
    }
    if (!ONLY_DREAM) printRecallTables(rows, writes, updates);
    if (!SKIP_DREAM) {
      const dreams: string[] = [];
      for (const backend of BACKENDS) {
        log(`${backend}: consolidation of 1,000 episodes`);
        const { seconds, report } = await consolidation(backend, tmp, backend === 'postgres' ? await postgresUrl() : null);
        dreams.push(
          `| ${backend} | ${report.episodes.consolidated} | ${report.batches} | ${seconds.toFixed(1)} | ${((seconds * 1000) / Math.max(1, report.episodes.consolidated)).toFixed(1)} |`,
        );
        log(dreams.at(-1)!);
      }
      console.log('\n### Consolidation of 1,000 episodes (dream workflow on the Temporal dev server, fake LLM answering in 0 ms)\n');
      console.log('| backend | episodes | batches | seconds | ms/episode |\n| --- | ---: | ---: | ---: | ---: |');
      console.log(dreams.join('\n'));
    }
  } finally {
    await cleanup();
  }
}

await main();
