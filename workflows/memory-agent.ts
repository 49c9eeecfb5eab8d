/**
 * memoryAgent: the memory write path after a team's task, as a child workflow with its own history
 * in the Web UI. It records the episode (for recall and consolidation) and runs the memory writer:
 * the model proposes, deterministic code supersedes. It reports what changed; its failure never
 * changes the task's outcome (the parent catches it).
 */
import type { EpisodeRecord } from '../domain/task';
import { memoryWrite, memoryWriteReport } from './memory-steps';
import { state } from './tool-gate';

export interface MemoryAgentResult {
  /** One line per kind of change, for the parent's trace. */
  lines: string[];
}

export async function memoryAgent(input: { episode: EpisodeRecord; user: string }): Promise<MemoryAgentResult> {
  const { episode } = input;
  await state.recordEpisode.executeWithOptions({ summary: 'record episode' }, [episode]);
  const { intent, ...rest } = episode;
  const w = await memoryWrite.writeMemories.executeWithOptions({ summary: 'write memories' }, [{ episode: { ...rest, goal: intent.goal }, user: input.user }]);
  return { lines: memoryWriteReport(w) };
}
