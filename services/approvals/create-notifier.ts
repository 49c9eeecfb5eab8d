/** Builds the worker's approval notifier from config: Slack and/or the webhook, or null when neither is configured. */
import { ConfigError, type ApprovalsConfig } from '../config';
import { FanOutNotifier, type ApprovalChannel, type ApprovalNotifier } from './notifier';
import { createSlackClient } from './slack-client';
import { SlackNotifier } from './slack-notifier';
import { WebhookNotifier } from './webhook-notifier';

/** Half-configured outgoing channels, as messages naming the variable to set. */
export function notifierProblems(approvals: ApprovalsConfig): string[] {
  const problems: string[] = [];
  const { slack, webhook } = approvals;
  if (slack.botToken && !slack.channel) problems.push('SLACK_BOT_TOKEN is set but SLACK_APPROVAL_CHANNEL is not: set it to the id of the channel for approval requests');
  if (!slack.botToken && slack.channel) problems.push('SLACK_APPROVAL_CHANNEL is set but SLACK_BOT_TOKEN is not: set the bot token (xoxb-…) of the Slack app');
  if (webhook.url && !webhook.secret) problems.push('AGENT_APPROVAL_WEBHOOK_URL is set but AGENT_APPROVAL_WEBHOOK_SECRET is not: requests are always signed');
  if (!webhook.url && webhook.secret) problems.push('AGENT_APPROVAL_WEBHOOK_SECRET is set but AGENT_APPROVAL_WEBHOOK_URL is not');
  return problems;
}

/** Throws ConfigError for half-configured channels; creating the clients does no I/O. */
export async function createApprovalNotifier(approvals: ApprovalsConfig): Promise<ApprovalNotifier | null> {
  const problems = notifierProblems(approvals);
  if (problems.length) throw new ConfigError(`invalid approval notification config: ${problems.join('; ')}`);
  const channels: ApprovalChannel[] = [];
  if (approvals.slack.botToken) channels.push(new SlackNotifier(await createSlackClient(approvals.slack), approvals.slack));
  if (approvals.webhook.url && approvals.webhook.secret) {
    channels.push(new WebhookNotifier({ url: approvals.webhook.url, keyId: approvals.webhook.keyId, secret: approvals.webhook.secret }));
  }
  return channels.length ? new FanOutNotifier(channels) : null;
}
