/**
 * Prompt caching as the Anthropic API publishes it, emulated over the fake's token count.
 *
 * A breakpoint is a block carrying `cache_control: {type: 'ephemeral'}` (a tool definition, a system
 * text block, a message content block). Its prefix is every block up to and including it, hashed
 * with the model. For one request:
 *   - read: the longest prefix found in the cache, looked up at each breakpoint and, like the real
 *     API's lookback, at the 20 block boundaries before it (so a rolling breakpoint on the last
 *     block reads what the previous turn wrote at its then-last block). Only prefixes an earlier
 *     request wrote at a breakpoint can be there. `cache_read_input_tokens` = tokens up to it.
 *   - write: every breakpoint after the read point is written; `cache_creation_input_tokens` =
 *     tokens from the read point (or the start) to the last breakpoint.
 *   - `input_tokens` = tokens after the last breakpoint (all tokens when there is none).
 * A prefix shorter than the minimum cacheable length is neither written nor read: the request
 * still succeeds, it just gets no caching. Entries live 5 minutes (1 hour with `ttl: '1h'`) and a
 * hit refreshes them. The clock is injectable for tests.
 */
import { prefixHashes, type PromptBlock } from './request';

export interface CacheUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

const LOOKBACK_BLOCKS = 20;
const TTL_MS = { '5m': 5 * 60_000, '1h': 60 * 60_000 } as const;
const SWEEP_AT = 100_000;

interface Entry {
  expiresAt: number;
  ttlMs: number;
}

export class PromptCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number) {}

  /** Looks the request's prefixes up, writes its new breakpoints, and says how its tokens divide. */
  account(model: string, blocks: readonly PromptBlock[], minTokens: number): CacheUsage {
    const cumulative: number[] = [];
    blocks.reduce((sum, block, i) => (cumulative[i] = sum + block.tokens), 0);
    const total = cumulative.at(-1) ?? 0;
    const breakpoints = blocks.flatMap((block, i) => (block.cacheControl !== undefined ? [i] : []));
    const last = breakpoints.at(-1);
    // Prefixes only grow, so when the longest one is too short to cache, every one is.
    if (last === undefined || cumulative[last]! < minTokens) return { input_tokens: total, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };

    const now = this.now();
    const hashes = prefixHashes(model, blocks);
    const live = (i: number) => cumulative[i]! >= minTokens && (this.entries.get(hashes[i]!)?.expiresAt ?? -Infinity) > now;

    let read = -1;
    for (const bp of breakpoints) {
      for (let i = bp; i >= Math.max(0, bp - LOOKBACK_BLOCKS) && i > read; i--) {
        if (live(i)) {
          read = i;
          break;
        }
      }
    }
    if (read >= 0) {
      const entry = this.entries.get(hashes[read]!)!;
      entry.expiresAt = now + entry.ttlMs;
    }
    for (const bp of breakpoints) {
      if (bp > read && cumulative[bp]! >= minTokens) {
        const ttlMs = ttlOf(blocks[bp]!.cacheControl);
        this.entries.set(hashes[bp]!, { expiresAt: now + ttlMs, ttlMs });
      }
    }
    if (this.entries.size > SWEEP_AT) this.sweep(now);

    const readTokens = read >= 0 ? cumulative[read]! : 0;
    const written = cumulative[last]! - readTokens;
    return { input_tokens: total - readTokens - written, cache_creation_input_tokens: written, cache_read_input_tokens: readTokens };
  }

  /** Forgets every entry (a fresh server's cache). */
  clear(): void {
    this.entries.clear();
  }

  private sweep(now: number) {
    for (const [hash, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(hash);
  }
}

function ttlOf(cacheControl: unknown): number {
  const ttl = (cacheControl as { ttl?: string } | undefined)?.ttl;
  return ttl === '1h' ? TTL_MS['1h'] : TTL_MS['5m'];
}
