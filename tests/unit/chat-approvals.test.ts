/** The approval front end's pure parts and notifiers: allow-list, Slack message, config checks, fan-out and the outgoing webhook. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { serveProblems } from '../../servers/chat-approvals/approvals-server';
import type { ApprovalRecord, ApprovalRequest } from '../../domain/task';
import { mayDecide, parseApprovers } from '../../services/approvals/approvers';
import { createApprovalNotifier, notifierProblems } from '../../services/approvals/create-notifier';
import { FanOutNotifier, NotifyError, type ApprovalChannel, type ApprovalRequestedEvent } from '../../services/approvals/notifier';
import { signatureMatches, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../services/approvals/signing';
import {
  APPROVE_ACTION,
  APPROVE_ALWAYS_ACTION,
  decodeButtonValue,
  DENY_ACTION,
  encodeButtonValue,
  outcomeLine,
  pendingMessage,
  resolvedMessage,
  settledMessage,
} from '../../services/approvals/slack-message';
import { WebhookNotifier } from '../../services/approvals/webhook-notifier';
import { ConfigError, loadConfig } from '../../services/config';

const HASH = 'ab'.repeat(32);
const request: ApprovalRequest = {
  requestId: 'apr-1',
  kind: 'tool',
  toolUseId: 'toolu_1',
  tool: 'run_command',
  input: { command: 'rm -rf build && echo "<done>" & true' },
  risk: 'destructive',
  reasons: ['runs a shell command', 'deletes files'],
  actionHash: HASH,
  requestedAt: '2026-03-01T12:00:00.000Z',
  expiresAt: '2026-03-01T12:30:00.000Z',
};
const ctx = { taskId: 'task-0123456789ab', summary: 'Clean the build', workspace: '/srv/app', request };
const record = (over: Partial<ApprovalRecord> = {}): ApprovalRecord => ({
  requestId: 'apr-1',
  tool: 'run_command',
  actionHash: HASH,
  outcome: 'approved',
  always: false,
  reason: null,
  decidedBy: 'U0ALICE',
  channel: 'slack',
  decidedAt: '2026-03-01T12:01:00.000Z',
  ...over,
});

describe('the approvers allow-list', () => {
  const rules = parseApprovers('slack:U01ALICE,webhook:ops-bot; slack:U02BOB risk=workspace-write,read-only workspace=/srv/app; webhook:ci workspace=/srv/ci/');

  it('lets listed principals decide within their risk classes and workspaces', () => {
    expect(mayDecide(rules, 'slack:U01ALICE', { risk: 'destructive', workspace: '/anywhere' })).toBe(true);
    expect(mayDecide(rules, 'webhook:ops-bot', { risk: 'unverified-result', workspace: '/x' })).toBe(true);
    expect(mayDecide(rules, 'slack:U02BOB', { risk: 'workspace-write', workspace: '/srv/app' })).toBe(true);
    expect(mayDecide(rules, 'slack:U02BOB', { risk: 'read-only', workspace: '/srv/app/sub/dir' })).toBe(true);
    expect(mayDecide(rules, 'webhook:ci', { risk: 'destructive', workspace: '/srv/ci/repo' })).toBe(true);
  });

  it('refuses everyone else, other risks, and workspaces that only share a prefix', () => {
    expect(mayDecide(rules, 'slack:U03MALLORY', { risk: 'read-only', workspace: '/srv/app' })).toBe(false);
    expect(mayDecide(rules, 'slack:U02BOB', { risk: 'destructive', workspace: '/srv/app' })).toBe(false);
    expect(mayDecide(rules, 'slack:U02BOB', { risk: 'read-only', workspace: '/srv/application' })).toBe(false);
    expect(mayDecide(rules, 'slack:U02BOB', { risk: 'read-only', workspace: '/srv' })).toBe(false);
    expect(mayDecide(rules, 'webhook:ops', { risk: 'read-only', workspace: '/srv/app' })).toBe(false);
    expect(mayDecide([], 'slack:U01ALICE', { risk: 'read-only', workspace: '/' })).toBe(false);
  });

  it.each([
    ['alice', /"alice" .* is not an approver: use slack:<user id>/],
    ['slack:alice', /is not an approver/],
    ['slack:U01ALICE risk=dangerous', /unknown risk "dangerous"/],
    ['slack:U01ALICE workspace=relative/dir', /must be an absolute path/],
    ['slack:U01ALICE owner=me', /"owner=me" .* is not a condition/],
  ])('rejects %j with a message', (text, message) => {
    expect(() => parseApprovers(text)).toThrow(message);
  });

  it('a bad AGENT_APPROVERS is a config error naming the variable', () => {
    expect(() => loadConfig({ AGENT_APPROVERS: 'bob' })).toThrow(ConfigError);
    expect(() => loadConfig({ AGENT_APPROVERS: 'bob' })).toThrow(/AGENT_APPROVERS: "bob"/);
  });
});

describe('the Slack message', () => {
  it('binds every button to the task, request and action hash', () => {
    const message = pendingMessage(ctx, true);
    const actions = message.blocks.find((b) => b.type === 'actions') as { elements: { action_id: string; value: string; style?: string }[] };
    expect(actions.elements.map((e) => [e.action_id, e.style])).toEqual([
      [APPROVE_ACTION, 'primary'],
      [APPROVE_ALWAYS_ACTION, undefined],
      [DENY_ACTION, 'danger'],
    ]);
    for (const e of actions.elements) expect(decodeButtonValue(e.value)).toEqual({ taskId: ctx.taskId, requestId: 'apr-1', actionHash: HASH });
    expect(message.text).toBe('Approval needed for task-0123456789ab: run_command (destructive)');
  });

  it('offers "always" only where the policy can express it', () => {
    const actions = pendingMessage(ctx, false).blocks.find((b) => b.type === 'actions') as { elements: { action_id: string }[] };
    expect(actions.elements.map((e) => e.action_id)).toEqual([APPROVE_ACTION, DENY_ACTION]);
  });

  it('shows the exact command, workspace, risk and reasons, escaped for mrkdwn', () => {
    const text = JSON.stringify(pendingMessage(ctx, false).blocks);
    expect(text).toContain('$ rm -rf build &amp;&amp; echo \\"&lt;done&gt;\\" &amp; true');
    expect(text).toContain('/srv/app');
    expect(text).toContain('risk *destructive*');
    expect(text).toContain('• runs a shell command\\n• deletes files');
    expect(text).toContain('<!date^1772368200^{date_short_pretty} {time_secs}|2026-03-01T12:30:00.000Z>');
  });

  it('cuts huge arguments to fit Slack and says where to see all of them', () => {
    const big = { ...ctx, request: { ...request, tool: 'write_file', input: { path: 'a.txt', content: '<'.repeat(10_000) } } };
    const message = pendingMessage(big, true);
    for (const b of message.blocks) {
      const t = (b as { text?: { text?: string } }).text?.text;
      if (t) expect(t.length).toBeLessThanOrEqual(3_000);
    }
    const action = JSON.stringify(message.blocks);
    expect(action).toContain('Arguments cut for Slack; all of them: `agent status task-0123456789ab --json`');
    expect(action).not.toMatch(/&l…|&lt…/);
  });

  it('shows a file write as its diff, cut for Slack with a pointer to the whole diff', () => {
    const diffLines = ['--- a/VERSION', '+++ b/VERSION', '@@ -1 +1 @@', '-1.4.0', '+1.5.0'];
    const small = {
      ...ctx,
      request: {
        ...request,
        tool: 'write_file',
        risk: 'workspace-write' as const,
        input: { path: 'VERSION', content: '1.5.0\n' },
        preview: { kind: 'overwrite' as const, path: 'VERSION', added: 1, removed: 1, bytes: 6, diff: diffLines.join('\n'), truncated: false },
      },
    };
    const text = JSON.stringify(pendingMessage(small, false).blocks);
    expect(text).toContain('*Action* `write_file` · *overwrite* `VERSION` · +1 −1 · risk *workspace-write*');
    expect(text).toContain('-1.4.0\\n+1.5.0');
    expect(text).not.toContain('Diff cut');
    const long = '@@ -0,0 +1,2000 @@\n' + Array.from({ length: 2_000 }, (_, i) => `+line ${i}`).join('\n');
    const big = { ...small, request: { ...small.request, preview: { ...small.request.preview, kind: 'new-file' as const, diff: long } } };
    const bigText = JSON.stringify(pendingMessage(big, false).blocks);
    expect(bigText).toContain('*new file*');
    expect(bigText).toContain('Diff cut for Slack (2001 lines in all); the whole diff: `agent status task-0123456789ab`');
    for (const b of pendingMessage(big, false).blocks) {
      const t = (b as { text?: { text?: string } }).text?.text;
      if (t) expect(t.length).toBeLessThanOrEqual(3_000);
    }
  });

  it('once resolved, shows who, how and when instead of the buttons', () => {
    const resolved = resolvedMessage(ctx, record({ always: true }));
    expect(resolved.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(JSON.stringify(resolved.blocks)).toContain(':white_check_mark: *Approved* by <@U0ALICE> in Slack at <!date^1772366460^');
    expect(JSON.stringify(resolved.blocks)).toContain('always, for the rest of this task');
    expect(outcomeLine(record({ outcome: 'denied', decidedBy: 'jo<e>', channel: 'cli', reason: 'not today' }))).toMatch(
      /^:no_entry: \*Denied\* by `jo&lt;e&gt;` via cli at .* — not today$/,
    );
    expect(outcomeLine(record({ outcome: 'expired', decidedBy: 'timeout', channel: 'timeout' }))).toMatch(/^:hourglass: \*Expired\* at .*counts as denied$/);
  });

  it('a settled request keeps the message and replaces only the buttons', () => {
    const pending = pendingMessage(ctx, false);
    const settled = settledMessage(pending.blocks, 'done', 'x')!;
    expect(settled.blocks.slice(0, -1)).toEqual(pending.blocks.filter((b) => b.type !== 'actions'));
    expect(settled.blocks.at(-1)).toEqual({ type: 'section', text: { type: 'mrkdwn', text: 'done' } });
    expect(settledMessage(settled.blocks, 'again', 'x')).toBeNull();
    expect(settledMessage(undefined, 'x', 'x')).toBeNull();
  });

  it('reads back only button values it wrote', () => {
    expect(decodeButtonValue(encodeButtonValue({ taskId: 't', requestId: 'r', actionHash: HASH }))).toEqual({ taskId: 't', requestId: 'r', actionHash: HASH });
    for (const junk of [undefined, '', 'approve', '{"t":"t","r":"r","h":"short"}', `{"t":"t","r":"r","h":"${HASH}","x":1}`, '[]']) expect(decodeButtonValue(junk)).toBeNull();
  });
});

describe('approval config', () => {
  const base = {
    SLACK_BOT_TOKEN: 'xoxb-1',
    SLACK_SIGNING_SECRET: 'signing-secret',
    SLACK_APPROVAL_CHANNEL: 'C0123ABCD',
    SLACK_API_URL: 'http://127.0.0.1:9/api',
    AGENT_APPROVERS: 'slack:U01ALICE,webhook:ops',
    AGENT_APPROVAL_WEBHOOK_KEYS: 'ops=inbound-secret-0123456789',
  };

  it('parses Slack, webhook, approvers and server settings', () => {
    const { approvals } = loadConfig(base);
    expect(approvals.slack).toEqual({
      botToken: 'xoxb-1',
      signingSecret: 'signing-secret',
      appToken: undefined,
      channel: 'C0123ABCD',
      dmOwner: false,
      apiUrl: 'http://127.0.0.1:9/api/',
    });
    expect(approvals.webhook).toEqual({ url: undefined, secret: undefined, keyId: 'agent', inboundKeys: { ops: 'inbound-secret-0123456789' } });
    expect(approvals.approvers.map((r) => r.principals)).toEqual([['slack:U01ALICE', 'webhook:ops']]);
    expect(approvals.server).toEqual({ host: '127.0.0.1', port: 3100 });
    expect(serveProblems(loadConfig(base))).toEqual([]);
  });

  it('names bad values without echoing secrets', () => {
    const err = (() => {
      try {
        loadConfig({ AGENT_APPROVAL_WEBHOOK_KEYS: 'ops=short-secret', SLACK_APPROVAL_CHANNEL: '#approvals', SLACK_APP_TOKEN: 'xoxb-wrong' });
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(err.message).toMatch(/AGENT_APPROVAL_WEBHOOK_KEYS: each entry must be <key id>=<secret of at least 16 characters>/);
    expect(err.message).toMatch(/SLACK_APPROVAL_CHANNEL: must be a channel id/);
    expect(err.message).toMatch(/SLACK_APP_TOKEN: must be an app-level token/);
    expect(err.message).not.toContain('short-secret');
  });

  it('`agent approvals serve` refuses configurations that could not work or would be unsafe', () => {
    expect(serveProblems(loadConfig({}))).toEqual([expect.stringMatching(/^nothing to serve: /), expect.stringMatching(/^AGENT_APPROVERS is empty/)]);
    expect(serveProblems(loadConfig({ ...base, SLACK_BOT_TOKEN: '' }))).toEqual(['SLACK_BOT_TOKEN is not set: the server needs it to answer clicks']);
    // The workers hold the outgoing secret, next to the tools the model drives: it must not sign decisions.
    expect(serveProblems(loadConfig({ ...base, AGENT_APPROVAL_WEBHOOK_URL: 'http://x', AGENT_APPROVAL_WEBHOOK_SECRET: 'inbound-secret-0123456789' }))).toEqual([
      expect.stringMatching(/key "ops" reuses AGENT_APPROVAL_WEBHOOK_SECRET/),
    ]);
    expect(serveProblems(loadConfig({ ...base, AGENT_APPROVERS: 'slack:U01ALICE' }))).toEqual([expect.stringMatching(/key "ops" is not in AGENT_APPROVERS \(add webhook:ops\)/)]);
  });

  it('the worker refuses half-configured channels and builds nothing when none is configured', async () => {
    expect(notifierProblems(loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1' }).approvals)).toEqual([expect.stringMatching(/SLACK_APPROVAL_CHANNEL is not: set it/)]);
    expect(notifierProblems(loadConfig({ AGENT_APPROVAL_WEBHOOK_URL: 'http://x/hook' }).approvals)).toEqual([expect.stringMatching(/AGENT_APPROVAL_WEBHOOK_SECRET is not/)]);
    await expect(createApprovalNotifier(loadConfig({ SLACK_APPROVAL_CHANNEL: 'C0123ABCD' }).approvals)).rejects.toThrow(ConfigError);
    expect(await createApprovalNotifier(loadConfig({}).approvals)).toBeNull();
  });
});

const event: ApprovalRequestedEvent = { taskId: ctx.taskId, summary: ctx.summary, workspace: ctx.workspace, submittedBy: 'cli', request, alwaysOffered: false };

function channel(name: 'slack' | 'webhook', behaviour: 'ok' | Error): ApprovalChannel & { calls: string[] } {
  const calls: string[] = [];
  return {
    name,
    calls,
    async requested() {
      calls.push('requested');
      if (behaviour instanceof Error) throw behaviour;
      return name === 'slack' ? { slack: { channel: 'C1', ts: '1.1' } } : { webhook: true };
    },
    async resolved() {
      calls.push('resolved');
      if (behaviour instanceof Error) throw behaviour;
    },
  };
}

describe('FanOutNotifier', () => {
  it('reports a failed channel instead of throwing when another one worked, so a retry never re-posts', async () => {
    const notifier = new FanOutNotifier([channel('slack', 'ok'), channel('webhook', new NotifyError('the approval webhook answered HTTP 503', true))]);
    expect(await notifier.requested(event)).toEqual({ slack: { channel: 'C1', ts: '1.1' }, webhook: false, errors: ['webhook: the approval webhook answered HTTP 503'] });
  });

  it('throws when every channel failed, retryable if any failure may recover', async () => {
    const retryable = new FanOutNotifier([channel('slack', new NotifyError('a', false)), channel('webhook', new NotifyError('b', true))]);
    await expect(retryable.requested(event)).rejects.toMatchObject({ message: 'a; b', retryable: true });
    const final = new FanOutNotifier([channel('slack', new NotifyError('Slack refused chat.postMessage: channel_not_found', false))]);
    await expect(final.requested(event)).rejects.toMatchObject({ retryable: false });
  });

  it('updates only the channels that showed the request', async () => {
    const slack = channel('slack', 'ok');
    const webhook = channel('webhook', 'ok');
    const notifier = new FanOutNotifier([slack, webhook]);
    expect(await notifier.resolved({ ...event, record: record(), posting: { slack: null, webhook: true, errors: [] } })).toEqual([]);
    expect(slack.calls).toEqual([]);
    expect(webhook.calls).toEqual(['resolved']);
  });
});

describe('WebhookNotifier', () => {
  let server: http.Server | undefined;
  afterEach(() => server?.close());

  async function sink(status: number) {
    const seen: { headers: http.IncomingHttpHeaders; body: string }[] = [];
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, seen };
  }

  it('POSTs the request as signed JSON with a stable event id', async () => {
    const { url, seen } = await sink(200);
    expect(await new WebhookNotifier({ url, keyId: 'agent', secret: 'outgoing-secret-0123456789' }).requested(event)).toEqual({ webhook: true });
    const [{ headers, body }] = seen as [{ headers: http.IncomingHttpHeaders; body: string }];
    expect(signatureMatches('outgoing-secret-0123456789', Number(headers[TIMESTAMP_HEADER]), body, String(headers[SIGNATURE_HEADER]))).toBe(true);
    expect(JSON.parse(body)).toMatchObject({
      type: 'approval.requested',
      eventId: `${ctx.taskId}/apr-1/requested`,
      request: { actionHash: HASH },
      decisionPath: `/approvals/${ctx.taskId}/apr-1`,
    });
  });

  it.each([
    [503, true],
    [429, true],
    [400, false],
    [401, false],
  ])('HTTP %i is a NotifyError, retryable: %s', async (status, retryable) => {
    const { url } = await sink(status);
    await expect(new WebhookNotifier({ url, keyId: 'agent', secret: 'outgoing-secret-0123456789' }).requested(event)).rejects.toMatchObject({
      retryable,
      message: `the approval webhook answered HTTP ${status}`,
    });
  });

  it('an unreachable receiver is retryable', async () => {
    await expect(new WebhookNotifier({ url: 'http://127.0.0.1:1/hook', keyId: 'agent', secret: 'outgoing-secret-0123456789' }).requested(event)).rejects.toMatchObject({
      retryable: true,
    });
  });
});
