/** The record over the claim: verification and the plan checklist against the gate's ledger. */
import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../domain/context';
import { checkAgainstLedger, planFromLedger } from '../../domain/ledger-checks';

const entry = (over: Partial<LedgerEntry>): LedgerEntry => ({
  turn: 1,
  tool: 'write_file',
  call: 'write_file VERSION',
  status: 'ok',
  decision: 'approved by alice',
  preview: 'wrote VERSION',
  ...over,
});
const passed = { passed: true, evidence: ['VERSION now says 1.5.0'], problems: [] };

describe('verification against the ledger', () => {
  it('a claimed write that was denied or not approved is a problem, not evidence', () => {
    const v = checkAgainstLedger(passed, [entry({ status: 'not-approved', decision: 'asked; denied by bob', preview: 'Not run: the user denied it' })], true);
    expect(v.passed).toBe(false);
    expect(v.problems[0]).toBe('no file change happened: write_file VERSION was not approved');
    expect(v.evidence).toEqual(passed.evidence);
  });

  it('a denied write redone later with success is fine; a denied one left undone is not', () => {
    expect(checkAgainstLedger(passed, [entry({ status: 'not-approved' }), entry({ turn: 2 })], true)).toBe(passed);
    const v = checkAgainstLedger(passed, [entry({ call: 'write_file a.txt' }), entry({ call: 'write_file b.txt', status: 'denied', preview: 'Denied by policy' })], true);
    expect(v).toMatchObject({ passed: false, problems: ['write_file b.txt did not happen (denied): Denied by policy'] });
  });

  it('a successful MCP call that is not read-only is a change; a read-only one is not', () => {
    const mcp = (changes: boolean) => entry({ tool: 'mcp__files__write', call: 'mcp__files__write {"path":"a"}', ...(changes ? { changes } : {}) });
    expect(checkAgainstLedger(passed, [mcp(true)], true)).toBe(passed);
    expect(checkAgainstLedger(passed, [mcp(false)], true)).toMatchObject({ passed: false, problems: ['no file change happened: no write, edit or command succeeded'] });
  });

  it('a question needs no write, and a failed verification stays failed', () => {
    expect(checkAgainstLedger(passed, [entry({ tool: 'read_file', call: 'read_file a' })], false)).toBe(passed);
    const failed = { passed: false, evidence: [], problems: ['nope'] };
    expect(checkAgainstLedger(failed, [], false)).toBe(failed);
  });

  it('ticks a plan step only when its tool succeeded', () => {
    const plan = [
      { index: 1, title: 'Read it', state: 'pending' as const },
      { index: 2, title: 'Write VERSION', state: 'done' as const },
      { index: 3, title: 'Answer', state: 'pending' as const },
    ];
    const after = planFromLedger(plan, ['read_file', 'write_file', undefined], [entry({ tool: 'read_file', call: 'read_file a' }), entry({ status: 'not-approved' })], false);
    expect(after.map((s) => s.state)).toEqual(['done', 'pending', 'pending']);
    expect(planFromLedger(plan, ['read_file', 'write_file', undefined], [entry({ tool: 'read_file' }), entry({})], true).map((s) => s.state)).toEqual(['done', 'done', 'done']);
  });
});
