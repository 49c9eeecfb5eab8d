/**
 * What every task-like workflow (a task, a team, a team's children) shows the world: a bounded,
 * numbered trace served by the trace query, and its state published as search attributes and the
 * Web UI's Current Details. Workflow code: deterministic, no I/O.
 */
import * as wf from '@temporalio/workflow';
import { traceQuery } from '../domain/messages';
import { AGENT_PENDING_APPROVAL, AGENT_STAGE, AGENT_STATUS } from '../domain/search-attributes';
import { PENDING_APPROVALS_MEMO, pendingApprovalMemo, type ApprovalRequest, type Stage, type TaskStatus, type TraceEntry } from '../domain/task';
import { sinceRelease2026_12 } from './release';

/** A trace of at most `max` entries (the oldest drop off); registers the workflow's trace query. */
export function createTrace(max: number, stage: () => Stage) {
  const entries: TraceEntry[] = [];
  wf.setHandler(traceQuery, (fromSeq = 0) => entries.filter((e) => e.seq >= fromSeq));
  return {
    note(kind: TraceEntry['kind'], message: string) {
      entries.push({ seq: entries.length === 0 ? 1 : entries[entries.length - 1]!.seq + 1, at: new Date().toISOString(), stage: stage(), kind, message });
      if (entries.length > max) entries.shift();
    },
    /** The last n entries, for a result (so logs of a finished workflow need no worker). */
    tail: (n: number) => entries.slice(-n),
  };
}

export interface PublishedState {
  status: TaskStatus;
  stage: Stage;
  /** Requests waiting for a human, wherever they are held (a team's are in its children). */
  pending: readonly ApprovalRequest[];
  /** The Web UI's Current Details, which also show the stage. */
  details: string;
}

/**
 * A workflow's publisher of its state: status and whether an approval is pending as search
 * attributes (filterable in the Web UI), what a decision must name of each pending request in the
 * memo (so `agent approve` can decide one while no worker runs to answer a query), the rest as
 * Current Details. Each upsert is a write to the server's visibility store, so attributes and memo
 * are upserted only when they change; the stage lives in the details (histories from before this
 * still replay the upsert per stage they recorded).
 */
export function createPublisher(): (state: PublishedState) => void {
  let published: { status: TaskStatus; pendingApproval: boolean } | undefined;
  let pendingIds = '';
  return (state) => {
    const pendingApproval = state.pending.length > 0;
    if (!sinceRelease2026_12()) {
      wf.upsertSearchAttributes([
        { key: AGENT_STATUS, value: state.status },
        { key: AGENT_STAGE, value: state.stage },
        { key: AGENT_PENDING_APPROVAL, value: pendingApproval },
      ]);
      wf.setCurrentDetails(state.details);
      return;
    }
    if (published?.status !== state.status || published.pendingApproval !== pendingApproval) {
      wf.upsertSearchAttributes([
        { key: AGENT_STATUS, value: state.status },
        { key: AGENT_PENDING_APPROVAL, value: pendingApproval },
      ]);
      published = { status: state.status, pendingApproval };
    }
    const ids = state.pending.map((r) => r.requestId).join(' ');
    if (ids !== pendingIds) {
      wf.upsertMemo({ [PENDING_APPROVALS_MEMO]: state.pending.map(pendingApprovalMemo) });
      pendingIds = ids;
    }
    wf.setCurrentDetails(state.details);
  };
}
