/**
 * What a team shows of itself (its steps and budgets), apart from the team's contracts so a task's
 * status view can carry it without the task and team modules importing each other.
 */

export const TEAM_RISKS = ['low', 'medium', 'high'] as const;
export type TeamRisk = (typeof TEAM_RISKS)[number];

export type TeamStepState = 'pending' | 'running' | 'verifying' | 'passed' | 'failed' | 'blocked' | 'cancelled';

export interface TeamStepView {
  id: string;
  title: string;
  dependsOn: string[];
  risk: TeamRisk;
  state: TeamStepState;
  attempt: number;
  /** Workflow id of the current (or last) worker child. */
  workerId: string | null;
  evidence: string[];
  problems: string[];
  tokens: number;
  toolCalls: number;
  startedAt: string | null;
  endedAt: string | null;
}

export interface TeamBudgetView {
  maxParallel: number;
  maxSteps: number;
  stepsStarted: number;
  maxTokens: number;
  tokensUsed: number;
  maxWallMs: number;
  elapsedMs: number;
  maxReplans: number;
  replans: number;
  /** Which budget ran out, when one did. */
  exhausted: string | null;
}

export interface TeamView {
  steps: TeamStepView[];
  budget: TeamBudgetView;
}
