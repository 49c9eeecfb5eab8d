/**
 * The one gate every tool call passes, in every workflow that runs tools (a task, a team's worker
 * and verifier children): policy verdict → approval when asked → the tool as an activity. It owns
 * the approval state and the decideApproval update handler of the workflow that creates it, so a
 * child workflow cannot reach a tool except through the same rules, approvals and audit trail.
 * Workflow code: deterministic, no I/O.
 */
import * as wf from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ToolResultForModel } from '../domain/model-contract';
import { checkDecisionSignature, type ApproverKey } from '../domain/approver-signature';
import type { LedgerEntry } from '../domain/context';
import { decideApprovalUpdate, queuedDecisionSignal } from '../domain/messages';
import type { Mode, NetworkGrant, RuleRecord } from '../domain/policy';
import { ApprovalDecisionSchema, type ApprovalDecision, type ApprovalRecord, type ApprovalRequest, type TraceEntry } from '../domain/task';
import { MAX_TOOL_INPUT_BYTES, TOOL_SPECS, describeCall, type ToolName } from '../domain/tool-catalog';
import { chat, gate, idempotentTools, sideEffectTools, state } from './activity-proxies';
import { sinceRelease2026_12 } from './release';

/** What the gate needs from the workflow that hosts it. */
export interface GateHost {
  taskId: string;
  input: { workspace: string; mode: Mode; approvalTimeoutMs: number; submittedBy: string; approverKeys?: ApproverKey[] };
  /** The task's one-line summary, shown with approvals in chat. */
  summary(): string;
  note(kind: TraceEntry['kind'], message: string): void;
  /** Re-publishes status (search attributes, current details) after a change. */
  publish(): void;
  /** Called when requests become pending or are decided, before publish(). */
  onPendingChange(pending: ApprovalRequest[]): void;
  /** Request ids are `${requestPrefix}apr-N`; a team's children prefix their step so ids stay unique across the team. */
  requestPrefix?: string;
}

export type Authorization =
  | { ok: true; tool: ToolName; input: Record<string, unknown>; network: NetworkGrant | null; allowedWithoutHuman: boolean; decision: string }
  | { ok: false; result: ToolResultForModel };

export type ToolGate = ReturnType<typeof createToolGate>;

/** Creates the gate and registers the workflow's decideApproval update handler (one gate per workflow). */
export function createToolGate(host: GateHost) {
  const { taskId, input } = host;
  const pending = new Map<string, ApprovalRequest>();
  const decisions = new Map<string, ApprovalRecord>();
  const approvals: ApprovalRecord[] = [];
  /** The policy snapshot (set by the host at its route stage), then "always" answers given during the task. */
  let policyRules: RuleRecord[] = [];
  const sessionRules: RuleRecord[] = [];
  let approvalSeq = 0;
  let toolCalls = 0;
  /** Every call the gate saw and what became of it: the verifier's, the answer's and the memory writer's view of the task. */
  const ledger: LedgerEntry[] = [];
  const PREVIEW = 240;
  /** Set once a run_command started a background job, so the task stops its jobs when it ends. */
  let startedBackgroundJobs = false;
  const now = () => new Date().toISOString();
  const pendingChanged = () => host.onPendingChange([...pending.values()]);
  // Histories recorded before decisions were signed replay without the check (their decisions carry no signature).
  const signaturesRequired = sinceRelease2026_12();
  /** Unsigned or forged decisions recorded per request; past the cap the validator refuses them unrecorded, so they cannot flood history. */
  const forgeries = new Map<string, number>();
  const MAX_RECORDED_FORGERIES = 3;
  const signatureCheck = (decision: ApprovalDecision, request: ApprovalRequest) =>
    checkDecisionSignature(input.approverKeys ?? [], { workflowId: taskId, requestId: request.requestId, actionHash: request.actionHash, requestedAt: request.requestedAt }, decision);

  /** Why a decision cannot be applied (stale, duplicate, expired, for another action, or a forgery past the cap), or null. */
  const refusal = (decision: ApprovalDecision): string | null => {
    const decided = decisions.get(decision.requestId) ?? approvals.find((a) => a.requestId === decision.requestId);
    if (decided) return `approval request ${decision.requestId} was already ${decided.outcome} by ${decided.decidedBy} at ${decided.decidedAt}`;
    const request = pending.get(decision.requestId);
    if (!request) return `task ${taskId} has no approval request ${decision.requestId}`;
    if (Date.now() >= Date.parse(request.expiresAt)) return `approval request ${decision.requestId} expired at ${request.expiresAt}`;
    if (decision.actionHash !== request.actionHash) {
      return `approval request ${decision.requestId} is for a different action (action hash mismatch); nothing was approved`;
    }
    const forged = pastForgeryCap(decision, request);
    return forged ? `rejected: ${forged}; nothing was decided` : null;
  };
  /** Why a decision is forged, when as many forgeries as are recorded per request came before it (it is refused untraced, so forgeries cannot flood history). */
  const pastForgeryCap = (decision: ApprovalDecision, request: ApprovalRequest): string | null => {
    if (!signaturesRequired || (forgeries.get(request.requestId) ?? 0) < MAX_RECORDED_FORGERIES) return null;
    const signed = signatureCheck(decision, request);
    return signed.ok ? null : signed.reason;
  };

  /** Applies a decision that passed refusal(): records it, or records a forged one and throws. */
  const apply = (decision: ApprovalDecision): ApprovalRecord => {
    const request = pending.get(decision.requestId)!;
    const signed = signaturesRequired ? signatureCheck(decision, request) : null;
    if (signed && !signed.ok) {
      // Accepted only to be recorded: a decision nobody could have signed is an attack on the approval, and the trace says so.
      forgeries.set(request.requestId, (forgeries.get(request.requestId) ?? 0) + 1);
      host.note('approval', `approval ${request.requestId}: a decision claiming to be ${decision.approve ? 'an approval' : 'a denial'} by ${decision.decidedBy} via ${decision.channel} was REJECTED: ${signed.reason}`);
      throw wf.ApplicationFailure.nonRetryable(`rejected: ${signed.reason}; nothing was decided`, 'UnsignedDecision');
    }
    const record: ApprovalRecord = {
      requestId: request.requestId,
      tool: request.tool,
      actionHash: request.actionHash,
      outcome: decision.approve ? 'approved' : 'denied',
      always: decision.approve && decision.always,
      reason: decision.reason ?? null,
      decidedBy: decision.decidedBy,
      channel: decision.channel,
      decidedAt: now(),
      ...(signed?.ok ? { signedBy: signed.key.label } : {}),
    };
    decisions.set(request.requestId, record);
    return record;
  };

  wf.setHandler(decideApprovalUpdate, apply, {
    // Rejected updates never reach history: a stale, duplicate or tampered decision changes nothing.
    validator: (raw: ApprovalDecision) => {
      const reason = refusal(ApprovalDecisionSchema.parse(raw));
      if (reason) throw new Error(reason);
    },
  });

  // A decision queued while no worker ran is in history whatever it says: the same checks apply
  // now, and one that fails them is named in the trace (past the forgery cap, silently).
  wf.setHandler(queuedDecisionSignal, (raw: ApprovalDecision) => {
    const parsed = ApprovalDecisionSchema.safeParse(raw);
    if (!parsed.success) return host.note('approval', `a queued decision was not applied: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    const request = pending.get(parsed.data.requestId);
    if (request && pastForgeryCap(parsed.data, request)) return;
    const reason = refusal(parsed.data);
    if (reason) return host.note('approval', `a decision queued while no worker ran was not applied: ${reason}`);
    try {
      apply(parsed.data);
    } catch {
      // A forgery: apply() has put it in the trace.
    }
  });

  /**
   * Raises an approval request and waits for a decision; silence until expiry means deny.
   * `alwaysOffered`: an "always" answer would grant something, so chat offers that button.
   */
  async function requestApproval(
    ask: Omit<ApprovalRequest, 'requestId' | 'requestedAt' | 'expiresAt'>,
    options: { alwaysOffered?: boolean } = {},
  ): Promise<ApprovalRecord> {
    const requestId = `${host.requestPrefix ?? ''}apr-${++approvalSeq}`;
    const requestedAt = Date.now();
    const request: ApprovalRequest = {
      ...ask,
      requestId,
      requestedAt: new Date(requestedAt).toISOString(),
      expiresAt: new Date(requestedAt + input.approvalTimeoutMs).toISOString(),
    };
    pending.set(requestId, request);
    pendingChanged();
    host.note('approval', `approval ${requestId} requested: ${ask.tool} (${ask.risk}) — ${ask.reasons.join('; ')}`);
    host.publish();
    // Chat (Slack, webhook) is told while the workflow waits, so a slow notification never delays a
    // decision. Whether chat is configured is the worker's business: without it the activity returns
    // at once. That costs one activity per approval but keeps deployment config out of the task input
    // and the workflow. Patched: histories recorded before this change have no such activity.
    const shown = wf.patched('chat-approval-notify') ? showInChat(request, options.alwaysOffered ?? false) : null;
    const answered = await wf.condition(() => decisions.has(requestId), input.approvalTimeoutMs);
    pending.delete(requestId);
    const record: ApprovalRecord = answered
      ? decisions.get(requestId)!
      : {
          requestId,
          tool: ask.tool,
          actionHash: ask.actionHash,
          outcome: 'expired',
          always: false,
          reason: `no decision within ${Math.round(input.approvalTimeoutMs / 1000)}s`,
          decidedBy: 'timeout',
          channel: 'timeout',
          decidedAt: now(),
        };
    approvals.push(record);
    pendingChanged();
    host.note('approval', `approval ${requestId} ${record.outcome} by ${record.decidedBy} via ${record.channel}${record.reason ? `: ${record.reason}` : ''}`);
    host.publish();
    // Awaited (bounded by the chat proxy's timeouts) so the message shows the outcome before the task moves on or ends.
    if (shown) await showOutcomeInChat(await shown, request, record);
    return record;
  }

  type ChatPosting = NonNullable<Awaited<ReturnType<Activities['notifyApprovalRequested']>>>;

  /** Best effort: every failure goes to the trace and resolves to null; never throws, as nobody awaits it right away. */
  async function showInChat(request: ApprovalRequest, alwaysOffered: boolean): Promise<ChatPosting | null> {
    try {
      const posting = await chat.notifyApprovalRequested.executeWithOptions({ summary: `show ${request.requestId} in chat` }, [
        { taskId, summary: host.summary(), workspace: input.workspace, submittedBy: input.submittedBy, request, alwaysOffered },
      ]);
      for (const e of posting?.errors ?? []) host.note('note', `chat: ${request.requestId} not shown in ${e}`);
      return posting;
    } catch (err) {
      host.note('note', `chat: ${request.requestId} not shown: ${failureMessage(err as Error)}`);
      return null;
    }
  }

  /** Replaces the buttons with the outcome wherever the request was shown. A failure is traced; cancellation still cancels. */
  async function showOutcomeInChat(posting: ChatPosting | null, request: ApprovalRequest, record: ApprovalRecord): Promise<void> {
    if (!posting || (!posting.slack && !posting.webhook)) return;
    try {
      const errors = await chat.notifyApprovalResolved.executeWithOptions({ summary: `show outcome of ${request.requestId} in chat` }, [
        { taskId, summary: host.summary(), workspace: input.workspace, request, record, posting },
      ]);
      for (const e of errors) host.note('note', `chat: outcome of ${request.requestId} not shown in ${e}`);
    } catch (err) {
      if (wf.isCancellation(err)) throw err;
      host.note('note', `chat: outcome of ${request.requestId} not shown: ${failureMessage(err as Error)}`);
    }
  }

  /**
   * The policy verdict for one call, asking a human when the policy says so. Returns either the
   * normalised call, cleared to run, or the tool_result that explains why it may not run.
   */
  async function authorize(call: { id: string; name: string; input: Record<string, unknown>; oversizedBytes?: number }, offered: ToolName[], turn = 0): Promise<Authorization> {
    const fail = (content: string, status: LedgerEntry['status'] = 'denied', decision = 'policy'): Authorization => {
      ledger.push({ turn, tool: call.name, call: describeCall(call.name, call.input), status, decision, preview: content.slice(0, PREVIEW) });
      return { ok: false, result: { toolUseId: call.id, isError: true, content } };
    };
    if (call.oversizedBytes !== undefined) {
      const message = `the arguments of this ${call.name} call are ${call.oversizedBytes} bytes, over the ${MAX_TOOL_INPUT_BYTES / 1024} KB a tool call may carry, so it was not run`;
      host.note('error', `${call.name}: ${message}`);
      return fail(`Error: ${message}. Split it: write a large file in parts (write_file with the first part, then edit_file to append the rest).`, 'invalid', 'arguments too large');
    }
    const verdict = await gate.authorizeToolCall.executeWithOptions({ summary: `gate ${call.name}` }, [
      { tool: call.name, input: call.input, workspace: input.workspace, offeredTools: offered, mode: input.mode, rules: [...policyRules, ...sessionRules] },
    ]);
    if (verdict.kind === 'invalid') {
      host.note('error', `${call.name}: ${verdict.message}`);
      return fail(`Error: ${verdict.message}`, 'invalid', 'invalid arguments');
    }
    const { decision, risk, reasons, matchedRule } = verdict.verdict;
    let approvedBy: string | null = null;
    host.note('policy', `${verdict.tool} → ${decision} (${risk}; ${matchedRule ?? 'no rule'}): ${reasons.slice(0, 3).join('; ')}`);
    if (decision === 'deny') return fail(`Denied by policy: ${reasons.join('; ')}. Do not retry this action.`, 'denied', `denied${matchedRule ? ` by ${matchedRule}` : ''}`);
    if (decision === 'ask') {
      const record = await requestApproval(
        { kind: 'tool', toolUseId: call.id, tool: verdict.tool, input: verdict.input, risk, reasons, actionHash: verdict.actionHash, ...(verdict.preview ? { preview: verdict.preview } : {}) },
        { alwaysOffered: verdict.grantRules.length > 0 },
      );
      if (record.outcome !== 'approved') {
        const why = record.outcome === 'expired' ? 'nobody approved it in time, so it was treated as denied' : `the user denied it${record.reason ? ` (${record.reason})` : ''}`;
        return fail(`Not run: ${why}. Do not retry the same action; adapt the plan or explain what is blocked.`, 'not-approved', `asked; ${record.outcome} by ${record.decidedBy}`);
      }
      approvedBy = record.decidedBy;
      if (record.always && verdict.grantRules.length) {
        sessionRules.push(...verdict.grantRules);
        host.note('policy', `remembered for this workspace: ${verdict.grantRules.map((r) => r.text).join(', ')}`);
        await state.persistGrants.executeWithOptions({ summary: 'remember "always" rules' }, [input.workspace, verdict.grantRules.map((r) => r.text)]);
      }
    }
    return {
      ok: true,
      tool: verdict.tool,
      input: verdict.input,
      network: verdict.verdict.network ?? null,
      allowedWithoutHuman: decision === 'allow',
      decision: approvedBy ? `approved by ${approvedBy}` : `allowed${matchedRule ? ` by ${matchedRule}` : ''}`,
    };
  }

  /** Every tool call passes the gate; the answer is always a tool_result, whatever happens. */
  async function callTool(
    call: { id: string; name: string; input: Record<string, unknown>; oversizedBytes?: number },
    offered: ToolName[],
    onOk?: (tool: ToolName) => void,
    turn = 0,
  ): Promise<ToolResultForModel & { status?: 'ok' | 'error' | 'outcome-unknown'; preview?: string }> {
    const cleared = await authorize(call, offered, turn);
    if (!cleared.ok) return cleared.result;
    const proxy = TOOL_SPECS[cleared.tool].idempotent ? idempotentTools : sideEffectTools;
    const outcome = await proxy.runTool.executeWithOptions({ summary: describeCall(cleared.tool, cleared.input) }, [
      {
        toolUseId: call.id,
        tool: cleared.tool,
        input: cleared.input,
        workspace: input.workspace,
        user: input.submittedBy,
        // Only through the sandbox's proxy, to these domains; never the host's network.
        network: cleared.network,
        // Allowed without a human because it would be sandboxed: a worker without a sandbox must not run it.
        requireSandbox: cleared.allowedWithoutHuman,
      },
    ]);
    toolCalls++;
    if (cleared.tool === 'run_command' && cleared.input.background === true) startedBackgroundJobs = true;
    if (outcome.status === 'ok') onOk?.(cleared.tool);
    host.note('tool', `${describeCall(cleared.tool, cleared.input)} → ${outcome.status}${outcome.truncated ? ` (${outcome.bytes} bytes, truncated)` : ''}: ${outcome.preview.split('\n')[0]!.slice(0, 160)}`);
    host.publish();
    ledger.push({
      turn,
      tool: cleared.tool,
      call: describeCall(cleared.tool, cleared.input),
      status: outcome.status,
      decision: cleared.decision,
      preview: outcome.preview.slice(0, PREVIEW),
      ...(outcome.outputRef ? { outputRef: outcome.outputRef } : {}),
      bytes: outcome.bytes,
    });
    return {
      toolUseId: call.id,
      isError: outcome.isError,
      content: outcome.content,
      contentRef: outcome.contentRef,
      ...(outcome.outputRef ? { outputRef: outcome.outputRef, bytes: outcome.bytes } : {}),
      status: outcome.status,
      preview: outcome.preview,
    };
  }

  /** Background jobs never outlive the execute stage (or a failed/cancelled task). */
  async function stopBackgroundJobs() {
    if (!startedBackgroundJobs || !wf.patched('stop-background-jobs')) return;
    startedBackgroundJobs = false;
    const stopped = await wf.CancellationScope.nonCancellable(() =>
      state.stopBackgroundJobs.executeWithOptions({ summary: 'stop background jobs' }, [taskId]),
    );
    if (stopped > 0) host.note('note', `stopped ${stopped} background job${stopped === 1 ? '' : 's'} still running`);
  }

  /** Stores the ledger so later stages can read it by reference (history holds only the ref); null for histories recorded before it. */
  async function storeLedger(): Promise<string | undefined> {
    if (!sinceRelease2026_12()) return undefined;
    return await state.storeLedger.executeWithOptions({ summary: `store the ledger (${ledger.length} calls)` }, [ledger]);
  }

  return {
    pending,
    approvals,
    ledger,
    storeLedger,
    toolCalls: () => toolCalls,
    setPolicy(rules: RuleRecord[]) {
      policyRules = rules;
    },
    /** The snapshot and this workflow's "always" answers, for children that must judge by the same rules. */
    rules: (): RuleRecord[] => [...policyRules, ...sessionRules],
    /** Rules granted by "always" answers during this workflow. */
    grants: (): RuleRecord[] => [...sessionRules],
    requestApproval,
    authorize,
    callTool,
    stopBackgroundJobs,
    /** Forgets pending requests when the workflow ends (failed or cancelled). */
    clearPending() {
      pending.clear();
      pendingChanged();
    },
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
