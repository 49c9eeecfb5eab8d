/**
 * The entry point of the shell analyser: one `run_command` string in, one ShellAnalysis out.
 * Whatever cannot be proven (unparseable input, computed program names, eval, inline interpreter
 * code) asks a person; catastrophic commands are marked for denial.
 *
 * Variables the command itself assigns (X=/; rm -rf $X) and $HOME are only ever used as *guesses*
 * for deny checks: a word that depends on expansion is always dynamic and never proven safe.
 */
import path from 'node:path';
import type { Parser } from 'web-tree-sitter';
import { failClosed, LIMITS, maxRisk, type ShellAnalysis, type ShellContext } from './analysis';
import { normalize } from './args';
import { getParser } from './parser';
import { analyzeScript } from './walk';

const CONTROL_CHARS = /[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\x7f]/;
const INVISIBLE_CHARS = /[\u0080-\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u2064\u2066-\u2069\u3000\ufeff\ufffd]/;

const unique = (xs: string[]) => [...new Set(xs)];

/**
 * Analyses one `run_command` string. Never throws for any input: what it cannot analyse comes back
 * with ask reasons (and risk 'unknown'); it rejects only if called with a non-string.
 */
export async function analyzeShell(command: string, ctx: ShellContext): Promise<ShellAnalysis> {
  const context = { workspace: normalize(path.posix.resolve(ctx.workspace)), home: normalize(path.posix.resolve(ctx.home)) };
  const pre: string[] = [];
  if (command.length > LIMITS.maxLength) pre.push(`the command is longer than 4 KB (${command.length} characters)`);
  if (CONTROL_CHARS.test(command)) pre.push('the command contains binary, NUL or control characters');
  if (INVISIBLE_CHARS.test(command)) pre.push('the command contains invisible or direction-changing Unicode characters');
  if (command.length > LIMITS.hardLength) return failClosed(pre);
  let parser: Parser;
  try {
    parser = await getParser();
  } catch (err) {
    return failClosed([...pre, `the shell parser could not be loaded: ${err instanceof Error ? err.message : String(err)}`]);
  }
  try {
    const { findings: _f, downloads: _d, readsStdin: _r, ...result } = analyzeScript(parser, command, context, 0, context.workspace);
    if (pre.length === 0) return result;
    return { ...result, readOnly: false, risk: maxRisk(result.risk, 'unknown'), askReasons: unique([...pre, ...result.askReasons]) };
  } catch (err) {
    return failClosed([...pre, `the analyser failed on this command: ${err instanceof Error ? err.message : String(err)}`]);
  }
}
