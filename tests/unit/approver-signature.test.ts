/** Signed decisions: what the workflow's validator checks, tested where it is defined. */
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDecisionSignature } from '../../domain/approver-signature';
import { ApproverKeyError, loadApproverIdentity } from '../../services/approvals/approver-key';

const request = { workflowId: 'task-1', requestId: 'apr-1', actionHash: 'a'.repeat(64), requestedAt: '2026-12-06T00:00:00.000Z' };
const decision = { approve: true, always: false, decidedBy: 'alice', channel: 'cli' };

describe('approver keys and signed decisions', () => {
  it('creates a key once (0600), reloads the same one, and its signature verifies only for that exact decision and request', async () => {
    const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'approver-')), 'user');
    const [a, b] = await Promise.all([loadApproverIdentity(dir, 'alice'), loadApproverIdentity(dir, 'alice')]);
    expect(a.key).toEqual(b.key);
    expect((await stat(path.join(dir, 'approver-key.pem'))).mode & 0o777).toBe(0o600);
    const signature = a.sign(request, decision);
    expect(checkDecisionSignature([a.key], request, { ...decision, signature })).toEqual({ ok: true, key: a.key });
    for (const [what, r, d] of [
      ['approve flipped', request, { ...decision, approve: false }],
      ['always added', request, { ...decision, always: true }],
      ['another decider', request, { ...decision, decidedBy: 'mallory' }],
      ['another task', { ...request, workflowId: 'task-2' }, decision],
      ['another request', { ...request, requestId: 'apr-2' }, decision],
      ['a later request with the same id', { ...request, requestedAt: '2026-12-06T00:05:00.000Z' }, decision],
      ['another action', { ...request, actionHash: 'b'.repeat(64) }, decision],
    ] as const) {
      expect(checkDecisionSignature([a.key], r, { ...d, signature }), what).toMatchObject({ ok: false, reason: expect.stringMatching(/does not match/) });
    }
  });

  it('a request with a nonce is bound by the nonce, not by its time (which a replay may read differently)', async () => {
    const alice = await loadApproverIdentity(await mkdtemp(path.join(os.tmpdir(), 'approver-')), 'alice');
    const withNonce = { ...request, nonce: '3b0c6a52-0d7e-4a7c-9f1e-5d2a8c4b7e10' };
    const signature = alice.sign(withNonce, decision);
    expect(checkDecisionSignature([alice.key], withNonce, { ...decision, signature })).toEqual({ ok: true, key: alice.key });
    expect(checkDecisionSignature([alice.key], { ...withNonce, requestedAt: '2026-12-06T00:00:00.093Z' }, { ...decision, signature })).toEqual({ ok: true, key: alice.key });
    for (const [what, r] of [
      ['a later request with the same id', { ...withNonce, nonce: '9d1f0e2a-6b4c-4e8d-a3f7-1c5b9e0d2a46' }],
      ['the request without its nonce', request],
      ['another task', { ...withNonce, workflowId: 'task-2' }],
    ] as const) {
      expect(checkDecisionSignature([alice.key], r, { ...decision, signature }), what).toMatchObject({ ok: false, reason: expect.stringMatching(/does not match/) });
    }
  });

  it('rejects unsigned decisions, unknown keys and garbage without throwing', async () => {
    const alice = await loadApproverIdentity(await mkdtemp(path.join(os.tmpdir(), 'approver-')), 'alice');
    const mallory = await loadApproverIdentity(await mkdtemp(path.join(os.tmpdir(), 'approver-')), 'mallory');
    expect(checkDecisionSignature([alice.key], request, decision)).toEqual({ ok: false, reason: 'the decision is not signed by an approver key' });
    expect(checkDecisionSignature([alice.key], request, { ...decision, signature: mallory.sign(request, decision) })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not an approver key this task trusts/),
    });
    expect(checkDecisionSignature([], request, { ...decision, signature: alice.sign(request, decision) })).toMatchObject({ ok: false });
    expect(checkDecisionSignature([alice.key], request, { ...decision, signature: { keyId: alice.key.id, value: 'f'.repeat(128) } })).toMatchObject({ ok: false });
  });

  it('says which file is broken and how to recover', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'approver-'));
    await writeFile(path.join(dir, 'approver-key.pem'), 'not a key');
    await expect(loadApproverIdentity(dir)).rejects.toThrow(ApproverKeyError);
    await expect(loadApproverIdentity(dir)).rejects.toThrow(/approver-key\.pem is not a private key .*move it away/);
    expect(await readFile(path.join(dir, 'approver-key.pem'), 'utf8')).toBe('not a key');
  });
});
