/**
 * The approvals of one workflow: its pending requests, the decisions that arrive for them, and
 * every outcome. A decision comes by the decideApproval update (its validator refuses a stale,
 * duplicate, expired or tampered one before it reaches history) or, when it was sent while no
 * worker ran, by the queued-decision signal (already in history, so judged by the same checks and
 * traced when refused). The desk holds the state and answers both; the workflow's host registers
 * them (task-host.ts). Workflow code: deterministic, no I/O.
 */
import * as wf from '@temporalio/workflow';
import { checkDecisionSignature, signedRequestOf, type ApproverKey } from '../domain/approver-signature';
import { ApprovalDecisionSchema, type ApprovalDecision, type ApprovalRecord, type ApprovalRequest, type TraceEntry } from '../domain/task';
import { sinceRelease2026_12, sinceRelease2026_12_06_2 } from './release';

/** What the desk needs from the workflow that hosts it. */
export interface ApprovalHost {
  taskId: string;
  input: { approvalTimeoutMs: number; approverKeys?: ApproverKey[] };
  note(kind: TraceEntry['kind'], message: string): void;
  /** Re-publishes status (search attributes, current details) after a change. */
  publish(): void;
  /** Called when requests become pending or are decided, before publish(). */
  onPendingChange(pending: ApprovalRequest[]): void;
  /** Request ids are `${requestPrefix}apr-N`; a team's children prefix their step so ids stay unique across the team. */
  requestPrefix?: string;
}

/** What a caller asks approval for; the desk names and times the request. */
export type ApprovalAsk = Omit<ApprovalRequest, 'requestId' | 'requestedAt' | 'expiresAt' | 'nonce'>;

/** Unsigned or forged decisions recorded per request; past the cap they are refused unrecorded, so they cannot flood history. */
const MAX_RECORDED_FORGERIES = 3;

const now = () => new Date().toISOString();

/** One workflow's approvals; its handlers are arrow properties so the host can register them as they are. */
export class ApprovalDesk {
  /** Requests waiting for a decision, by id. */
  readonly pending = new Map<string, ApprovalRequest>();
  /** Every settled request (decided or expired), in the order they were settled. */
  readonly approvals: ApprovalRecord[] = [];
  /** Decisions applied to pending requests, until their waiters settle them. */
  private readonly decisions = new Map<string, ApprovalRecord>();
  private readonly forgeries = new Map<string, number>();
  private seq = 0;
  // Histories recorded before decisions were signed replay without the check (their decisions carry no signature).
  private readonly signaturesRequired = sinceRelease2026_12();
  // Histories recorded before requests carried a nonce replay with decisions signed over the request time.
  private readonly nonceBound = sinceRelease2026_12_06_2();

  constructor(private readonly host: ApprovalHost) {}

  /** The decideApproval update's validator: throws why a decision cannot be applied. */
  readonly validate = (raw: ApprovalDecision): void => {
    // Rejected updates never reach history: a stale, duplicate or tampered decision changes nothing.
    const reason = this.refusal(ApprovalDecisionSchema.parse(raw));
    if (reason) throw new Error(reason);
  };

  /** The decideApproval update: applies a decision that passed validate(), or records a forged one and throws. */
  readonly decide = (decision: ApprovalDecision): ApprovalRecord => {
    const request = this.pending.get(decision.requestId)!;
    const signed = this.signaturesRequired ? this.signatureCheck(decision, request) : null;
    if (signed && !signed.ok) this.rejectForgery(decision, request, signed.reason);
    const record = decisionRecord(request, decision, signed?.ok ? signed.key.label : undefined);
    this.decisions.set(request.requestId, record);
    return record;
  };

  /**
   * The queued-decision signal. A decision queued while no worker ran is in history whatever it
   * says: the same checks apply now, and one that fails them is named in the trace (past the
   * forgery cap, silently).
   */
  readonly applyQueued = (raw: ApprovalDecision): void => {
    const parsed = ApprovalDecisionSchema.safeParse(raw);
    if (!parsed.success) return this.host.note('approval', `a queued decision was not applied: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    const request = this.pending.get(parsed.data.requestId);
    if (request && this.pastForgeryCap(parsed.data, request)) return;
    // A request still pending has not expired (its timer settles it), so the clock is not asked: it could read differently on replay.
    const reason = this.refusal(parsed.data, { expiry: false });
    if (reason) return this.host.note('approval', `a decision queued while no worker ran was not applied: ${reason}`);
    try {
      this.decide(parsed.data);
    } catch {
      // A forgery: decide() has put it in the trace.
    }
  };

  /** Opens a request: pending (and published) from now until a decision or the approval timeout. */
  open(ask: ApprovalAsk): ApprovalRequest {
    const requestId = `${this.host.requestPrefix ?? ''}apr-${++this.seq}`;
    const requestedAt = Date.now();
    const request: ApprovalRequest = {
      ...ask,
      requestId,
      requestedAt: new Date(requestedAt).toISOString(),
      expiresAt: new Date(requestedAt + this.host.input.approvalTimeoutMs).toISOString(),
      // Signatures cover the nonce, not the time: workflow time after a local activity is not the
      // same when the history replays, and a check that judged a decision differently on replay
      // would leave the wait for it unresolved (a nondeterminism error).
      ...(this.nonceBound ? { nonce: wf.uuid4() } : {}),
    };
    this.pending.set(requestId, request);
    this.pendingChanged();
    this.host.note('approval', `approval ${requestId} requested: ${ask.tool} (${ask.risk}) — ${ask.reasons.join('; ')}`);
    this.host.publish();
    return request;
  }

  /** Resolves true once a decision on the request was applied, false when the approval timeout passed first. */
  decided(request: ApprovalRequest): Promise<boolean> {
    return wf.condition(() => this.decisions.has(request.requestId), this.host.input.approvalTimeoutMs);
  }

  /** Settles an open request with its decision, or as expired (a deny) when none came in time; returns the record. */
  settle(request: ApprovalRequest, answered: boolean): ApprovalRecord {
    this.pending.delete(request.requestId);
    const record = answered ? this.decisions.get(request.requestId)! : expiredRecord(request, this.host.input.approvalTimeoutMs);
    this.approvals.push(record);
    this.pendingChanged();
    this.host.note('approval', `approval ${request.requestId} ${record.outcome} by ${record.decidedBy} via ${record.channel}${record.reason ? `: ${record.reason}` : ''}`);
    this.host.publish();
    return record;
  }

  /** Forgets pending requests when the workflow ends (failed or cancelled). */
  clear(): void {
    this.pending.clear();
    this.pendingChanged();
  }

  private pendingChanged(): void {
    this.host.onPendingChange([...this.pending.values()]);
  }

  /** Why a decision cannot be applied (stale, duplicate, expired, for another action, or a forgery past the cap), or null. */
  private refusal(decision: ApprovalDecision, check = { expiry: true }): string | null {
    const decided = this.decisions.get(decision.requestId) ?? this.approvals.find((a) => a.requestId === decision.requestId);
    if (decided) return `approval request ${decision.requestId} was already ${decided.outcome} by ${decided.decidedBy} at ${decided.decidedAt}`;
    const request = this.pending.get(decision.requestId);
    if (!request) return `task ${this.host.taskId} has no approval request ${decision.requestId}`;
    if (check.expiry && Date.now() >= Date.parse(request.expiresAt)) return `approval request ${decision.requestId} expired at ${request.expiresAt}`;
    if (decision.actionHash !== request.actionHash) {
      return `approval request ${decision.requestId} is for a different action (action hash mismatch); nothing was approved`;
    }
    const forged = this.pastForgeryCap(decision, request);
    return forged ? `rejected: ${forged}; nothing was decided` : null;
  }

  /** Why a decision is forged, when as many forgeries as are recorded per request came before it (it is refused untraced, so forgeries cannot flood history). */
  private pastForgeryCap(decision: ApprovalDecision, request: ApprovalRequest): string | null {
    if (!this.signaturesRequired || (this.forgeries.get(request.requestId) ?? 0) < MAX_RECORDED_FORGERIES) return null;
    const signed = this.signatureCheck(decision, request);
    return signed.ok ? null : signed.reason;
  }

  /** Accepted only to be recorded: a decision nobody could have signed is an attack on the approval, and the trace says so. */
  private rejectForgery(decision: ApprovalDecision, request: ApprovalRequest, reason: string): never {
    this.forgeries.set(request.requestId, (this.forgeries.get(request.requestId) ?? 0) + 1);
    this.host.note(
      'approval',
      `approval ${request.requestId}: a decision claiming to be ${decision.approve ? 'an approval' : 'a denial'} by ${decision.decidedBy} via ${decision.channel} was REJECTED: ${reason}`,
    );
    throw wf.ApplicationFailure.nonRetryable(`rejected: ${reason}; nothing was decided`, 'UnsignedDecision');
  }

  private signatureCheck(decision: ApprovalDecision, request: ApprovalRequest) {
    const { taskId, input } = this.host;
    return checkDecisionSignature(input.approverKeys ?? [], signedRequestOf(taskId, request), decision);
  }
}

/** The record of a decision applied to a request; `signedBy` names the approver key that signed it. */
function decisionRecord(request: ApprovalRequest, decision: ApprovalDecision, signedBy: string | undefined): ApprovalRecord {
  return {
    requestId: request.requestId,
    tool: request.tool,
    actionHash: request.actionHash,
    outcome: decision.approve ? 'approved' : 'denied',
    always: decision.approve && decision.always,
    reason: decision.reason ?? null,
    decidedBy: decision.decidedBy,
    channel: decision.channel,
    decidedAt: now(),
    ...(signedBy !== undefined ? { signedBy } : {}),
  };
}

/** The record of a request nobody decided in time: it counts as denied. */
function expiredRecord(request: ApprovalRequest, timeoutMs: number): ApprovalRecord {
  return {
    requestId: request.requestId,
    tool: request.tool,
    actionHash: request.actionHash,
    outcome: 'expired',
    always: false,
    reason: `no decision within ${Math.round(timeoutMs / 1000)}s`,
    decidedBy: 'timeout',
    channel: 'timeout',
    decidedAt: now(),
  };
}
