/**
 * What a failed model call means for its retry. The Anthropic client runs with maxRetries 0, so
 * every retry decision is made here (as a ServiceError) and carried out by Temporal once the
 * activity has mapped it (activities/failures.ts).
 */
import Anthropic from '@anthropic-ai/sdk';
import { LlmAuthError, LlmRateLimitedError, LlmRequestRejectedError, LlmUnavailableError, ServiceError } from '../errors';

const MAX_PROVIDER_DELAY_MS = 10 * 60_000;

/** Reads retry-after-ms / retry-after (seconds or HTTP date); undefined when absent or unparsable. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.get('retry-after-ms') && Number.isFinite(ms) && ms >= 0) return Math.min(ms, MAX_PROVIDER_DELAY_MS);
  const raw = headers.get('retry-after');
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, MAX_PROVIDER_DELAY_MS);
  // Only a real HTTP-date counts: Date.parse is lenient enough to read "-1" as a year.
  if (!/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(raw.trim())) return undefined;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.min(Math.max(0, date - now), MAX_PROVIDER_DELAY_MS);
}

/**
 * Classifies anything thrown while calling the model. ServiceErrors (bad output, a missing key)
 * keep their meaning; the SDK's errors are read by status; anything else counts as the model
 * being unavailable, so it is retried. Never throws.
 */
export function modelErrorOf(err: unknown): ServiceError {
  if (err instanceof ServiceError) return err;
  if (err instanceof Anthropic.APIConnectionError) {
    return new LlmUnavailableError(`model API unreachable: ${err.message}`, { cause: err });
  }
  if (err instanceof Anthropic.APIError) {
    const status = err.status;
    const message = `model API ${status ?? 'stream'} error: ${err.message}`;
    // An error event inside a stream has no HTTP status; its type says what happened.
    const streamType = (err.error as { error?: { type?: string } } | undefined)?.error?.type;
    if (status === 429 || status === 529 || streamType === 'overloaded_error' || streamType === 'rate_limit_error') {
      return new LlmRateLimitedError(message, { nextRetryDelayMs: retryAfterMs(err.headers), cause: err });
    }
    if (status === 401 || status === 403) return new LlmAuthError(`${message} (check ANTHROPIC_API_KEY)`);
    if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 409) return new LlmRequestRejectedError(message);
    return new LlmUnavailableError(message, { nextRetryDelayMs: retryAfterMs(err.headers), cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new LlmUnavailableError(`model call failed: ${message}`);
}
