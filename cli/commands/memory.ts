/**
 * `agent memory add|search|list|show|forget|history|explain|reindex`. Works on the memory store
 * directly (no Temporal needed): PGlite under AGENT_HOME by default — opened here, or joined
 * through the process that has it open (a worker under `agent up`) — or the shared PostgreSQL.
 */
import { UserError } from '../../client/user-error';
import { MEMORY_KINDS, MemoryInputError, SCOPE_KINDS, scopeKindOf, scopesFor, type MemoryKind, type ScopeKind } from '../../services/memory/keys';
import { MemoryService } from '../../services/memory/memory-service';
import type { MemoryItem } from '../../services/memory/types';
import { isConnectionLost, isMemoryUnavailable, oneLine, tellOnce } from '../../services/memory/unavailable';
import { resolveScope, resolveWorkspace } from '../arguments';
import { localUser, type CliContext } from '../cli-context';

export interface MemoryOptions {
  workspace?: string;
  scope?: string;
  kind?: string;
  importance?: string;
  check?: string;
  reason?: string;
  limit?: string;
  all?: boolean;
}

async function openMemory(ctx: CliContext, reindex = false): Promise<MemoryService> {
  try {
    const memory = await MemoryService.open(ctx.config, { reindex });
    // On stderr, so `--json` output stays one JSON document.
    if (memory.notice) tellOnce(memory.notice);
    return memory;
  } catch (err) {
    if (isMemoryUnavailable(err)) throw new UserError(oneLine(err));
    throw err;
  }
}

async function withMemory<T>(ctx: CliContext, fn: (m: MemoryService) => Promise<T>, reindex = false): Promise<T> {
  const memory = await openMemory(ctx, reindex);
  try {
    return await fn(memory);
  } catch (err) {
    if (err instanceof MemoryInputError) throw new UserError(err.message, 2);
    if (isConnectionLost(err)) throw new UserError(`the memory store went away during the command (${oneLine(err)}): run it again`);
    throw err;
  } finally {
    await memory.close();
  }
}

function limitOf(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0 || n > 10_000) throw new UserError(`--limit must be an integer from 1 to 10000, got "${text}"`, 2);
  return n;
}

/** The scopes a command looks at: one (--scope) or everything this workspace and user can see. */
async function scopesOf(options: MemoryOptions): Promise<string[]> {
  if (options.scope) return [await resolveScope(options.scope, options.workspace)];
  return scopesFor({ workspace: await resolveWorkspace(options.workspace ?? process.cwd()), user: localUser() });
}

const status = (i: MemoryItem) => (i.supersededBy ? `superseded by ${i.supersededBy}` : i.invalidatedAt ? `invalidated: ${i.invalidatedReason}` : 'current');

function line(i: MemoryItem): string {
  const value = i.value.length > 100 ? `${i.value.slice(0, 100)}…` : i.value;
  return `${i.id}  ${scopeKindOf(i.scope).padEnd(9)} ${i.kind.padEnd(15)} ${i.key} = ${JSON.stringify(value)}${i.invalidatedAt ? `  [${status(i)}]` : ''}`;
}

export async function memoryCommand(ctx: CliContext, sub: string | undefined, args: string[], options: MemoryOptions): Promise<number> {
  switch (sub) {
    case 'add': {
      const [keyText, value] = args;
      if (!keyText || value === undefined)
        throw new UserError('usage: agent memory add <subject:attribute> "<value>" [--scope workspace|user|global] [--kind fact] [--importance 0.6] [--check JSON]', 2);
      const at = keyText.indexOf(':');
      if (at <= 0) throw new UserError(`"${keyText}" is not a memory key: write it as subject:attribute, e.g. deploy:target`, 2);
      const scope = (options.scope ?? 'workspace') as ScopeKind;
      if (!(SCOPE_KINDS as readonly string[]).includes(scope)) throw new UserError(`--scope must be one of ${SCOPE_KINDS.join(', ')} for add`, 2);
      if (options.kind && !(MEMORY_KINDS as readonly string[]).includes(options.kind)) throw new UserError(`--kind must be one of ${MEMORY_KINDS.join(', ')}`, 2);
      let check: unknown;
      if (options.check) {
        try {
          check = JSON.parse(options.check);
        } catch (err) {
          throw new UserError(`--check is not valid JSON: ${(err as Error).message}`, 2);
        }
      }
      const importance = options.importance === undefined ? undefined : Number(options.importance);
      const workspace = await resolveWorkspace(options.workspace ?? process.cwd());
      const outcome = await withMemory(ctx, (m) =>
        m.remember(
          {
            scope,
            subject: keyText.slice(0, at),
            attribute: keyText.slice(at + 1),
            value,
            kind: options.kind as MemoryKind | undefined,
            importance,
            check,
            source: 'cli',
            message: `added by ${localUser()} with agent memory add`,
          },
          { workspace, user: localUser() },
        ),
      );
      if (ctx.json) ctx.emit(outcome);
      else
        ctx.out(
          `${outcome.action}: ${outcome.key} = ${JSON.stringify(outcome.value)} (${outcome.id})${outcome.replaced ? `; replaced ${JSON.stringify(outcome.replaced.value)}` : ''}`,
        );
      return 0;
    }
    case 'search': {
      const query = args.join(' ').trim();
      if (!query) throw new UserError('usage: agent memory search "<query>" [--workspace DIR] [--limit N]', 2);
      const workspace = await resolveWorkspace(options.workspace ?? process.cwd());
      const scopes = await scopesOf(options);
      const result = await withMemory(ctx, (m) => m.recall({ query, scopes, workspace, budgetTokens: limitOf(options.limit, 20) * 200 }));
      const items = result.items.slice(0, limitOf(options.limit, 20));
      if (ctx.json) ctx.emit({ items, rejected: result.rejected, timingsMs: result.timingsMs });
      else {
        for (const i of items)
          ctx.out(
            `${i.score.toFixed(3)}  ${i.key} = ${JSON.stringify(i.value)}  [${scopeKindOf(i.scope)} ${i.kind}; via ${i.via.join('+')}]${i.verified ? `  (${i.verified})` : ''}`,
          );
        if (!items.length) ctx.out('no memories match');
        for (const r of result.rejected) ctx.out(`rejected  ${r.key} = ${JSON.stringify(r.value)} — ${r.rule}: ${r.reason}`);
      }
      return 0;
    }
    case 'list': {
      const scopes = await scopesOf(options);
      if (options.kind && !(MEMORY_KINDS as readonly string[]).includes(options.kind)) throw new UserError(`--kind must be one of ${MEMORY_KINDS.join(', ')}`, 2);
      const items = await withMemory(ctx, (m) =>
        m.store.list({ scopes, includeInvalid: options.all ?? false, kind: options.kind as MemoryKind | undefined, limit: limitOf(options.limit, 50) }),
      );
      if (ctx.json) ctx.emit(items);
      else if (!items.length) ctx.out('no memories (add one with `agent memory add subject:attribute "value"`)');
      else for (const i of items) ctx.out(line(i));
      return 0;
    }
    case 'show': {
      const id = args[0];
      if (!id) throw new UserError('usage: agent memory show <id>', 2);
      const found = await withMemory(ctx, (m) => m.show(id));
      if (!found) throw new UserError(`no memory ${id} (see \`agent memory list\`)`);
      if (ctx.json) ctx.emit(found);
      else {
        const { item } = found;
        ctx.out(`${item.key} = ${JSON.stringify(item.value)}`);
        ctx.out(`  id ${item.id} · ${item.scope} · ${item.kind} · ${status(item)}`);
        ctx.out(
          `  valid from ${item.validFrom} · confidence ${item.confidence} · importance ${item.importance} · used ${item.useCount}×${item.lastUsedAt ? `, last ${item.lastUsedAt}` : ''}`,
        );
        ctx.out(`  source ${item.source} · provenance ${JSON.stringify(item.provenance)}${item.check ? ` · check ${JSON.stringify(item.check)}` : ''}`);
        if (found.chain.length > 1) {
          ctx.out('  history:');
          for (const c of found.chain) ctx.out(`    ${c.validFrom.slice(0, 19)}  ${JSON.stringify(c.value)}  [${status(c)}]`);
        }
      }
      return 0;
    }
    case 'forget': {
      const target = args[0];
      if (!target) throw new UserError('usage: agent memory forget <id|subject:attribute> [--scope S] [--reason TEXT]', 2);
      const scopes = await scopesOf(options);
      const retired = await withMemory(ctx, (m) => m.forget(target, { scopes, reason: options.reason ?? `forgotten by ${localUser()}` }));
      if (!retired.length) throw new UserError(`no current memory matches ${target} (see \`agent memory list\`)`);
      if (ctx.json) ctx.emit(retired);
      else for (const i of retired) ctx.out(`forgot ${i.key} = ${JSON.stringify(i.value)} (${i.id}); it stays in \`agent memory history ${i.key}\``);
      return 0;
    }
    case 'history': {
      const key = args[0];
      if (!key) throw new UserError('usage: agent memory history <subject:attribute> [--scope S]', 2);
      const scopes = options.scope ? await scopesOf(options) : undefined;
      const chain = await withMemory(ctx, (m) => m.history(key, scopes));
      if (ctx.json) ctx.emit(chain);
      else if (!chain.length) ctx.out(`no memory has the key ${key}`);
      else
        for (const c of chain)
          ctx.out(`${c.validFrom.slice(0, 19)}  ${c.scope}  ${JSON.stringify(c.value)}  [${status(c)}]${c.provenance.taskId ? `  from ${c.provenance.taskId}` : ''}`);
      return 0;
    }
    case 'explain': {
      const taskId = args[0];
      if (!taskId) throw new UserError('usage: agent memory explain <taskId>', 2);
      const explained = await withMemory(ctx, (m) => m.explain(taskId));
      if (!explained.recall && !explained.written.length) throw new UserError(`no memory activity recorded for ${taskId} (was memory on? see \`agent status ${taskId}\`)`);
      if (ctx.json) ctx.emit(explained);
      else {
        const r = explained.recall;
        if (r) {
          ctx.out(
            `recall at ${r.recordedAt}: ${r.recalled.length} injected (${r.usedTokens}/${r.budgetTokens} tokens), ${r.rejected.length} rejected, ${r.omitted} left out for the budget`,
          );
          for (const i of r.recalled as { key: string; value: string; scope: string; score: number; verified: string | null }[]) {
            ctx.out(`  injected  ${i.key} = ${JSON.stringify(i.value)} [${i.scope}] score ${i.score}${i.verified ? ` (${i.verified})` : ''}`);
          }
          for (const x of r.rejected as { key: string; value: string; scope: string; rule: string; reason: string }[]) {
            ctx.out(`  rejected  ${x.key} = ${JSON.stringify(x.value)} [${x.scope}] — ${x.rule}: ${x.reason}`);
          }
        } else ctx.out('no recall recorded for this task');
        if (explained.written.length) {
          ctx.out(`written by the task: ${explained.written.length}`);
          for (const i of explained.written) ctx.out(`  ${line(i)}`);
        }
      }
      return 0;
    }
    case 'reindex': {
      const { n, vectors } = await withMemory(ctx, async (m) => ({ n: m.reindexed ?? 0, vectors: m.index.kind !== 'none' }), true);
      if (ctx.json) ctx.emit({ indexed: n, vectors });
      else if (!vectors) ctx.out('nothing to re-index: the memory store has no vector index (see the note above)');
      else ctx.out(`re-indexed ${n} current memories with ${ctx.config.memory.embeddings.provider} embeddings`);
      return 0;
    }
    default:
      throw new UserError(`unknown memory command "${sub ?? ''}" (add, search, list, show, forget, history, explain, reindex)`, 2);
  }
}
