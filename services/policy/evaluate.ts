/**
 * The permission engine's one evaluation chain: the same steps, in the same order, for every tool
 * call, whether it acts on a path, a command or nothing. First match wins:
 *
 *   forbidden (a catastrophic command) → deny rules → confinement (a path outside the workspace) →
 *   ask rules → protected (guarded paths, what the parser cannot prove, no sandbox) → mode →
 *   allow rules → ask
 *
 * Each kind of target says what it means for each step (a `Subject`); the chain itself knows no
 * tool. It performs nothing: `agent policy check` prints exactly what the gate would decide.
 */
import os from 'node:os';
import path from 'node:path';
import type { McpToolEntry } from '../../domain/mcp';
import type { Mode, PolicyVerdict } from '../../domain/policy';
import { TOOL_SPECS, type RiskClass, type ToolName } from '../../domain/tool-catalog';
import { isInside } from '../paths';
import { protectedReason } from './protected-reason';
import { matchesCommand, matchesPath, ruleNamesTool, type Effect, type Rule } from './rules';
import type { ShellAnalysis } from './shell/analysis';
import { resolveTarget, type PolicyTarget } from './target';

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

/** One decision for one tool call. Never throws for bad input: an unknown shape asks. */
export async function decide(tool: ToolName, input: Record<string, unknown>, ctx: PolicyContext): Promise<PolicyDecision> {
  return evaluate(tool, await resolveTarget(tool, input, ctx), ctx);
}

/** The chain over an already resolved target (see target.ts). Pure; never throws. */
export function evaluate(tool: string, target: PolicyTarget, ctx: PolicyContext): PolicyDecision {
  const verdict = chain(tool, subjectOf(tool, target, ctx), ctx);
  return { ...verdict, reasons: [...new Set(verdict.reasons)] };
}

/** What one call's target means for each step of the chain. */
interface Subject {
  risk: RiskClass;
  /** Deny and ask rules: does a specifier match this call? For commands, every spelling of its meaning. */
  matches(specifier: string): boolean;
  /** Reasons that follow the chain's own (a command's findings). */
  notes: readonly string[];
  /** Commands only: whether the sandbox lets the command reach the network. */
  allowNetwork?: boolean;
  /** Denied before any rule is read (a catastrophic command): the reason, or null. */
  forbidden(): string | null;
  /** Denied after the deny rules because it lies outside the workspace: the reason, or null. */
  outside(): string | null;
  /** Why a person must look whatever the allow rules and the mode say; empty when nothing is guarded. */
  guarded(): string[];
  readOnly: boolean;
  /** What accept-edits mode lets run without asking (file edits inside the workspace), or null. */
  acceptEditsCovers: string | null;
  /** The allow rules that allow the whole call, as a reason and the rule text; null when they do not. */
  allowedBy(rules: readonly Rule[], tool: string): { reason: string; matchedRule: string } | null;
  /** The reason to ask when nothing else decided and there are no notes. */
  fallback: string;
}

function chain(tool: string, s: Subject, ctx: PolicyContext): PolicyDecision {
  const { risk, notes } = s;
  const net = s.allowNetwork === undefined ? {} : { allowNetwork: s.allowNetwork };
  const forbidden = s.forbidden();
  if (forbidden) return { decision: 'deny', risk, reasons: [forbidden, ...notes], matchedRule: 'builtin: catastrophic command' };
  const deny = ruleFor(ctx.rules, 'deny', tool, s.matches);
  if (deny) return { decision: 'deny', risk, reasons: [`denied by rule \`${deny.text}\` (${deny.source})`, ...notes], matchedRule: deny.text };
  const outside = s.outside();
  if (outside) return { decision: 'deny', risk: 'system-wide', reasons: [outside], matchedRule: null };
  const ask = ruleFor(ctx.rules, 'ask', tool, s.matches);
  if (ask) return finalAsk(ctx, { decision: 'ask', risk, reasons: [`rule \`${ask.text}\` (${ask.source}) asks`, ...notes], matchedRule: ask.text, ...net });
  const guarded = s.guarded();
  if (guarded.length) return finalAsk(ctx, { decision: 'ask', risk, reasons: [...guarded, ...notes], matchedRule: null, ...net });
  const byMode = modeDecision(ctx, s.readOnly, s.acceptEditsCovers);
  if (byMode) return { ...byMode, risk, reasons: [...byMode.reasons, ...notes], ...net };
  const allowed = s.allowedBy(ctx.rules, tool);
  if (allowed) return { decision: 'allow', risk, reasons: [allowed.reason, ...notes], matchedRule: allowed.matchedRule, ...net };
  return finalAsk(ctx, { decision: 'ask', risk, reasons: notes.length ? [...notes] : [s.fallback], matchedRule: null, ...net });
}

function ruleFor(rules: readonly Rule[], effect: Effect, tool: string, test: (spec: string) => boolean): Rule | undefined {
  return rules.find((r) => r.effect === effect && ruleNamesTool(r.tool, tool) && (r.specifier === null || test(r.specifier)));
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
  return {
    ...decision,
    decision: 'deny',
    reasons: [...decision.reasons, 'dont-ask mode: nobody is there to approve, so it is denied'],
    matchedRule: decision.matchedRule ?? 'mode: dont-ask',
  };
}

function subjectOf(tool: string, target: PolicyTarget, ctx: PolicyContext): Subject {
  // Path, command and none targets are resolved only for the catalog's tools (target.ts).
  switch (target.kind) {
    case 'path':
      return pathSubject(tool as ToolName, target, ctx);
    case 'command':
      return commandSubject(target.analysis, ctx);
    case 'none':
      return noneSubject(tool as ToolName);
    case 'mcp':
      return mcpSubject(target.entry);
  }
}

/** A single allow rule that matches, as the chain reports it. */
function singleAllow(rules: readonly Rule[], tool: string, matches: (spec: string) => boolean) {
  const allow = ruleFor(rules, 'allow', tool, matches);
  return allow ? { reason: `allowed by rule \`${allow.text}\` (${allow.source})`, matchedRule: allow.text } : null;
}

/** File tools: rules are globs on the path, judged at both the path and where its symlinks lead. */
function pathSubject(tool: ToolName, target: Extract<PolicyTarget, { kind: 'path' }>, ctx: PolicyContext): Subject {
  const spec = TOOL_SPECS[tool];
  const { requested, lexical, real } = target;
  const matches = (s: string) => matchesPath(s, lexical, ctx.workspace, ctx.home) || matchesPath(s, real, ctx.workspace, ctx.home);
  return {
    risk: spec.risk,
    matches,
    notes: [],
    forbidden: () => null,
    outside: () => {
      const roots = [ctx.workspace, ...(ctx.extraDirs ?? [])];
      for (const t of new Set([lexical, real])) {
        if (!roots.some((root) => isInside(root, t))) return `${requested} is outside the workspace${t === real && real !== lexical ? ' (through a symlink)' : ''}`;
      }
      return null;
    },
    guarded: () => {
      const reason = protectedReason(lexical, ctx.workspace, ctx.home) ?? protectedReason(real, ctx.workspace, ctx.home);
      return reason ? [reason] : [];
    },
    readOnly: !spec.writes,
    acceptEditsCovers: spec.writes ? 'file edits inside the workspace' : null,
    allowedBy: (rules) => singleAllow(rules, tool, matches),
    fallback: `${tool} changes files in the workspace`,
  };
}

/** Commands: judged by the shell analysis of every part. */
function commandSubject(a: ShellAnalysis, ctx: PolicyContext): Subject {
  const partMatches = (spec: string) => a.parts.some((p) => p.program !== null && !p.dynamic && matchesCommand(spec, p.argv));
  return {
    risk: a.risk,
    // Deny and ask rules match the meaning: every spelling the analyser knows (git push origin +main is a force push).
    matches: (spec) => partMatches(spec) || a.parts.some((p) => p.variants?.some((v) => matchesCommand(spec, v)) ?? false),
    notes: a.reasons,
    allowNetwork: a.risk === 'network' || a.risk === 'package-install',
    forbidden: () => a.catastrophic,
    outside: () => null,
    guarded: () => commandGuards(a, ctx),
    readOnly: a.readOnly,
    acceptEditsCovers: null,
    allowedBy: (rules, tool) => {
      // Every part must be allowed: one allowed part never carries a risky neighbour through.
      const allowed = a.parts.map((p) => (p.program !== null && !p.dynamic ? ruleFor(rules, 'allow', tool, (s) => matchesCommand(s, p.argv)) : undefined));
      if (a.parts.length === 0 || !allowed.every(Boolean)) return null;
      const texts = [...new Set(allowed.map((r) => r!.text))];
      return { reason: `allowed by ${texts.map((t) => `\`${t}\``).join(', ')}`, matchedRule: texts.join(', ') };
    },
    fallback: 'a command with effects the policy does not allow',
  };
}

/** What the parser cannot prove, writes to guarded or outside paths, and the lack of a sandbox. */
function commandGuards(a: ShellAnalysis, ctx: PolicyContext): string[] {
  const guarded: string[] = [...a.askReasons];
  // Globs, braces and computed words that could name a protected path (the analyser found an example of each).
  for (const t of a.protectedTargets) {
    const reason = protectedReason(t.example, ctx.workspace, ctx.home) ?? `${t.example} (${t.why})`;
    guarded.push(`${t.access === 'write' ? 'writes' : 'reads'} ${t.word}, which can name a protected path: ${reason}`);
  }
  for (const target of a.writes) {
    const abs = path.resolve(ctx.workspace, target.startsWith('~/') ? path.join(ctx.home ?? os.homedir(), target.slice(2)) : target);
    const reason = protectedReason(abs, ctx.workspace, ctx.home);
    if (reason) guarded.push(reason);
    else if (!isInside(ctx.workspace, abs) && !['/dev/null', '/dev/stdout', '/dev/stderr'].includes(abs)) guarded.push(`writes ${target}, outside the workspace`);
  }
  if (!ctx.sandboxAvailable) guarded.push('no OS sandbox is available on this worker, so every command needs a human');
  return guarded;
}

/** Tools with no path and no command: only rules naming the tool without a specifier apply. */
function noneSubject(tool: ToolName): Subject {
  const spec = TOOL_SPECS[tool];
  const unspecified = () => false;
  return {
    risk: spec.risk,
    matches: unspecified,
    notes: [],
    forbidden: () => null,
    outside: () => null,
    guarded: () => [],
    readOnly: !spec.writes,
    acceptEditsCovers: null,
    allowedBy: (rules) => singleAllow(rules, tool, unspecified),
    fallback: `${tool} is not allowed by any rule`,
  };
}

/**
 * An MCP tool: rules name it (no specifiers), and its risk is what its server's annotations said when
 * the task prepared. A read-only tool runs like a read; anything else asks unless a rule allows it.
 */
function mcpSubject(entry: McpToolEntry): Subject {
  const unspecified = () => false;
  return {
    risk: entry.risk,
    matches: unspecified,
    notes: [`MCP tool ${entry.tool} of server "${entry.server}" (${entry.hints})`],
    forbidden: () => null,
    outside: () => null,
    guarded: () => [],
    readOnly: entry.readOnly,
    acceptEditsCovers: null,
    allowedBy: (rules) => singleAllow(rules, entry.name, unspecified),
    fallback: `${entry.name} is not allowed by any rule`,
  };
}
