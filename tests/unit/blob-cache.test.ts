/**
 * The blob cache in front of the real file state store: a blob written or read once is served from
 * memory (shown by removing its file underneath), the oldest go past the budget, and a large one is
 * never held.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobCache } from '../../services/state/blob-cache';
import { FileStateStore } from '../../services/state/file-state-store';
import { BlobNotFoundError } from '../../services/state/state-store';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'blob-cache-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fileOf = (ref: string) => path.join(dir, 'blobs', ref.slice(7, 9), ref.slice(7));

describe('BlobCache', () => {
  it('serves what it wrote or read from memory, and the same refs as the store', async () => {
    const files = new FileStateStore(dir);
    const cache = new BlobCache(files);
    const ref = await cache.putBlob('hello');
    expect(ref).toBe(await files.putBlob('hello'));
    await rm(fileOf(ref));
    expect(await cache.getBlob(ref)).toBe('hello');
    // Put again: already known, so the store is not asked to write it back.
    await cache.putBlob('hello');
    await expect(files.getBlob(ref)).rejects.toBeInstanceOf(BlobNotFoundError);

    const other = await files.putBlob('read once');
    expect(await cache.getBlob(other)).toBe('read once');
    await rm(fileOf(other));
    expect(await cache.getBlob(other)).toBe('read once');
  });

  it('drops the oldest past its budget and never holds a large blob', async () => {
    const cache = new BlobCache(new FileStateStore(dir), 25);
    const a = await cache.putBlob('a'.repeat(10));
    const b = await cache.putBlob('b'.repeat(10));
    await cache.getBlob(a); // a is now the most recent
    const c = await cache.putBlob('c'.repeat(10));
    for (const ref of [a, b, c]) await rm(fileOf(ref));
    expect(await cache.getBlob(a)).toBe('a'.repeat(10));
    expect(await cache.getBlob(c)).toBe('c'.repeat(10));
    await expect(cache.getBlob(b)).rejects.toBeInstanceOf(BlobNotFoundError);

    const big = new BlobCache(new FileStateStore(dir));
    const ref = await big.putBlob('x'.repeat(2 * 1024 * 1024));
    await rm(fileOf(ref));
    await expect(big.getBlob(ref)).rejects.toBeInstanceOf(BlobNotFoundError);
  });
});
