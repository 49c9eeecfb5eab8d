/**
 * The self check: every rule's examples, every wrapper's and the walker's structural ones, judged
 * for real. The worker runs it at start (a rule that stopped matching its examples is a bug, found
 * before it decides anything) and so do the tests, per program family and as a whole.
 */
import { EXAMPLE_CONTEXT } from '../programs/example';
import { FAMILIES, SHELL_RULES, WRAPPERS } from '../programs/registry';
import type { ShellAnalysis } from './analysis';
import { analyzeShell } from './analyze';
import type { Expectation, ProgramFamily, RuleExample } from './rule';
import { STRUCTURE_EXAMPLES } from './structure-examples';

function check(example: RuleExample, a: ShellAnalysis, where: string): string[] {
  const e: Expectation = example.expect;
  const out: string[] = [];
  const show = `${where}: ${JSON.stringify(example.command)}`;
  if (e.risk !== undefined && a.risk !== e.risk) out.push(`${show}: risk ${a.risk}, expected ${e.risk} (${a.reasons.join(' | ')})`);
  if (e.readOnly !== undefined && a.readOnly !== e.readOnly) out.push(`${show}: readOnly ${a.readOnly}, expected ${e.readOnly} (${[...a.askReasons, ...a.reasons].join(' | ')})`);
  if (e.deny !== undefined && (a.catastrophic !== null) !== e.deny) out.push(`${show}: catastrophic ${JSON.stringify(a.catastrophic)}, expected ${e.deny ? 'a denial' : 'none'}`);
  if (e.ask !== undefined && a.askReasons.length > 0 !== e.ask) out.push(`${show}: askReasons ${JSON.stringify(a.askReasons)}, expected ${e.ask ? 'some' : 'none'}`);
  if (e.writes !== undefined && JSON.stringify([...a.writes].sort()) !== JSON.stringify([...e.writes].sort()))
    out.push(`${show}: writes ${JSON.stringify(a.writes)}, expected ${JSON.stringify(e.writes)}`);
  if (e.program !== undefined) {
    const programs = a.parts.map((p) => p.program);
    if (!programs.includes(e.program)) out.push(`${show}: programs ${JSON.stringify(programs)}, expected ${e.program}`);
  }
  return out;
}

/** Runs labelled groups of examples; one line per mismatch. */
async function runExamples(groups: readonly [string, readonly RuleExample[]][]): Promise<string[]> {
  const failures: string[] = [];
  for (const [where, examples] of groups) {
    for (const example of examples) {
      const a = await analyzeShell(example.command, EXAMPLE_CONTEXT);
      failures.push(...check(example, a, where));
    }
  }
  return failures;
}

/** The examples of one family's rules and wrappers, labelled for the messages. */
function familyGroups(family: ProgramFamily): [string, readonly RuleExample[]][] {
  return [
    ...family.rules.map((r): [string, readonly RuleExample[]] => [`rule ${r.programs.slice(0, 3).join('/')}`, r.examples]),
    ...(family.wrappers ?? []).map((w): [string, readonly RuleExample[]] => [`wrapper ${w.programs.slice(0, 3).join('/')}`, w.examples]),
  ];
}

/** Runs one family's examples; returns one line per mismatch (empty when the family behaves as documented). */
export function checkFamily(family: ProgramFamily): Promise<string[]> {
  return runExamples(familyGroups(family));
}

/** Runs every rule's examples; returns one line per mismatch (empty when every rule behaves as documented). */
export async function selfCheck(): Promise<string[]> {
  const failures: string[] = [];
  // A program claimed twice would silently follow whichever rule comes first.
  const claimed = new Map<string, string>();
  for (const r of [...SHELL_RULES, ...WRAPPERS]) {
    for (const p of r.programs) {
      if (claimed.has(p)) failures.push(`program ${p} is claimed by two rules (${claimed.get(p)} and ${r.programs[0]})`);
      else claimed.set(p, r.programs[0]!);
    }
  }
  failures.push(...(await runExamples([...FAMILIES.flatMap(familyGroups), ['structure', STRUCTURE_EXAMPLES]])));
  return failures;
}
