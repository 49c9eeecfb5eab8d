/**
 * ApplicationFailure types shared by activities (which throw them) and workflows and the CLI
 * (which read them). One place, so a type string is never misspelt on one side.
 */
export const FailureType = {
  /** The provider rejected the request (4xx other than 408/409/429): retrying cannot help. */
  LlmRequestRejected: 'LlmRequestRejected',
  /** Missing or invalid API key. */
  LlmAuthFailed: 'LlmAuthFailed',
  /** Rate limited or overloaded; retried after the provider's retry-after. */
  LlmRateLimited: 'LlmRateLimited',
  /** 5xx, timeouts and connection errors. */
  LlmUnavailable: 'LlmUnavailable',
  /** The model answered but not in the required shape; retried a bounded number of times. */
  LlmBadOutput: 'LlmBadOutput',
  /** A tool failed in a way the task cannot continue from (not a tool error the model should see). */
  ToolInfrastructure: 'ToolInfrastructure',
  /** A policy file or task rule is malformed: the task stops rather than run with fewer rules. */
  PolicyInvalid: 'PolicyInvalid',
  /** The task's workspace is missing or not a directory. */
  WorkspaceUnavailable: 'WorkspaceUnavailable',
  /** The memory store cannot be used until a person acts; tasks go on without memory and say why. */
  MemoryUnavailable: 'MemoryUnavailable',
  /** The memory store's connection dropped; retried (the next connection reconnects). */
  MemoryConnectionLost: 'MemoryConnectionLost',
  /** A chat notification of an approval request failed on every channel; it only ever reaches the trace. */
  ChatNotifyFailed: 'ChatNotifyFailed',
} as const;

export const NON_RETRYABLE_FAILURES = [FailureType.LlmRequestRejected, FailureType.LlmAuthFailed, FailureType.WorkspaceUnavailable, FailureType.PolicyInvalid];
