/**
 * Chat notifications of approval requests (Slack, signed webhook): best effort. A channel
 * failure comes back as text for the trace; only an all-channels failure throws, retryable or
 * not as the service classified it. With nothing configured both activities return at once, so
 * the workflow does not need to know the worker's chat config (see requestApproval).
 */
import { ApplicationFailure } from '@temporalio/common';
import { NotifyError, type ApprovalNotifier, type ApprovalRequestedEvent, type ApprovalResolvedEvent, type ChatPosting } from '../services/approvals/notifier';

/** Failure type of a chat notification the workflow gave up on; it only ever reaches the trace. */
export const CHAT_NOTIFY_FAILED = 'ChatNotifyFailed';

export function createApprovalNotifyActivities(notifier: ApprovalNotifier | null) {
  const call = async <T>(fn: (n: ApprovalNotifier) => Promise<T>, fallback: T): Promise<T> => {
    if (!notifier) return fallback;
    try {
      return await fn(notifier);
    } catch (err) {
      const retryable = err instanceof NotifyError && err.retryable;
      throw ApplicationFailure.create({ type: CHAT_NOTIFY_FAILED, message: (err as Error).message, nonRetryable: !retryable });
    }
  };
  return {
    /** Shows a new approval request in chat; null when no chat channel is configured. */
    async notifyApprovalRequested(event: ApprovalRequestedEvent): Promise<ChatPosting | null> {
      return await call((n) => n.requested(event), null);
    },
    /** Replaces the buttons with the outcome (decided anywhere, or expired); returns channel errors for the trace. */
    async notifyApprovalResolved(event: ApprovalResolvedEvent): Promise<string[]> {
      return await call((n) => n.resolved(event), []);
    },
  };
}
