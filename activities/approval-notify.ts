/**
 * Chat notifications of approval requests (Slack, signed webhook): best effort. A channel
 * failure comes back as text for the trace; only an all-channels failure throws, retryable or
 * not as the service classified it. With nothing configured both activities return at once, so
 * the workflow does not need to know the worker's chat config (see requestApproval).
 */
import { NotifyError, type ApprovalNotifier, type ApprovalRequestedEvent, type ApprovalResolvedEvent, type ChatPosting } from '../services/approvals/notifier';
import { toFailure } from './failures';

/** Any failure of a notification is a notification failure; one the notifier did not classify is not retried. */
const asNotifyError = (err: unknown) => (err instanceof NotifyError ? err : new NotifyError(err instanceof Error ? err.message : String(err), false));

export function createApprovalNotifyActivities(notifier: ApprovalNotifier | null) {
  const call = async <T>(fn: (n: ApprovalNotifier) => Promise<T>, fallback: T): Promise<T> => {
    if (!notifier) return fallback;
    try {
      return await fn(notifier);
    } catch (err) {
      throw toFailure(err, { classify: asNotifyError });
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
