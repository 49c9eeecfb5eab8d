/**
 * teamVerifier: checks one step's result against the evidence the planner said would show it
 * worked. Files are re-read and check commands re-run through the same gate as any tool call (a
 * command that needs approval raises one, visible on the team's status); only criteria nothing
 * can check go to the verifier model. Pass needs every check to pass.
 */
import * as wf from '@temporalio/workflow';
import type { StepVerdict, TeamVerifierInput } from '../domain/team';
import type { ToolName } from '../domain/tool-catalog';
import { idempotentTools, llm } from './activity-proxies';
import { endChild } from './stages';
import { openChildHost } from './team-child';
import { failureMessage } from './tool-gate';

const CHECK_TOOLS: ToolName[] = ['read_file', 'run_command'];

export async function teamVerifier(input: TeamVerifierInput): Promise<StepVerdict> {
  const host = openChildHost(input, 'verifier');
  const { gate, note } = host;
  const evidence: string[] = [];
  const problems: string[] = [];
  const record = (passed: boolean, line: string) => {
    (passed ? evidence : problems).push(line);
    note(passed ? 'note' : 'error', `${passed ? 'pass' : 'fail'}: ${line}`);
    host.publish();
  };
  try {
    const criteria: string[] = [];
    for (const [i, check] of input.step.evidence.entries()) {
      const id = `check-${i + 1}`;
      if (check.kind === 'judgement') {
        criteria.push(check.criteria);
      } else if (check.kind === 'command') {
        const out = await gate.callTool({ id, name: 'run_command', input: { command: check.command } }, CHECK_TOOLS);
        const head = (out.preview ?? out.content ?? '').split('\n')[0]!.slice(0, 200);
        record(out.status === 'ok' && !out.isError, `\`${check.command}\` → ${out.status === undefined ? out.content : head}`);
      } else {
        // Reading the path is judged by the gate like any read_file (deny rules, workspace confinement).
        const cleared = await gate.authorize({ id, name: 'read_file', input: { path: check.path } }, CHECK_TOOLS);
        if (!cleared.ok) {
          record(false, `${check.path}: ${cleared.result.content}`);
          continue;
        }
        const result = await idempotentTools.checkFileEvidence.executeWithOptions({ summary: `check ${check.kind} ${check.path}` }, [input.workspace, check]);
        record(result.passed, result.detail);
      }
    }
    if (criteria.length) {
      const { verification } = host.countUsage(
        await llm.judgeStep.executeWithOptions({ summary: `judge step ${input.step.id}` }, [
          { taskId: host.taskId, prompt: input.prompt, workspace: input.workspace, stepTitle: input.step.title, criteria, head: input.workerHead, workerText: input.workerText },
        ]),
      );
      for (const e of verification.evidence) record(true, `judged: ${e}`);
      for (const p of verification.problems) record(false, `judged: ${p}`);
      if (!verification.passed && verification.problems.length === 0) record(false, 'judged: the verifier model did not pass the step');
      // "Done" needs evidence: a pass that cites nothing is not one.
      if (verification.passed && verification.evidence.length === 0) record(false, 'judged: passed without citing any evidence');
    }
    host.end('completed');
    return {
      stepId: input.step.id,
      passed: problems.length === 0,
      evidence,
      problems,
      tokens: host.tokens,
      toolCalls: gate.toolCalls(),
      approvals: gate.approvals,
      grants: gate.grants(),
      trace: host.traceTail(),
    };
  } catch (err) {
    endChild(host, err);
    if (!wf.isCancellation(err)) note('error', failureMessage(err as Error));
    throw err;
  }
}
