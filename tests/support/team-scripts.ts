/** Builders for agent-team scenarios of the fake LLM: a task scenario (intent, plan, answer) and one per worker step. */

export interface StepSpec {
  id: string;
  dependsOn?: string[];
  evidence: unknown[];
  risk?: 'low' | 'medium' | 'high';
  writes?: string[];
}

export function teamPlan(steps: StepSpec[]) {
  return {
    input: {
      steps: steps.map((s) => ({
        id: s.id,
        title: `step ${s.id}`,
        instructions: `Do the work of step ${s.id}.`,
        dependsOn: s.dependsOn ?? [],
        ...(s.writes ? { writes: s.writes } : {}),
        evidence: s.evidence,
        risk: s.risk ?? 'low',
      })),
    },
  };
}

/** The task itself: intent, the planner's plan, the final answer. Must come after the step scenarios. */
export function teamScenario(marker: string, steps: StepSpec[], options: { needsShell?: boolean } = {}) {
  return {
    match: marker,
    stages: {
      intent: { input: { goal: marker, kind: 'change', needsWrite: true, needsShell: options.needsShell ?? false, summary: marker } },
      plan: teamPlan(steps),
      respond: { text: `team answer for ${marker}` },
    },
  };
}

/** A re-plan of the task: matched by the feedback text only re-plans carry. Must come before teamScenario. */
export function replanScenario(marker: string, steps: StepSpec[]) {
  return { match: `${marker}[\\s\\S]*Re-plan: the verifier rejected work`, stages: { plan: teamPlan(steps) } };
}

/** One worker step: turn replies of the tool loop. Must come before teamScenario (its prompt carries the task text too). */
export function stepScenario(stepId: string, execute: unknown[], extra: Record<string, unknown> = {}) {
  return { match: `Your step \\(${stepId}\\)`, stages: { execute, ...extra } };
}

export const writes = (path: string, content: string, delayMs = 0) => [
  { toolCalls: [{ name: 'write_file', input: { path, content } }], ...(delayMs ? { delayMs } : {}) },
  { text: `wrote ${path}`, ...(delayMs ? { delayMs } : {}) },
];
