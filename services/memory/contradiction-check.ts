/**
 * The gate between recall and the prompt: nothing stale or conflicting is injected. Rules, in order:
 *  1. an item superseded or invalidated since the index saw it is dropped (the relational row is the truth);
 *  2. items sharing a key (across scopes) keep only the newest valid value — newest-valid-wins on a
 *     well-scoped key, never an LLM judging "contradiction" between different keys;
 *  3. an item whose claim is checkable against the workspace (a file, a package.json script, a config
 *     value) is checked cheaply and dropped if the workspace disagrees.
 * Every drop carries a reason that ends up in the task trace and in `agent memory explain`.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { contentHash } from './memory-store';
import type { CheckSpec, MemoryItem } from './types';

export type RejectionRule = 'superseded' | 'invalidated' | 'key-conflict' | 'duplicate' | 'environment';

export interface Rejection {
  id: string;
  scope: string;
  key: string;
  value: string;
  rule: RejectionRule;
  reason: string;
}

export type CheckResult = { ok: true; detail: string } | { ok: false; reason: string };

const MAX_CHECK_BYTES = 1024 * 1024;

/** Resolves a check's path inside the workspace, following symlinks; null when it would leave it. */
async function insideWorkspace(workspace: string, rel: string): Promise<string | null> {
  const root = await realpath(workspace).catch(() => path.resolve(workspace));
  const target = path.resolve(root, rel);
  const real = await realpath(target).catch(() => target);
  const inside = (p: string) => p === root || p.startsWith(root + path.sep);
  return inside(target) && inside(real) ? real : null;
}

async function readSmall(file: string): Promise<string | null> {
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) return null;
  if (info.size > MAX_CHECK_BYTES) throw new Error(`${path.basename(file)} is larger than 1 MB`);
  return await readFile(file, 'utf8');
}

function pointerGet(doc: unknown, pointer: string): { found: boolean; value?: unknown } {
  if (pointer === '') return { found: true, value: doc };
  let node: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, part)) return { found: false };
    node = (node as Record<string, unknown>)[part];
  }
  return { found: true, value: node };
}

const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? 'undefined'));

/** Runs one environment check; never throws (an unreadable file is a failed check with the reason). */
export async function runCheck(spec: CheckSpec, workspace: string): Promise<CheckResult> {
  const rel = spec.type === 'package_script' ? (spec.path ?? 'package.json') : spec.path;
  const file = await insideWorkspace(workspace, rel);
  if (!file) return { ok: false, reason: `its check names ${rel}, which is outside the workspace` };
  try {
    switch (spec.type) {
      case 'file_exists':
        return (await stat(file).catch(() => null)) ? { ok: true, detail: `${rel} exists` } : { ok: false, reason: `the workspace has no ${rel}` };
      case 'file_absent':
        return (await stat(file).catch(() => null)) ? { ok: false, reason: `${rel} exists in the workspace` } : { ok: true, detail: `${rel} is absent` };
      case 'file_contains': {
        const text = await readSmall(file);
        if (text === null) return { ok: false, reason: `the workspace has no file ${rel}` };
        return text.includes(spec.text) ? { ok: true, detail: `${rel} contains ${show(spec.text)}` } : { ok: false, reason: `${rel} does not contain ${show(spec.text)}` };
      }
      case 'package_script': {
        const text = await readSmall(file);
        if (text === null) return { ok: false, reason: `the workspace has no ${rel}` };
        const scripts = (JSON.parse(text) as { scripts?: Record<string, unknown> }).scripts ?? {};
        const actual = Object.hasOwn(scripts, spec.name) ? scripts[spec.name] : undefined;
        if (actual === undefined) return { ok: false, reason: `${rel} has no script ${show(spec.name)}` };
        if (spec.command !== undefined && actual !== spec.command) {
          return { ok: false, reason: `${rel} script ${show(spec.name)} is ${show(actual)}, not ${show(spec.command)}` };
        }
        return { ok: true, detail: `${rel} script ${show(spec.name)} is ${show(actual)}` };
      }
      case 'json_value': {
        const text = await readSmall(file);
        if (text === null) return { ok: false, reason: `the workspace has no ${rel}` };
        const got = pointerGet(JSON.parse(text), spec.pointer);
        if (!got.found) return { ok: false, reason: `${rel} has nothing at ${spec.pointer}` };
        return show(got.value) === show(spec.value)
          ? { ok: true, detail: `${rel}${spec.pointer} is ${show(got.value)}` }
          : { ok: false, reason: `${rel}${spec.pointer} is ${show(got.value)}, not ${show(spec.value)}` };
      }
    }
  } catch (err) {
    return { ok: false, reason: `cannot verify it against ${rel}: ${(err as Error).message.split('\n')[0]}` };
  }
}

/**
 * Filters ranked recall candidates. Keeps the input order for survivors. `workspace` enables the
 * environment checks (without one, checkable items are kept unchecked and say so).
 */
export async function checkRecalled(ranked: MemoryItem[], options: { workspace?: string }): Promise<{ kept: (MemoryItem & { verified: string | null })[]; rejected: Rejection[] }> {
  const rejected: Rejection[] = [];
  const reject = (item: MemoryItem, rule: RejectionRule, reason: string) => rejected.push({ id: item.id, scope: item.scope, key: item.key, value: item.value, rule, reason });

  // 1. Current rows only.
  const valid: MemoryItem[] = [];
  for (const item of ranked) {
    if (item.supersededBy) reject(item, 'superseded', `superseded by ${item.supersededBy} (${item.invalidatedReason ?? 'newer value'})`);
    else if (item.invalidatedAt) reject(item, 'invalidated', `invalidated at ${item.invalidatedAt}: ${item.invalidatedReason ?? 'no reason recorded'}`);
    else valid.push(item);
  }

  // 2. One value per key: the newest valid one.
  const winners = new Map<string, MemoryItem>();
  for (const item of valid) {
    const best = winners.get(item.key);
    if (!best || item.validFrom > best.validFrom || (item.validFrom === best.validFrom && item.createdAt > best.createdAt)) winners.set(item.key, item);
  }
  const unique: MemoryItem[] = [];
  for (const item of valid) {
    const winner = winners.get(item.key)!;
    if (winner === item) unique.push(item);
    else if (contentHash(winner.value) === contentHash(item.value)) reject(item, 'duplicate', `same value as ${winner.scope} memory ${winner.id}`);
    else {
      reject(
        item,
        'key-conflict',
        `conflicts with the newer value ${JSON.stringify(winner.value.slice(0, 120))} in ${winner.scope} (valid from ${winner.validFrom}); the newest valid value wins`,
      );
    }
  }

  // 3. Environment checks, in parallel, each at most one small file read.
  const checked = await Promise.all(
    unique.map(async (item) => {
      if (!item.check) return { item, verified: null as string | null };
      if (!options.workspace) return { item, verified: 'not checked (no workspace)' };
      const result = await runCheck(item.check, options.workspace);
      if (!result.ok) {
        reject(item, 'environment', `the workspace disagrees: ${result.reason}`);
        return null;
      }
      return { item, verified: result.detail };
    }),
  );
  return { kept: checked.filter((c) => c !== null).map((c) => ({ ...c.item, verified: c.verified })), rejected };
}
