/**
 * Durable state that must not live in workflow history: large blobs (claim checks, transcript
 * segments) and the side-effect journal that makes crash recovery honest. (Task episodes live in
 * the memory store, which recall and consolidation read.)
 * Two adapters: files under AGENT_HOME (embedded default) and PostgreSQL (DATABASE_URL, shared by
 * horizontally scaled workers).
 */
import { createHash } from 'node:crypto';

export type EffectRecord = { state: 'started'; startedAt: string } | { state: 'finished'; startedAt: string; outcome: string };

export interface StateStore {
  /** Stores content-addressed data; returns a ref "sha256:<hex>". Idempotent. */
  putBlob(data: string): Promise<string>;
  /** Throws BlobNotFoundError when the ref is unknown. */
  getBlob(ref: string): Promise<string>;
  /**
   * Claims a side effect before it runs. Returns null when this caller now owns it, otherwise the
   * existing record: "started" means an earlier attempt may have run it (outcome unknown).
   */
  beginEffect(key: string): Promise<EffectRecord | null>;
  finishEffect(key: string, outcome: string): Promise<void>;
  close(): Promise<void>;
}

export class BlobNotFoundError extends Error {
  constructor(ref: string) {
    super(`blob ${ref} not found in the state store`);
  }
}

export const BLOB_REF = /^sha256:[0-9a-f]{64}$/;

/** The ref a blob is stored under: the sha256 of its UTF-8 text. */
export function blobRef(data: string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
