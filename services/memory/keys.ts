/**
 * Memory keys and scopes, normalised in one place. Supersession is only as good as the key: two
 * spellings of the same subject + attribute must meet, and two different facts must never collide.
 * So normalisation is deliberately conservative (case, accents, punctuation, spacing, a leading
 * article) and never stems or guesses synonyms: "deploy:target" and "deploy:target-region" stay apart.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { SCOPE_KINDS, type ScopeKind } from '../../domain/memory';

export { MEMORY_KINDS, SCOPE_KINDS, type MemoryKind, type ScopeKind } from '../../domain/memory';

export class MemoryInputError extends Error {}

const MAX_PART = 80;
const LEADING_ARTICLES = new Set(['the', 'a', 'an', 'my', 'our', 'your', 'this']);

/** Normalises one half of a key; throws MemoryInputError when nothing meaningful is left. */
export function normaliseKeyPart(text: string, what = 'key part'): string {
  const words = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  while (words.length > 1 && LEADING_ARTICLES.has(words[0]!)) words.shift();
  const part = words.join('-');
  if (!part) throw new MemoryInputError(`the ${what} "${text}" has no letters or digits`);
  if (part.length > MAX_PART) throw new MemoryInputError(`the ${what} is too long (${part.length} > ${MAX_PART} characters after normalisation)`);
  return part;
}

export interface MemoryKey {
  subject: string;
  attribute: string;
  /** "subject:attribute", both halves normalised. */
  key: string;
}

export function memoryKey(subject: string, attribute: string): MemoryKey {
  const s = normaliseKeyPart(subject, 'subject');
  const a = normaliseKeyPart(attribute, 'attribute');
  return { subject: s, attribute: a, key: `${s}:${a}` };
}

/** Parses "subject:attribute" (as typed on the command line); throws MemoryInputError. */
export function parseKey(text: string): MemoryKey {
  const at = text.indexOf(':');
  if (at <= 0 || at === text.length - 1) throw new MemoryInputError(`"${text}" is not a memory key: write it as subject:attribute, e.g. deploy:target`);
  return memoryKey(text.slice(0, at), text.slice(at + 1));
}

/** Normalised value used for content dedupe: differences in case and spacing are not new information. */
export function normaliseValue(value: string): string {
  return value.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/** Who a task works for: the scope strings its recall and writes may touch. */
export interface ScopeContext {
  workspace: string;
  user: string;
}

/** "global", "user:<name>" or "workspace:<absolute path>". */
export function scopeId(kind: ScopeKind, ctx: ScopeContext): string {
  if (kind === 'global') return 'global';
  if (kind === 'user') return `user:${ctx.user}`;
  return `workspace:${ctx.workspace}`;
}

export function scopesFor(ctx: ScopeContext): string[] {
  return SCOPE_KINDS.map((k) => scopeId(k, ctx));
}

export function scopeKindOf(scope: string): ScopeKind {
  if (scope === 'global') return 'global';
  if (scope.startsWith('user:')) return 'user';
  if (scope.startsWith('workspace:')) return 'workspace';
  throw new MemoryInputError(`"${scope}" is not a memory scope (global, user:<name> or workspace:<path>)`);
}

export const ScopeStringSchema = z.string().refine((s) => {
  try {
    scopeKindOf(s);
    return s.length <= 4_200 && s !== 'user:' && s !== 'workspace:';
  } catch {
    return false;
  }
}, 'a memory scope is global, user:<name> or workspace:<path>');

/** Workflow id of a scope's consolidation: one id per scope is what makes concurrent triggers one run. */
export function dreamWorkflowId(scope: string): string {
  return `dream-${createHash('sha256').update(scope).digest('hex').slice(0, 16)}`;
}
