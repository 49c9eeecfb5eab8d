/** The memory model's shapes: items with provenance and a supersession chain, environment checks, candidates. */
import { z } from 'zod';
import { CheckSpecSchema, MAX_VALUE_CHARS, type CheckSpec } from '../../domain/memory';
import { MEMORY_KINDS, SCOPE_KINDS, type MemoryKind } from './keys';

export { CheckSpecSchema, MAX_VALUE_CHARS, type CheckSpec } from '../../domain/memory';

export const ProvenanceSchema = z.strictObject({
  taskId: z.string().max(200).optional(),
  /** The user or model message the memory came from (quoted, trimmed). */
  message: z.string().max(1_000).optional(),
  /** The tool output that backs it (quoted, trimmed). */
  toolOutput: z.string().max(1_000).optional(),
  episodeIds: z.array(z.string().max(200)).max(200).optional(),
  dreamRun: z.string().max(200).optional(),
  note: z.string().max(500).optional(),
});
export type Provenance = z.infer<typeof ProvenanceSchema>;

export type MemorySource = 'writer' | 'tool' | 'cli' | 'dream';

export interface MemoryItem {
  id: string;
  scope: string;
  kind: MemoryKind;
  key: string;
  subject: string;
  attribute: string;
  value: string;
  confidence: number;
  importance: number;
  source: MemorySource;
  provenance: Provenance;
  check: CheckSpec | null;
  validFrom: string;
  createdAt: string;
  supersededBy: string | null;
  invalidatedAt: string | null;
  invalidatedReason: string | null;
  lastUsedAt: string | null;
  useCount: number;
}

/** A memory to write, after validation: everything deterministic code needs, nothing the LLM decides about others. */
export interface NewMemory {
  scope: string;
  kind: MemoryKind;
  subject: string;
  attribute: string;
  value: string;
  confidence: number;
  importance: number;
  source: MemorySource;
  provenance: Provenance;
  check?: CheckSpec;
  /** When the fact became true as far as we know (the task's time, not the write's). */
  validFrom: string;
}

/** What the LLM may propose: one memory, in its own words. Parsed item by item so one bad item costs only itself. */
export const CandidateSchema = z.strictObject({
  scope: z.enum(SCOPE_KINDS).describe('workspace: about this project; user: about the person; global: true everywhere'),
  kind: z.enum(MEMORY_KINDS),
  subject: z.string().min(1).max(120).describe('What the memory is about, e.g. "deploy", "test command", "user"'),
  attribute: z.string().min(1).max(120).describe('Which property of the subject, e.g. "target", "runner", "preferred language"'),
  value: z.string().min(1).max(MAX_VALUE_CHARS),
  confidence: z.number().min(0).max(1).default(0.7),
  importance: z.number().min(0).max(1).default(0.5),
  evidence: z.string().max(1_000).optional().describe('A short quote from the conversation or a tool output that supports it'),
  evidenceFrom: z.enum(['message', 'tool']).optional(),
  check: CheckSpecSchema.optional().describe('Optional cheap check of the claim against the workspace'),
});
export type Candidate = z.infer<typeof CandidateSchema>;

/** The model's whole answer; items are parsed one by one (see memory-writer). */
export const ProposalSchema = z.strictObject({ memories: z.array(CandidateSchema).max(30) });
/** Lenient outer shape: a wrong item must not discard the rest. */
export const LenientProposalSchema = z.object({ memories: z.array(z.unknown()).max(100) });
