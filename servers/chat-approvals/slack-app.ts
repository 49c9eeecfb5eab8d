/**
 * The Slack side of `agent approvals serve`: a Bolt app whose only job is the Approve / Deny
 * buttons on approval messages. Over HTTP, Bolt's HTTPReceiver does the Slack protocol behind
 * our own server (which first enforces the timestamp window both ways and single use, see
 * slack-guard.ts); in Socket Mode, Slack's WebSocket carries the same clicks.
 */
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { App as BoltApp, BlockAction, ButtonAction, HTTPReceiver as BoltHTTPReceiver } from '@slack/bolt';
import type { TaskClient } from '../../client/task-client';
import type { ApproverRule } from '../../services/approvals/approvers';
import { quietSlackLogger, slackClientOptions, slackFailure, type SlackWebClient } from '../../services/approvals/slack-client';
import { APPROVE_ALWAYS_ACTION, closedLine, decodeButtonValue, DENY_ACTION, outcomeLine, settledMessage } from '../../services/approvals/slack-message';
import type { ApprovalsConfig } from '../../services/config';
import { decideFromChat, type DecisionOutcome } from './decide';

export const SLACK_EVENTS_PATH = '/slack/events';

/** What happened to one click or webhook call; `receivedAt` and `doneAt` are performance.now() values. */
export interface DecisionEvent {
  channel: 'slack' | 'webhook';
  taskId: string;
  requestId: string;
  decidedBy: string;
  outcome: DecisionOutcome;
  receivedAt: number;
  doneAt: number;
}

export interface SlackAppOptions {
  slack: ApprovalsConfig['slack'];
  approvers: readonly ApproverRule[];
  client: TaskClient;
  log: (line: string) => void;
  onDecision?: (event: DecisionEvent) => void;
}

export interface SlackApp {
  app: BoltApp;
  /** Set in HTTP mode: hand it requests that passed the guard. */
  receiver: BoltHTTPReceiver | null;
  botUserId: string;
  mode: 'http' | 'socket';
}

/** Marks when our server got the request, so the handler can report the whole round trip. */
export const RECEIVED_AT = Symbol('receivedAt');
export type TimedRequest = IncomingMessage & { [RECEIVED_AT]?: number };

/**
 * Checks the bot token (auth.test), refuses a bot that is itself on the approvers list, and
 * builds the app. Throws an Error saying what to fix when Slack refuses the token.
 */
export async function createSlackApp(options: SlackAppOptions): Promise<SlackApp> {
  const { slack, approvers, log } = options;
  const bolt = await import('@slack/bolt');
  const logger = quietSlackLogger(log);
  const web: SlackWebClient = new bolt.webApi.WebClient(slack.botToken, slackClientOptions(slack));
  const auth = await web.auth.test().catch((err: unknown) => {
    throw new Error(`Slack refused the bot token (${slackFailure(err, 'auth.test').message}); check SLACK_BOT_TOKEN`);
  });
  const botUserId = auth.user_id!;
  // The app posts the requests; if it could also answer them, anything that can make it post could approve.
  if (approvers.some((r) => r.principals.includes(`slack:${botUserId}`))) {
    throw new Error(`AGENT_APPROVERS lists the bot user slack:${botUserId} itself; only people may approve`);
  }

  const mode = slack.appToken ? 'socket' : 'http';
  const receiver =
    mode === 'socket'
      ? new bolt.SocketModeReceiver({
          appToken: slack.appToken!,
          logger,
          // apps.connections.open goes through this client: same API URL as everything else.
          installerOptions: { clientOptions: slackClientOptions(slack) },
        })
      : new bolt.HTTPReceiver({
          signingSecret: slack.signingSecret!,
          endpoints: SLACK_EVENTS_PATH,
          logger,
          // Bolt acknowledges the click at once (Slack wants an answer within 3 s); the decision follows.
          processBeforeResponse: false,
          customPropertiesExtractor: (req) => ({ receivedAt: (req as TimedRequest)[RECEIVED_AT] ?? performance.now() }),
        });
  const app = new bolt.App({
    token: slack.botToken,
    receiver,
    // Known from auth.test above, so Bolt does not call it again.
    botId: auth.bot_id,
    botUserId,
    clientOptions: slackClientOptions(slack),
    logger,
  });

  app.action<BlockAction<ButtonAction>>({ type: 'block_actions', action_id: /^approval_/ }, async ({ ack, body, action, client, context }) => {
    await ack();
    const receivedAt = typeof context.receivedAt === 'number' ? context.receivedAt : performance.now();
    const user = body.user.id;
    const channel = body.channel?.id ?? (body.container.channel_id as string | undefined);
    const messageTs = body.message?.ts ?? (body.container.message_ts as string | undefined);
    const tell = async (text: string) => {
      if (!channel) return;
      await client.chat.postEphemeral({ channel, user, text }).catch((err: unknown) => log(`slack: cannot tell ${user}: ${slackFailure(err, 'chat.postEphemeral').message}`));
    };
    const value = decodeButtonValue(action.value);
    if (!value) {
      await tell('This button does not belong to an approval request this server knows how to read; nothing was decided.');
      return;
    }
    const outcome = await decideFromChat(options.client, approvers, {
      ...value,
      approve: action.action_id !== DENY_ACTION,
      always: action.action_id === APPROVE_ALWAYS_ACTION,
      principal: `slack:${user}`,
      decidedBy: user,
      channel: 'slack',
    }).catch((err: Error) => {
      log(`slack: decision by ${user} on ${value.taskId} ${value.requestId} failed: ${err.message.split('\n')[0]}`);
      return null;
    });
    if (!outcome) {
      await tell('Could not reach the agent runtime; nothing was decided. Try again, or use `agent approve|deny` on the CLI.');
      return;
    }
    options.onDecision?.({ channel: 'slack', taskId: value.taskId, requestId: value.requestId, decidedBy: user, outcome, receivedAt, doneAt: performance.now() });
    if (outcome.ok) {
      // The worker updates the message once the workflow has the decision: the same path as CLI decisions and expiry.
      log(`slack: ${user} ${outcome.record.outcome} ${value.taskId} ${value.requestId} (${outcome.record.tool})`);
      return;
    }
    log(`slack: refused ${user} on ${value.taskId} ${value.requestId}: ${outcome.message}`);
    await tell(`Not recorded: ${outcome.message}.`);
    // A message still offering buttons for a settled request is corrected, so nobody else clicks in vain.
    if (outcome.closed && channel && messageTs) {
      const line = outcome.record ? outcomeLine(outcome.record) : closedLine(outcome.message);
      const message = settledMessage(body.message?.blocks, line, `${value.taskId} ${value.requestId}: ${outcome.message}`);
      if (message) {
        await client.chat
          .update({ channel, ts: messageTs, text: message.text, blocks: message.blocks as never })
          .catch((err: unknown) => log(`slack: ${slackFailure(err, 'chat.update').message}`));
      }
    }
  });

  app.error(async (err) => {
    log(`slack: ${err.message}`);
  });

  return { app, receiver: mode === 'http' ? (receiver as BoltHTTPReceiver) : null, botUserId, mode };
}
