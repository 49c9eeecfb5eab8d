/**
 * Single-use for signed requests: an identical request (same signature, so same body and
 * timestamp) is accepted once. Entries are kept only as long as their timestamp is inside the
 * window; after that the timestamp check refuses the request anyway.
 *
 * In memory on purpose: what must be single-use *durably* is the decision, and the workflow's
 * Update validator already gives that (first decision wins, recorded in history, survives
 * restarts). A replay the guard forgets after a restart reaches that validator and is refused
 * there, unless the original never took effect (e.g. Temporal was down), in which case accepting
 * the approver's own request once is what should happen.
 */
import { SIGNATURE_WINDOW_MS } from './signing';

export class ReplayGuard {
  /** key → expiry (ms). A Map iterates in insertion order, which is close to expiry order. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs = SIGNATURE_WINDOW_MS,
    /** Bounds memory under a flood; evicting the oldest only weakens the guard to the validator's guarantee. */
    private readonly maxEntries = 100_000,
  ) {}

  /** Records the key; false when it was already seen inside the window. Call only after the signature verified. */
  admit(key: string, timestampSec: number, nowMs = Date.now()): boolean {
    this.prune(nowMs);
    if (this.seen.has(key)) return false;
    if (this.seen.size >= this.maxEntries) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(key, timestampSec * 1000 + this.windowMs);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private prune(nowMs: number): void {
    for (const [key, expiry] of this.seen) {
      if (expiry > nowMs) break;
      this.seen.delete(key);
    }
  }
}
