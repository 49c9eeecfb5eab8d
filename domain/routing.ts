/**
 * Tool routing: which tools the model is offered for this task. Offering fewer tools keeps the
 * model on task and makes an unexpected side effect impossible rather than merely gated.
 */
import type { Intent, Plan } from './task';
import { isToolName, type ToolName } from './tool-catalog';

export function routeTools(intent: Intent, plan: Plan): ToolName[] {
  // Looking around is always possible: the read-only tools the policy lets run in every mode.
  const tools = new Set<ToolName>(['read_file', 'list_files', 'search_files', 'inspect_environment']);
  // Long outputs are cut and old ones cleared from the context; this pages them back.
  tools.add('read_output');
  // The agent decides what is worth keeping for later tasks (memory is its own, never the workspace).
  tools.add('remember');
  tools.add('forget');
  if (intent.needsWrite) {
    tools.add('write_file');
    tools.add('edit_file');
  }
  if (intent.needsShell) tools.add('run_command');
  // A plan that names a tool is evidence the task needs it, even if intent parsing missed it.
  for (const step of plan.steps) if (step.tool && isToolName(step.tool)) tools.add(step.tool);
  // A background job started by run_command is only useful with a way to read it and stop it.
  if (tools.has('run_command')) tools.add('command_status');
  return [...tools];
}
