/**
 * Telling people about approval requests where they are (Slack, a signed webhook) and keeping
 * what they see current when the request is decided — in chat, on the CLI, or by expiry.
 *
 * Best effort by design: the approval itself lives in the workflow and works from the CLI
 * whatever happens here. Each channel is tried independently; a failure of one is reported back
 * (for the task's trace) rather than thrown, so a retry never re-posts to a channel that worked.
 * Only when every channel failed with something worth retrying does the call throw.
 */
import { FailureType } from '../../domain/failures';
import type { ApprovalRecord, ApprovalRequest } from '../../domain/task';
import { ServiceError } from '../errors';

export interface ApprovalRequestedEvent {
  taskId: string;
  /** One line naming the task (its intent summary or first prompt line). */
  summary: string;
  workspace: string;
  /** The task's owner as submitted (`TaskInput.submittedBy`); `slack:U…` can be sent a DM. */
  submittedBy: string;
  request: ApprovalRequest;
  /** Whether "approve always for this task" would grant anything (the policy can express it). */
  alwaysOffered: boolean;
}

/** Where the request was shown, so the resolution can update the same message. */
export interface ChatPosting {
  slack: { channel: string; ts: string } | null;
  webhook: boolean;
  /** One line per channel that failed, for the task's trace (never secrets). */
  errors: string[];
}

export interface ApprovalResolvedEvent {
  taskId: string;
  summary: string;
  workspace: string;
  request: ApprovalRequest;
  record: ApprovalRecord;
  posting: ChatPosting;
}

export interface ApprovalChannel {
  readonly name: 'slack' | 'webhook';
  requested(event: ApprovalRequestedEvent): Promise<Partial<Pick<ChatPosting, 'slack' | 'webhook'>>>;
  resolved(event: ApprovalResolvedEvent): Promise<void>;
}

/** A channel failure: `retryable` for timeouts, 5xx and rate limits; bad config or a refusal is not. */
export class NotifyError extends ServiceError {
  constructor(message: string, retryable: boolean) {
    super(FailureType.ChatNotifyFailed, message, { retryable });
  }
}

export interface ApprovalNotifier {
  /** Posts the request to every channel. Throws NotifyError only when all failed and one may recover. */
  requested(event: ApprovalRequestedEvent): Promise<ChatPosting>;
  /** Updates every channel that showed the request. Same failure rule as requested(). */
  resolved(event: ApprovalResolvedEvent): Promise<string[]>;
}

/** Fans out to the configured channels (see the module comment for the failure rule). */
export class FanOutNotifier implements ApprovalNotifier {
  constructor(private readonly channels: readonly ApprovalChannel[]) {}

  async requested(event: ApprovalRequestedEvent): Promise<ChatPosting> {
    const outcomes = await Promise.allSettled(this.channels.map((c) => c.requested(event)));
    const posting: ChatPosting = { slack: null, webhook: false, errors: [] };
    outcomes.forEach((o, i) => {
      if (o.status === 'fulfilled') Object.assign(posting, o.value);
      else posting.errors.push(`${this.channels[i]!.name}: ${(o.reason as Error).message}`);
    });
    throwIfAllFailed(outcomes);
    return posting;
  }

  async resolved(event: ApprovalResolvedEvent): Promise<string[]> {
    // Only channels that showed the request; a Slack message that was never posted has nothing to update.
    const shown = this.channels.filter((c) => (c.name === 'slack' ? event.posting.slack !== null : event.posting.webhook));
    const outcomes = await Promise.allSettled(shown.map((c) => c.resolved(event)));
    throwIfAllFailed(outcomes);
    return outcomes.flatMap((o, i) => (o.status === 'rejected' ? [`${shown[i]!.name}: ${(o.reason as Error).message}`] : []));
  }
}

function throwIfAllFailed(outcomes: PromiseSettledResult<unknown>[]): void {
  const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason as Error);
  if (outcomes.length === 0 || failures.length < outcomes.length) return;
  const retryable = failures.some((f) => f instanceof NotifyError && f.retryable);
  throw new NotifyError(failures.map((f) => f.message).join('; '), retryable);
}
