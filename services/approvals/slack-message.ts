/**
 * The Slack message of an approval request (Block Kit): the task, the exact action (tool,
 * arguments, workspace), its risk and why, and the buttons; later the same message with the
 * outcome instead of the buttons. Pure functions, so the worker and `agent approvals serve`
 * render identically and tests can read what a person would see.
 */
import { z } from 'zod';
import type { ApprovalRecord, ApprovalRequest } from '../../domain/task';

export const APPROVE_ACTION = 'approval_approve';
export const APPROVE_ALWAYS_ACTION = 'approval_approve_always';
export const DENY_ACTION = 'approval_deny';
export const APPROVAL_ACTION_IDS = [APPROVE_ACTION, APPROVE_ALWAYS_ACTION, DENY_ACTION] as const;

/**
 * What a button carries. Binding the click to the action hash (not just the request id) means a
 * click on a message for an action that has since changed approves nothing.
 */
const ButtonValueSchema = z.strictObject({
  t: z.string().min(1).max(200),
  r: z.string().min(1).max(100),
  h: z.string().regex(/^[0-9a-f]{64}$/),
});
export interface ButtonValue {
  taskId: string;
  requestId: string;
  actionHash: string;
}

export function encodeButtonValue(v: ButtonValue): string {
  return JSON.stringify({ t: v.taskId, r: v.requestId, h: v.actionHash });
}

/** null for anything that is not a value this module wrote. */
export function decodeButtonValue(text: string | undefined): ButtonValue | null {
  if (!text) return null;
  try {
    const parsed = ButtonValueSchema.safeParse(JSON.parse(text));
    return parsed.success ? { taskId: parsed.data.t, requestId: parsed.data.r, actionHash: parsed.data.h } : null;
  } catch {
    return null;
  }
}

export interface MessageContext {
  taskId: string;
  summary: string;
  workspace: string;
  request: ApprovalRequest;
}

/** Slack's limit for a section's text is 3,000 characters; the rest of the arguments is cut. */
const MAX_ARGS_CHARS = 2_400;

export interface SlackMessage {
  text: string;
  blocks: Record<string, unknown>[];
}

/** The pending request with Approve / (Approve always) / Deny buttons. */
export function pendingMessage(ctx: MessageContext, alwaysOffered: boolean): SlackMessage {
  const value = encodeButtonValue({ taskId: ctx.taskId, requestId: ctx.request.requestId, actionHash: ctx.request.actionHash });
  const button = (actionId: string, text: string, style?: 'primary' | 'danger') => ({
    type: 'button',
    action_id: actionId,
    text: { type: 'plain_text', text },
    value,
    ...(style ? { style } : {}),
  });
  return {
    text: `Approval needed for ${ctx.taskId}: ${ctx.request.tool} (${ctx.request.risk})`,
    blocks: [
      ...describe(ctx),
      {
        type: 'context',
        elements: [
          mrkdwn(
            `Request \`${esc(ctx.request.requestId)}\` · action \`${ctx.request.actionHash.slice(0, 12)}\` · expires ${slackDate(ctx.request.expiresAt)} (no answer means deny)`,
          ),
        ],
      },
      {
        type: 'actions',
        block_id: `approval:${ctx.request.requestId}`,
        elements: [
          button(APPROVE_ACTION, 'Approve', 'primary'),
          ...(alwaysOffered ? [button(APPROVE_ALWAYS_ACTION, 'Approve always (this task)')] : []),
          button(DENY_ACTION, 'Deny', 'danger'),
        ],
      },
    ],
  };
}

/** The same message once decided or expired: the outcome replaces the buttons. */
export function resolvedMessage(ctx: MessageContext, record: ApprovalRecord): SlackMessage {
  return {
    text: `${ctx.request.tool} for ${ctx.taskId}: ${record.outcome} by ${record.decidedBy}`,
    blocks: [...describe(ctx), { type: 'section', text: mrkdwn(outcomeLine(record)) }, requestContext(ctx)],
  };
}

/**
 * A message as Slack sent it back with a click, its buttons replaced by a line: for a request that
 * was settled (or whose task ended) while the message still offered buttons. null if it has none.
 */
export function settledMessage(blocks: unknown, line: string, text: string): SlackMessage | null {
  if (!Array.isArray(blocks) || !blocks.some((b) => (b as { type?: unknown })?.type === 'actions')) return null;
  const kept = (blocks as Record<string, unknown>[]).filter((b) => b.type !== 'actions');
  return { text, blocks: [...kept, { type: 'section', text: mrkdwn(line) }] };
}

export function closedLine(why: string): string {
  return `:no_entry_sign: ${esc(why)}`;
}

export function outcomeLine(record: ApprovalRecord): string {
  const who = record.channel === 'slack' && /^[UW][A-Z0-9]+$/.test(record.decidedBy) ? `<@${record.decidedBy}>` : `\`${esc(record.decidedBy)}\``;
  const via = record.channel === 'slack' ? 'in Slack' : `via ${record.channel}`;
  const when = slackDate(record.decidedAt);
  const reason = record.reason ? ` — ${esc(record.reason)}` : '';
  switch (record.outcome) {
    case 'approved':
      return `:white_check_mark: *Approved* by ${who} ${via} at ${when}${record.always ? ' — always, for the rest of this task' : ''}${reason}`;
    case 'denied':
      return `:no_entry: *Denied* by ${who} ${via} at ${when}${reason}`;
    case 'expired':
      return `:hourglass: *Expired* at ${when}: nobody decided in time, so it counts as denied`;
  }
}

function describe(ctx: MessageContext): Record<string, unknown>[] {
  const { request } = ctx;
  const title = request.kind === 'result' ? 'Accept the result' : `Run ${request.tool}`;
  return [
    { type: 'header', text: { type: 'plain_text', text: truncate(`Approval: ${title} (${request.risk})`, 150) } },
    {
      type: 'section',
      text: mrkdwn(`*Task* \`${esc(ctx.taskId)}\` — ${escapeAndCut(ctx.summary, 600)}\n*Workspace* \`${escapeAndCut(ctx.workspace, 1_000)}\``),
    },
    { type: 'section', text: mrkdwn(actionText(ctx)) },
    {
      type: 'section',
      text: mrkdwn(
        `*Why it needs approval*\n${escapeAndCut(
          request.reasons
            .slice(0, 10)
            .map((r) => `• ${truncate(r, 300)}`)
            .join('\n') || '• (no reason given)',
          2_800,
        )}`,
      ),
    },
  ];
}

/** The action: a file write as its diff (what will change), anything else as its arguments. */
function actionText(ctx: MessageContext): string {
  const { request } = ctx;
  const preview = request.preview;
  if (preview) {
    const kind = preview.kind === 'new-file' ? 'new file' : preview.kind;
    const diff = escapeAndCut(preview.diff, MAX_ARGS_CHARS);
    const cut = diff.endsWith('…') || preview.truncated;
    const lines = preview.diff.split('\n').length;
    return (
      `*Action* \`${esc(request.tool)}\` · *${kind}* \`${escapeAndCut(preview.path, 300)}\` · +${preview.added} −${preview.removed} · risk *${esc(request.risk)}*\n\`\`\`${diff}\`\`\`` +
      (cut ? `\n_Diff cut for Slack (${lines} lines in all); the whole diff: \`agent status ${esc(ctx.taskId)}\`_` : '')
    );
  }
  const args = escapeAndCut(formatInput(request.input), MAX_ARGS_CHARS);
  return (
    `*Action* \`${esc(request.tool)}\` · risk *${esc(request.risk)}*\n\`\`\`${args}\`\`\`` +
    (args.endsWith('…') ? `\n_Arguments cut for Slack; all of them: \`agent status ${esc(ctx.taskId)} --json\`_` : '')
  );
}

function requestContext(ctx: MessageContext): Record<string, unknown> {
  return { type: 'context', elements: [mrkdwn(`Request \`${esc(ctx.request.requestId)}\` · action \`${ctx.request.actionHash.slice(0, 12)}\``)] };
}

/** A shell command reads best as itself; anything else as indented JSON. */
function formatInput(input: unknown): string {
  if (input && typeof input === 'object' && typeof (input as { command?: unknown }).command === 'string' && Object.keys(input).length === 1) {
    return `$ ${(input as { command: string }).command}`;
  }
  return JSON.stringify(input, null, 2) ?? String(input);
}

const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });

/** Slack's mrkdwn needs only these three escaped; everything else is shown literally. */
function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escapes first, then cuts (escaping can grow text up to 5×), never leaving half an entity. */
function escapeAndCut(text: string, max: number): string {
  const escaped = esc(text);
  return escaped.length > max ? `${escaped.slice(0, max - 1).replace(/&[a-z]*$/, '')}…` : escaped;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Shown in each reader's own time zone; the ISO text is the fallback. */
function slackDate(iso: string): string {
  const sec = Math.floor(Date.parse(iso) / 1000);
  return Number.isFinite(sec) ? `<!date^${sec}^{date_short_pretty} {time_secs}|${iso}>` : esc(iso);
}
