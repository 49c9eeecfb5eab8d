/**
 * The permission engine: one decision for every tool call, in every workflow. Evaluation order
 * (first match wins): deny rules → ask rules → protected checks → mode → allow rules → ask.
 * It performs nothing; `agent policy check` prints exactly what the gate would decide.
 */
import { lstat, realpath } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Mode, PolicyVerdict } from '../../domain/policy';
import { TOOL_SPECS, type RiskClass, type ToolName } from '../../domain/tool-catalog';
import { isInside } from '../tools/workspace';
import { matchesCommand, matchesPath, type Effect, type Rule } from './rules';
import { analyzeShell, type ShellAnalysis } from './shell-analyzer';
import { CREDENTIAL_PATHS, PROTECTED_IN_WORKSPACE, RC_FILES } from './shell-rules';


export interface PolicyContext {
  /** The workspace's real path. */
  workspace: string;
  mode: Mode;
  /** Every rule from every source (builtin < user < workspace < task < session). */
  rules: readonly Rule[];
  /** Whether run_command would run inside the OS sandbox. Without one, every command asks. */
  sandboxAvailable: boolean;
  /** Directories outside the workspace that file tools may also use. */
  extraDirs?: readonly string[];
  home?: string;
}

export type PolicyDecision = PolicyVerdict;

/**
 * Paths that always need a human, even under a broad allow. Inside the workspace: PROTECTED_IN_WORKSPACE
 * (VCS internals, .env files, the policy itself). Outside it: credentials and shell start-up files.
 * Both are the lists the shell analyser guards; these are home-relative unless absolute.
 */
const PROTECTED_OUTSIDE = [...CREDENTIAL_PATHS, ...RC_FILES];


function protectedReason(target: string, ctx: PolicyContext): string | null {
  const home = ctx.home ?? os.homedir();
  for (const glob of PROTECTED_IN_WORKSPACE) if (matchesPath(glob, target, ctx.workspace, home)) return `${path.relative(ctx.workspace, target) || target} is a protected path (VCS internals, .env files or agent policy)`;
  for (const entry of PROTECTED_OUTSIDE) {
    const base = path.isAbsolute(entry) ? entry : path.join(home, entry);
    if (target === base || isInside(base, target)) return `${target} is a protected path (credentials or shell start-up files)`;
  }
  return null;
}

/** The locations a file path stands for: where it is written, and where its symlinks lead. */
async function pathTargets(requested: string, ctx: PolicyContext): Promise<{ lexical: string; real: string }> {
  const home = ctx.home ?? os.homedir();
  const expanded = requested === '~' ? home : requested.startsWith('~/') ? path.join(home, requested.slice(2)) : requested;
  const lexical = path.resolve(ctx.workspace, expanded);
  let real = lexical;
  // Resolve the deepest existing ancestor, so a symlinked directory is judged by where it leads.
  for (let probe = lexical, rest: string[] = []; ; ) {
    try {
      real = path.join(await realpath(probe), ...rest.reverse());
      break;
    } catch {
      if ((await lstat(probe).catch(() => null))?.isSymbolicLink()) break; // dangling link: the file tool refuses it
      const parent = path.dirname(probe);
      if (parent === probe) break;
      rest.push(path.basename(probe));
      probe = parent;
    }
  }
  return { lexical, real };
}

function ruleFor(rules: readonly Rule[], effect: Effect, tool: ToolName, test: (spec: string) => boolean): Rule | undefined {
  return rules.find((r) => r.effect === effect && (r.tool === tool || r.tool === '*') && (r.specifier === null || test(r.specifier)));
}

/** Decides a file tool call. */
async function decideFile(tool: ToolName, input: Record<string, unknown>, ctx: PolicyContext): Promise<PolicyDecision> {
  const spec = TOOL_SPECS[tool];
  const requested = typeof input.path === 'string' ? input.path : '.';
  const { lexical, real } = await pathTargets(requested, ctx);
  const matches = (s: string) => matchesPath(s, lexical, ctx.workspace, ctx.home) || matchesPath(s, real, ctx.workspace, ctx.home);
  const risk: RiskClass = spec.risk;

  const deny = ruleFor(ctx.rules, 'deny', tool, matches);
  if (deny) return { decision: 'deny', risk, reasons: [`denied by rule \`${deny.text}\` (${deny.source})`], matchedRule: deny.text };
  const roots = [ctx.workspace, ...(ctx.extraDirs ?? [])];
  for (const target of new Set([lexical, real])) {
    if (!roots.some((root) => isInside(root, target))) {
      return { decision: 'deny', risk: 'system-wide', reasons: [`${requested} is outside the workspace${target === real && real !== lexical ? ' (through a symlink)' : ''}`], matchedRule: null };
    }
  }
  const ask = ruleFor(ctx.rules, 'ask', tool, matches);
  if (ask) return finalAsk(ctx, { decision: 'ask', risk, reasons: [`rule \`${ask.text}\` (${ask.source}) asks`], matchedRule: ask.text });
  const guarded = protectedReason(lexical, ctx) ?? protectedReason(real, ctx);
  if (guarded) return finalAsk(ctx, { decision: 'ask', risk, reasons: [guarded], matchedRule: null });

  const byMode = modeDecision(ctx, !spec.writes, spec.writes ? 'file edits inside the workspace' : null);
  if (byMode) return { ...byMode, risk };
  const allow = ruleFor(ctx.rules, 'allow', tool, matches);
  if (allow) return { decision: 'allow', risk, reasons: [`allowed by rule \`${allow.text}\` (${allow.source})`], matchedRule: allow.text };
  return finalAsk(ctx, { decision: 'ask', risk, reasons: [`${tool} changes files in the workspace`], matchedRule: null });
}

/** What the mode alone decides; null when it leaves the call to the rules. */
function modeDecision(ctx: PolicyContext, readOnly: boolean, acceptEditsCovers: string | null): Omit<PolicyDecision, 'risk'> | null {
  if (ctx.mode === 'plan') {
    return readOnly
      ? { decision: 'allow', reasons: ['plan mode: read-only actions run'], matchedRule: 'mode: plan' }
      : { decision: 'deny', reasons: ['plan mode: nothing with side effects runs'], matchedRule: 'mode: plan' };
  }
  if (ctx.mode === 'bypass' && ctx.sandboxAvailable) return { decision: 'allow', reasons: ['bypass mode (sandboxed)'], matchedRule: 'mode: bypass' };
  if (readOnly) return { decision: 'allow', reasons: ['read-only'], matchedRule: `mode: ${ctx.mode}` };
  if (ctx.mode === 'accept-edits' && acceptEditsCovers) return { decision: 'allow', reasons: [`accept-edits mode: ${acceptEditsCovers} run`], matchedRule: 'mode: accept-edits' };
  return null;
}

/** dont-ask (unattended agents): anything that would ask is denied instead. */
function finalAsk(ctx: PolicyContext, decision: PolicyDecision): PolicyDecision {
  if (ctx.mode !== 'dont-ask' || decision.decision !== 'ask') return decision;
  return { ...decision, decision: 'deny', reasons: [...decision.reasons, 'dont-ask mode: nobody is there to approve, so it is denied'], matchedRule: decision.matchedRule ?? 'mode: dont-ask' };
}

/** Decides a run_command call from the shell analysis of every part of the command. */
async function decideShell(command: string, ctx: PolicyContext, analysis?: ShellAnalysis): Promise<PolicyDecision> {
  const a = analysis ?? (await analyzeShell(command, { workspace: ctx.workspace, home: ctx.home ?? os.homedir() }));
  const risk = a.risk;
  const allowNetwork = risk === 'network' || risk === 'package-install';
  if (a.catastrophic) return { decision: 'deny', risk, reasons: unique([a.catastrophic, ...a.reasons]), matchedRule: 'builtin: catastrophic command' };

  const partMatches = (spec: string) => a.parts.some((p) => p.program !== null && !p.dynamic && matchesCommand(spec, p.argv));
  // Deny and ask rules match the meaning: every spelling the analyser knows (git push origin +main is a force push).
  const meaningMatches = (spec: string) => partMatches(spec) || a.parts.some((p) => p.variants?.some((v) => matchesCommand(spec, v)) ?? false);
  const deny = ruleFor(ctx.rules, 'deny', 'run_command', meaningMatches);
  if (deny) return { decision: 'deny', risk, reasons: [`denied by rule \`${deny.text}\` (${deny.source})`, ...a.reasons], matchedRule: deny.text };
  const ask = ruleFor(ctx.rules, 'ask', 'run_command', meaningMatches);
  if (ask) return finalAsk(ctx, { decision: 'ask', risk, reasons: [`rule \`${ask.text}\` (${ask.source}) asks`, ...a.reasons], matchedRule: ask.text, allowNetwork });

  // Protected checks: what the parser cannot prove, writes to guarded or outside paths, no sandbox.
  const guarded: string[] = [...a.askReasons];
  // Globs, braces and computed words that could name a protected path (the analyser found an example of each).
  for (const t of a.protectedTargets) {
    const reason = protectedReason(t.example, ctx) ?? `${t.example} (${t.why})`;
    guarded.push(`${t.access === 'write' ? 'writes' : 'reads'} ${t.word}, which can name a protected path: ${reason}`);
  }
  for (const target of a.writes) {
    const abs = path.resolve(ctx.workspace, target.startsWith('~/') ? path.join(ctx.home ?? os.homedir(), target.slice(2)) : target);
    const reason = protectedReason(abs, ctx);
    if (reason) guarded.push(reason);
    else if (!isInside(ctx.workspace, abs) && !['/dev/null', '/dev/stdout', '/dev/stderr'].includes(abs)) guarded.push(`writes ${target}, outside the workspace`);
  }
  if (!ctx.sandboxAvailable) guarded.push('no OS sandbox is available on this worker, so every command needs a human');
  if (guarded.length) return finalAsk(ctx, { decision: 'ask', risk, reasons: [...guarded, ...a.reasons], matchedRule: null, allowNetwork });

  const byMode = modeDecision(ctx, a.readOnly, null);
  if (byMode) return { ...byMode, risk, reasons: [...byMode.reasons, ...a.reasons], allowNetwork };
  // Every part must be allowed: one allowed part never carries a risky neighbour through.
  const allowed = a.parts.map((p) => (p.program !== null && !p.dynamic ? ruleFor(ctx.rules, 'allow', 'run_command', (s) => matchesCommand(s, p.argv)) : undefined));
  if (a.parts.length > 0 && allowed.every(Boolean)) {
    const texts = [...new Set(allowed.map((r) => r!.text))];
    return { decision: 'allow', risk, reasons: [`allowed by ${texts.map((t) => `\`${t}\``).join(', ')}`, ...a.reasons], matchedRule: texts.join(', '), allowNetwork };
  }
  return finalAsk(ctx, { decision: 'ask', risk, reasons: a.reasons.length ? a.reasons : ['a command with effects the policy does not allow'], matchedRule: null, allowNetwork });
}

const unique = (reasons: string[]) => [...new Set(reasons)];

/**
 * Tools with no path and no command (command_status, inspect_environment): only rules naming the
 * tool without a specifier apply, then the mode. They are read-only by declaration.
 */
function decideWithoutTarget(tool: ToolName, ctx: PolicyContext): PolicyDecision {
  const spec = TOOL_SPECS[tool];
  const risk: RiskClass = spec.risk;
  const unspecified = () => false;
  const deny = ruleFor(ctx.rules, 'deny', tool, unspecified);
  if (deny) return { decision: 'deny', risk, reasons: [`denied by rule \`${deny.text}\` (${deny.source})`], matchedRule: deny.text };
  const ask = ruleFor(ctx.rules, 'ask', tool, unspecified);
  if (ask) return finalAsk(ctx, { decision: 'ask', risk, reasons: [`rule \`${ask.text}\` (${ask.source}) asks`], matchedRule: ask.text });
  const byMode = modeDecision(ctx, !spec.writes, null);
  if (byMode) return { ...byMode, risk };
  return finalAsk(ctx, { decision: 'ask', risk, reasons: [`${tool} is not allowed by any rule`], matchedRule: null });
}

/** Tools that act on a `path` argument; the others are judged by decideWithoutTarget. */
const PATH_TOOLS = new Set<ToolName>(['read_file', 'list_files', 'search_files', 'write_file', 'edit_file']);

/** One decision for one tool call. Never throws for bad input: an unknown shape asks. */
export async function decide(tool: ToolName, input: Record<string, unknown>, ctx: PolicyContext): Promise<PolicyDecision> {
  const verdict =
    tool === 'run_command'
      ? await decideShell(String(input.command ?? ''), ctx)
      : PATH_TOOLS.has(tool)
        ? await decideFile(tool, input, ctx)
        : decideWithoutTarget(tool, ctx);
  return { ...verdict, reasons: unique(verdict.reasons) };
}
