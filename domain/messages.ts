/** Queries, updates and signals of the agentTask workflow: the only ways clients talk to a running task. */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalDecision, ApprovalRecord, TaskStatusView, TraceEntry } from './task';

export const statusQuery = defineQuery<TaskStatusView>('status');
/** Trace entries with seq >= fromSeq, so a follower can poll for what is new. */
export const traceQuery = defineQuery<TraceEntry[], [fromSeq?: number]>('trace');
/** A human's decision on a pending approval; the validator rejects stale, expired and changed actions. */
export const decideApprovalUpdate = defineUpdate<ApprovalRecord, [ApprovalDecision]>('decideApproval');
/**
 * The same decision, sent when no worker runs (an update needs one to answer): the workflow applies
 * it on its next workflow task, with the same checks, and says in its trace when it did not.
 */
export const queuedDecisionSignal = defineSignal<[ApprovalDecision]>('queuedApprovalDecision');
