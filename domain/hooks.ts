/**
 * Lifecycle hooks as the workflow sees them: which events have hooks and, for tool events, which
 * tools they match, so a task schedules a hook run only when one applies. Events, matchers and the
 * JSON a hook reads and writes follow Claude Code's hooks where they overlap, so a script written
 * for it ports: a matcher may name a tool by Claude Code's name (`Bash`, `Write`, `Edit`, `Read`,
 * `Grep`, `Glob`) or by ours (`run_command`, `mcp__github__.*`).
 */

/** before a tool call (may deny or ask), after it (may add a note for the model), before the task ends (may send the model back), on an approval request, at the end. */
export const HOOK_EVENTS = ['PreToolUse', 'PostToolUse', 'Stop', 'Notification', 'SessionEnd'] as const;
export type HookEvent = (typeof HOOK_EVENTS)[number];

/** Events whose hooks have a matcher over the tool name. */
export const TOOL_EVENTS: readonly HookEvent[] = ['PreToolUse', 'PostToolUse'];

/** What a task holds of its hooks: the snapshot taken when it prepared (by ref) and each event's matchers. */
export interface HookPlan {
  ref: string;
  /** Per event with hooks: their matchers (`*` for a hook without one). */
  matchers: Partial<Record<HookEvent, string[]>>;
}

/** The combined answer of one event's hooks. */
export interface HookOutcome {
  /** deny / ask: PreToolUse; block: Stop (go on with `reason`) or PostToolUse (tell the model `reason`). */
  decision: 'none' | 'deny' | 'ask' | 'block';
  reason?: string;
  /** Text for the model after a tool call (PostToolUse's additionalContext). */
  context?: string;
  /** One line per hook that ran, for the trace. */
  lines: string[];
}

/** Our tools under the names Claude Code's hook matchers use for the same tools. */
const CLAUDE_CODE_NAMES: Readonly<Record<string, string>> = {
  run_command: 'Bash',
  write_file: 'Write',
  edit_file: 'Edit',
  read_file: 'Read',
  search_files: 'Grep',
  list_files: 'Glob',
};

/** Whether a matcher (`*`, empty, a name, or an anchored regular expression such as `Edit|Write`) covers the tool. */
export function matcherCovers(matcher: string | undefined, tool: string): boolean {
  if (!matcher || matcher === '*') return true;
  let pattern: RegExp;
  try {
    pattern = new RegExp(`^(?:${matcher})$`);
  } catch {
    return matcher === tool;
  }
  const alias = CLAUDE_CODE_NAMES[tool];
  return pattern.test(tool) || (alias !== undefined && pattern.test(alias));
}

/** Whether any hook of the plan runs for this event (and tool). */
export function hooksApply(plan: HookPlan | undefined, event: HookEvent, tool?: string): boolean {
  const matchers = plan?.matchers[event];
  if (!matchers?.length) return false;
  return tool === undefined || matchers.some((m) => matcherCovers(m, tool));
}
