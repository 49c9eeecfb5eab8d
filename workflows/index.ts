export { agentTask } from './agent-task';
export { backgroundAgent, backgroundAgentTick } from './background-agent';
export { dream, dreamTick } from './dream';
