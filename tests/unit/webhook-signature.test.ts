/** Signed requests: the webhook HMAC scheme, the timestamp window both ways, single use, and the Slack guard in front of Bolt. */
import { createHmac } from 'node:crypto';
import { verifySlackRequest } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { guardSlackRequest, guardWebhookRequest } from '../../servers/chat-approvals/request-guards';
import { ReplayGuard } from '../../services/approvals/replay-guard';
import { checkTimestamp, KEY_ID_HEADER, SIGNATURE_HEADER, signatureMatches, signBody, signedHeaders, TIMESTAMP_HEADER } from '../../services/approvals/signing';

const SECRET = 'a-shared-secret-of-some-length';
const NOW = Date.parse('2026-03-01T12:00:00Z');
const NOW_SEC = NOW / 1000;

describe('webhook signatures', () => {
  it('are HMAC-SHA256 over "v1:<timestamp>:<body>", hex, with a v1= prefix', () => {
    const body = '{"approve":true}';
    const expected = createHmac('sha256', SECRET).update(`v1:${NOW_SEC}:${body}`).digest('hex');
    expect(signBody(SECRET, NOW_SEC, body)).toBe(`v1=${expected}`);
    expect(signedHeaders('ops', SECRET, body, NOW)).toEqual({
      'content-type': 'application/json',
      [KEY_ID_HEADER]: 'ops',
      [TIMESTAMP_HEADER]: String(NOW_SEC),
      [SIGNATURE_HEADER]: `v1=${expected}`,
    });
  });

  it('do not verify with another body, timestamp, secret or a truncated signature', () => {
    const body = Buffer.from('{"approve":true}');
    const sig = signBody(SECRET, NOW_SEC, body);
    expect(signatureMatches(SECRET, NOW_SEC, body, sig)).toBe(true);
    expect(signatureMatches(SECRET, NOW_SEC, Buffer.from('{"approve":false}'), sig)).toBe(false);
    expect(signatureMatches(SECRET, NOW_SEC + 1, body, sig)).toBe(false);
    expect(signatureMatches(`${SECRET}x`, NOW_SEC, body, sig)).toBe(false);
    expect(signatureMatches(SECRET, NOW_SEC, body, sig.slice(0, -1))).toBe(false);
    expect(signatureMatches(SECRET, NOW_SEC, body, '')).toBe(false);
  });
});

describe('the timestamp window', () => {
  it.each([
    [0, true],
    [-300, true],
    [300, true],
    [-301, false],
    [301, false],
  ])('a request signed %is from now is %s', (offset, ok) => {
    expect(checkTimestamp(String(NOW_SEC + offset), NOW).ok).toBe(ok);
  });

  it.each([undefined, '', 'soon', '1.5', '-3', '1e9'])('refuses the malformed timestamp %j', (header) => {
    expect(checkTimestamp(header, NOW)).toEqual({ ok: false, reason: 'missing or malformed timestamp' });
  });

  it('says which way the clock is off', () => {
    expect(checkTimestamp(String(NOW_SEC - 3600), NOW)).toEqual({ ok: false, reason: 'stale timestamp (3600s old)' });
    expect(checkTimestamp(String(NOW_SEC + 3600), NOW)).toEqual({ ok: false, reason: 'timestamp 3600s in the future' });
  });
});

describe('ReplayGuard', () => {
  it('admits a key once while its timestamp is in the window, and forgets it after', () => {
    const guard = new ReplayGuard(300_000);
    expect(guard.admit('sig-a', NOW_SEC, NOW)).toBe(true);
    expect(guard.admit('sig-a', NOW_SEC, NOW + 299_000)).toBe(false);
    expect(guard.admit('sig-b', NOW_SEC, NOW)).toBe(true);
    // Past the window the timestamp check refuses the request anyway, so the entry can go.
    expect(guard.admit('sig-c', NOW_SEC + 400, NOW + 400_000)).toBe(true);
    expect(guard.size).toBe(1);
  });

  it('stays bounded under a flood', () => {
    const guard = new ReplayGuard(300_000, 3);
    for (const key of ['a', 'b', 'c', 'd']) expect(guard.admit(key, NOW_SEC, NOW)).toBe(true);
    expect(guard.size).toBe(3);
    expect(guard.admit('d', NOW_SEC, NOW)).toBe(false);
  });
});

describe('guardSlackRequest', () => {
  const SIGNING = 'slack-signing-secret';
  const body = Buffer.from('payload=%7B%22type%22%3A%22block_actions%22%7D');
  const slackHeaders = (ts: number, secret = SIGNING, b = body) => ({
    'x-slack-request-timestamp': String(ts),
    'x-slack-signature': `v0=${createHmac('sha256', secret).update(`v0:${ts}:${b.toString()}`).digest('hex')}`,
  });

  it('accepts a correctly signed, fresh request once', () => {
    const guard = new ReplayGuard();
    const headers = slackHeaders(NOW_SEC);
    expect(guardSlackRequest(headers, body, SIGNING, guard, NOW)).toEqual({ ok: true });
    expect(guardSlackRequest(headers, body, SIGNING, guard, NOW + 1_000)).toEqual({ ok: false, status: 409, reason: 'replayed request (each signed request is accepted once)' });
  });

  it('refuses a future-dated request that Bolt itself would accept', () => {
    const ts = NOW_SEC + 3600;
    const headers = slackHeaders(ts);
    expect(() =>
      verifySlackRequest({
        signingSecret: SIGNING,
        body: body.toString(),
        headers: { 'x-slack-signature': headers['x-slack-signature'], 'x-slack-request-timestamp': ts },
        nowMilliseconds: NOW,
      }),
    ).not.toThrow();
    expect(guardSlackRequest(headers, body, SIGNING, new ReplayGuard(), NOW)).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/in the future/) });
  });

  it('refuses a stale request, a bad signature and a missing one', () => {
    expect(guardSlackRequest(slackHeaders(NOW_SEC - 301), body, SIGNING, new ReplayGuard(), NOW)).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/stale/) });
    expect(guardSlackRequest(slackHeaders(NOW_SEC, 'other'), body, SIGNING, new ReplayGuard(), NOW)).toEqual({ ok: false, status: 401, reason: 'bad signature' });
    expect(guardSlackRequest({ 'x-slack-request-timestamp': String(NOW_SEC) }, body, SIGNING, new ReplayGuard(), NOW)).toEqual({
      ok: false,
      status: 401,
      reason: 'missing signature',
    });
  });

  it('records a signature only once it verified, so sending it first with another body blocks nothing', () => {
    const guard = new ReplayGuard();
    const headers = slackHeaders(NOW_SEC);
    expect(guardSlackRequest(headers, Buffer.from('payload=forged'), SIGNING, guard, NOW)).toMatchObject({ ok: false, status: 401 });
    expect(guardSlackRequest(headers, body, SIGNING, guard, NOW)).toEqual({ ok: true });
  });
});

describe('guardWebhookRequest', () => {
  const keys = { ops: SECRET };
  const body = Buffer.from('{"approve":true}');

  it('accepts a known key with a valid signature once, naming the key', () => {
    const guard = new ReplayGuard();
    const headers = signedHeaders('ops', SECRET, body.toString(), NOW);
    expect(guardWebhookRequest(headers, body, keys, guard, NOW)).toEqual({ ok: true, keyId: 'ops' });
    expect(guardWebhookRequest(headers, body, keys, guard, NOW)).toMatchObject({ ok: false, status: 409 });
  });

  it('refuses unknown keys (including names on Object.prototype), bad signatures and old or future timestamps', () => {
    const guard = new ReplayGuard();
    for (const id of ['nobody', 'constructor', '__proto__']) {
      expect(guardWebhookRequest(signedHeaders(id, SECRET, body.toString(), NOW), body, keys, guard, NOW)).toEqual({ ok: false, status: 401, reason: 'unknown key id' });
    }
    expect(guardWebhookRequest(signedHeaders('ops', 'wrong-secret', body.toString(), NOW), body, keys, guard, NOW)).toEqual({ ok: false, status: 401, reason: 'bad signature' });
    expect(guardWebhookRequest(signedHeaders('ops', SECRET, body.toString(), NOW - 10 * 60_000), body, keys, guard, NOW)).toMatchObject({
      ok: false,
      status: 401,
      reason: expect.stringMatching(/stale/),
    });
    expect(guardWebhookRequest(signedHeaders('ops', SECRET, body.toString(), NOW + 10 * 60_000), body, keys, guard, NOW)).toMatchObject({
      ok: false,
      status: 401,
      reason: expect.stringMatching(/future/),
    });
    expect(guardWebhookRequest({}, body, keys, guard, NOW)).toEqual({ ok: false, status: 401, reason: 'unknown key id' });
  });
});
