/**
 * The generic approval webhook, outgoing half: each request and each outcome is POSTed as JSON to
 * AGENT_APPROVAL_WEBHOOK_URL, signed (see signing.ts). A receiver (Teams or Discord bot, an
 * internal tool) answers a person's decision with a signed POST to /approvals/:taskId/:requestId.
 *
 * `eventId` is stable across retries, so a receiver can drop duplicates.
 */
import type { ApprovalRecord, ApprovalRequest } from '../../domain/task';
import { NotifyError, type ApprovalChannel, type ApprovalRequestedEvent, type ApprovalResolvedEvent } from './notifier';
import { signedHeaders } from './signing';

export const WEBHOOK_TIMEOUT_MS = 5_000;

export type WebhookEvent =
  | {
      type: 'approval.requested';
      eventId: string;
      taskId: string;
      summary: string;
      workspace: string;
      request: ApprovalRequest;
      alwaysOffered: boolean;
      /** Where a decision goes, relative to the approvals server (`agent approvals serve`). */
      decisionPath: string;
    }
  | { type: 'approval.resolved'; eventId: string; taskId: string; summary: string; workspace: string; request: ApprovalRequest; record: ApprovalRecord };

export class WebhookNotifier implements ApprovalChannel {
  readonly name = 'webhook';

  constructor(private readonly settings: { url: string; keyId: string; secret: string }) {}

  async requested(event: ApprovalRequestedEvent) {
    const { taskId, summary, workspace, request, alwaysOffered } = event;
    await this.post({
      type: 'approval.requested',
      eventId: `${taskId}/${request.requestId}/requested`,
      taskId,
      summary,
      workspace,
      request,
      alwaysOffered,
      decisionPath: `/approvals/${encodeURIComponent(taskId)}/${encodeURIComponent(request.requestId)}`,
    });
    return { webhook: true };
  }

  async resolved(event: ApprovalResolvedEvent) {
    const { taskId, summary, workspace, request, record } = event;
    await this.post({ type: 'approval.resolved', eventId: `${taskId}/${request.requestId}/resolved`, taskId, summary, workspace, request, record });
  }

  private async post(event: WebhookEvent): Promise<void> {
    const body = JSON.stringify(event);
    let response: Response;
    try {
      response = await fetch(this.settings.url, {
        method: 'POST',
        headers: signedHeaders(this.settings.keyId, this.settings.secret, body),
        body,
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
        redirect: 'error',
      });
    } catch (err) {
      throw new NotifyError(`cannot reach the approval webhook (${(err as Error).message})`, true);
    }
    await response.body?.cancel();
    if (!response.ok) {
      const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
      throw new NotifyError(`the approval webhook answered HTTP ${response.status}`, retryable);
    }
  }
}
