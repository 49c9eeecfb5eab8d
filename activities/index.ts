/**
 * Activities: thin adapters from Temporal to services. Each parses nothing it does not have to,
 * heartbeats while it works, and turns service errors into failures with the right retry class.
 */
import { Context } from '@temporalio/activity';
import type { NetworkGrant } from '../domain/policy';
import type { EpisodeRecord, Intent, Verification } from '../domain/task';
import type { EvidenceCheck } from '../domain/team';
import type { McpToolEntry, McpToolName, McpToolTarget } from '../domain/mcp';
import type { ToolName } from '../domain/tool-catalog';
import type { LedgerEntry } from '../domain/context';
import type { CompactInput, ExecuteStepInput, TaskContext, ToolResultForModel } from '../domain/model-contract';
import { PolicyInvalidError, ToolInfrastructureError } from '../services/errors';
import type { AgentModel, CallOptions } from '../services/llm/agent-model';
import type { McpHub } from '../services/mcp/mcp-hub';
import { loadHooks, type ResolvedHook } from '../services/hooks/hook-config';
import { runHooks, type HookRequest } from '../services/hooks/hook-runner';
import type { HookPlan } from '../domain/hooks';
import { describeInstructions, instructionsBlock, loadProjectInstructions } from '../services/tools/project-instructions';
import { PolicyFileError, type PolicySources } from '../services/policy/policy-sources';
import { parseRule, RuleSyntaxError } from '../services/policy/rules';
import type { StateStore } from '../services/state/state-store';
import { actionHash, gateToolCall, type GateRequest } from '../services/policy/gate';
import type { ToolRunner } from '../services/tools/tool-runner';
import { openWorkspaceFile, ToolInputError, workspaceRoot } from '../services/tools/workspace';
import type { ApprovalNotifier } from '../services/approvals/notifier';
import { createApprovalNotifyActivities } from './approval-notify';
import { classifyLlmError, toFailure } from './failures';
import { createMemoryActivities, type MemoryActivityServices } from './memory';

export interface ActivityServices {
  model: AgentModel;
  tools: ToolRunner;
  store: StateStore;
  policy: PolicySources;
  /** Chat notifications of approval requests; null or absent when no chat channel is configured. */
  approvals?: ApprovalNotifier | null;
  memory: Omit<MemoryActivityServices, 'model'>;
  /** AGENT_HOME: where the user's own instruction file lives. */
  home: string;
  /** The worker's MCP clients; absent: no MCP tools are offered. */
  mcp?: McpHub;
  /** What every sandbox hides and what its proxy refuses: hooks run inside it. */
  sandbox: { hidden: string[]; refuse: string[] };
}

const HEARTBEAT_EVERY_MS = 2_000;
/** A verifier's contains check reads at most this much. */
const EVIDENCE_READ_LIMIT = 8 * 1024 * 1024;

/**
 * Runs fn with a steady heartbeat, so a dead worker is noticed within the heartbeat timeout. Only
 * the timer heartbeats: the SDK sends an activity's first heartbeat at once (a server call and a
 * database write), so beating on every streamed event or output line taxed every short call; a
 * call shorter than one interval now sends none.
 */
async function withHeartbeat<T>(fn: (ctx: Context) => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    return await fn(ctx);
  } finally {
    clearInterval(timer);
  }
}

async function llmCall<T>(fn: (options: CallOptions) => Promise<T>): Promise<T> {
  return await withHeartbeat(async (ctx) => {
    try {
      return await fn({ signal: ctx.cancellationSignal });
    } catch (err) {
      throw classifyLlmError(err, ctx.info.attempt);
    }
  });
}

/** Task snapshots (MCP catalogs, hooks) kept in memory by ref; a task reads its own many times. */
const SNAPSHOT_CACHE = 64;

export function createActivities({ model, tools, store, policy, memory, home, mcp, sandbox, approvals = null }: ActivityServices) {
  const snapshots = new Map<string, unknown>();
  /** A task's stored snapshot (its MCP catalog, its hooks), read once per worker: content-addressed, so never stale. */
  async function snapshot<T>(ref: string): Promise<T> {
    let value = snapshots.get(ref);
    if (value === undefined) {
      value = JSON.parse(await store.getBlob(ref));
      remember(ref, value);
    }
    return value as T;
  }
  async function storeSnapshot(value: unknown): Promise<string> {
    const ref = await store.putBlob(JSON.stringify(value));
    remember(ref, value);
    return ref;
  }
  function remember(ref: string, value: unknown): void {
    if (snapshots.size >= SNAPSHOT_CACHE) snapshots.delete(snapshots.keys().next().value!);
    snapshots.set(ref, value);
  }

  /** The hooks the task will run, fixed now (an edit during the task changes nothing), and which events and tools they cover. */
  async function snapshotHooks(workspace: string): Promise<{ plan: HookPlan | null; lines: string[] }> {
    const root = await workspaceRoot(workspace);
    const { hooks, notices } = await loadHooks(home, root, (text) => policy.isTrusted(root, '.agent/hooks.json', text));
    const lines = notices.map((n) => `hooks: ${n}`);
    if (hooks.length === 0) return { plan: null, lines };
    const matchers: HookPlan['matchers'] = {};
    for (const h of hooks) (matchers[h.event] ??= []).push(h.matcher ?? '*');
    lines.push(
      `hooks: ${Object.entries(matchers)
        .map(([event, m]) => `${event} ×${m.length}`)
        .join(', ')} (${[...new Set(hooks.map((h) => h.source))].join(' and ')})`,
    );
    return { plan: { ref: await storeSnapshot(hooks), matchers }, lines };
  }

  /**
   * The MCP tools a task may be offered: every configured server's, listed now (a server that does
   * not answer in time is left out, with why). The catalog is stored once; the task holds its ref.
   */
  async function discoverMcpTools(workspace: string): Promise<{ ref: string | null; names: McpToolName[]; lines: string[] }> {
    if (!mcp) return { ref: null, names: [], lines: [] };
    const catalog = await mcp.catalog(workspace).catch((err: Error) => ({ tools: [], lines: [`mcp: no MCP tools: ${err.message}`] }));
    if (catalog.tools.length === 0) return { ref: null, names: [], lines: catalog.lines };
    return { ref: await storeSnapshot(catalog.tools), names: catalog.tools.map((t) => t.name), lines: catalog.lines };
  }

  async function loadSnapshot(workspace: string, taskRules: string[]) {
    const root = await workspaceRoot(workspace).catch(() => workspace);
    try {
      const snapshot = await policy.snapshot(root);
      return { rules: [...snapshot.rules, ...taskRules.map((r) => parseRule(r, 'task'))], notices: snapshot.notices };
    } catch (err) {
      throw toFailure(err, { classify: (e) => (e instanceof PolicyFileError || e instanceof RuleSyntaxError ? new PolicyInvalidError(e.message) : undefined) });
    }
  }

  const memoryActivities = createMemoryActivities({ ...memory, model }, llmCall);
  return {
    ...createApprovalNotifyActivities(approvals),
    ...memoryActivities,
    /**
     * What a task needs before it plans, in one local activity: its policy snapshot and what memory
     * recalls for it, side by side. A broken policy fails it (fail closed: the task must not run with
     * fewer rules); memory that cannot answer only says why, and the task goes on without it.
     */
    async prepareTask(input: { workspace: string; taskRules: string[]; recall: Parameters<typeof memoryActivities.recallMemories>[0] }) {
      const [policy, recall, instructions, mcpTools, hooks] = await Promise.all([
        loadSnapshot(input.workspace, input.taskRules),
        memoryActivities.recallMemories(input.recall).then(
          (result) => ({ ok: true as const, result }),
          (err: unknown) => ({ ok: false as const, error: err instanceof Error ? err.message : String(err) }),
        ),
        // The project's instruction files (AGENTS.md / CLAUDE.md): text for the model, never rules.
        workspaceRoot(input.workspace)
          .then((root) => loadProjectInstructions(root, home))
          .catch(() => []),
        discoverMcpTools(input.workspace),
        snapshotHooks(input.workspace).catch((err: Error) => ({ plan: null, lines: [`hooks: none run: ${err.message}`] })),
      ]);
      return { policy, recall, instructions: { block: instructionsBlock(instructions), lines: describeInstructions(instructions) }, mcp: mcpTools, hooks };
    },
    async parseIntent(ctx: TaskContext) {
      return await llmCall((o) => model.parseIntent(ctx, o));
    },
    /** `memory`: the recalled-memory block (quoted reference data), when recall found any. */
    async makePlan(ctx: TaskContext, intent: Intent, memory?: string) {
      return await llmCall((o) => model.makePlan(ctx, intent, o, memory));
    },
    async executeStep(input: ExecuteStepInput) {
      // The catalog is parsed once per worker, not on every turn.
      const mcpTools = input.mcpCatalogRef ? await snapshot<McpToolEntry[]>(input.mcpCatalogRef) : [];
      return await llmCall((o) => model.executeStep(input, o, mcpTools));
    },
    /** Summarises the work so far and continues the transcript from the summary and the last turns. */
    async compactTranscript(input: CompactInput) {
      return await llmCall((o) => model.compact(input, o));
    },
    /** Answers the last tool calls in the transcript without calling the model (the loop stopped at its turn limit). */
    async appendToolResults(input: { head: string; toolResults: ToolResultForModel[] }) {
      return { head: await model.appendToolResults(input.head, input.toolResults) };
    },
    /** The team planner (and re-planner); the plan is validated, cycles and unknown dependencies included. */
    async planTeam(ctx: TaskContext, intent: Intent, extra: Parameters<AgentModel['planTeam']>[3] = {}) {
      return await llmCall((o) => model.planTeam(ctx, intent, o, extra));
    },
    async judgeStep(input: Parameters<AgentModel['judgeStep']>[0]) {
      return await llmCall((o) => model.judgeStep(input, o));
    },
    /**
     * A verifier's file check, after the gate cleared reading the path. Reads through the same
     * workspace-confined open as read_file; a missing or unreadable file is a failed check, not an error.
     */
    async checkFileEvidence(workspace: string, check: Extract<EvidenceCheck, { kind: 'file_exists' | 'file_contains' }>) {
      let opened;
      try {
        opened = await openWorkspaceFile(workspace, check.path);
      } catch (err) {
        if (err instanceof ToolInputError) return { passed: false, detail: err.message };
        throw err;
      }
      try {
        if (check.kind === 'file_exists') return { passed: true, detail: `${check.path} exists (${opened.size} bytes)` };
        if (opened.size > EVIDENCE_READ_LIMIT)
          return { passed: false, detail: `${check.path} is ${opened.size} bytes, over the ${EVIDENCE_READ_LIMIT}-byte limit for a contains check` };
        const text = (await opened.handle.readFile()).toString('utf8');
        return text.includes(check.text)
          ? { passed: true, detail: `${check.path} contains ${JSON.stringify(check.text.slice(0, 80))}` }
          : { passed: false, detail: `${check.path} does not contain ${JSON.stringify(check.text.slice(0, 80))}` };
      } finally {
        await opened.handle.close();
      }
    },
    async verifyResult(input: TaskContext & { goal: string; planSteps: string[]; head: string | null; ledgerRef?: string }) {
      return await llmCall((o) => model.verify(input, o));
    },
    async composeAnswer(input: TaskContext & { head: string | null; verification: Verification; outcomeNote: string; ledgerRef?: string }) {
      return await llmCall((o) => model.respond(input, o));
    },

    /** The permission gate; pure CPU plus one realpath, run as a local activity. */
    async authorizeToolCall(request: GateRequest) {
      const { mcpCatalogRef, ...rest } = request;
      return await gateToolCall(mcpCatalogRef ? { ...rest, mcpTools: await snapshot<McpToolEntry[]>(mcpCatalogRef) } : rest);
    },

    /** One event's hooks of a task's snapshot, run now; a hook's own failure is a trace line, never an error. */
    async runHooks(input: { ref: string } & Omit<HookRequest, 'taskId'>) {
      const { ref, ...request } = input;
      const taskId = Context.current().info.workflowExecution?.workflowId ?? '';
      return await runHooks(await snapshot<ResolvedHook[]>(ref), { ...request, taskId }, { sandbox });
    },
    /**
     * The task's policy snapshot: builtin, user and workspace rules as they are now, plus the task's
     * own. A broken policy file fails the task (fail closed) instead of running with fewer rules.
     */
    async loadPolicy(workspace: string, taskRules: string[]) {
      return (await loadSnapshot(workspace, taskRules)).rules;
    },
    /** The same snapshot, with the notices a person must see (an untrusted workspace policy whose allow rules were ignored). */
    async loadPolicySnapshot(workspace: string, taskRules: string[]) {
      return await loadSnapshot(workspace, taskRules);
    },
    /** Persists "always" answers as user rules scoped to this workspace (listed by `agent policy list`). */
    async persistGrants(workspace: string, rules: string[]) {
      const root = await workspaceRoot(workspace).catch(() => workspace);
      await policy.add(rules, root);
    },
    /** Hash for approvals that are not tool calls (accepting an unverified result). */
    async hashAction(tool: string, input: unknown, workspace: string) {
      const root = await workspaceRoot(workspace).catch(() => workspace);
      return actionHash(tool, input, root);
    },

    async runTool(request: {
      toolUseId: string;
      tool: ToolName | McpToolName;
      input: Record<string, unknown>;
      /** An MCP tool: where it runs, as the gate cleared it. */
      mcp?: McpToolTarget;
      workspace: string;
      user?: string;
      network?: NetworkGrant | null;
      requireSandbox?: boolean;
    }) {
      return await withHeartbeat(async (ctx) => {
        const execution = ctx.info.workflowExecution;
        if (!execution) throw toFailure(new ToolInfrastructureError('runTool must be called from a workflow'));
        const { workflowId, runId } = execution;
        return await tools.run(
          {
            effectKey: `${workflowId}/${runId}/${request.toolUseId}`,
            taskId: workflowId,
            ...(request.user ? { user: request.user } : {}),
            tool: request.tool,
            input: request.input,
            ...(request.mcp ? { mcp: request.mcp } : {}),
            workspace: request.workspace,
            network: request.network ?? null,
            requireSandbox: request.requireSandbox ?? false,
          },
          { signal: ctx.cancellationSignal },
        );
      });
    },

    /**
     * Stops the background jobs a task started, when the task ends. Jobs live on the worker that
     * started them, so on another worker this finds none; their deadline and the worker's exit stop them there.
     */
    async stopBackgroundJobs(taskId: string) {
      return tools.jobs.stopTask(taskId);
    },

    /** The gate's ledger, stored once after the tool loop so later stages pass only its ref. Content-addressed, so retries are harmless. */
    async storeLedger(ledger: LedgerEntry[]) {
      return await store.putBlob(JSON.stringify(ledger));
    },

    /**
     * Does nothing. Workflows (and the histories they replay) still schedule this step, so it must
     * exist; the episode itself is kept in one place, the memory store, by writeMemories, which is
     * what recall and consolidation read.
     */
    async recordEpisode(_episode: EpisodeRecord) {},
  };
}

export type Activities = ReturnType<typeof createActivities>;
