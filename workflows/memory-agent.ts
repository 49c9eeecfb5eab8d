/**
 * memoryAgent: the memory write path after a team's task, as a child workflow with its own history
 * in the Web UI. It runs the remember stage every task runs (the episode recorded, then the memory
 * writer) and reports what changed; its failure never changes the task's outcome (the parent
 * catches it).
 */
import type { EpisodeRecord } from '../domain/task';
import { remember } from './memory-steps';

export interface MemoryAgentResult {
  /** One line per kind of change, for the parent's trace. */
  lines: string[];
}

export async function memoryAgent(input: { episode: EpisodeRecord; user: string }): Promise<MemoryAgentResult> {
  const writing = await remember(input.episode, input.user);
  return { lines: await writing.lines };
}
