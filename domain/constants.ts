export const DEFAULT_TASK_QUEUE = 'agent-tasks';
export const AGENT_TASK_WORKFLOW = 'agentTask';
/** Task ids are workflow ids; the prefix keeps them apart from other workflows in a shared namespace. */
export const TASK_ID_PREFIX = 'task-';
