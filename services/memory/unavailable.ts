/**
 * When memory cannot be used. Memory is an aid: a task goes on without it, so the reason is told
 * once, in one line, with what to do — never as a stack trace in a worker's log. Which failures
 * mean "memory is unavailable until a person acts" and which mean "the connection dropped, try
 * again" is decided here, for the activities, the agent's memory tools and the CLI alike.
 */
import { FailureType } from '../../domain/failures';
import { MemoryConnectionLostError, ServiceError } from '../errors';
import { EmbeddingError } from './embeddings';
import { VectorIndexError } from './vector-index';

/** The memory store cannot be opened; the message says why and what to do. Only a person can fix it, so it is not retried. */
export class MemoryUnavailableError extends ServiceError {
  constructor(message: string) {
    super(FailureType.MemoryUnavailable, message, { retryable: false, benign: true });
  }
}

/** Node's and node-postgres's ways of saying the server went away or was never there. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'EAI_AGAIN']);

/** True for failures only a person can fix (another open, a misconfigured index or embedder): retrying changes nothing. */
export function isMemoryUnavailable(err: unknown): err is Error {
  return err instanceof MemoryUnavailableError || err instanceof VectorIndexError || err instanceof EmbeddingError;
}

/**
 * True when the database connection failed or dropped (its owner exited, the server restarted):
 * a retry reconnects, and for the embedded store the next connection takes it over if need be.
 */
export function isConnectionLost(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  if (code && CONNECTION_CODES.has(code)) return true;
  // A unix socket that is gone; any other missing file is not a connection problem.
  if (code === 'ENOENT' && (err as NodeJS.ErrnoException).syscall === 'connect') return true;
  // SQLSTATE class 08: connection exception; 57P01..03: the server is shutting down.
  if (code && /^(08...|57P0[123])$/.test(code)) return true;
  return /^Connection terminated|^Client has encountered a connection error|^timeout expired/.test(err.message);
}

/**
 * A memory failure as the caller should treat it, told in one line: unavailable (final) or a lost
 * connection (retried); undefined for anything else (the model's failures, programming errors),
 * which keeps its own meaning.
 */
export function memoryErrorOf(err: unknown): ServiceError | undefined {
  if (isMemoryUnavailable(err)) return new MemoryUnavailableError(oneLine(err));
  if (isConnectionLost(err)) return new MemoryConnectionLostError(`memory store connection lost: ${oneLine(err)}`);
  return undefined;
}

/** The first line of an error message: what a person reads in a trace or on stderr. */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.trim() || (err instanceof Error ? err.name : 'unknown error');
}

const told = new Set<string>();

/** Writes a memory notice once per process (the same line again is dropped). Returns whether it was written. */
export function tellOnce(line: string, write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): boolean {
  if (told.has(line)) return false;
  told.add(line);
  write(line);
  return true;
}
