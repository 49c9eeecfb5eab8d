/**
 * Contracts of an agent task: what a client submits, what each pipeline stage produces,
 * and the status view clients read. Zod schemas parse untrusted data at the Node edge;
 * the workflow only ever sees the inferred, JSON-safe types.
 */
import { z } from 'zod';
import { once } from './lazy-schema';
import { ApproverKeySchema, DecisionSignatureSchema } from './approver-signature';
import { MODES } from './policy';
import type { TeamView } from './team-view';
import type { TokenUsage } from './usage';
import { RISK_CLASSES } from './tool-catalog';

export const STAGES = ['intent', 'plan', 'route', 'execute', 'verify', 'confirm', 'remember', 'respond', 'done'] as const;
export type Stage = (typeof STAGES)[number];

/**
 * `refused`: the model declined the task (stop_reason refusal). `incomplete`: a limit stopped the work
 * before the model finished (turns, cost, the context window); what was done is verified and answered.
 */
export const TASK_STATUSES = ['running', 'waiting_approval', 'completed', 'failed', 'denied', 'cancelled', 'refused', 'incomplete'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const CONFIRM_RESULT_MODES = ['never', 'unverified', 'always'] as const;

/** How long an approval request waits before it counts as denied: 30 minutes unless a task or agent says otherwise, at most a week. */
export const approvalTimeoutMsSchema = () =>
  z
    .number()
    .int()
    .min(1_000)
    .max(7 * 24 * 3600_000)
    .default(30 * 60_000);

/** The task input's object schema, for schemas that extend it (domain/team.ts). */
export const taskInputObject = once(() =>
  z.strictObject({
    prompt: z.string().trim().min(1, 'the task text is empty').max(20_000),
    /** Absolute path; every file tool is confined to it. */
    workspace: z.string().min(1),
    approvalTimeoutMs: approvalTimeoutMsSchema(),
    /** Model turns of the tool loop; running out ends the task `incomplete`, with what was done verified and answered. */
    maxTurns: z.number().int().min(1).max(500).default(100),
    /** Stop the tool loop once the model spend reaches this many USD (from the model's price table); verify and respond still run. */
    maxCostUsd: z.number().positive().max(100_000).optional(),
    /** When the finished result itself needs a human OK: never, only if verification failed, or always. */
    confirmResult: z.enum(CONFIRM_RESULT_MODES).default('unverified'),
    submittedBy: z.string().max(200).default('cli'),
    /** Permission mode for the whole task (see domain/policy.ts). */
    mode: z.enum(MODES).default('default'),
    /** Task-level rules, e.g. `allow run_command(npm run build)`; they rank above user and workspace rules in the audit trail. */
    rules: z.array(z.string().max(1_000)).max(100).default([]),
    /** Public keys whose signed decisions this task accepts (the submitter's, trusted chat receivers'); none: nobody can approve. */
    approverKeys: z.array(ApproverKeySchema).max(20).default([]),
  }),
);
export const TaskInputSchema = z.lazy(taskInputObject);
export type TaskInput = z.infer<typeof TaskInputSchema>;
export type TaskSubmission = z.input<typeof TaskInputSchema>;

export const IntentSchema = z.lazy(() =>
  z.strictObject({
    goal: z.string().min(1).max(2_000),
    kind: z.enum(['question', 'change', 'command', 'other']),
    needsWrite: z.boolean(),
    needsShell: z.boolean(),
    /** One line for the Web UI and `agent list`. */
    summary: z.string().min(1).max(120),
  }),
);
export type Intent = z.infer<typeof IntentSchema>;

export const PlanSchema = z.lazy(() =>
  z.strictObject({
    steps: z
      .array(
        z.strictObject({
          title: z.string().min(1).max(300),
          tool: z.string().max(64).optional(),
        }),
      )
      .min(1)
      .max(30),
  }),
);
export type Plan = z.infer<typeof PlanSchema>;

export const VerificationSchema = z.lazy(() =>
  z.strictObject({
    passed: z.boolean(),
    evidence: z.array(z.string().max(1_000)).max(20),
    problems: z.array(z.string().max(1_000)).max(20),
  }),
);
export type Verification = z.infer<typeof VerificationSchema>;

export const RiskSchema = z.enum([...RISK_CLASSES, 'unverified-result']);
export type Risk = z.infer<typeof RiskSchema>;

export interface PlanStepView {
  index: number;
  title: string;
  state: 'pending' | 'done';
}

/** What a file-writing action would change, shown to the person who decides (a unified diff). */
export interface ActionPreview {
  kind: 'new-file' | 'overwrite' | 'edit';
  path: string;
  added: number;
  removed: number;
  /** Size of the content after the change. */
  bytes: number;
  /** Unified diff (`---`/`+++`/`@@`), cut at 20,000 characters. */
  diff: string;
  truncated: boolean;
}

export interface ApprovalRequest {
  requestId: string;
  kind: 'tool' | 'result';
  toolUseId: string | null;
  tool: string;
  input: unknown;
  risk: Risk;
  reasons: string[];
  actionHash: string;
  requestedAt: string;
  expiresAt: string;
  /** What binds a signed decision to this request (see approver-signature.ts); absent in requests from older releases. */
  nonce?: string;
  /** The workflow that holds the request when it is not the task itself (a team's worker or verifier child); decisions go there. */
  taskId?: string;
  /** For file writes: the change as a diff (absent for other actions and in requests from before previews). */
  preview?: ActionPreview;
}

/** The memo key under which a running task lists its pending requests, readable without a worker. */
export const PENDING_APPROVALS_MEMO = 'pendingApprovals';
/** What the memo keeps of a pending request: enough to show it, and to sign and send a decision on it. */
export type PendingApprovalMemo = Pick<ApprovalRequest, 'requestId' | 'tool' | 'risk' | 'actionHash' | 'requestedAt' | 'expiresAt' | 'nonce' | 'taskId'>;
export const pendingApprovalMemo = (r: ApprovalRequest): PendingApprovalMemo => ({
  requestId: r.requestId,
  tool: r.tool,
  risk: r.risk,
  actionHash: r.actionHash,
  requestedAt: r.requestedAt,
  expiresAt: r.expiresAt,
  ...(r.nonce !== undefined ? { nonce: r.nonce } : {}),
  ...(r.taskId ? { taskId: r.taskId } : {}),
});

export const ApprovalDecisionSchema = z.lazy(() =>
  z.strictObject({
    requestId: z.string().min(1),
    actionHash: z.string().regex(/^[0-9a-f]{64}$/, 'actionHash must be a sha256 hex digest'),
    approve: z.boolean(),
    /** Approve this action and the same kind of action for the rest of this task. */
    always: z.boolean().default(false),
    reason: z.string().max(2_000).optional(),
    decidedBy: z.string().min(1).max(200),
    channel: z.enum(['cli', 'slack', 'webhook', 'api']),
    /** The approver's signature over this decision and the request (domain/approver-signature.ts). */
    signature: DecisionSignatureSchema.optional(),
  }),
);
export type ApprovalDecision = z.infer<typeof ApprovalDecisionSchema>;

export interface ApprovalRecord {
  requestId: string;
  tool: string;
  actionHash: string;
  outcome: 'approved' | 'denied' | 'expired';
  always: boolean;
  reason: string | null;
  decidedBy: string;
  channel: ApprovalDecision['channel'] | 'timeout';
  decidedAt: string;
  /** The approver key that signed the decision (its label), when one did. */
  signedBy?: string;
}

export type { TokenUsage } from './usage';

export interface TaskResult {
  taskId: string;
  status: TaskStatus;
  answer: string;
  verified: boolean;
  evidence: string[];
  problems: string[];
  approvals: ApprovalRecord[];
  toolCalls: number;
  turns: number;
  /** Model tokens used (absent in results recorded before token accounting). */
  tokens?: TokenUsage;
  /** Why the tool loop stopped before the model finished (turn limit, cost cap, context window, refusal), when it did. */
  stopReason?: string | null;
  /** How many times the transcript was compacted to stay inside the context window. */
  compactions?: number;
  summary: string;
  plan: PlanStepView[];
  /** The step-by-step trace (last entries), so `agent logs` of a finished task needs no worker. */
  trace?: TraceEntry[];
  /** Team tasks: each step with its evidence, and the budgets. */
  team?: TeamView;
}

export interface TaskStatusView {
  taskId: string;
  status: TaskStatus;
  stage: Stage;
  summary: string;
  prompt: string;
  workspace: string;
  plan: PlanStepView[];
  pendingApprovals: ApprovalRequest[];
  approvals: ApprovalRecord[];
  toolCalls: number;
  turns: number;
  tokens?: TokenUsage;
  /** Activities being retried right now (a model endpoint down, say): which, which attempt, and the last failure. */
  retrying?: { activity: string; attempt: number; lastFailure: string }[];
  /** The last model call's input size and the model's window, so a person sees how full the context is. */
  context?: { tokens: number; window: number; compactions: number };
  result: TaskResult | null;
  error: string | null;
  /** Team tasks: steps, children and budgets. */
  team?: TeamView;
}

/** What the task records of itself when it ends: the episode the memory writer and consolidation learn from. */
export interface EpisodeRecord {
  taskId: string;
  prompt: string;
  workspace: string;
  intent: Intent;
  planSteps: string[];
  verification: Verification;
  transcriptHead: string | null;
  /** The gate's ledger of every tool call (absent in episodes recorded before it). */
  ledgerRef?: string;
  status: string;
  toolCalls: number;
  recordedAt: string;
}

/** The episode as the memory writer reads it: the recorded episode, with the goal instead of the whole intent. */
export type EpisodeForMemory = Omit<EpisodeRecord, 'intent'> & { goal: string };

export interface TraceEntry {
  seq: number;
  at: string;
  stage: Stage;
  kind: 'stage' | 'llm' | 'tool' | 'policy' | 'approval' | 'note' | 'error';
  message: string;
}
