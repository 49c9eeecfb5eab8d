/** Queries and updates of the agentTask workflow: the only ways clients talk to a running task. */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ApprovalDecision, ApprovalRecord, TaskStatusView, TraceEntry } from './task';

export const statusQuery = defineQuery<TaskStatusView>('status');
/** Trace entries with seq >= fromSeq, so a follower can poll for what is new. */
export const traceQuery = defineQuery<TraceEntry[], [fromSeq?: number]>('trace');
/** A human's decision on a pending approval; the validator rejects stale, expired and changed actions. */
export const decideApprovalUpdate = defineUpdate<ApprovalRecord, [ApprovalDecision]>('decideApproval');
