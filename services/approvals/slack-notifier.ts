/** Approval requests as Slack messages with buttons (posted by the worker), updated when resolved. */
import type { ApprovalsConfig } from '../config';
import type { ApprovalChannel, ApprovalRequestedEvent, ApprovalResolvedEvent } from './notifier';
import { slackFailure, type SlackWebClient } from './slack-client';
import { pendingMessage, resolvedMessage } from './slack-message';

export class SlackNotifier implements ApprovalChannel {
  readonly name = 'slack';

  constructor(
    private readonly client: SlackWebClient,
    private readonly settings: Pick<ApprovalsConfig['slack'], 'channel' | 'dmOwner'>,
  ) {}

  /** The owner's DM when enabled and the task came from a Slack user; otherwise the configured channel. */
  destination(submittedBy: string): string {
    const owner = /^slack:([UW][A-Z0-9]{2,30})$/.exec(submittedBy)?.[1];
    if (this.settings.dmOwner && owner) return owner;
    return this.settings.channel!;
  }

  async requested(event: ApprovalRequestedEvent) {
    const message = pendingMessage(event, event.alwaysOffered);
    const posted = await this.client.chat
      .postMessage({ channel: this.destination(event.submittedBy), text: message.text, blocks: message.blocks as never, unfurl_links: false })
      .catch((err: unknown) => {
        throw slackFailure(err, 'chat.postMessage');
      });
    // For a DM, Slack answers with the conversation id (D…), which is what chat.update needs.
    return { slack: { channel: posted.channel!, ts: posted.ts! } };
  }

  async resolved(event: ApprovalResolvedEvent) {
    const message = resolvedMessage(event, event.record);
    await this.client.chat
      .update({ channel: event.posting.slack!.channel, ts: event.posting.slack!.ts, text: message.text, blocks: message.blocks as never })
      .catch((err: unknown) => {
        throw slackFailure(err, 'chat.update');
      });
  }
}
