import { createHash } from 'node:crypto';
import { access, mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../atomic-file';
import { BLOB_REF, blobRef, BlobNotFoundError, type EffectRecord, type StateStore } from './state-store';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function exists(file: string): Promise<boolean> {
  return await access(file).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );
}

/** The embedded default: plain files under AGENT_HOME/state, safe for several processes on one machine. */
export class FileStateStore implements StateStore {
  constructor(private readonly root: string) {}

  async putBlob(data: string): Promise<string> {
    const ref = blobRef(data);
    const file = this.blobPath(ref.slice(7));
    // Content-addressed: a blob that exists holds exactly this text, so only its existence is checked.
    if (!(await exists(file))) await writeFileAtomic(file, data);
    return ref;
  }

  async getBlob(ref: string): Promise<string> {
    if (!BLOB_REF.test(ref)) throw new BlobNotFoundError(ref);
    const data = await readFileIfExists(this.blobPath(ref.slice(7)));
    if (data === null) throw new BlobNotFoundError(ref);
    return data;
  }

  async beginEffect(key: string): Promise<EffectRecord | null> {
    const file = this.effectPath(key);
    await mkdir(path.dirname(file), { recursive: true });
    const record: EffectRecord = { state: 'started', startedAt: new Date().toISOString() };
    try {
      // O_EXCL makes the claim atomic: exactly one attempt ever owns an effect.
      const handle = await open(file, 'wx');
      await handle.writeFile(JSON.stringify({ key, ...record }));
      await handle.sync();
      await handle.close();
      return null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const existing = await readFileIfExists(file);
      // An empty file means the owner crashed between create and write: it may have started.
      if (!existing) return { state: 'started', startedAt: record.startedAt };
      const { state, startedAt, outcome } = JSON.parse(existing) as { state: 'started' | 'finished'; startedAt: string; outcome?: string };
      return state === 'finished' ? { state, startedAt, outcome: outcome ?? '' } : { state, startedAt };
    }
  }

  async finishEffect(key: string, outcome: string): Promise<void> {
    const file = this.effectPath(key);
    const existing = await readFileIfExists(file);
    const startedAt = existing ? ((JSON.parse(existing) as EffectRecord).startedAt ?? null) : null;
    await writeFileAtomic(file, JSON.stringify({ key, state: 'finished', startedAt, outcome }));
  }

  async close(): Promise<void> {}

  private blobPath(hex: string): string {
    return path.join(this.root, 'blobs', hex.slice(0, 2), hex);
  }

  private effectPath(key: string): string {
    return path.join(this.root, 'effects', `${sha256(key)}.json`);
  }
}
