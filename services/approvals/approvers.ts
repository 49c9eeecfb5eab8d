/**
 * Who may decide an approval from chat: an allow-list of principals (Slack user ids, webhook key
 * ids), each optionally limited to risk classes and workspaces. Anyone not listed decides nothing;
 * an empty list means nobody can approve from chat (the CLI still works).
 *
 * Syntax (AGENT_APPROVERS): entries separated by `;`, each
 *   <principal>[,<principal>...] [risk=<class>[,<class>...]] [workspace=<abs path>[,<abs path>...]]
 * e.g. `slack:U01ALICE,webhook:ops-bot; slack:U02BOB risk=workspace-write workspace=/srv/app`.
 * Within a condition any listed value matches; both conditions must hold when both are given.
 */
import path from 'node:path';
import { RiskSchema, type Risk } from '../../domain/task';

export type Principal = `slack:${string}` | `webhook:${string}`;

export interface ApproverRule {
  principals: Principal[];
  /** null: any risk. */
  risks: Risk[] | null;
  /** null: any workspace. Absolute, normalised paths; a rule covers the directory and everything under it. */
  workspaces: string[] | null;
  /** The entry as written, for error messages and `agent approvals serve`'s start-up summary. */
  text: string;
}

const SLACK_USER = /^slack:[UW][A-Z0-9]{2,30}$/;
const WEBHOOK_KEY = /^webhook:[A-Za-z0-9_.-]{1,64}$/;

/** A webhook key id as used in AGENT_APPROVAL_WEBHOOK_KEYS and the x-agent-key-id header. */
export const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** Parses AGENT_APPROVERS. Throws an Error naming the bad entry and the expected form. */
export function parseApprovers(text: string): ApproverRule[] {
  const rules: ApproverRule[] = [];
  for (const raw of text.split(';')) {
    const entry = raw.trim();
    if (!entry) continue;
    const [who, ...conditions] = entry.split(/\s+/);
    const principals = who!.split(',').filter(Boolean);
    for (const p of principals) {
      if (!SLACK_USER.test(p) && !WEBHOOK_KEY.test(p)) {
        throw new Error(`"${p}" in "${entry}" is not an approver: use slack:<user id> (e.g. slack:U01ABCDEF) or webhook:<key id>`);
      }
    }
    let risks: Risk[] | null = null;
    let workspaces: string[] | null = null;
    for (const condition of conditions) {
      const match = /^(risk|workspace)=(.+)$/.exec(condition);
      if (!match) throw new Error(`"${condition}" in "${entry}" is not a condition: use risk=<class>[,<class>] or workspace=<abs path>[,<abs path>]`);
      const values = match[2]!.split(',').filter(Boolean);
      if (match[1] === 'risk') {
        for (const v of values) {
          if (!RiskSchema.safeParse(v).success) throw new Error(`unknown risk "${v}" in "${entry}" (one of: ${RiskSchema.options.join(', ')})`);
        }
        risks = [...(risks ?? []), ...(values as Risk[])];
      } else {
        for (const v of values) if (!path.isAbsolute(v)) throw new Error(`workspace "${v}" in "${entry}" must be an absolute path`);
        workspaces = [...(workspaces ?? []), ...values.map(normaliseDir)];
      }
    }
    rules.push({ principals: principals as Principal[], risks, workspaces, text: entry });
  }
  return rules;
}

/** True when some rule lists the principal and covers the request's risk and workspace. */
export function mayDecide(rules: readonly ApproverRule[], principal: Principal, request: { risk: Risk; workspace: string }): boolean {
  const workspace = normaliseDir(request.workspace);
  return rules.some(
    (r) =>
      r.principals.includes(principal) &&
      (r.risks === null || r.risks.includes(request.risk)) &&
      (r.workspaces === null || r.workspaces.some((w) => w === '/' || workspace === w || workspace.startsWith(`${w}/`))),
  );
}

/** Every principal the rules mention (for start-up checks such as "the bot itself is not an approver"). */
export function listedPrincipals(rules: readonly ApproverRule[]): Set<Principal> {
  return new Set(rules.flatMap((r) => r.principals));
}

function normaliseDir(dir: string): string {
  const normal = path.posix.normalize(dir);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}
