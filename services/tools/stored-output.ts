/**
 * Tool outputs kept whole in the state store, bound to their task, so read_output can page back an
 * output the model saw only part of, or one cleared from the context.
 */
import { BlobNotFoundError, type StateStore } from '../state/state-store';
import { ToolInputError } from './workspace';

/** What a stored tool output holds: the task it belongs to, so another task cannot page it. */
interface StoredOutput {
  kind: 'tool-output';
  taskId: string;
  tool: string;
  text: string;
}

/** Stores the whole output and returns its id. Throws only when the state store is down. */
export async function storeOutput(store: StateStore, taskId: string, tool: string, text: string): Promise<string> {
  const envelope: StoredOutput = { kind: 'tool-output', taskId, tool, text };
  return await store.putBlob(JSON.stringify(envelope));
}

/** read_output: a page of a stored output of this task. Throws ToolInputError for an unknown id or another task's output. */
export async function readStoredOutput(store: StateStore, taskId: string, input: { id: string; offset: number; limit: number }): Promise<string> {
  let stored: StoredOutput | null = null;
  try {
    const parsed = JSON.parse(await store.getBlob(input.id)) as Partial<StoredOutput>;
    if (parsed.kind === 'tool-output' && parsed.taskId === taskId && typeof parsed.text === 'string') stored = parsed as StoredOutput;
  } catch (err) {
    if (!(err instanceof BlobNotFoundError) && !(err instanceof SyntaxError)) throw err;
  }
  // Unknown, not an output, or another task's: the same answer, so ids cannot be probed.
  if (!stored) throw new ToolInputError(`no stored output ${input.id} in this task (ids appear in truncated or cleared tool results)`);
  const buffer = Buffer.from(stored.text);
  const from = Math.min(input.offset, buffer.length);
  const to = Math.min(buffer.length, from + input.limit);
  const page = buffer.subarray(from, to).toString('utf8');
  return `[${stored.tool} output ${input.id}: bytes ${from.toLocaleString('en-US')}–${to.toLocaleString('en-US')} of ${buffer.length.toLocaleString('en-US')}${to < buffer.length ? `; offset ${to} continues` : '; the end'}]\n${page}`;
}
