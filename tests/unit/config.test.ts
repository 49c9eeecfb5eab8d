import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseDuration } from '../../services/config';

/** loadConfig must never see the test process's own environment, or results depend on the shell. */
const load = (env: Record<string, string | undefined>, cwd = '/srv/project') => loadConfig(env, cwd);

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    load(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected loadConfig to throw');
}

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['30m', 1_800_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1.5s', 1_500],
    [' 45 s ', 45_000],
    ['250', 250],
  ])('%s → %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['soon', '', '10 minutes', '-5s', '5x', 's', '1e3'])('rejects %j with a message showing valid forms', (text) => {
    expect(() => parseDuration(text)).toThrow(`"${text}" is not a duration (use e.g. 500ms, 30s, 30m, 2h)`);
  });
});

describe('loadConfig', () => {
  it('applies defaults for an empty environment', () => {
    const config = load({});
    expect(config).toEqual({
      temporal: { address: 'localhost:7233', namespace: 'default', taskQueue: 'agent-tasks', devServer: 'auto', uiPort: 8233, cliPath: undefined },
      home: path.resolve('/srv/project', '.agent'),
      // Outside the workspace and AGENT_HOME: the approver key and trusted policies no sandbox may touch.
      userDir: path.join(os.homedir(), '.config', 'durable-agent'),
      approverKeys: [],
      llm: {
        apiKey: undefined,
        baseURL: undefined,
        model: 'claude-sonnet-5-5',
        maxTokens: 8_192,
        contextWindow: undefined,
        prices: undefined,
        promptCaching: true,
        silenceTimeoutMs: 120_000,
      },
      databaseUrl: undefined,
      approvalTimeoutMs: 30 * 60_000,
      mcpStartTimeoutMs: 10_000,
      inlineOutputLimit: 20_000,
      worker: { maxConcurrentActivities: 50, maxConcurrentWorkflowTasks: 50, maxCachedWorkflows: 1_000, workflowBundle: undefined },
      environment: {},
      memory: {
        enabled: true,
        embeddings: { provider: 'hashed', url: undefined, apiKey: undefined, model: undefined, dims: undefined },
        qdrant: null,
        recallTokens: 800,
        decayAfterMs: 30 * 86_400_000,
        dream: { schedule: '0 3 * * *', episodeThreshold: 20, tokenBudget: 200_000, timeBudgetMs: 30 * 60_000 },
      },
      // Chat approvals are off until configured: no Slack, no webhook, nobody allowed to decide from chat.
      approvals: { slack: { dmOwner: false }, webhook: { keyId: 'agent', inboundKeys: {} }, approvers: [], server: { host: '127.0.0.1', port: 3100 } },
    });
  });

  it('reads the user directory and extra approver keys, naming the bad entry', () => {
    const key = 'ab'.repeat(32);
    const config = load({ HOME: '/home/alice', AGENT_APPROVER_KEYS: `chat receiver=${key}, ops=${'CD'.repeat(32)}` });
    expect(config.userDir).toBe('/home/alice/.config/durable-agent');
    expect(config.approverKeys).toEqual([
      { id: key.slice(0, 16), publicKey: key, label: 'chat receiver' },
      { id: 'cd'.repeat(8), publicKey: 'cd'.repeat(32), label: 'ops' },
    ]);
    expect(load({ AGENT_USER_DIR: 'keys' }).userDir).toBe(path.resolve('/srv/project', 'keys'));
    expect(() => load({ AGENT_APPROVER_KEYS: `ok=${key},broken=1234` })).toThrow(
      /AGENT_APPROVER_KEYS: each entry must be <label>=<ed25519 public key as 64 hex digits> \(entry 2 is not/,
    );
  });

  it('reads and coerces set variables', () => {
    const config = load({
      TEMPORAL_ADDRESS: 'temporal:7233',
      AGENT_DEV_SERVER: 'never',
      TEMPORAL_UI_PORT: '9000',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:4000',
      ANTHROPIC_API_KEY: 'sk-test',
      AGENT_APPROVAL_TIMEOUT: '2h',
      AGENT_MAX_TOKENS: '1024',
    });
    expect(config.temporal.address).toBe('temporal:7233');
    expect(config.temporal.devServer).toBe('never');
    expect(config.temporal.uiPort).toBe(9000);
    expect(config.llm).toMatchObject({ baseURL: 'http://127.0.0.1:4000', apiKey: 'sk-test', maxTokens: 1024 });
    expect(config.approvalTimeoutMs).toBe(7_200_000);
  });

  it('names each bad variable in one ConfigError', () => {
    const err = configError({ AGENT_DEV_SERVER: 'sometimes', ANTHROPIC_BASE_URL: 'not a url', AGENT_APPROVAL_TIMEOUT: 'soon' });
    expect(err.message).toMatch(/^invalid configuration: /);
    expect(err.message).toMatch(/AGENT_DEV_SERVER: /);
    expect(err.message).toMatch(/ANTHROPIC_BASE_URL: /);
    expect(err.message).toContain('AGENT_APPROVAL_TIMEOUT: "soon" is not a duration');
  });

  it.each([
    ['AGENT_DEV_SERVER', 'sometimes'],
    ['ANTHROPIC_BASE_URL', 'not a url'],
    ['AGENT_APPROVAL_TIMEOUT', 'soon'],
    ['TEMPORAL_UI_PORT', 'eighty'],
    ['AGENT_MAX_TOKENS', '-1'],
    ['AGENT_INLINE_OUTPUT_LIMIT', '1.5'],
  ])('rejects %s=%j and names it', (name, value) => {
    const err = configError({ [name]: value });
    expect(err.message).toContain(`${name}: `);
    // Only the bad variable is listed.
    expect(err.message.split('; ')).toHaveLength(1);
  });

  it('treats empty-string variables as unset', () => {
    const config = load({ AGENT_DEV_SERVER: '', ANTHROPIC_BASE_URL: '', AGENT_APPROVAL_TIMEOUT: '', TEMPORAL_UI_PORT: '', ANTHROPIC_API_KEY: '', AGENT_HOME: '' });
    expect(config.temporal.devServer).toBe('auto');
    expect(config.llm.baseURL).toBeUndefined();
    expect(config.llm.apiKey).toBeUndefined();
    expect(config.approvalTimeoutMs).toBe(30 * 60_000);
    expect(config.temporal.uiPort).toBe(8233);
    expect(config.home).toBe('/srv/project/.agent');
  });

  it('resolves a relative AGENT_HOME against the cwd argument and keeps an absolute one', () => {
    expect(load({ AGENT_HOME: 'state/agent' }, '/tmp/elsewhere').home).toBe('/tmp/elsewhere/state/agent');
    expect(load({ AGENT_HOME: '../up' }, '/tmp/elsewhere').home).toBe('/tmp/up');
    expect(load({ AGENT_HOME: '/var/lib/agent' }, '/tmp/elsewhere').home).toBe('/var/lib/agent');
  });

  it('ignores variables it does not know', () => {
    expect(() => load({ SOMETHING_ELSE: 'x', PATH: '/bin' })).not.toThrow();
  });
});
