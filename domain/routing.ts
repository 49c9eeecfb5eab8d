/**
 * Tool routing: which tools the model is offered for this task. Offering fewer tools keeps the
 * model on task and makes an unexpected side effect impossible rather than merely gated. Each
 * tool says in the catalog when it is offered; this only reads the task's intent and plan.
 */
import type { Intent, Plan } from './task';
import { isToolName, TOOL_NAMES, TOOL_SPECS, type ToolName, type ToolOffer } from './tool-catalog';

const offered = (offer: ToolOffer) => TOOL_NAMES.filter((name) => TOOL_SPECS[name].offer === offer);

export function routeTools(intent: Intent, plan: Plan): ToolName[] {
  // Looking around, paging cut outputs back and the agent's own memory are always possible.
  const tools = new Set<ToolName>(offered('always'));
  if (intent.needsWrite) for (const name of offered('when-writing')) tools.add(name);
  if (intent.needsShell) for (const name of offered('when-running-commands')) tools.add(name);
  // A plan that names a tool is evidence the task needs it, even if intent parsing missed it.
  for (const step of plan.steps) if (step.tool && isToolName(step.tool)) tools.add(step.tool);
  // A background job started by run_command is only useful with a way to read it and stop it.
  if (tools.has('run_command')) for (const name of offered('with-run-command')) tools.add(name);
  return [...tools];
}
