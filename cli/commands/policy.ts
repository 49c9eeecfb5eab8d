/**
 * `agent policy check|list|add|remove`. `check` is the dry-run interface scripts and audits rely on:
 * it prints exactly what the gate would decide for a call, performs nothing, and exits 0.
 */
import os from 'node:os';
import { UserError } from '../../client/user-error';
import { isToolName, TOOL_NAMES, TOOL_SPECS } from '../../domain/tool-catalog';
import { isMcpToolName, mcpServerOf } from '../../domain/mcp';
import { decide, evaluate } from '../../services/policy/evaluate';
import { hostsNamedIn, networkGrant } from '../../services/policy/network-policy';
import { PolicyFileError, PolicySources } from '../../services/policy/policy-sources';
import { parseRule, RuleSyntaxError } from '../../services/policy/rules';
import { analyzeShell } from '../../services/policy/shell/analyze';
import { detectSandbox } from '../../services/sandbox/bubblewrap';
import { parseMode, parseTaskRules, resolveWorkspace } from '../arguments';
import type { CliContext } from '../cli-context';

export async function policyCheckCommand(ctx: CliContext, options: { tool?: string; input?: string; workspace?: string; mode?: string; rules: string[] }): Promise<number> {
  if (options.tool && isMcpToolName(options.tool)) return await mcpPolicyCheck(ctx, options.tool, options);
  if (!options.tool || !isToolName(options.tool)) throw new UserError(`--tool must be one of ${TOOL_NAMES.join(', ')}, or an MCP tool (mcp__<server>__<tool>)`, 2);
  let raw: unknown;
  try {
    raw = JSON.parse(options.input ?? '{}');
  } catch (err) {
    throw new UserError(`--input is not valid JSON: ${(err as Error).message}`, 2);
  }
  const workspace = await resolveWorkspace(options.workspace ?? process.cwd());
  const parsed = TOOL_SPECS[options.tool].input.safeParse(raw);
  if (!parsed.success) throw new UserError(`invalid --input for ${options.tool}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 2);
  const rules = [...(await policySources(ctx).load(workspace)), ...parseTaskRules(options.rules).map((r) => parseRule(r, 'task'))];
  const sandbox = await detectSandbox();
  const verdict = await decide(options.tool, parsed.data as Record<string, unknown>, { workspace, mode: parseMode(options.mode), rules, sandboxAvailable: sandbox.available });
  // The same network grant the gate would attach: the domains the command's sandbox proxy would let through.
  const network =
    verdict.allowNetwork && options.tool === 'run_command'
      ? networkGrant(
          rules,
          hostsNamedIn((await analyzeShell(String((parsed.data as { command: string }).command), { workspace, home: os.homedir() })).parts.flatMap((p) => p.argv)),
        )
      : null;
  const out = { decision: verdict.decision, risk: verdict.risk, reasons: verdict.reasons, matchedRule: verdict.matchedRule, ...(network ? { network } : {}) };
  if (ctx.json) ctx.emit(out);
  else {
    ctx.out(`${verdict.decision}  (risk: ${verdict.risk}${verdict.matchedRule ? `; rule: ${verdict.matchedRule}` : ''})`);
    for (const r of verdict.reasons) ctx.out(`  - ${r}`);
    if (network)
      ctx.out(`  network: only through the sandbox proxy, to ${network.allow.join(', ') || 'no domain'}${network.deny.length ? ` (denied: ${network.deny.join(', ')})` : ''}`);
    if (!sandbox.available) ctx.out(`  (no OS sandbox on this machine: ${sandbox.reason})`);
  }
  return 0;
}

/**
 * An MCP tool's decision: its server is started as a worker would start it (its annotations give the
 * risk), then the same chain judges it. Performs nothing else.
 */
async function mcpPolicyCheck(ctx: CliContext, tool: string, options: { workspace?: string; mode?: string; rules: string[] }): Promise<number> {
  const workspace = await resolveWorkspace(options.workspace ?? process.cwd());
  const server = mcpServerOf(tool)!;
  const mcp = (await import('./mcp')).mcpHub(ctx);
  let entry;
  try {
    const probe = await mcp.probe(workspace, server).catch((err: Error) => {
      throw new UserError(`MCP server "${server}" failed: ${err.message}`);
    });
    entry = probe.tools.find((t) => t.name === tool);
    if (!entry) throw new UserError(`MCP server "${server}" has no tool ${tool} (its tools: ${probe.tools.map((t) => t.name).join(', ')})`, 2);
  } finally {
    await mcp.close();
  }
  const rules = [...(await policySources(ctx).load(workspace)), ...parseTaskRules(options.rules).map((r) => parseRule(r, 'task'))];
  const sandbox = await detectSandbox();
  const verdict = evaluate(tool, { kind: 'mcp', entry }, { workspace, mode: parseMode(options.mode), rules, sandboxAvailable: sandbox.available });
  if (ctx.json) ctx.emit({ decision: verdict.decision, risk: verdict.risk, reasons: verdict.reasons, matchedRule: verdict.matchedRule });
  else {
    ctx.out(`${verdict.decision}  (risk: ${verdict.risk}${verdict.matchedRule ? `; rule: ${verdict.matchedRule}` : ''})`);
    for (const r of verdict.reasons) ctx.out(`  - ${r}`);
  }
  return 0;
}

export async function policyListCommand(ctx: CliContext, workspaceArg: string | undefined): Promise<number> {
  const workspace = await resolveWorkspace(workspaceArg ?? process.cwd());
  const snapshot = await policySources(ctx).snapshot(workspace);
  if (ctx.json)
    ctx.emit([
      ...snapshot.rules.map(({ text, source }) => ({ rule: text, source })),
      ...snapshot.ignored.map(({ text, source }) => ({ rule: text, source, ignored: 'workspace policy not trusted' })),
    ]);
  else {
    for (const r of snapshot.rules) ctx.out(`${r.source.padEnd(10)} ${r.text}`);
    for (const r of snapshot.ignored) ctx.out(`${'ignored'.padEnd(10)} ${r.text}   (untrusted workspace policy)`);
    for (const n of snapshot.notices) ctx.out(`\nnote: ${n}`);
  }
  return 0;
}

/** `agent trust [DIR] [--revoke]`: trust (or stop trusting) the current content of the workspace's policy, MCP and hooks files. */
export async function trustCommand(ctx: CliContext, workspaceArg: string | undefined, revoke: boolean): Promise<number> {
  const workspace = await resolveWorkspace(workspaceArg ?? process.cwd());
  const sources = policySources(ctx);
  if (revoke) {
    const had = await sources.untrust(workspace);
    ctx.out(
      had ? `no longer trusting ${workspace}: from the next task on its policy's allow rules are ignored and its MCP servers and hooks do not run` : `${workspace} was not trusted`,
    );
    return 0;
  }
  let trusted: { file: string; sha256: string }[];
  let snapshot;
  try {
    snapshot = await sources.snapshot(workspace);
    trusted = await sources.trust(workspace);
  } catch (err) {
    if (err instanceof PolicyFileError) throw new UserError(err.message, 2);
    throw err;
  }
  const widened = snapshot.ignored.length ? snapshot.ignored : snapshot.rules.filter((r) => r.source === 'workspace' && r.effect === 'allow');
  if (ctx.json) ctx.emit({ workspace, files: trusted, allowRules: widened.map((r) => r.text) });
  else {
    for (const t of trusted) ctx.out(`trusted ${t.file} (sha256 ${t.sha256.slice(0, 16)}…)`);
    if (widened.length) ctx.out(`its allow rules now apply:\n${widened.map((r) => `  ${r.text}`).join('\n')}`);
    ctx.out('a change to any of these files needs `agent trust` again');
  }
  return 0;
}

function policySources(ctx: CliContext): PolicySources {
  return new PolicySources(ctx.config.home, ctx.config.userDir);
}

export async function policyEditCommand(ctx: CliContext, action: 'add' | 'remove', rule: string | undefined, workspaceArg: string | undefined): Promise<number> {
  if (!rule) throw new UserError(`missing the rule, e.g. agent policy ${action} "allow run_command(npm run build)"`, 2);
  const workspace = workspaceArg ? await resolveWorkspace(workspaceArg) : undefined;
  const sources = policySources(ctx);
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
