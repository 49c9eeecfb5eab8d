/**
 * Blobs are content-addressed and never deleted, so what a process has written or read once is the
 * same forever: this keeps the most recent ones in memory (by total size) in front of either store.
 * A transcript is a chain of blobs that every model turn loads again, and every task writes the same
 * system prompt and first blobs: without it each turn re-read the whole chain from disk or the database.
 */
import { BLOB_REF, blobRef, type EffectRecord, type StateStore } from './state-store';

/** Memory for cached blob contents; the oldest are dropped past it. */
const DEFAULT_BUDGET_BYTES = 32 * 1024 * 1024;
/** A blob larger than this is never cached (a stored tool output of megabytes is read once, if at all). */
const LARGEST_CACHED = 1024 * 1024;

export class BlobCache implements StateStore {
  /** ref → content, oldest first (a Map keeps insertion order; a hit moves the entry to the end). */
  private readonly blobs = new Map<string, string>();
  private bytes = 0;

  constructor(
    private readonly store: StateStore,
    private readonly budgetBytes = DEFAULT_BUDGET_BYTES,
  ) {}

  async putBlob(data: string): Promise<string> {
    const ref = blobRef(data);
    if (this.blobs.has(ref)) return ref;
    await this.store.putBlob(data);
    this.remember(ref, data);
    return ref;
  }

  async getBlob(ref: string): Promise<string> {
    const cached = BLOB_REF.test(ref) ? this.blobs.get(ref) : undefined;
    if (cached !== undefined) {
      this.blobs.delete(ref);
      this.blobs.set(ref, cached);
      return cached;
    }
    const data = await this.store.getBlob(ref);
    this.remember(ref, data);
    return data;
  }

  beginEffect(key: string): Promise<EffectRecord | null> {
    return this.store.beginEffect(key);
  }

  finishEffect(key: string, outcome: string): Promise<void> {
    return this.store.finishEffect(key, outcome);
  }

  close(): Promise<void> {
    return this.store.close();
  }

  private remember(ref: string, data: string): void {
    // Characters, not bytes: close enough for a budget, and free to compute.
    if (data.length > LARGEST_CACHED || this.blobs.has(ref)) return;
    this.blobs.set(ref, data);
    this.bytes += data.length;
    for (const [oldest, value] of this.blobs) {
      if (this.bytes <= this.budgetBytes) break;
      this.blobs.delete(oldest);
      this.bytes -= value.length;
    }
  }
}
