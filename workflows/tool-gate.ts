/**
 * The one gate every tool call passes, in every workflow that runs tools (a task, a team's worker
 * and verifier children): policy verdict → approval when asked → the tool as an activity. Its
 * approval desk (approval-desk.ts) holds the workflow's approvals and answers the decideApproval
 * update and the queued-decision signal, which the host registers, so a child workflow cannot
 * reach a tool except through the same rules, approvals and audit trail.
 * Workflow code: deterministic, no I/O.
 */
import * as wf from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ToolResultForModel } from '../domain/model-contract';
import type { ApproverKey } from '../domain/approver-signature';
import type { LedgerEntry } from '../domain/context';
import type { McpToolTarget, OfferedTool } from '../domain/mcp';
import type { Mode, NetworkGrant, RuleRecord } from '../domain/policy';
import type { ApprovalRecord, ApprovalRequest, TraceEntry } from '../domain/task';
import { MAX_TOOL_INPUT_BYTES, TOOL_SPECS, describeCall, isToolName } from '../domain/tool-catalog';
import { chat, gate, idempotentTools, sideEffectTools, state } from './activity-proxies';
import { ApprovalDesk, type ApprovalAsk, type ApprovalHost } from './approval-desk';
import { TaskHooks } from './task-hooks';
import { legacyPatch, sinceRelease2026_12 } from './release';

/** What the gate needs from the workflow that hosts it. */
export interface GateHost extends ApprovalHost {
  input: { workspace: string; mode: Mode; approvalTimeoutMs: number; submittedBy: string; approverKeys?: ApproverKey[] };
  /** The task's one-line summary, shown with approvals in chat. */
  summary(): string;
}

/** A tool call as the model (or a verifier's check) makes it; `oversizedBytes` when its arguments were too large to keep. */
export interface ToolCall {
  id: string;
  name: string;
  input: Record<string, unknown>;
  oversizedBytes?: number;
}

export type Authorization =
  | {
      ok: true;
      /** A catalog tool, or an MCP tool's namespaced name (then `mcp` says where it runs). */
      tool: string;
      input: Record<string, unknown>;
      mcp?: McpToolTarget;
      network: NetworkGrant | null;
      allowedWithoutHuman: boolean;
      decision: string;
    }
  | { ok: false; result: ToolResultForModel };

/** A call's answer: its tool_result, with how the tool ended and the head of its output when it ran. */
export type GateToolResult = ToolResultForModel & { status?: 'ok' | 'error' | 'outcome-unknown'; preview?: string };

type Cleared = Extract<Authorization, { ok: true }>;
type GateVerdict = Extract<Awaited<ReturnType<Activities['authorizeToolCall']>>, { kind: 'decided' }>;
type ToolOutcome = Awaited<ReturnType<Activities['runTool']>>;
type ChatPosting = NonNullable<Awaited<ReturnType<Activities['notifyApprovalRequested']>>>;

/** How much of a call's output (or of why it did not run) the ledger keeps. */
const PREVIEW = 240;

/** The gate of one workflow; its host registers the desk's approval handlers as soon as it is built. */
export class ToolGate {
  /** The workflow's approvals: pending requests, decisions, outcomes. */
  readonly desk: ApprovalDesk;
  /** The task's lifecycle hooks (none until the host sets the task's snapshot). */
  readonly hooks: TaskHooks;
  /** Every call the gate saw and what became of it: the verifier's, the answer's and the memory writer's view of the task. */
  readonly ledger: LedgerEntry[] = [];
  /** The policy snapshot (set by the host at its route stage), then "always" answers given during the task. */
  private policyRules: RuleRecord[] = [];
  /** The task's MCP catalog (descriptions, schemas, annotations), stored when it prepared; absent without MCP tools. */
  mcpCatalogRef: string | undefined;
  private readonly sessionRules: RuleRecord[] = [];
  private calls = 0;
  /** Set once a run_command started a background job, so the task stops its jobs when it ends. */
  private startedBackgroundJobs = false;

  constructor(private readonly host: GateHost) {
    this.desk = new ApprovalDesk(host);
    this.hooks = new TaskHooks(host);
  }

  /** Requests waiting for a human, by id. */
  get pending(): Map<string, ApprovalRequest> {
    return this.desk.pending;
  }

  /** Every settled request (decided or expired), in order. */
  get approvals(): ApprovalRecord[] {
    return this.desk.approvals;
  }

  /** Tool calls that ran (not the ones refused before running). */
  toolCalls(): number {
    return this.calls;
  }

  setPolicy(rules: RuleRecord[]): void {
    this.policyRules = rules;
  }

  setMcpCatalog(ref: string | undefined): void {
    this.mcpCatalogRef = ref;
  }

  /** The snapshot and this workflow's "always" answers, for children that must judge by the same rules. */
  rules(): RuleRecord[] {
    return [...this.policyRules, ...this.sessionRules];
  }

  /** Rules granted by "always" answers during this workflow. */
  grants(): RuleRecord[] {
    return [...this.sessionRules];
  }

  /** Forgets pending requests when the workflow ends (failed or cancelled). */
  clearPending(): void {
    this.desk.clear();
  }

  /**
   * Raises an approval request and waits for a decision; silence until expiry means deny.
   * `alwaysOffered`: an "always" answer would grant something, so chat offers that button.
   */
  async requestApproval(ask: ApprovalAsk, options: { alwaysOffered?: boolean } = {}): Promise<ApprovalRecord> {
    const request = this.desk.open(ask);
    // Chat (Slack, webhook) is told while the workflow waits, so a slow notification never delays a
    // decision. Whether chat is configured is the worker's business: without it the activity returns
    // at once. That costs one activity per approval but keeps deployment config out of the task input
    // and the workflow. Patched: histories recorded before this change have no such activity.
    const shown = legacyPatch('chat-approval-notify') ? this.showInChat(request, options.alwaysOffered ?? false) : null;
    // Notification hooks run while the request waits, like chat; what they say is only traced.
    const notified = this.hooks
      .approvalRequested(
        `The agent needs your approval: ${request.kind === 'tool' ? describeCall(request.tool, request.input as Record<string, unknown>) : 'accept the result'} (${request.requestId})`,
        {
          request_id: request.requestId,
          ...(request.kind === 'tool' ? { tool_name: request.tool, tool_input: request.input } : {}),
        },
      )
      .catch((err: Error) => this.host.note('note', `hooks: Notification hooks failed: ${failureMessage(err)}`));
    const answered = await this.desk.decided(request);
    const record = this.desk.settle(request, answered);
    await notified;
    // Awaited (bounded by the chat proxy's timeouts) so the message shows the outcome before the task moves on or ends.
    if (shown) await this.showOutcomeInChat(await shown, request, record);
    return record;
  }

  /**
   * The policy verdict for one call, asking a human when the policy says so. Returns either the
   * normalised call, cleared to run, or the tool_result that explains why it may not run.
   */
  async authorize(call: ToolCall, offered: OfferedTool[], turn = 0): Promise<Authorization> {
    if (call.oversizedBytes !== undefined) return this.refuseOversized(call, call.oversizedBytes, turn);
    const { workspace, mode } = this.host.input;
    const mcp = this.mcpCatalogRef ? { mcpCatalogRef: this.mcpCatalogRef } : {};
    const verdict = await gate.authorizeToolCall.executeWithOptions({ summary: `gate ${call.name}` }, [
      { tool: call.name, input: call.input, workspace, offeredTools: offered, mode, rules: this.rules(), ...mcp },
    ]);
    if (verdict.kind === 'invalid') {
      this.host.note('error', `${call.name}: ${verdict.message}`);
      return this.refuse(call, turn, `Error: ${verdict.message}`, 'invalid', 'invalid arguments');
    }
    const { decision, risk, reasons, matchedRule } = verdict.verdict;
    this.host.note('policy', `${verdict.tool} → ${decision} (${risk}; ${matchedRule ?? 'no rule'}): ${reasons.slice(0, 3).join('; ')}`);
    if (decision === 'deny') {
      return this.refuse(call, turn, `Denied by policy: ${reasons.join('; ')}. Do not retry this action.`, 'denied', `denied${matchedRule ? ` by ${matchedRule}` : ''}`);
    }
    // PreToolUse hooks narrow what the policy let through, before a person is asked: they may deny, or make an allowed call ask.
    const hooked = await this.hooks.beforeTool(call.id, verdict.tool, verdict.input);
    if (hooked?.decision === 'deny') {
      return this.refuse(call, turn, `Denied by a PreToolUse hook: ${hooked.reason}. Do not retry this action.`, 'denied', 'denied by a hook');
    }
    const hookAsks = hooked?.decision === 'ask';
    if (decision !== 'ask' && !hookAsks) return clearedCall(verdict, null);
    const ask = toolApprovalAsk(call.id, verdict);
    if (hookAsks) ask.reasons = [...ask.reasons, `a PreToolUse hook asks: ${hooked.reason}`];
    const record = await this.requestApproval(ask, { alwaysOffered: decision === 'ask' && verdict.grantRules.length > 0 });
    if (record.outcome !== 'approved') {
      const why = record.outcome === 'expired' ? 'nobody approved it in time, so it was treated as denied' : `the user denied it${record.reason ? ` (${record.reason})` : ''}`;
      return this.refuse(
        call,
        turn,
        `Not run: ${why}. Do not retry the same action; adapt the plan or explain what is blocked.`,
        'not-approved',
        `asked; ${record.outcome} by ${record.decidedBy}`,
      );
    }
    // "Always" grants what the policy asked about; a hook's ask is the hook's to make again next time.
    if (record.always && decision === 'ask' && verdict.grantRules.length) await this.rememberGrants(verdict.grantRules);
    return clearedCall(verdict, record.decidedBy);
  }

  /** Every tool call passes the gate; the answer is always a tool_result, whatever happens. */
  async callTool(call: ToolCall, offered: OfferedTool[], onOk?: (tool: string) => void, turn = 0): Promise<GateToolResult> {
    const cleared = await this.authorize(call, offered, turn);
    if (!cleared.ok) return cleared.result;
    const outcome = await this.runTool(call.id, cleared);
    this.calls++;
    if (cleared.tool === 'run_command' && cleared.input.background === true) this.startedBackgroundJobs = true;
    if (outcome.status === 'ok') onOk?.(cleared.tool);
    this.host.note(
      'tool',
      `${describeCall(cleared.tool, cleared.input)} → ${outcome.status}${outcome.truncated ? ` (${outcome.bytes} bytes, truncated)` : ''}: ${outcome.preview.split('\n')[0]!.slice(0, 160)}`,
    );
    this.host.publish();
    this.ledger.push(ledgerEntry(turn, cleared, outcome));
    const hookNote = await this.hooks.afterTool(call.id, cleared.tool, cleared.input, {
      status: outcome.status,
      isError: outcome.isError,
      output: outcome.content ?? outcome.preview,
    });
    return {
      toolUseId: call.id,
      isError: outcome.isError,
      content: outcome.content,
      contentRef: outcome.contentRef,
      ...(outcome.outputRef ? { outputRef: outcome.outputRef, bytes: outcome.bytes } : {}),
      ...(hookNote ? { hookNote } : {}),
      status: outcome.status,
      preview: outcome.preview,
    };
  }

  /** Background jobs never outlive the execute stage (or a failed/cancelled task). */
  async stopBackgroundJobs(): Promise<void> {
    if (!this.startedBackgroundJobs || !legacyPatch('stop-background-jobs')) return;
    this.startedBackgroundJobs = false;
    const stopped = await wf.CancellationScope.nonCancellable(() => state.stopBackgroundJobs.executeWithOptions({ summary: 'stop background jobs' }, [this.host.taskId]));
    if (stopped > 0) this.host.note('note', `stopped ${stopped} background job${stopped === 1 ? '' : 's'} still running`);
  }

  /** Stores the ledger so later stages can read it by reference (history holds only the ref); null for histories recorded before it. */
  async storeLedger(): Promise<string | undefined> {
    if (!sinceRelease2026_12()) return undefined;
    return await state.storeLedger.executeWithOptions({ summary: `store the ledger (${this.ledger.length} calls)` }, [this.ledger]);
  }

  /** A cleared call as an activity: retried freely when the tool is idempotent, through the effect journal when not. */
  private runTool(toolUseId: string, cleared: Cleared): Promise<ToolOutcome> {
    const idempotent = cleared.mcp ? cleared.mcp.idempotent : isToolName(cleared.tool) && TOOL_SPECS[cleared.tool].idempotent;
    const proxy = idempotent ? idempotentTools : sideEffectTools;
    const { workspace, submittedBy } = this.host.input;
    return proxy.runTool.executeWithOptions({ summary: describeCall(cleared.tool, cleared.input) }, [
      {
        toolUseId,
        tool: cleared.tool as Parameters<Activities['runTool']>[0]['tool'],
        input: cleared.input,
        ...(cleared.mcp ? { mcp: cleared.mcp } : {}),
        workspace,
        user: submittedBy,
        // Only through the sandbox's proxy, to these domains; never the host's network.
        network: cleared.network,
        // Allowed without a human because it would be sandboxed: a worker without a sandbox must not run it.
        requireSandbox: cleared.allowedWithoutHuman,
      },
    ]);
  }

  /** A call whose arguments were too large to keep is not run; the model is told how to split it. */
  private refuseOversized(call: ToolCall, bytes: number, turn: number): Authorization {
    const message = `the arguments of this ${call.name} call are ${bytes} bytes, over the ${MAX_TOOL_INPUT_BYTES / 1024} KB a tool call may carry, so it was not run`;
    this.host.note('error', `${call.name}: ${message}`);
    return this.refuse(
      call,
      turn,
      `Error: ${message}. Split it: write a large file in parts (write_file with the first part, then edit_file to append the rest).`,
      'invalid',
      'arguments too large',
    );
  }

  /** A call that may not run: in the ledger with why, and answered with an error tool_result saying so. */
  private refuse(call: ToolCall, turn: number, content: string, status: LedgerEntry['status'], decision: string): Authorization {
    this.ledger.push({ turn, tool: call.name, call: describeCall(call.name, call.input), status, decision, preview: content.slice(0, PREVIEW) });
    return { ok: false, result: { toolUseId: call.id, isError: true, content } };
  }

  /** An "always" answer: its rules hold for the rest of this workflow and are kept for the workspace. */
  private async rememberGrants(rules: RuleRecord[]): Promise<void> {
    this.sessionRules.push(...rules);
    this.host.note('policy', `remembered for this workspace: ${rules.map((r) => r.text).join(', ')}`);
    await state.persistGrants.executeWithOptions({ summary: 'remember "always" rules' }, [this.host.input.workspace, rules.map((r) => r.text)]);
  }

  /** Best effort: every failure goes to the trace and resolves to null; never throws, as nobody awaits it right away. */
  private async showInChat(request: ApprovalRequest, alwaysOffered: boolean): Promise<ChatPosting | null> {
    const { taskId, input } = this.host;
    try {
      const posting = await chat.notifyApprovalRequested.executeWithOptions({ summary: `show ${request.requestId} in chat` }, [
        { taskId, summary: this.host.summary(), workspace: input.workspace, submittedBy: input.submittedBy, request, alwaysOffered },
      ]);
      for (const e of posting?.errors ?? []) this.host.note('note', `chat: ${request.requestId} not shown in ${e}`);
      return posting;
    } catch (err) {
      this.host.note('note', `chat: ${request.requestId} not shown: ${failureMessage(err as Error)}`);
      return null;
    }
  }

  /** Replaces the buttons with the outcome wherever the request was shown. A failure is traced; cancellation still cancels. */
  private async showOutcomeInChat(posting: ChatPosting | null, request: ApprovalRequest, record: ApprovalRecord): Promise<void> {
    if (!posting || (!posting.slack && !posting.webhook)) return;
    const { taskId, input } = this.host;
    try {
      const errors = await chat.notifyApprovalResolved.executeWithOptions({ summary: `show outcome of ${request.requestId} in chat` }, [
        { taskId, summary: this.host.summary(), workspace: input.workspace, request, record, posting },
      ]);
      for (const e of errors) this.host.note('note', `chat: outcome of ${request.requestId} not shown in ${e}`);
    } catch (err) {
      if (wf.isCancellation(err)) throw err;
      this.host.note('note', `chat: outcome of ${request.requestId} not shown: ${failureMessage(err as Error)}`);
    }
  }
}

/** What a person is asked to approve for a call the policy asks about (with the change as a diff, for a file write). */
function toolApprovalAsk(toolUseId: string, verdict: GateVerdict): ApprovalAsk {
  const { risk, reasons } = verdict.verdict;
  return {
    kind: 'tool',
    toolUseId,
    tool: verdict.tool,
    input: verdict.input,
    risk,
    reasons,
    actionHash: verdict.actionHash,
    ...(verdict.preview ? { preview: verdict.preview } : {}),
  };
}

/** A call cleared to run, and how: allowed by the policy, or approved by the person named. */
function clearedCall(verdict: GateVerdict, approvedBy: string | null): Cleared {
  const { decision, matchedRule, network } = verdict.verdict;
  return {
    ok: true,
    tool: verdict.tool,
    input: verdict.input,
    ...(verdict.mcp ? { mcp: verdict.mcp } : {}),
    network: network ?? null,
    allowedWithoutHuman: decision === 'allow',
    decision: approvedBy ? `approved by ${approvedBy}` : `allowed${matchedRule ? ` by ${matchedRule}` : ''}`,
  };
}

/** The ledger's line for a call that ran. */
function ledgerEntry(turn: number, cleared: Cleared, outcome: ToolOutcome): LedgerEntry {
  return {
    turn,
    tool: cleared.tool,
    call: describeCall(cleared.tool, cleared.input),
    status: outcome.status,
    decision: cleared.decision,
    preview: outcome.preview.slice(0, PREVIEW),
    ...(outcome.outputRef ? { outputRef: outcome.outputRef } : {}),
    bytes: outcome.bytes,
    ...(cleared.mcp && !cleared.mcp.readOnly ? { changes: true } : {}),
  };
}

/**
 * The task's policy snapshot (builtin, user, workspace and task rules as they are now). An untrusted
 * workspace policy's ignored allow rules are said once in the trace. Histories recorded before
 * workspace trust replay through the older activity.
 */
export async function snapshotPolicy(workspace: string, taskRules: string[], note: (kind: TraceEntry['kind'], message: string) => void): Promise<RuleRecord[]> {
  if (!sinceRelease2026_12()) return await gate.loadPolicy.executeWithOptions({ summary: 'load policy' }, [workspace, taskRules]);
  const snapshot = await gate.loadPolicySnapshot.executeWithOptions({ summary: 'load policy' }, [workspace, taskRules]);
  for (const notice of snapshot.notices) note('note', notice);
  return snapshot.rules;
}

/** The innermost cause is what a person needs (e.g. "model API 400 error: ..."), not "Activity task failed". */
export function failureMessage(err: Error): string {
  let current: Error = err;
  while ((current as { cause?: unknown }).cause instanceof Error) current = (current as { cause: Error }).cause;
  return current.message;
}
