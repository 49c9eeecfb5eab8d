/**
 * The one place service errors become Temporal failures. Services throw ServiceErrors
 * (services/errors.ts) that say what a failure is and whether another attempt can help; this turns
 * them into ApplicationFailures with that type and retry behaviour, and every activity throws
 * through it.
 */
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { ServiceError } from '../services/errors';
import { modelErrorOf } from '../services/llm/provider-errors';

export interface FailureOptions {
  /** The activity's attempt (1-based); errors retryable only a bounded number of times stop at their bound. */
  attempt?: number;
  /**
   * The activity family's reading of errors its services let through (the SDK's errors of a model
   * call, a dropped database connection): a ServiceError, or undefined to leave the error as it is.
   */
  classify?: (err: unknown) => ServiceError | undefined;
}

/** The ApplicationFailure for a service error: its type, retry behaviour, delay, details and category. */
export function applicationFailureOf(err: ServiceError, attempt = 1): ApplicationFailure {
  const exhausted = err.maxAttempts !== undefined && attempt >= err.maxAttempts;
  return ApplicationFailure.create({
    type: err.type,
    message: err.message,
    nonRetryable: !err.retryable || exhausted,
    nextRetryDelay: err.nextRetryDelayMs,
    details: err.details,
    cause: err.cause instanceof Error ? err.cause : undefined,
    category: err.benign ? ApplicationFailureCategory.BENIGN : undefined,
  });
}

/**
 * What an activity throws for `err`: an ApplicationFailure as it is; otherwise the error as its
 * family classifies it, mapped when it is a ServiceError. Anything else (a programming error) passes
 * unchanged, so Temporal retries it under the activity's policy and the worker logs its stack.
 */
export function toFailure(err: unknown, options: FailureOptions = {}): unknown {
  if (err instanceof ApplicationFailure) return err;
  const classified = options.classify?.(err) ?? err;
  return classified instanceof ServiceError ? applicationFailureOf(classified, options.attempt) : classified;
}

/** The failure for anything thrown while calling the model: every error there is a model failure of some kind. */
export function classifyLlmError(err: unknown, attempt = 1): ApplicationFailure {
  return toFailure(err, { attempt, classify: modelErrorOf }) as ApplicationFailure;
}
