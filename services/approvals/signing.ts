/**
 * HMAC-SHA256 over a timestamped body, the scheme of the generic approval webhook in both
 * directions (the same shape as Slack's v0 signatures, so integrators meet nothing new):
 *
 *   x-agent-key-id:    which shared secret signed it
 *   x-agent-timestamp: unix seconds when it was signed
 *   x-agent-signature: v1=<hex hmac_sha256(secret, "v1:" + timestamp + ":" + raw body)>
 *
 * The timestamp is inside the MAC, so an old request cannot be re-dated; the receiver rejects
 * timestamps outside a window in either direction and remembers signatures it has accepted.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const KEY_ID_HEADER = 'x-agent-key-id';
export const TIMESTAMP_HEADER = 'x-agent-timestamp';
export const SIGNATURE_HEADER = 'x-agent-signature';

/** Requests signed further than this from the receiver's clock (either way) are refused. */
export const SIGNATURE_WINDOW_MS = 5 * 60_000;

/** `v1=<hex>` for the given secret, unix-seconds timestamp and raw body. */
export function signBody(secret: string, timestampSec: number, body: string | Buffer): string {
  return `v1=${createHmac('sha256', secret).update(`v1:${timestampSec}:`).update(body).digest('hex')}`;
}

/** Headers for an outgoing signed POST. */
export function signedHeaders(keyId: string, secret: string, body: string, nowMs = Date.now()): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000);
  return {
    'content-type': 'application/json',
    [KEY_ID_HEADER]: keyId,
    [TIMESTAMP_HEADER]: String(timestamp),
    [SIGNATURE_HEADER]: signBody(secret, timestamp, body),
  };
}

/** Constant-time comparison of a presented signature with the expected one. Never throws. */
export function signatureMatches(secret: string, timestampSec: number, body: string | Buffer, presented: string): boolean {
  const expected = Buffer.from(signBody(secret, timestampSec, body));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Parses a timestamp header (unix seconds, digits only) and checks it against the window in both
 * directions: Bolt only refuses requests older than five minutes, and a future-dated request would
 * stay replayable for as long as it is in the future.
 */
export function checkTimestamp(header: string | undefined, nowMs = Date.now(), windowMs = SIGNATURE_WINDOW_MS): { ok: true; timestampSec: number } | { ok: false; reason: string } {
  if (!header || !/^\d{1,12}$/.test(header)) return { ok: false, reason: 'missing or malformed timestamp' };
  const timestampSec = Number(header);
  const skewMs = timestampSec * 1000 - nowMs;
  if (skewMs < -windowMs) return { ok: false, reason: `stale timestamp (${Math.round(-skewMs / 1000)}s old)` };
  if (skewMs > windowMs) return { ok: false, reason: `timestamp ${Math.round(skewMs / 1000)}s in the future` };
  return { ok: true, timestampSec };
}
