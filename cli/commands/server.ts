/** `agent up`, `agent worker`, `agent down` and `agent fake-llm`: the long-running processes. */
import { readFile } from 'node:fs/promises';
import { UserError } from '../../client/user-error';
import { assertServable, startApprovalsServer, type ApprovalsServer } from '../../servers/chat-approvals/approvals-server';
import { startFakeLlm } from '../../servers/fake-llm/fake-llm-server';
import { parseScript } from '../../servers/fake-llm/script';
import { createAgentWorker } from '../../workers/worker';
import type { CliContext } from '../cli-context';
import { embeddedPaths, ensureServer, stopEmbeddedServer } from '../embedded';

/** Inbound chat approvals are configured (Slack signing secret or app token, or webhook decision keys). */
function chatApprovalsConfigured(ctx: CliContext): boolean {
  const { slack, webhook } = ctx.config.approvals;
  return Boolean(slack.signingSecret || slack.appToken) || Object.keys(webhook.inboundKeys).length > 0;
}

/** Dev server (if none answers) + a worker in the foreground until Ctrl-C, and the approvals receivers when chat approvals are configured. */
export async function upCommand(ctx: CliContext): Promise<number> {
  if (chatApprovalsConfigured(ctx)) {
    // Fail before starting anything: a half-configured receiver is a config error.
    assertServable(ctx.config);
  }
  const server = await ensureServer(ctx.config, { detached: false, log: ctx.out });
  if (!server) ctx.out(`using the Temporal server at ${ctx.config.temporal.address}`);
  let approvals: ApprovalsServer | null = null;
  try {
    if (chatApprovalsConfigured(ctx)) {
      approvals = await startApprovalsServer({ config: ctx.config, client: await ctx.connect(), log: ctx.out }).catch((err: Error) => {
        throw new UserError(`cannot serve approvals: ${err.message}`);
      });
      ctx.out(`serving chat approvals${approvals.url ? ` at ${approvals.url}` : ' (Slack Socket Mode)'}`);
    }
    return await workerCommand(ctx);
  } finally {
    await approvals?.close();
    await server?.stop();
  }
}

export async function workerCommand(ctx: CliContext): Promise<number> {
  const worker = await createAgentWorker(ctx.config).catch((err: Error) => {
    throw new UserError(`cannot start the worker: ${err.message.split('\n')[0]} (is the server at ${ctx.config.temporal.address} running? try \`agent up\`)`);
  });
  ctx.out(`worker polling task queue "${ctx.config.temporal.taskQueue}" on ${ctx.config.temporal.address} (namespace ${ctx.config.temporal.namespace}); Ctrl-C to stop`);
  ctx.out(`worker log: ${embeddedPaths(ctx.config).workerLog}`);
  await worker.run();
  return 0;
}

export async function downCommand(ctx: CliContext): Promise<number> {
  const stopped = await stopEmbeddedServer(ctx.config);
  ctx.out(stopped ? 'stopped the embedded Temporal dev server' : 'no embedded Temporal dev server was running');
  return 0;
}

export async function fakeLlmCommand(ctx: CliContext, port: number, scriptFile: string | undefined): Promise<number> {
  let script = parseScript({ stages: {} });
  if (scriptFile) {
    const text = await readFile(scriptFile, 'utf8').catch(() => {
      throw new UserError(`cannot read script ${scriptFile}`, 2);
    });
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new UserError(`script ${scriptFile} is not valid JSON: ${(err as Error).message}`, 2);
    }
    try {
      script = parseScript(raw);
    } catch (err) {
      throw new UserError((err as Error).message, 2);
    }
  }
  const fake = await startFakeLlm(script, port);
  ctx.out(`fake LLM listening on ${fake.url} — export ANTHROPIC_BASE_URL=${fake.url} ANTHROPIC_API_KEY=fake`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await fake.close();
  return 0;
}
