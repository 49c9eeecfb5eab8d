/** `agent approvals serve`: the long-running process that hosts the Slack and webhook approval receivers. */
import path from 'node:path';
import { UserError } from '../../client/user-error';
import { assertServable, startApprovalsServer } from '../../servers/chat-approvals/approvals-server';
import { APPROVER_KEY_FILE, loadApproverIdentity } from '../../services/approvals/approver-key';
import type { CliContext } from '../cli-context';

/** `agent approvals key`: this user's approver public key, as AGENT_APPROVER_KEYS takes it on another machine. */
export async function approvalsKeyCommand(ctx: CliContext): Promise<number> {
  const identity = await loadApproverIdentity(ctx.config.userDir).catch((err: Error) => {
    throw new UserError(err.message);
  });
  const entry = `${identity.key.label.replace(/[=,]/g, '_')}=${identity.key.publicKey}`;
  if (ctx.json) ctx.emit({ ...identity.key, file: path.join(ctx.config.userDir, APPROVER_KEY_FILE), entry });
  else {
    ctx.out(entry);
    ctx.out(
      `(key ${identity.key.id} in ${path.join(ctx.config.userDir, APPROVER_KEY_FILE)}; tasks started where AGENT_APPROVER_KEYS includes this line accept decisions signed with it)`,
    );
  }
  return 0;
}

export async function approvalsServeCommand(ctx: CliContext): Promise<number> {
  assertServable(ctx.config);
  const client = await ctx.connect();
  const server = await startApprovalsServer({ config: ctx.config, client, log: (line) => process.stderr.write(`${line}\n`) }).catch((err: Error) => {
    throw new UserError(`cannot serve approvals: ${err.message}`);
  });
  const { slack } = server;
  const parts = [
    slack ? `Slack (${slack.mode === 'socket' ? 'Socket Mode' : `HTTP at ${server.url}/slack/events`}, bot <@${slack.botUserId}>)` : null,
    Object.keys(ctx.config.approvals.webhook.inboundKeys).length ? `signed webhook decisions at ${server.url}/approvals/:taskId/:requestId` : null,
  ].filter(Boolean);
  ctx.out(`serving approvals: ${parts.join('; ')}`);
  ctx.out(`approvers: ${ctx.config.approvals.approvers.map((r) => r.text).join('; ')}`);
  ctx.out(`tasks on ${ctx.config.temporal.address} (namespace ${ctx.config.temporal.namespace}); Ctrl-C to stop`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  await client.close();
  return 0;
}
