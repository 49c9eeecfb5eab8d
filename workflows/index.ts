export { agentTask } from './agent-task';
export { agentTeam } from './agent-team';
export { teamWorker } from './team-worker';
export { teamVerifier } from './team-verifier';
export { memoryAgent } from './memory-agent';
export { backgroundAgent, backgroundAgentTick } from './background-agent';
export { dream, dreamTick } from './dream';
