/**
 * How a rule writes its examples: `ex(command, expectation)`, judged in EXAMPLE_CONTEXT. selfCheck
 * (shell/self-check.ts) runs every example at worker start and in the tests, so a rule that stops
 * doing what its examples say is caught before it decides anything.
 */
import type { Expectation, RuleExample } from '../shell/rule';

/** The context every example runs in. */
export const EXAMPLE_CONTEXT = { workspace: '/home/dev/project', home: '/home/dev' } as const;

export const ex = (command: string, expect: Expectation): RuleExample => ({ command, expect });

/** Proven read-only: nothing written, nothing to ask, nothing to deny. */
export const RO: Expectation = { risk: 'read-only', readOnly: true, deny: false, ask: false };
