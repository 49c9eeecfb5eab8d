/**
 * Approvals come only from approvers: a decision is a claim by a person, so it carries an ed25519
 * signature made with a key the sandbox cannot read (the user's key under their home, or a chat
 * receiver's own key after it verified Slack's or the webhook's signature). A task accepts only
 * keys named in its input when it started; the update validator checks the signature.
 *
 * The signed bytes bind the decision to one request of one workflow (its id, request id, action
 * hash and the nonce the workflow drew for the request), so a signature can never be replayed onto
 * another request, another task, or a later request that happens to reuse the id. Requests raised
 * before requests carried a nonce are bound by the time they were raised instead; that time is not
 * reproduced exactly when a history replays after a local activity, so new requests never use it.
 *
 * Workflow-safe: pure JavaScript (@noble/curves), deterministic, no Node APIs.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { z } from 'zod';
import { canonicalJson } from './canonical-json';

/** A public key a task trusts: 32 bytes as hex; its id is the first 16 hex digits. */
export const ApproverKeySchema = z.lazy(() =>
  z.strictObject({
    id: z.string().regex(/^[0-9a-f]{16}$/, 'a key id is 16 hex digits'),
    publicKey: z.string().regex(/^[0-9a-f]{64}$/, 'an ed25519 public key is 64 hex digits'),
    /** Who holds it, for people reading the trace: `cli:alice@laptop`, `chat-receiver`. */
    label: z.string().min(1).max(200),
  }),
);
export type ApproverKey = z.infer<typeof ApproverKeySchema>;

export const DecisionSignatureSchema = z.lazy(() =>
  z.strictObject({
    keyId: z.string().regex(/^[0-9a-f]{16}$/),
    /** 64 bytes as hex. */
    value: z.string().regex(/^[0-9a-f]{128}$/),
  }),
);
export type DecisionSignature = z.infer<typeof DecisionSignatureSchema>;

/** What a signature covers besides the decision itself: the request as the workflow raised it. */
export interface SignedRequest {
  /** The workflow holding the request (a team's child for its steps' requests). */
  workflowId: string;
  requestId: string;
  actionHash: string;
  requestedAt: string;
  /** Drawn by the workflow from its deterministic random source; absent in requests from older releases. */
  nonce?: string | undefined;
}

/** What a signature on a decision for `request`, held by the workflow `workflowId`, covers. */
export function signedRequestOf(workflowId: string, request: Omit<SignedRequest, 'workflowId'>): SignedRequest {
  return {
    workflowId,
    requestId: request.requestId,
    actionHash: request.actionHash,
    requestedAt: request.requestedAt,
    ...(request.nonce !== undefined ? { nonce: request.nonce } : {}),
  };
}

export interface SignedDecisionFields {
  approve: boolean;
  always: boolean;
  reason?: string | undefined;
  decidedBy: string;
  channel: string;
}

const DOMAIN_TAG = 'durable-agent approval decision v1\n';

export function keyIdOf(publicKeyHex: string): string {
  return publicKeyHex.slice(0, 16);
}

/** The exact bytes an approver signs. Both sides build them with this function. */
export function decisionSigningBytes(request: SignedRequest, decision: SignedDecisionFields): Uint8Array {
  const body = canonicalJson({
    workflowId: request.workflowId,
    requestId: request.requestId,
    actionHash: request.actionHash,
    ...(request.nonce !== undefined ? { nonce: request.nonce } : { requestedAt: request.requestedAt }),
    approve: decision.approve,
    always: decision.always,
    reason: decision.reason ?? null,
    decidedBy: decision.decidedBy,
    channel: decision.channel,
  });
  return new TextEncoder().encode(DOMAIN_TAG + body);
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export type SignatureCheck = { ok: true; key: ApproverKey } | { ok: false; reason: string };

/**
 * Checks a decision's signature against the keys a task trusts. Never throws: a missing, unknown
 * or bad signature comes back with the reason.
 */
export function checkDecisionSignature(
  trusted: readonly ApproverKey[],
  request: SignedRequest,
  decision: SignedDecisionFields & { signature?: DecisionSignature | undefined },
): SignatureCheck {
  const signature = decision.signature;
  if (!signature) return { ok: false, reason: 'the decision is not signed by an approver key' };
  const key = trusted.find((k) => k.id === signature.keyId);
  if (!key) return { ok: false, reason: `key ${signature.keyId} is not an approver key this task trusts` };
  try {
    useSmallBaseTable();
    const valid = ed25519.verify(hexToBytes(signature.value), decisionSigningBytes(request, decision), hexToBytes(key.publicKey));
    return valid ? { ok: true, key } : { ok: false, reason: `the signature does not match key ${key.id} (${key.label})` };
  } catch (err) {
    return { ok: false, reason: `the signature cannot be checked: ${(err as Error).message}` };
  }
}

let smallBaseTable = false;

/**
 * The workflow sandbox evaluates this module afresh for every task, so the base point's default
 * precomputed table (built on first use and kept only by this module instance) would be rebuilt for
 * every task that checks a decision: tens of milliseconds of worker CPU inside the decision's
 * workflow task. The smallest window makes the first check a few milliseconds; the result is the same.
 */
function useSmallBaseTable(): void {
  if (smallBaseTable) return;
  ed25519.Point.BASE.precompute(1, false);
  smallBaseTable = true;
}
