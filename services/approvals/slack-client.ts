/**
 * The Slack Web API client both sides use (the worker posts and updates messages, `agent
 * approvals serve` answers clicks). Loaded lazily, so a worker without Slack never loads Bolt.
 */
import type { Logger, LogLevel, webApi } from '@slack/bolt';
import type { ApprovalsConfig } from '../config';
import { NotifyError } from './notifier';

export type SlackWebClient = webApi.WebClient;

/** Slack's own logger interface; only warnings and errors get through, and never a token (Slack's client does not log them). */
export function quietSlackLogger(write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Logger {
  let level = 'warn' as LogLevel;
  let name = 'slack';
  const emit =
    (kind: string) =>
    (...msg: unknown[]) =>
      write(`[${name}] ${kind}: ${msg.map((m) => (m instanceof Error ? m.message : String(m))).join(' ')}`);
  return {
    debug() {},
    info() {},
    warn: emit('warn'),
    error: emit('error'),
    setLevel(l: LogLevel) {
      level = l;
    },
    getLevel: () => level,
    setName(n: string) {
      name = n;
    },
  };
}

/** Client options shared by every WebClient here: Temporal (or the person clicking) owns retries, not the SDK. */
export function slackClientOptions(slack: ApprovalsConfig['slack']): webApi.WebClientOptions {
  return {
    ...(slack.apiUrl ? { slackApiUrl: slack.apiUrl } : {}),
    // The SDK's default retries for about 30 minutes; an activity must fail fast and let Temporal retry.
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 5_000,
    logger: quietSlackLogger(),
  };
}

export async function createSlackClient(slack: ApprovalsConfig['slack']): Promise<SlackWebClient> {
  const { webApi: api } = await import('@slack/bolt');
  return new api.WebClient(slack.botToken, slackClientOptions(slack));
}

/**
 * Slack errors as NotifyError: a platform error (`channel_not_found`, `invalid_auth`, …) will not
 * fix itself, so it is final; network trouble, 5xx and rate limits may, so they are retried.
 */
export function slackFailure(err: unknown, what: string): NotifyError {
  const e = err as { code?: string; data?: { error?: string }; statusCode?: number; retryAfter?: number; message?: string };
  switch (e.code) {
    case 'slack_webapi_platform_error':
      return new NotifyError(`Slack refused ${what}: ${e.data?.error ?? 'unknown error'}`, e.data?.error === 'ratelimited' || e.data?.error === 'internal_error');
    case 'slack_webapi_rate_limited_error':
      return new NotifyError(`Slack rate-limited ${what} (retry after ${e.retryAfter}s)`, true);
    case 'slack_webapi_http_error':
      return new NotifyError(`Slack answered ${what} with HTTP ${e.statusCode}`, (e.statusCode ?? 500) >= 500 || e.statusCode === 408);
    default:
      return new NotifyError(`cannot reach Slack for ${what}: ${e.message ?? String(err)}`, true);
  }
}
