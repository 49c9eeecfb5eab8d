/**
 * One decision from chat, whatever the channel: check the approver against the allow-list for
 * this request's risk and workspace, then send it through the same Update the CLI uses. The
 * workflow's validator stays the authority on unknown, expired, already decided and changed
 * actions (first decision wins, durably); this module only adds who may decide.
 */
import { type TaskClient } from '../../client/task-client';
import { UserError } from '../../client/user-error';
import type { ApprovalRecord, ApprovalRequest, TaskStatusView } from '../../domain/task';
import { listedPrincipals, mayDecide, type ApproverRule, type Principal } from '../../services/approvals/approvers';

export interface ChatDecision {
  taskId: string;
  requestId: string;
  actionHash: string;
  approve: boolean;
  always: boolean;
  reason?: string;
  /** Who, as the allow-list names them: slack:<user id> or webhook:<key id>. */
  principal: Principal;
  /** Recorded in the task (shown by `agent status` and the Web UI). */
  decidedBy: string;
  channel: 'slack' | 'webhook';
}

export type DecisionOutcome =
  | { ok: true; record: ApprovalRecord; request: ApprovalRequest; view: TaskStatusView }
  | {
      ok: false;
      /** HTTP-style: 403 not an approver, 404 unknown task or request, 409 no longer decidable or a different action. */
      status: 403 | 404 | 409;
      message: string;
      /** The request is settled or gone: a message still showing buttons for it should be updated. */
      closed: boolean;
      view?: TaskStatusView;
      /** The earlier decision, when there is one. */
      record?: ApprovalRecord;
    };

/** Never throws for a refused decision (that is an outcome); throws only when Temporal itself fails. */
export async function decideFromChat(client: TaskClient, approvers: readonly ApproverRule[], d: ChatDecision): Promise<DecisionOutcome> {
  // Someone who is on no list learns nothing about the task, not even whether it exists.
  if (!listedPrincipals(approvers).has(d.principal)) return { ok: false, status: 403, message: 'you are not on the approvers list', closed: false };
  let view: TaskStatusView;
  try {
    view = await client.status(d.taskId);
  } catch (err) {
    if (err instanceof UserError) return { ok: false, status: 404, message: err.message, closed: true };
    throw err;
  }
  const earlier = view.approvals.find((a) => a.requestId === d.requestId);
  if (earlier) {
    return {
      ok: false,
      status: 409,
      message: `request ${d.requestId} was already ${earlier.outcome} by ${earlier.decidedBy} at ${earlier.decidedAt}`,
      closed: true,
      view,
      record: earlier,
    };
  }
  if (view.status !== 'running' && view.status !== 'waiting_approval') {
    return { ok: false, status: 409, message: `task ${d.taskId} is ${view.status}; there is nothing to approve`, closed: true, view };
  }
  const request = view.pendingApprovals.find((r) => r.requestId === d.requestId);
  if (!request) return { ok: false, status: 404, message: `task ${d.taskId} has no pending approval request ${d.requestId}`, closed: true, view };
  if (!mayDecide(approvers, d.principal, { risk: request.risk, workspace: view.workspace })) {
    return { ok: false, status: 403, message: `you may not decide ${request.risk} actions in ${view.workspace}`, closed: false, view };
  }
  try {
    const record = await client.sendDecision(
      d.taskId,
      {
        requestId: d.requestId,
        actionHash: d.actionHash,
        approve: d.approve,
        always: d.approve && d.always,
        ...(d.reason ? { reason: d.reason } : {}),
        decidedBy: d.decidedBy,
        channel: d.channel,
      },
      request,
    );
    return { ok: true, record, request, view };
  } catch (err) {
    // The validator's reason: expired, decided a moment ago elsewhere, or a different action.
    if (err instanceof UserError) {
      const changedAction = /different action/.test(err.message);
      return { ok: false, status: 409, message: err.message.replace(/^rejected: /, ''), closed: !changedAction, view };
    }
    throw err;
  }
}
