/**
 * What the record says, over what the model claims: a verifier's pass is checked against the gate's
 * ledger of tool calls, and the plan checklist follows recorded outcomes. A claimed file change with
 * no successful write, edit or command behind it is a problem, not evidence. Workflow-safe: pure.
 */
import type { LedgerEntry } from './context';
import type { PlanStepView, Verification } from './task';

const CHANGING_TOOLS = new Set(['write_file', 'edit_file', 'run_command']);

/**
 * The verification after checking it against the ledger. `needsWrite`: the task is about changing
 * files. Problems found turn a pass into a fail; nothing is ever turned into a pass.
 */
export function checkAgainstLedger(verification: Verification, ledger: readonly LedgerEntry[], needsWrite: boolean): Verification {
  const problems: string[] = [];
  const changed = ledger.filter((e) => (CHANGING_TOOLS.has(e.tool) || e.changes === true) && e.status === 'ok');
  const blocked = ledger.filter((e) => (e.tool === 'write_file' || e.tool === 'edit_file') && e.status !== 'ok');
  if (needsWrite && changed.length === 0) {
    problems.push(
      blocked.length
        ? `no file change happened: ${blocked.map((e) => `${e.call} was ${e.status === 'not-approved' ? 'not approved' : e.status}`).join('; ')}`
        : 'no file change happened: no write, edit or command succeeded',
    );
  }
  for (const e of blocked) {
    // A write that did not happen and was not redone later is missing from the result, whatever the model says.
    const redone = changed.some((c) => c.call === e.call || (c.tool !== 'run_command' && c.call.split(' ')[1] === e.call.split(' ')[1]));
    if (!redone && !problems.some((p) => p.includes(e.call)))
      problems.push(`${e.call} did not happen (${e.status === 'not-approved' ? 'not approved' : e.status}): ${e.preview.slice(0, 160)}`);
  }
  if (problems.length === 0) return verification;
  return { passed: false, evidence: verification.evidence, problems: [...problems, ...verification.problems].slice(0, 20) };
}

/** The plan checklist as the ledger shows it: a step that names a tool is done once that tool succeeded; others when verification passed. */
export function planFromLedger(plan: readonly PlanStepView[], stepTools: readonly (string | undefined)[], ledger: readonly LedgerEntry[], verified: boolean): PlanStepView[] {
  const succeeded = new Set(ledger.filter((e) => e.status === 'ok').map((e) => e.tool));
  return plan.map((step) => {
    const tool = stepTools[step.index - 1];
    return { ...step, state: tool ? (succeeded.has(tool) ? 'done' : 'pending') : verified ? 'done' : step.state };
  });
}
