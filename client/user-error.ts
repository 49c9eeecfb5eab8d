/** Errors meant for a person, kept apart from the Temporal client so a usage error loads nothing heavy. */

/** An error meant for a person: printed as one line, exit code 1 (2 for bad usage). */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The message at the bottom of an error's cause chain (the SDKs wrap the one worth showing). */
export function innermostMessage(err: Error): string {
  let current: Error = err;
  while ((current as { cause?: unknown }).cause instanceof Error) current = (current as { cause: Error }).cause;
  return current.message;
}
