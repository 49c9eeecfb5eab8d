import type pg from 'pg';
import { BLOB_REF, blobRef, BlobNotFoundError, type EffectRecord, type StateStore } from './state-store';
import { migrate, type Migration } from './migrate';

export const STATE_MIGRATIONS: Migration[] = [
  {
    id: '001_agent_state',
    sql: `
      -- bytea and text (not text and jsonb): tool output may contain NUL, which PostgreSQL text and jsonb reject.
      CREATE TABLE agent_blobs (ref text PRIMARY KEY, data bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
      CREATE TABLE agent_effects (
        key text PRIMARY KEY,
        state text NOT NULL CHECK (state IN ('started', 'finished')),
        outcome text,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      );
      CREATE TABLE agent_episodes (task_id text PRIMARY KEY, data text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
    `,
    // agent_episodes is no longer written (episodes live in the memory store); a shipped migration is never edited.
  },
];

/** Production adapter: one PostgreSQL database shared by every worker, so workers stay stateless. */
export class PgStateStore implements StateStore {
  private constructor(private readonly pool: pg.Pool) {}

  /** Connects and applies migrations. Throws if the database is unreachable. */
  static async open(pool: pg.Pool): Promise<PgStateStore> {
    await migrate(pool, STATE_MIGRATIONS);
    return new PgStateStore(pool);
  }

  async putBlob(data: string): Promise<string> {
    const ref = blobRef(data);
    await this.pool.query('INSERT INTO agent_blobs (ref, data) VALUES ($1, $2) ON CONFLICT (ref) DO NOTHING', [ref, Buffer.from(data, 'utf8')]);
    return ref;
  }

  async getBlob(ref: string): Promise<string> {
    if (!BLOB_REF.test(ref)) throw new BlobNotFoundError(ref);
    const { rows } = await this.pool.query<{ data: Buffer }>('SELECT data FROM agent_blobs WHERE ref = $1', [ref]);
    if (!rows[0]) throw new BlobNotFoundError(ref);
    return rows[0].data.toString('utf8');
  }

  async beginEffect(key: string): Promise<EffectRecord | null> {
    const inserted = await this.pool.query(`INSERT INTO agent_effects (key, state) VALUES ($1, 'started') ON CONFLICT (key) DO NOTHING RETURNING key`, [key]);
    if (inserted.rowCount === 1) return null;
    const { rows } = await this.pool.query<{ state: 'started' | 'finished'; outcome: string | null; started_at: Date }>(
      'SELECT state, outcome, started_at FROM agent_effects WHERE key = $1',
      [key],
    );
    const row = rows[0]!;
    const startedAt = row.started_at.toISOString();
    return row.state === 'finished' ? { state: 'finished', startedAt, outcome: row.outcome ?? '' } : { state: 'started', startedAt };
  }

  async finishEffect(key: string, outcome: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO agent_effects (key, state, outcome, finished_at) VALUES ($1, 'finished', $2, now())
       ON CONFLICT (key) DO UPDATE SET state = 'finished', outcome = EXCLUDED.outcome, finished_at = now()`,
      [key, outcome],
    );
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
