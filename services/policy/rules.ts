/**
 * Permission rules: `effect Tool(specifier)`, e.g. `allow run_command(npm run test *)`,
 * `deny read_file(./secrets/**)`, `ask write_file(src/**)`, `deny run_command`.
 *
 * - Tool is a canonical tool name or `*`. No specifier (or `(*)`) matches every call of the tool.
 * - run_command: the specifier is a command prefix in words; a trailing `*` matches any remaining
 *   words (including none); `*` inside a word is a wildcard within that word. It is matched against
 *   every simple command of a compound command after wrappers are stripped.
 * - file tools: the specifier is a glob (picomatch) on the path relative to the workspace;
 *   `./x` and `x` are the same, `/abs/**` and `~/x/**` match absolute locations.
 * - `network` is not a tool: `allow network(example.com)` / `deny network(*.example.com)` say which
 *   domains a sandboxed command may reach (network-policy.ts). A `*` rule never covers it.
 * - MCP tools are named `mcp__<server>__<tool>`; a rule names one (`allow mcp__github__get_issue`),
 *   a server's every tool (`ask mcp__github` or `ask mcp__github__*`) or a glob (`mcp__github__get_*`).
 *   It takes no specifier: an MCP tool's arguments mean what its server says they mean.
 */
import os from 'node:os';
import path from 'node:path';
import picomatch from 'picomatch';
import type { Decision, RuleRecord, RuleSource } from '../../domain/policy';
import { TOOL_NAMES } from '../../domain/tool-catalog';
import { DOMAIN_PATTERN } from './network-policy';

export type Effect = Decision;
export type Rule = RuleRecord;
export type { RuleSource };

export class RuleSyntaxError extends Error {}

const RULE = /^(allow|ask|deny)\s+([a-z_*][a-z0-9_]*|mcp__[A-Za-z0-9*-]+(?:__[A-Za-z0-9_*-]+)?)\s*(?:\((.*)\))?\s*$/s;

/** Parses one rule; throws RuleSyntaxError with the reason. */
export function parseRule(text: string, source: RuleSource): Rule {
  const match = RULE.exec(text.trim());
  if (!match) throw new RuleSyntaxError(`"${text}" is not a rule: write \`allow|ask|deny tool(specifier)\`, e.g. \`allow run_command(npm test *)\``);
  const [, effect, tool, rawSpec] = match;
  const mcp = tool!.startsWith('mcp__');
  if (tool !== '*' && tool !== 'network' && !mcp && !(TOOL_NAMES as string[]).includes(tool!)) {
    throw new RuleSyntaxError(`unknown tool "${tool}" in "${text}" (tools: ${TOOL_NAMES.join(', ')}, mcp__<server>__<tool>, network, or *)`);
  }
  const specifier = rawSpec === undefined || rawSpec.trim() === '' || rawSpec.trim() === '*' ? null : rawSpec.trim();
  if (mcp && specifier !== null) {
    throw new RuleSyntaxError(
      `"${text}": MCP rules name tools, not arguments: write \`${effect} ${tool}\` (or \`${effect} ${tool!.split('__').slice(0, 2).join('__')}__*\` for the whole server)`,
    );
  }
  if (tool === 'network') {
    if (effect === 'ask') throw new RuleSyntaxError(`"${text}": network rules are allow or deny (a sandboxed command cannot stop to ask per connection)`);
    if (specifier !== null && !DOMAIN_PATTERN.test(specifier)) {
      throw new RuleSyntaxError(`"${text}": network(...) takes a domain such as example.com or *.example.com, or an IP address`);
    }
  }
  return { effect: effect as Effect, tool: tool!, specifier, source, text: `${effect} ${tool}${specifier ? `(${specifier})` : ''}` };
}

/** Does a command-prefix specifier match one simple command's words? */
export function matchesCommand(specifier: string, argv: readonly string[]): boolean {
  const pattern = specifier.split(/\s+/).filter(Boolean);
  for (let i = 0; i < pattern.length; i++) {
    const word = pattern[i]!;
    if (word === '*' && i === pattern.length - 1) return true;
    const arg = argv[i];
    if (arg === undefined) return false;
    if (word.includes('*') ? !picomatch.isMatch(arg, word, { dot: true, bash: false }) : word !== arg) return false;
  }
  return argv.length === pattern.length;
}

/**
 * Which tools a rule's tool part names: a built-in tool, `*`, a namespaced MCP tool, a server
 * (`mcp__github`) or a glob (`mcp__github__get_*`; tool names hold no `/`, so `*` spans any run of
 * their characters).
 */
export function ruleNamesTool(ruleTool: string, tool: string): boolean {
  if (ruleTool === tool || ruleTool === '*') return true;
  if (!ruleTool.startsWith('mcp__') || !tool.startsWith('mcp__')) return false;
  if (!ruleTool.slice(5).includes('__')) return tool.startsWith(`${ruleTool}__`);
  return ruleTool.includes('*') && picomatch.isMatch(tool, ruleTool);
}

const MATCHERS = new Map<string, picomatch.Matcher>();

/** `~` and `~/…` as paths under `home` (the user's home directory unless given); other paths as they are. */
export function expandHome(p: string, home = os.homedir()): string {
  return p === '~' ? home : p.startsWith('~/') ? path.join(home, p.slice(2)) : p;
}

/**
 * Does a path glob match `target` (an absolute real path)? Relative globs are anchored at the
 * workspace; a directory glob `dir/**` also matches `dir` itself.
 */
export function matchesPath(specifier: string, target: string, workspace: string, home = os.homedir()): boolean {
  let glob = expandHome(specifier, home);
  if (!path.isAbsolute(glob)) glob = path.join(workspace, glob.replace(/^\.\//, ''));
  let matcher = MATCHERS.get(glob);
  if (!matcher) {
    // Compiling a glob costs far more than matching it; the same few globs are checked on every call.
    if (MATCHERS.size > 10_000) MATCHERS.clear();
    matcher = picomatch(glob, { dot: true });
    MATCHERS.set(glob, matcher);
  }
  return matcher(target) || (glob.endsWith('/**') && target === glob.slice(0, -3));
}
