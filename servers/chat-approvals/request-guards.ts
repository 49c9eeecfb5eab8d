/**
 * What every signed request must pass before anything acts on it:
 *
 * - Slack: a valid v0 signature (signing secret), a timestamp within five minutes *either way*
 *   (Bolt alone rejects only old ones, so a future-dated request would stay valid for as long as
 *   it is in the future), and single use (Bolt accepts an identical replay).
 * - Webhook: a known key id, the same window, a valid HMAC (signing.ts), single use.
 *
 * The replay guard records a signature only after it verified, so nobody can block a genuine
 * request by sending its signature first with a different body.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { verifySlackRequest } from '@slack/bolt';
import type { ReplayGuard } from '../../services/approvals/replay-guard';
import { checkTimestamp, KEY_ID_HEADER, SIGNATURE_HEADER, signatureMatches, TIMESTAMP_HEADER } from '../../services/approvals/signing';

export type GuardResult = { ok: true; keyId?: string } | { ok: false; status: 401 | 409; reason: string };

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}

export function guardSlackRequest(headers: IncomingHttpHeaders, rawBody: Buffer, signingSecret: string, replay: ReplayGuard, nowMs = Date.now()): GuardResult {
  const timestamp = checkTimestamp(header(headers, 'x-slack-request-timestamp'), nowMs);
  if (!timestamp.ok) return { ok: false, status: 401, reason: timestamp.reason };
  const signature = header(headers, 'x-slack-signature');
  if (!signature) return { ok: false, status: 401, reason: 'missing signature' };
  try {
    verifySlackRequest({
      signingSecret,
      body: rawBody.toString('utf8'),
      headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp.timestampSec },
      nowMilliseconds: nowMs,
    });
  } catch {
    return { ok: false, status: 401, reason: 'bad signature' };
  }
  if (!replay.admit(`slack:${signature}`, timestamp.timestampSec, nowMs)) return { ok: false, status: 409, reason: 'replayed request (each signed request is accepted once)' };
  return { ok: true };
}

export function guardWebhookRequest(headers: IncomingHttpHeaders, rawBody: Buffer, keys: Readonly<Record<string, string>>, replay: ReplayGuard, nowMs = Date.now()): GuardResult {
  const keyId = header(headers, KEY_ID_HEADER);
  // Object.hasOwn: a key id like "constructor" must not find something on the prototype.
  const secret = keyId !== undefined && Object.hasOwn(keys, keyId) ? keys[keyId] : undefined;
  if (!keyId || !secret) return { ok: false, status: 401, reason: 'unknown key id' };
  const timestamp = checkTimestamp(header(headers, TIMESTAMP_HEADER), nowMs);
  if (!timestamp.ok) return { ok: false, status: 401, reason: timestamp.reason };
  const signature = header(headers, SIGNATURE_HEADER);
  if (!signature || !signatureMatches(secret, timestamp.timestampSec, rawBody, signature)) return { ok: false, status: 401, reason: 'bad signature' };
  if (!replay.admit(`webhook:${keyId}:${signature}`, timestamp.timestampSec, nowMs))
    return { ok: false, status: 409, reason: 'replayed request (each signed request is accepted once)' };
  return { ok: true, keyId };
}
