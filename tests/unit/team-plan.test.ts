/** The planner's contract: plan shape (zod) and structure (duplicates, unknown dependencies, cycles, re-used passed ids). */
import { describe, expect, it } from 'vitest';
import { sharedWrite, TeamInputSchema, TeamPlanSchema, teamPlanProblems, type TeamPlan } from '../../domain/team';

const step = (id: string, dependsOn: string[] = []) => ({
  id,
  title: `step ${id}`,
  instructions: 'do it',
  dependsOn,
  evidence: [{ kind: 'file_exists', path: `${id}.txt` }],
  risk: 'low',
});
const plan = (...steps: ReturnType<typeof step>[]): TeamPlan => TeamPlanSchema.parse({ steps });

describe('team plan', () => {
  it('accepts a DAG with parallel branches', () => {
    expect(teamPlanProblems(plan(step('a'), step('b'), step('c', ['a', 'b'])))).toEqual([]);
  });

  it('names duplicates, unknown dependencies, self-dependencies and cycles', () => {
    expect(teamPlanProblems(plan(step('a'), step('a')))).toEqual(['step id "a" is used twice']);
    expect(teamPlanProblems(plan(step('a', ['zz'])))).toEqual(['step "a" depends on unknown step "zz"']);
    expect(teamPlanProblems(plan(step('a', ['a'])))).toEqual(['step "a" depends on itself']);
    expect(teamPlanProblems(plan(step('a', ['c']), step('b', ['a']), step('c', ['b'])))).toEqual(['dependency cycle: a → c → b → a']);
  });

  it('a re-plan may depend on passed steps but not reuse their ids', () => {
    expect(teamPlanProblems(plan(step('b', ['a'])), ['a'])).toEqual([]);
    expect(teamPlanProblems(plan(step('a')), ['a'])).toEqual(['step id "a" already passed; give new work a new id']);
  });

  it('rejects malformed steps with the field named', () => {
    const bad = TeamPlanSchema.safeParse({ steps: [{ ...step('Bad Id'), evidence: [] }] });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['steps.0.id', 'steps.0.evidence']));
    expect(TeamPlanSchema.safeParse({ steps: [{ ...step('a'), evidence: [{ kind: 'vibes' }] }] }).success).toBe(false);
  });

  it('budget defaults and bounds', () => {
    const input = TeamInputSchema.parse({ prompt: 'x', workspace: '/w', team: {} });
    expect(input.team).toEqual({ maxParallel: 3, maxReplans: 2, maxSteps: 20, maxTokens: 2_000_000, maxWallMs: 7_200_000, stepMaxTurns: 15 });
    expect(TeamInputSchema.safeParse({ prompt: 'x', workspace: '/w', team: { maxParallel: 0 } }).success).toBe(false);
  });
});

describe('shared writes', () => {
  it('compares normalised paths', () => {
    expect(sharedWrite({ writes: ['./src/a.ts', 'b.txt'] }, { writes: ['src//a.ts'] })).toBe('src/a.ts');
    expect(sharedWrite({ writes: ['a.txt'] }, { writes: ['b.txt'] })).toBeNull();
    expect(sharedWrite({ writes: [] }, { writes: ['a.txt'] })).toBeNull();
  });
});
