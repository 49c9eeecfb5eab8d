/**
 * The approver's signing key: an ed25519 key pair in the user's agent directory
 * (`~/.config/durable-agent/approver-key.pem` by default, mode 0600), created on first use. The
 * sandbox masks that directory, so a command the agent runs can never sign a decision; the public
 * half goes into every task this user starts, and the task accepts only decisions it signed.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decisionSigningBytes, keyIdOf, type ApproverKey, type DecisionSignature, type SignedDecisionFields, type SignedRequest } from '../../domain/approver-signature';

export const APPROVER_KEY_FILE = 'approver-key.pem';

export class ApproverKeyError extends Error {}

export interface ApproverIdentity {
  key: ApproverKey;
  /** Signs one decision on one request; never throws for valid input. */
  sign(request: SignedRequest, decision: SignedDecisionFields): DecisionSignature;
}

function publicKeyHex(privateKey: KeyObject): string {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  return Buffer.from(String(jwk.x), 'base64url').toString('hex');
}

function identityFrom(privateKey: KeyObject, label: string): ApproverIdentity {
  const publicKey = publicKeyHex(privateKey);
  const key: ApproverKey = { id: keyIdOf(publicKey), publicKey, label };
  return {
    key,
    sign(request, decision) {
      return { keyId: key.id, value: sign(null, decisionSigningBytes(request, decision), privateKey).toString('hex') };
    },
  };
}

/**
 * Loads the key in `userDir`, creating it (and the directory, 0700) when missing. Two processes
 * creating it at once agree on one key (exclusive create). Throws ApproverKeyError, naming the
 * file and the fix, when it exists but cannot be read or is not an ed25519 private key.
 */
export async function loadApproverIdentity(userDir: string, label = `cli:${os.userInfo().username}@${os.hostname()}`): Promise<ApproverIdentity> {
  const file = path.join(userDir, APPROVER_KEY_FILE);
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new ApproverKeyError(`cannot read the approver key ${file}: ${(err as Error).message} (check its permissions)`);
    await mkdir(userDir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    const fresh = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    try {
      await writeFile(file, fresh, { flag: 'wx', mode: 0o600 });
      pem = fresh;
    } catch (writeErr) {
      if ((writeErr as NodeJS.ErrnoException).code !== 'EEXIST') throw new ApproverKeyError(`cannot create the approver key ${file}: ${(writeErr as Error).message}`);
      pem = await readFile(file, 'utf8');
    }
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (err) {
    throw new ApproverKeyError(`${file} is not a private key (${(err as Error).message}); move it away and a new one is created`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new ApproverKeyError(`${file} holds a ${privateKey.asymmetricKeyType} key, not ed25519; move it away and a new one is created`);
  // A key readable by others is no proof of who decided.
  await chmod(file, 0o600).catch(() => undefined);
  return identityFrom(privateKey, label);
}
