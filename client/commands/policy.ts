/**
 * `agent policy check|list|add|remove`. `check` is the dry-run interface scripts and audits rely on:
 * it prints exactly what the gate would decide for a call, performs nothing, and exits 0.
 */
import { MODES, type Mode } from '../../domain/policy';
import { isToolName, TOOL_NAMES, TOOL_SPECS } from '../../domain/tool-catalog';
import { decide } from '../../services/policy/engine';
import { PolicySources } from '../../services/policy/policy-sources';
import { parseRule, RuleSyntaxError } from '../../services/policy/rules';
import { detectSandbox } from '../../services/sandbox/bubblewrap';
import type { CliContext } from '../cli-context';
import { UserError } from '../task-client';
import { resolveWorkspace } from './run';

export function parseMode(text: string | undefined): Mode {
  if (text === undefined) return 'default';
  if (!(MODES as readonly string[]).includes(text)) throw new UserError(`--mode must be one of ${MODES.join(', ')}, got "${text}"`, 2);
  return text as Mode;
}

/** Validates task-level rules before they are submitted, so a typo fails here and not in the worker. */
export function parseTaskRules(texts: string[]): string[] {
  return texts.map((t) => {
    try {
      return parseRule(t, 'task').text;
    } catch (err) {
      throw new UserError(`--rule: ${(err as Error).message}`, 2);
    }
  });
}

export async function policyCheckCommand(
  ctx: CliContext,
  options: { tool?: string; input?: string; workspace?: string; mode?: string; rules: string[] },
): Promise<number> {
  if (!options.tool || !isToolName(options.tool)) throw new UserError(`--tool must be one of ${TOOL_NAMES.join(', ')}`, 2);
  let raw: unknown;
  try {
    raw = JSON.parse(options.input ?? '{}');
  } catch (err) {
    throw new UserError(`--input is not valid JSON: ${(err as Error).message}`, 2);
  }
  const workspace = await resolveWorkspace(options.workspace ?? process.cwd());
  const parsed = TOOL_SPECS[options.tool].input.safeParse(raw);
  if (!parsed.success) throw new UserError(`invalid --input for ${options.tool}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 2);
  const rules = [...(await new PolicySources(ctx.config.home).load(workspace)), ...parseTaskRules(options.rules).map((r) => parseRule(r, 'task'))];
  const sandbox = await detectSandbox();
  const verdict = await decide(options.tool, parsed.data as Record<string, unknown>, { workspace, mode: parseMode(options.mode), rules, sandboxAvailable: sandbox.available });
  const out = { decision: verdict.decision, risk: verdict.risk, reasons: verdict.reasons, matchedRule: verdict.matchedRule };
  if (ctx.json) ctx.emit(out);
  else {
    ctx.out(`${verdict.decision}  (risk: ${verdict.risk}${verdict.matchedRule ? `; rule: ${verdict.matchedRule}` : ''})`);
    for (const r of verdict.reasons) ctx.out(`  - ${r}`);
    if (!sandbox.available) ctx.out(`  (no OS sandbox on this machine: ${sandbox.reason})`);
  }
  return 0;
}

export async function policyListCommand(ctx: CliContext, workspaceArg: string | undefined): Promise<number> {
  const workspace = await resolveWorkspace(workspaceArg ?? process.cwd());
  const rules = await new PolicySources(ctx.config.home).load(workspace);
  if (ctx.json) ctx.emit(rules.map(({ text, source }) => ({ rule: text, source })));
  else for (const r of rules) ctx.out(`${r.source.padEnd(10)} ${r.text}`);
  return 0;
}

export async function policyEditCommand(ctx: CliContext, action: 'add' | 'remove', rule: string | undefined, workspaceArg: string | undefined): Promise<number> {
  if (!rule) throw new UserError(`missing the rule, e.g. agent policy ${action} "allow run_command(npm run build)"`, 2);
  const workspace = workspaceArg ? await resolveWorkspace(workspaceArg) : undefined;
  const sources = new PolicySources(ctx.config.home);
  try {
    if (action === 'add') {
      await sources.add([rule], workspace);
      ctx.out(`added \`${parseRule(rule, 'user').text}\`${workspace ? ` for ${workspace}` : ''} to ${sources.userFile}`);
    } else {
      const removed = await sources.remove(rule, workspace);
      if (!removed) throw new UserError(`no such user rule: ${rule} (see \`agent policy list\`)`);
      ctx.out(`removed \`${parseRule(rule, 'user').text}\``);
    }
  } catch (err) {
    if (err instanceof RuleSyntaxError) throw new UserError(err.message, 2);
    throw err;
  }
  return 0;
}
