export { agentTask } from './agent-task';
