/**
 * The services' errors: one hierarchy, so an activity maps every failure the same way.
 *
 * A service throws a ServiceError when its failure means something to the caller beyond "a bug":
 * the `type` workflows and the CLI match on (domain/failures.ts), whether another attempt can help,
 * and when it should come. Services know nothing of Temporal; activities/failures.ts is the one
 * place these become ApplicationFailures. Anything that is not a ServiceError is a bug or a foreign
 * error that a service's classifier (services/llm/provider-errors.ts, services/memory/unavailable.ts)
 * reads first.
 *
 * Errors with their own message live beside the code that throws them and extend a class here
 * (MissingApiKeyError in services/llm, NotifyError in services/approvals, MemoryUnavailableError
 * in services/memory); the classes below are the ones with no single thrower.
 *
 *   ServiceError
 *   ├── LlmRequestRejectedError   LlmRequestRejected   not retryable (4xx other than 408/409/429)
 *   ├── LlmAuthError              LlmAuthFailed        not retryable (401/403, no API key)
 *   ├── LlmRateLimitedError       LlmRateLimited       retryable, after the provider's retry-after
 *   ├── LlmUnavailableError       LlmUnavailable       retryable (5xx, timeouts, connection errors)
 *   ├── BadModelOutputError       LlmBadOutput         retryable for BAD_OUTPUT_ATTEMPTS attempts in all
 *   ├── PolicyInvalidError        PolicyInvalid        not retryable
 *   ├── ToolInfrastructureError   ToolInfrastructure   not retryable
 *   ├── MemoryUnavailableError    MemoryUnavailable    not retryable, benign   (services/memory/unavailable.ts)
 *   ├── MemoryConnectionLostError MemoryConnectionLost retryable, benign
 *   └── NotifyError               ChatNotifyFailed     as the channel said      (services/approvals/notifier.ts)
 */
import { FailureType } from '../domain/failures';

export interface ServiceErrorOptions {
  /** Whether another attempt may succeed. */
  retryable: boolean;
  /** When the next attempt should start, when the service knows better than the retry policy (a 429/529 `retry-after`). */
  nextRetryDelayMs?: number | undefined;
  /** Retryable only while the attempt number is below this: a new sample of bad model output may be fine, but not forever. */
  maxAttempts?: number;
  /** An expected condition a person fixes (the memory store is down): worth a line in the log, not a stack trace. */
  benign?: boolean;
  /** Structured facts for whoever handles the failure. */
  details?: unknown[];
  /** The foreign error this one classifies, when its detail is worth keeping with the failure. */
  cause?: unknown;
}

export class ServiceError extends Error {
  readonly retryable: boolean;
  readonly nextRetryDelayMs: number | undefined;
  readonly maxAttempts: number | undefined;
  readonly benign: boolean;
  readonly details: unknown[] | undefined;

  constructor(
    /** The failure type workflows and the CLI match on. */
    readonly type: string,
    message: string,
    options: ServiceErrorOptions,
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable;
    this.nextRetryDelayMs = options.nextRetryDelayMs;
    this.maxAttempts = options.maxAttempts;
    this.benign = options.benign ?? false;
    this.details = options.details;
  }
}

type ErrorExtras = Pick<ServiceErrorOptions, 'cause' | 'details'>;

/** The provider refused the request as it stands: retrying the same request cannot help. */
export class LlmRequestRejectedError extends ServiceError {
  constructor(message: string, extras: ErrorExtras = {}) {
    super(FailureType.LlmRequestRejected, message, { ...extras, retryable: false });
  }
}

/** Missing or refused credentials: a person must fix the key. */
export class LlmAuthError extends ServiceError {
  constructor(message: string, extras: ErrorExtras = {}) {
    super(FailureType.LlmAuthFailed, message, { ...extras, retryable: false });
  }
}

/** Rate limited or overloaded; `nextRetryDelayMs` is the provider's retry-after when it sent one. */
export class LlmRateLimitedError extends ServiceError {
  constructor(message: string, extras: ErrorExtras & { nextRetryDelayMs?: number | undefined } = {}) {
    super(FailureType.LlmRateLimited, message, { ...extras, retryable: true });
  }
}

/** The model could not be reached or failed on its side (5xx, timeouts, a dropped stream). */
export class LlmUnavailableError extends ServiceError {
  constructor(message: string, extras: ErrorExtras & { nextRetryDelayMs?: number | undefined } = {}) {
    super(FailureType.LlmUnavailable, message, { ...extras, retryable: true });
  }
}

/** Bad model output is retried (a new sample may be fine), but only this many attempts in total. */
export const BAD_OUTPUT_ATTEMPTS = 3;

/** The model answered, but not in the shape the stage needs. */
export class BadModelOutputError extends ServiceError {
  constructor(message: string) {
    super(FailureType.LlmBadOutput, message, { retryable: true, maxAttempts: BAD_OUTPUT_ATTEMPTS });
  }
}

/** A policy file or task rule is malformed: the task stops rather than run with fewer rules. */
export class PolicyInvalidError extends ServiceError {
  constructor(message: string) {
    super(FailureType.PolicyInvalid, message, { retryable: false });
  }
}

/** A tool cannot run at all in this setting (not a tool error the model should see). */
export class ToolInfrastructureError extends ServiceError {
  constructor(message: string) {
    super(FailureType.ToolInfrastructure, message, { retryable: false });
  }
}

/** The memory store's connection failed or dropped: the next attempt reconnects (or takes the embedded database over). */
export class MemoryConnectionLostError extends ServiceError {
  constructor(message: string) {
    super(FailureType.MemoryConnectionLost, message, { retryable: true, benign: true });
  }
}
