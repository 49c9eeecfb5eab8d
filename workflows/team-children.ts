/**
 * What a team knows of its children: each child it started, with its latest progress report
 * (its result once it ended) — the approvals it waits for, the tokens it spent, its tool calls and
 * decisions — and the "always" answers given in them. Workflow code: deterministic, no I/O.
 */
import type { RuleRecord } from '../domain/policy';
import type { ApprovalRecord, ApprovalRequest, TokenUsage, TraceEntry } from '../domain/task';
import type { TeamChildProgress } from '../domain/team';
import { sumUsage } from '../domain/usage';

/** What a child's result says of it; it replaces the child's last report. */
export interface ChildFinal {
  approvals: ApprovalRecord[];
  toolCalls: number;
  tokens: TokenUsage;
  grants: RuleRecord[];
}

export class TeamChildren {
  private readonly children = new Map<string, TeamChildProgress & { ended: boolean }>();
  /** "Always" answers given in children: children started later judge by them too. */
  readonly grants: RuleRecord[] = [];

  constructor(private readonly note: (kind: TraceEntry['kind'], message: string) => void) {}

  /**
   * Takes a child's progress report and traces the requests and decisions new in it. Reports of
   * children this run did not start, of ended children and out-of-order ones change nothing: false.
   */
  report(report: TeamChildProgress): boolean {
    const child = this.children.get(report.childId);
    if (!child || child.ended || report.seq <= child.seq) return false;
    const before = new Set(child.pending.map((r) => r.requestId));
    for (const r of report.pending) {
      if (!before.has(r.requestId)) this.note('approval', `approval ${r.requestId} requested by ${report.childId}: ${r.tool} (${r.risk}) — ${r.reasons.join('; ')}`);
    }
    const decided = new Set(child.approvals.map((a) => a.requestId));
    for (const a of report.approvals) {
      if (!decided.has(a.requestId)) this.note('approval', `approval ${a.requestId} ${a.outcome} by ${a.decidedBy} via ${a.channel}${a.reason ? `: ${a.reason}` : ''}`);
    }
    this.children.set(report.childId, { ...report, ended: false });
    return true;
  }

  started(childId: string): void {
    this.children.set(childId, { childId, seq: 0, pending: [], tokens: { input: 0, output: 0 }, toolCalls: 0, approvals: [], ended: false });
  }

  /** A child ended: its result (when it returned one) replaces its last report; its pending requests are gone. */
  ended(childId: string, final: ChildFinal | null): void {
    const child = this.children.get(childId);
    if (!child) return;
    child.ended = true;
    child.pending = [];
    if (final) {
      child.approvals = final.approvals;
      child.toolCalls = final.toolCalls;
      child.tokens = final.tokens;
      for (const g of final.grants) if (!this.grants.some((x) => x.text === g.text)) this.grants.push(g);
    }
  }

  /** The team ended: reports still arriving change nothing. */
  endAll(): void {
    for (const c of this.children.values()) c.ended = true;
  }

  /** The team's usage: its own model calls and every child's. */
  tokens(own: TokenUsage): TokenUsage {
    return [...this.children.values()].reduce<TokenUsage>((t, c) => sumUsage(t, c.tokens), { ...own });
  }

  approvals(): ApprovalRecord[] {
    return [...this.children.values()].flatMap((c) => c.approvals);
  }

  toolCalls(): number {
    return [...this.children.values()].reduce((n, c) => n + c.toolCalls, 0);
  }

  /** Requests running children wait for, each naming the child that holds it (decisions go there). */
  pending(): ApprovalRequest[] {
    return [...this.children.values()].flatMap((c) => (c.ended ? [] : c.pending.map((r) => ({ ...r, taskId: c.childId }))));
  }
}
