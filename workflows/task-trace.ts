/**
 * What every task-like workflow (a task, a team, a team's children) shows the world: a bounded,
 * numbered trace served by the trace query, and its state published as search attributes and the
 * Web UI's Current Details. Workflow code: deterministic, no I/O.
 */
import * as wf from '@temporalio/workflow';
import { traceQuery } from '../domain/messages';
import { AGENT_PENDING_APPROVAL, AGENT_STAGE, AGENT_STATUS } from '../domain/search-attributes';
import type { Stage, TaskStatus, TraceEntry } from '../domain/task';
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
  pendingApproval: boolean;
  /** The Web UI's Current Details, which also show the stage. */
  details: string;
}

/**
 * A workflow's publisher of its state: status and whether an approval is pending as search
 * attributes (filterable in the Web UI), the rest as Current Details. Each upsert is a visibility
 * write on the server, so attributes are upserted only when one of them changed; the stage lives in
 * the details (histories from before this still replay the upsert per stage they recorded).
 */
export function createPublisher(): (state: PublishedState) => void {
  let published: { status: TaskStatus; pendingApproval: boolean } | undefined;
  return (state) => {
    if (!sinceRelease2026_12()) {
      wf.upsertSearchAttributes([
        { key: AGENT_STATUS, value: state.status },
        { key: AGENT_STAGE, value: state.stage },
        { key: AGENT_PENDING_APPROVAL, value: state.pendingApproval },
      ]);
    } else if (published?.status !== state.status || published.pendingApproval !== state.pendingApproval) {
      wf.upsertSearchAttributes([
        { key: AGENT_STATUS, value: state.status },
        { key: AGENT_PENDING_APPROVAL, value: state.pendingApproval },
      ]);
      published = { status: state.status, pendingApproval: state.pendingApproval };
    }
    wf.setCurrentDetails(state.details);
  };
}
