/**
 * Approvals from Slack and the signed webhook, end to end on the real Temporal server: a worker
 * posts requests with Slack's real WebClient (to the local Slack stand-in) and to a webhook sink;
 * decisions come back as correctly signed requests to the real Bolt HTTP receiver (and over Socket
 * Mode, and to the webhook endpoint) of `agent approvals serve`. Every forged, stale, replayed or
 * unauthorised decision must leave the workflow exactly as it was.
 */
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApprovalsServer, type ApprovalsServer, type WebhookDecision } from '../../servers/chat-approvals/approvals-server';
import type { DecisionEvent } from '../../servers/chat-approvals/slack-app';
import { startFakeLlm, type FakeLlm } from '../../servers/fake-llm/fake-llm-server';
import { parseScript } from '../../servers/fake-llm/script';
import type { TaskClient } from '../../client/task-client';
import { KEY_ID_HEADER, SIGNATURE_HEADER, signatureMatches, signedHeaders, TIMESTAMP_HEADER } from '../../services/approvals/signing';
import { APPROVE_ACTION, APPROVE_ALWAYS_ACTION, DENY_ACTION } from '../../services/approvals/slack-message';
import type { WebhookEvent } from '../../services/approvals/webhook-notifier';
import { loadConfig } from '../../services/config';
import { FakeSlack, type SignedRequest, type SlackMessage } from '../support/fake-slack';
import { connectClient, makeWorkspace, runCli, spawnCli, startTestWorker, testEnv, waitFor, type TestWorker } from '../support/harness';
import { replayTaskQueue } from '../support/replay-check';
import { scenario } from '../support/scripts';

const BOT_TOKEN = 'xoxb-1111-2222-testbottoken';
const APP_TOKEN = 'xapp-1-A0FAKE-3333-testapptoken';
const SIGNING_SECRET = 'slack-signing-secret-for-the-tests';
const WEBHOOK_SECRET = 'outgoing-webhook-secret-0123456789';
const OPS_KEY = 'ops-bot-inbound-secret-0123456789';
const SCOPED_KEY = 'scoped-bot-inbound-secret-012345';
const CHANNEL = 'C0APPROVALS';
const ALICE = 'U0ALICE';

const writeB = [{ toolCalls: [{ name: 'write_file', input: { path: 'b.txt', content: 'bee\n' } }] }, { text: 'done' }];

let slack: FakeSlack;
let sink: WebhookSink;
let fake: FakeLlm;
let env: Record<string, string>;
let worker: TestWorker;
let client: TaskClient;
let server: ApprovalsServer;
const decisions: DecisionEvent[] = [];

beforeAll(async () => {
  slack = await FakeSlack.start({ botToken: BOT_TOKEN, appToken: APP_TOKEN, signingSecret: SIGNING_SECRET });
  sink = await startWebhookSink();
  fake = await startFakeLlm(
    parseScript({
      scenarios: [scenario('write-b', { needsWrite: true, execute: writeB }), scenario('deny-b', { needsWrite: true, execute: writeB, verifyPassed: false })],
    }),
  );
  env = await testEnv(fake.url, {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_APPROVAL_CHANNEL: CHANNEL,
    SLACK_API_URL: slack.url,
    AGENT_APPROVERS: `slack:${ALICE},webhook:ops-bot; slack:U0BOB,webhook:scoped-bot risk=read-only`,
    AGENT_APPROVAL_WEBHOOK_URL: sink.url,
    AGENT_APPROVAL_WEBHOOK_SECRET: WEBHOOK_SECRET,
    AGENT_APPROVAL_WEBHOOK_KEYS: `ops-bot=${OPS_KEY},scoped-bot=${SCOPED_KEY}`,
    AGENT_APPROVALS_PORT: '0',
  });
  worker = await startTestWorker(env);
  client = await connectClient(env);
  server = await startApprovalsServer({ config: loadConfig(env), client, log: () => {}, onDecision: (e) => decisions.push(e) });
});

afterAll(async () => {
  if (client) await replayTaskQueue(client.client, env.AGENT_TASK_QUEUE!);
  await server?.close();
  await client?.close();
  await worker?.stop();
  await fake?.close();
  await sink?.close();
  await slack?.close();
});

async function post(pathname: string, signed: SignedRequest): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}${pathname}`, { method: 'POST', headers: signed.headers, body: signed.body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const clickAs = (message: SlackMessage, action: string, user: string, options = {}) => post('/slack/events', slack.click(message, action, user, options));

async function startTask(prompt: string, extra: { approvalTimeoutMs?: number } = {}) {
  const workspace = await makeWorkspace();
  const taskId = await client.start({ prompt, workspace, confirmResult: 'never', ...extra });
  return { taskId, workspace };
}

/** Accepted decideApproval updates in the task's history: rejected ones never get there. */
async function acceptedUpdates(taskId: string) {
  const history = await client.handle(taskId).fetchHistory();
  return history.events!.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
}

async function ephemeralFor(user: string, pattern: RegExp) {
  return await waitFor(async () => slack.ephemerals.find((e) => e.user === user && pattern.test(e.text)), `an ephemeral message to ${user} matching ${pattern}`, 10_000);
}

const blocksText = (m: { blocks: unknown }) => JSON.stringify(m.blocks);

describe('Slack approvals over the HTTP receiver', () => {
  it('shows the exact action and approves it with a click: the workflow resumes, the message says who and when', async () => {
    const { taskId, workspace } = await startTask('write-b: approve in Slack');
    const message = await slack.messageFor(taskId, 'apr-1');
    expect(message.channel).toBe(CHANNEL);
    const shown = blocksText(message);
    for (const part of [taskId, 'write_file', 'b.txt', 'bee', workspace, 'workspace-write', 'apr-1']) expect(shown).toContain(part);
    const buttons = (message.blocks.find((b) => b.type === 'actions') as { elements: { action_id: string }[] }).elements.map((e) => e.action_id);
    // Approving a top-level write "always" grants ./* for the task, so the policy offers it.
    expect(buttons).toEqual([APPROVE_ACTION, APPROVE_ALWAYS_ACTION, DENY_ACTION]);
    const view = await client.status(taskId);
    expect(view.status).toBe('waiting_approval');
    expect(shown).toContain(view.pendingApprovals[0]!.reasons[0]!.slice(0, 40));

    const res = await clickAs(message, APPROVE_ACTION, ALICE);
    expect(res.status).toBe(200);
    const result = await client.result(taskId);
    expect(result.status).toBe('completed');
    expect(result.approvals).toEqual([expect.objectContaining({ outcome: 'approved', decidedBy: ALICE, channel: 'slack', always: false })]);
    expect(await readFile(path.join(workspace, 'b.txt'), 'utf8')).toBe('bee\n');

    const updated = await slack.waitForVersion(message, (t) => t.includes('*Approved*'), 'the message to show the approval');
    expect(blocksText(updated)).toContain(`<@${ALICE}> in Slack at <!date^`);
    expect(updated.blocks.some((b) => b.type === 'actions')).toBe(false);

    // Recorded for people: `agent status` and the Update in history (the Web UI shows it with its input).
    const status = await runCli(['status', taskId], env);
    expect(status.stdout).toMatch(new RegExp(`Approval apr-1 write_file: approved by ${ALICE} via slack at \\d{4}-`));
    const [accepted] = await acceptedUpdates(taskId);
    const input = JSON.parse(Buffer.from(accepted!.workflowExecutionUpdateAcceptedEventAttributes!.acceptedRequest!.input!.args!.payloads![0]!.data!).toString());
    expect(input).toMatchObject({ decidedBy: ALICE, channel: 'slack', requestId: 'apr-1', actionHash: result.approvals[0]!.actionHash });
  });

  it('denies with a click: nothing is written, the task ends denied, the message says so', async () => {
    const { taskId, workspace } = await startTask('deny-b: deny in Slack');
    const message = await slack.messageFor(taskId, 'apr-1');
    expect((await clickAs(message, DENY_ACTION, ALICE)).status).toBe(200);
    const result = await client.result(taskId);
    expect(result.status).toBe('denied');
    expect(result.approvals).toEqual([expect.objectContaining({ outcome: 'denied', decidedBy: ALICE, channel: 'slack' })]);
    await expect(stat(path.join(workspace, 'b.txt'))).rejects.toThrow();
    await slack.waitForVersion(message, (t) => t.includes('*Denied*') && t.includes(`<@${ALICE}>`), 'the message to show the denial');
  });

  it('refuses forged, stale, future-dated, unauthorised and changed-action clicks without touching the workflow; a replay or a second decision changes nothing', async () => {
    const { taskId, workspace } = await startTask('write-b: the guards');
    const message = await slack.messageFor(taskId, 'apr-1');
    const now = Math.floor(Date.now() / 1000);

    expect((await clickAs(message, APPROVE_ACTION, ALICE, { secret: 'not-the-signing-secret' })).status).toBe(401);
    expect((await clickAs(message, APPROVE_ACTION, ALICE, { timestampSec: now - 6 * 60 })).status).toBe(401);
    // Bolt alone accepts a request dated in the future; the server refuses it.
    expect((await clickAs(message, APPROVE_ACTION, ALICE, { timestampSec: now + 6 * 60 })).status).toBe(401);
    const forgedUser = slack.click(message, APPROVE_ACTION, 'U0MALLORY');
    expect((await post('/slack/events', { ...forgedUser, body: forgedUser.body.replace('U0MALLORY', ALICE) })).status).toBe(401);

    expect((await clickAs(message, APPROVE_ACTION, 'U0MALLORY')).status).toBe(200);
    await ephemeralFor('U0MALLORY', /Not recorded: you are not on the approvers list/);
    // U0BOB may approve read-only actions only.
    expect((await clickAs(message, APPROVE_ACTION, 'U0BOB')).status).toBe(200);
    await ephemeralFor('U0BOB', /may not decide workspace-write actions in /);
    // A click bound to another action hash (a message for an action that has since changed).
    const tampered = JSON.stringify({ t: taskId, r: 'apr-1', h: 'f'.repeat(64) });
    expect((await clickAs(message, APPROVE_ACTION, ALICE, { value: tampered })).status).toBe(200);
    await ephemeralFor(ALICE, /different action \(action hash mismatch\)/);

    const view = await client.status(taskId);
    expect(view.pendingApprovals.map((r) => r.requestId)).toEqual(['apr-1']);
    expect(view.approvals).toEqual([]);
    expect(await acceptedUpdates(taskId)).toHaveLength(0);
    expect(message.versions).toHaveLength(1);
    await expect(stat(path.join(workspace, 'b.txt'))).rejects.toThrow();

    const genuine = slack.click(message, APPROVE_ACTION, ALICE);
    expect((await post('/slack/events', genuine)).status).toBe(200);
    const result = await client.result(taskId);
    expect(result.approvals).toEqual([expect.objectContaining({ outcome: 'approved', decidedBy: ALICE })]);
    // The identical request again: refused before it reaches Bolt.
    expect((await post('/slack/events', genuine)).status).toBe(409);
    // A new click on the stale message (a client that has not refreshed): first decision wins.
    expect((await clickAs(message, DENY_ACTION, ALICE, { version: 0 })).status).toBe(200);
    await ephemeralFor(ALICE, /Not recorded: request apr-1 was already approved by U0ALICE/);
    expect(await acceptedUpdates(taskId)).toHaveLength(1);
    expect((await client.result(taskId)).status).toBe('completed');
  });

  it('an expired request updates the message; a late click is refused', async () => {
    const { taskId } = await startTask('deny-b: let it expire', { approvalTimeoutMs: 1_500 });
    const message = await slack.messageFor(taskId, 'apr-1');
    const result = await client.result(taskId);
    expect(result.approvals).toEqual([expect.objectContaining({ outcome: 'expired', channel: 'timeout' })]);
    await slack.waitForVersion(message, (t) => t.includes('*Expired*') && t.includes('counts as denied'), 'the message to show the expiry');
    expect((await clickAs(message, APPROVE_ACTION, ALICE, { version: 0 })).status).toBe(200);
    await ephemeralFor(ALICE, /request apr-1 was already expired by timeout/);
    expect(await acceptedUpdates(taskId)).toHaveLength(0);
  });

  it('"approve always" approves and remembers the grant for the rest of the task', async () => {
    const { taskId } = await startTask('write-b: approve always in Slack');
    const message = await slack.messageFor(taskId, 'apr-1');
    expect((await clickAs(message, APPROVE_ALWAYS_ACTION, ALICE)).status).toBe(200);
    const result = await client.result(taskId);
    expect(result.approvals).toEqual([expect.objectContaining({ outcome: 'approved', always: true, decidedBy: ALICE })]);
    expect(result.trace!.map((e) => e.message).join('\n')).toMatch(/remembered for this workspace: allow write_file\(\.\/\*\)/);
    await slack.waitForVersion(message, (t) => t.includes('always, for the rest of this task'), 'the message to show "always"');
  });

  it('a chat failure never blocks the task: the request is decided on the CLI and the failure is traced', async () => {
    slack.refuse('chat.postMessage', 'channel_not_found');
    const { taskId } = await startTask('write-b: Slack refuses the post');
    const request = await waitFor(async () => (await client.status(taskId)).pendingApprovals[0], 'a pending request');
    const approve = await runCli(['approve', taskId, request.requestId], env);
    expect(approve.code, approve.stderr).toBe(0);
    const result = await client.result(taskId);
    expect(result.status).toBe('completed');
    const trace = result.trace!.map((e) => e.message).join('\n');
    expect(trace).toContain('chat: apr-1 not shown in slack: Slack refused chat.postMessage: channel_not_found');
    expect([...slack.messages.values()].some((m) => JSON.stringify(m.blocks).includes(taskId))).toBe(false);
    // The webhook showed it, so the webhook hears the outcome.
    await sink.next((e) => e.type === 'approval.resolved' && e.taskId === taskId);
  });

  it('a decision on the CLI updates the Slack message too', async () => {
    const { taskId } = await startTask('write-b: approve on the CLI');
    const message = await slack.messageFor(taskId, 'apr-1');
    const approve = await runCli(['approve', taskId, 'apr-1', '--json'], env);
    expect(approve.code, approve.stderr).toBe(0);
    const decidedBy = JSON.parse(approve.stdout).decidedBy as string;
    const updated = await slack.waitForVersion(message, (t) => t.includes('*Approved*'), 'the message to show the CLI approval');
    expect(blocksText(updated)).toContain(`\`${decidedBy}\` via cli at`);
    expect((await client.result(taskId)).status).toBe('completed');
  });
});

describe('Slack approvals over Socket Mode', () => {
  it('a click delivered over the WebSocket approves the request', async () => {
    const socketEnv = { ...env, SLACK_APP_TOKEN: APP_TOKEN, AGENT_APPROVAL_WEBHOOK_KEYS: '' };
    const socketServer = await startApprovalsServer({ config: loadConfig(socketEnv), client, log: () => {} });
    try {
      expect(socketServer.slack?.mode).toBe('socket');
      expect(socketServer.url).toBeNull();
      expect(slack.callsOf('apps.connections.open').at(-1)?.token).toBe(APP_TOKEN);
      const { taskId } = await startTask('write-b: approve over Socket Mode');
      const message = await slack.messageFor(taskId, 'apr-1');
      await slack.clickOverSocket(message, APPROVE_ACTION, ALICE);
      const result = await client.result(taskId);
      expect(result.approvals).toEqual([expect.objectContaining({ outcome: 'approved', decidedBy: ALICE, channel: 'slack' })]);
    } finally {
      await socketServer.close();
    }
  });
});

describe('the signed webhook', () => {
  const decide = (taskId: string, requestId: string, body: WebhookDecision, key: { id: string; secret: string } = { id: 'ops-bot', secret: OPS_KEY }, nowMs = Date.now()) => {
    const text = JSON.stringify(body);
    return { body: text, headers: signedHeaders(key.id, key.secret, text, nowMs) };
  };

  it('posts signed requests and outcomes, and takes a signed decision back', async () => {
    const { taskId, workspace } = await startTask('write-b: approve by webhook');
    const requested = await sink.next((e) => e.type === 'approval.requested' && e.taskId === taskId);
    expect(requested.verified).toBe(true);
    expect(requested.event).toMatchObject({
      eventId: `${taskId}/apr-1/requested`,
      workspace,
      request: { requestId: 'apr-1', tool: 'write_file', input: { path: 'b.txt' } },
      decisionPath: `/approvals/${taskId}/apr-1`,
    });
    const request = (requested.event as Extract<WebhookEvent, { type: 'approval.requested' }>).request;

    const res = await post(
      `/approvals/${taskId}/apr-1`,
      decide(taskId, 'apr-1', { taskId, requestId: 'apr-1', actionHash: request.actionHash, approve: true, user: 'alice@example.com' }),
    );
    expect(res).toMatchObject({ status: 200, body: { ok: true, record: { outcome: 'approved', decidedBy: 'alice@example.com (key ops-bot)', channel: 'webhook' } } });
    const result = await client.result(taskId);
    expect(result.approvals).toEqual([expect.objectContaining({ outcome: 'approved', channel: 'webhook' })]);

    const resolved = await sink.next((e) => e.type === 'approval.resolved' && e.taskId === taskId);
    expect(resolved.verified).toBe(true);
    expect(resolved.event).toMatchObject({ record: { outcome: 'approved', decidedBy: 'alice@example.com (key ops-bot)' } });
    // Slack shows the request too, and the webhook decision replaces its buttons.
    await slack.waitForVersion(await slack.messageFor(taskId, 'apr-1'), (t) => t.includes('via webhook'), 'the Slack message to show the webhook decision');
  });

  it('refuses bad signatures, unknown keys, stale or future timestamps, a mismatched URL, an out-of-scope key and a changed action; replays and second decisions change nothing', async () => {
    const { taskId } = await startTask('write-b: webhook guards');
    const { event } = await sink.next((e) => e.type === 'approval.requested' && e.taskId === taskId);
    const actionHash = (event as Extract<WebhookEvent, { type: 'approval.requested' }>).request.actionHash;
    const body = { taskId, requestId: 'apr-1', actionHash, approve: true };
    const url = `/approvals/${taskId}/apr-1`;

    expect((await post(url, decide(taskId, 'apr-1', body, { id: 'ops-bot', secret: 'wrong-secret-wrong-secret' }))).status).toBe(401);
    expect((await post(url, decide(taskId, 'apr-1', body, { id: 'nobody', secret: OPS_KEY }))).status).toBe(401);
    expect((await post(url, decide(taskId, 'apr-1', body, undefined, Date.now() - 6 * 60_000))).status).toBe(401);
    expect((await post(url, decide(taskId, 'apr-1', body, undefined, Date.now() + 6 * 60_000))).status).toBe(401);
    const signed = decide(taskId, 'apr-1', body);
    expect((await post(url, { ...signed, body: signed.body.replace('true', 'false') })).status).toBe(401);
    // A decision signed for apr-1 cannot be pointed at another request.
    expect((await post(`/approvals/${taskId}/apr-2`, decide(taskId, 'apr-1', body))).status).toBe(400);
    expect(await post(url, decide(taskId, 'apr-1', body, { id: 'scoped-bot', secret: SCOPED_KEY }))).toMatchObject({
      status: 403,
      body: { error: expect.stringMatching(/may not decide workspace-write/) },
    });
    expect(await post(url, decide(taskId, 'apr-1', { ...body, actionHash: 'a'.repeat(64) }))).toMatchObject({
      status: 409,
      body: { error: expect.stringMatching(/different action/) },
    });

    expect((await client.status(taskId)).pendingApprovals).toHaveLength(1);
    expect(await acceptedUpdates(taskId)).toHaveLength(0);

    const genuine = decide(taskId, 'apr-1', { ...body, approve: false, reason: 'not now' });
    expect((await post(url, genuine)).status).toBe(200);
    expect((await post(url, genuine)).status).toBe(409);
    // A new request (not a replay: another body) deciding again: first decision wins.
    expect(await post(url, decide(taskId, 'apr-1', { ...body, reason: 'changed my mind' }))).toMatchObject({
      status: 409,
      body: { error: expect.stringMatching(/already denied by ops-bot/) },
    });
    expect(await acceptedUpdates(taskId)).toHaveLength(1);
    expect((await client.result(taskId)).approvals).toEqual([expect.objectContaining({ outcome: 'denied', reason: 'not now', decidedBy: 'ops-bot' })]);
  });
});

describe('agent approvals serve', () => {
  it('says which variables to set when nothing is configured', async () => {
    const res = await runCli(['approvals', 'serve'], { ...env, SLACK_SIGNING_SECRET: '', AGENT_APPROVAL_WEBHOOK_KEYS: '', AGENT_APPROVERS: '' });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/nothing to serve: .*SLACK_SIGNING_SECRET.*SLACK_APP_TOKEN.*AGENT_APPROVAL_WEBHOOK_KEYS/);
    expect(res.stderr).toMatch(/AGENT_APPROVERS is empty/);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  it('runs as its own process and decides through the real command', async () => {
    const { taskId } = await startTask('write-b: decided through agent approvals serve');
    const request = (await waitFor(async () => (await client.status(taskId)).pendingApprovals[0], 'a pending request'))!;
    const serve = spawnCli(['approvals', 'serve'], env);
    try {
      let out = '';
      serve.child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      const base = await waitFor(async () => /signed webhook decisions at (http:\/\/\S+)\/approvals/.exec(out)?.[1], '`agent approvals serve` to listen', 30_000);
      expect(out).toMatch(/Slack \(HTTP at http:\/\/\S+\/slack\/events, bot <@UBOT000001>\)/);
      const text = JSON.stringify({ taskId, requestId: request.requestId, actionHash: request.actionHash, approve: true });
      const res = await fetch(`${base}/approvals/${taskId}/${request.requestId}`, { method: 'POST', headers: signedHeaders('ops-bot', OPS_KEY, text), body: text });
      expect(res.status).toBe(200);
      expect((await client.result(taskId)).approvals[0]).toMatchObject({ outcome: 'approved', decidedBy: 'ops-bot', channel: 'webhook' });
    } finally {
      serve.child.kill('SIGTERM');
      const done = await serve.done;
      expect(done.stderr).not.toContain(OPS_KEY);
      expect(done.stderr).not.toContain(SIGNING_SECRET);
    }
  });
});

// ---------------------------------------------------------------------------------------------

interface WebhookSink {
  url: string;
  received: { event: WebhookEvent; verified: boolean }[];
  next(predicate: (e: WebhookEvent) => boolean): Promise<{ event: WebhookEvent; verified: boolean }>;
  close(): Promise<void>;
}

/** A chat integration's receiving end: keeps every POST and whether its signature verified. */
async function startWebhookSink(): Promise<WebhookSink> {
  const received: WebhookSink['received'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const ts = Number(req.headers[TIMESTAMP_HEADER]);
      const verified = req.headers[KEY_ID_HEADER] === 'agent' && signatureMatches(WEBHOOK_SECRET, ts, raw, String(req.headers[SIGNATURE_HEADER]));
      received.push({ event: JSON.parse(raw.toString()), verified });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/approvals`,
    received,
    next: (predicate) => waitFor(async () => received.find((r) => predicate(r.event)), 'a webhook POST', 20_000),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
