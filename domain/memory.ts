/**
 * Memory contracts that workflows and the tool catalog need: kinds, scopes, the environment checks a
 * memory may carry, and the inputs of the agent's `remember` / `forget` tools. Sandbox-safe (zod only);
 * services/memory builds on these.
 */
import { z } from 'zod';
import { once } from './lazy-schema';

export const MEMORY_KINDS = ['fact', 'preference', 'procedure', 'episode-summary'] as const;
export type MemoryKind = (typeof MEMORY_KINDS)[number];

export const SCOPE_KINDS = ['user', 'workspace', 'global'] as const;
export type ScopeKind = (typeof SCOPE_KINDS)[number];

/** Longest value a memory may hold: memories are facts, not documents (a transcript is an episode). */
export const MAX_VALUE_CHARS = 2_000;

const relPath = once(() =>
  z
    .string()
    .min(1)
    .max(1_000)
    .refine((p) => !p.startsWith('/') && !p.split(/[\\/]/).includes('..'), 'must be a path inside the workspace (relative, no ..)'),
);

/**
 * A cheap check of a memory's claim against the workspace, run at recall. Only these shapes exist,
 * so a memory can never make recall run a command.
 */
export const CheckSpecSchema = z.lazy(() =>
  z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('file_exists'), path: relPath() }),
    z.strictObject({ type: z.literal('file_absent'), path: relPath() }),
    z.strictObject({ type: z.literal('file_contains'), path: relPath(), text: z.string().min(1).max(500) }),
    /** A package.json script exists (and, with command, is exactly that command). */
    z.strictObject({ type: z.literal('package_script'), name: z.string().min(1).max(200), command: z.string().max(1_000).optional(), path: relPath().optional() }),
    /** A JSON config file holds this value at a JSON pointer, e.g. tsconfig.json /compilerOptions/strict = true. */
    z.strictObject({
      type: z.literal('json_value'),
      path: relPath(),
      pointer: z
        .string()
        .max(500)
        .regex(/^(\/[^/]*)*$/, 'must be a JSON pointer like /a/b'),
      value: z.unknown(),
    }),
  ]),
);
export type CheckSpec = z.infer<typeof CheckSpecSchema>;

/** Input of the `remember` tool. */
export const RememberInput = z.lazy(() =>
  z.strictObject({
    subject: z.string().min(1).max(120).describe('What the memory is about, e.g. "deploy"'),
    attribute: z.string().min(1).max(120).describe('Which property, e.g. "target". Reuse an existing subject+attribute to update it'),
    value: z.string().min(1).max(MAX_VALUE_CHARS),
    scope: z.enum(SCOPE_KINDS).default('workspace').describe('workspace: this project; user: the person; global: everywhere'),
    kind: z.enum(MEMORY_KINDS).default('fact'),
    importance: z.number().min(0).max(1).optional(),
    check: CheckSpecSchema.optional().describe('Optional cheap check of the claim against the workspace, run at every recall'),
  }),
);

/** Input of the `forget` tool. */
export const ForgetInput = z.lazy(() =>
  z.strictObject({
    key: z.string().min(3).max(250).describe('subject:attribute of the memory to retire'),
    scope: z.enum(SCOPE_KINDS).default('workspace'),
    reason: z.string().min(1).max(500).describe('Why it is no longer true'),
  }),
);
