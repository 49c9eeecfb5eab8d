/**
 * A task's lifecycle hooks, as the workflow calls them: before and after each tool call (through the
 * gate), before the task ends, when an approval is requested, and at the end. Each runs as a local
 * activity, and only when a hook of the task's snapshot applies (its event, and for tool events a
 * matcher that covers the tool), so a task without hooks schedules nothing. Every hook run is
 * traced. Workflow code: deterministic, no I/O.
 */
import { hooksApply, type HookEvent, type HookOutcome, type HookPlan } from '../domain/hooks';
import type { TraceEntry } from '../domain/task';
import { hooks as hookRuns } from './activity-proxies';

export interface HooksHost {
  taskId: string;
  input: { workspace: string; mode: string };
  note(kind: TraceEntry['kind'], message: string): void;
}

/** Stop hooks may send the model back this many times per task; then the task ends anyway (a hook that always blocks cannot hold it forever). */
const MAX_STOP_BLOCKS = 3;

/** What a tool call's hooks see of its result. */
export interface ToolResponse {
  status: string;
  isError: boolean;
  /** The output as the model saw it, when small enough to be held inline; else the head of it. */
  output: string;
}

export class TaskHooks {
  /** The task's hook snapshot; a team passes it to its children. */
  plan: HookPlan | undefined;
  private stopBlocks = 0;

  constructor(private readonly host: HooksHost) {}

  set(plan: HookPlan | undefined): void {
    this.plan = plan;
  }

  /** PreToolUse: deny (with the reason for the model), ask (a person must approve), or nothing. */
  async beforeTool(toolUseId: string, tool: string, input: Record<string, unknown>): Promise<HookOutcome | null> {
    return await this.run('PreToolUse', tool, { tool_name: tool, tool_input: input, tool_use_id: toolUseId });
  }

  /** PostToolUse: what the hooks tell the model about the result (appended to it), or null. */
  async afterTool(toolUseId: string, tool: string, input: Record<string, unknown>, response: ToolResponse): Promise<string | null> {
    const outcome = await this.run('PostToolUse', tool, { tool_name: tool, tool_input: input, tool_use_id: toolUseId, tool_response: response });
    const said = outcome?.context ?? outcome?.reason;
    return said ? `[PostToolUse hook] ${said}` : null;
  }

  /** Stop: the reason to keep working when a hook blocks the end (at most MAX_STOP_BLOCKS times), or null to end. */
  async beforeStop(lastMessage: string): Promise<string | null> {
    if (this.stopBlocks >= MAX_STOP_BLOCKS) {
      if (hooksApply(this.plan, 'Stop')) this.host.note('note', `hooks: Stop hooks already sent the model back ${MAX_STOP_BLOCKS} times; the task ends`);
      return null;
    }
    const outcome = await this.run('Stop', undefined, { stop_hook_active: this.stopBlocks > 0, last_assistant_message: lastMessage.slice(0, 4_000) });
    if (outcome?.decision !== 'block' || !outcome.reason) return null;
    this.stopBlocks++;
    return outcome.reason;
  }

  /** Notification: an approval is waiting for a person. What the hooks say is only traced. */
  async approvalRequested(message: string, extra: Record<string, unknown>): Promise<void> {
    await this.run('Notification', undefined, { message, notification_type: 'permission_prompt', ...extra });
  }

  /** SessionEnd: the task ended, with its status as the reason. */
  async ended(status: string): Promise<void> {
    await this.run('SessionEnd', undefined, { reason: status });
  }

  private async run(event: HookEvent, tool: string | undefined, payload: Record<string, unknown>): Promise<HookOutcome | null> {
    if (!this.plan || !hooksApply(this.plan, event, tool)) return null;
    const { workspace, mode } = this.host.input;
    const outcome = await hookRuns.runHooks.executeWithOptions({ summary: `${event} hooks${tool ? ` (${tool})` : ''}` }, [
      { ref: this.plan.ref, event, ...(tool ? { tool } : {}), payload, workspace, mode },
    ]);
    for (const line of outcome.lines) this.host.note('note', line);
    return outcome;
  }
}
