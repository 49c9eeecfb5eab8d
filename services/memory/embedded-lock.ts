/**
 * The lock file of the embedded memory database (AGENT_HOME/memory.lock): which process owns the
 * PGlite data directory and where it serves it to the others. One JSON object:
 *
 *   {"pid":4242,"start":"8812345","host":"dev-box","since":"2025-06-01T10:00:00.000Z",
 *    "serving":{"socket":"/home/me/app/.agent/memory-socket/.s.PGSQL.5432"}}
 *
 * `serving` is null while the owner is still opening the database; `start` is the process's start
 * time from /proc, so a pid reused by an unrelated process is not mistaken for the owner. An owner
 * that died leaves its lock behind: the next process to look breaks it (only after seeing the
 * same dead holder again under a second lock, so two processes never both break and both own).
 */
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { writeFileAtomic } from '../atomic-file';
import os from 'node:os';
import path from 'node:path';

/** Where the owner serves: a unix socket path, or a loopback TCP port when the path would be too long for a socket. */
export type ServeAddress = { socket: string } | { host: '127.0.0.1'; port: number };

export interface LockHolder {
  pid: number;
  /** The process's start time (Linux /proc); null where unknown. */
  start: string | null;
  host: string | null;
  since: string | null;
  serving: ServeAddress | null;
  /** A lock written by an older version (a bare pid): its owner does not serve the database. */
  legacy: boolean;
  /** Not a lock this code wrote (empty, half-written or foreign); pid is 0. */
  unreadable: boolean;
  /** How long ago the file was last written. */
  ageMs: number;
  /** The file as read, to tell whether it changed since. */
  raw: string;
}

export type Liveness = 'live' | 'dead' | 'elsewhere';

/** The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or null. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the holder is this very process. */
export const isThisProcess = (holder: LockHolder) => !holder.unreadable && holder.pid === process.pid && (holder.start === null || holder.start === processStart(process.pid));

function parse(raw: string, ageMs: number): LockHolder | null {
  const text = raw.trim();
  if (/^\d+$/.test(text)) return { pid: Number(text), start: null, host: null, since: null, serving: null, legacy: true, unreadable: false, ageMs, raw };
  try {
    const j = JSON.parse(text) as Partial<LockHolder>;
    if (!Number.isInteger(j.pid)) return null;
    const s = j.serving as Record<string, unknown> | null | undefined;
    const serving: ServeAddress | null =
      s && typeof s.socket === 'string' ? { socket: s.socket } : s && s.host === '127.0.0.1' && Number.isInteger(s.port) ? { host: '127.0.0.1', port: s.port as number } : null;
    return { pid: j.pid!, start: j.start ?? null, host: j.host ?? null, since: j.since ?? null, serving, legacy: false, unreadable: false, ageMs, raw };
  } catch {
    return null;
  }
}

/** The current holder, or null when nobody holds the lock. */
export async function readLock(file: string): Promise<LockHolder | null> {
  let raw: string;
  let ageMs: number;
  try {
    const [text, info] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    raw = text;
    ageMs = Date.now() - info.mtimeMs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return parse(raw, ageMs) ?? { pid: 0, start: null, host: null, since: null, serving: null, legacy: false, unreadable: true, ageMs, raw };
}

/**
 * Whether the holder still runs: a different host cannot be checked from here, and an unreadable
 * file is given a few seconds (its writer may be between creating and filling it).
 */
export function liveness(holder: LockHolder): Liveness {
  if (holder.unreadable) return holder.ageMs > 5_000 ? 'dead' : 'live';
  if (holder.host && holder.host !== os.hostname()) return 'elsewhere';
  if (!pidAlive(holder.pid)) return 'dead';
  const start = holder.start ? processStart(holder.pid) : null;
  return start !== null && start !== holder.start ? 'dead' : 'live';
}

function record(serving: ServeAddress | null): string {
  return `${JSON.stringify({ pid: process.pid, start: processStart(process.pid), host: os.hostname(), since: new Date().toISOString(), serving })}\n`;
}

/** Takes the lock if nobody holds it (atomically). Returns false when someone does. */
export async function tryTakeLock(file: string): Promise<boolean> {
  // AGENT_HOME may not exist yet (a worker started by a program rather than the CLI): make it.
  await mkdir(path.dirname(file), { recursive: true });
  try {
    const handle = await open(file, 'wx', 0o600);
    try {
      await handle.writeFile(record(null));
    } finally {
      await handle.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Records where this process (the holder) serves. Readers see the old or the new file, never half of one. */
export async function publishLock(file: string, serving: ServeAddress): Promise<void> {
  await writeFileAtomic(file, record(serving), { mode: 0o600 });
}

/** Removes the lock if this process holds it; someone else's lock is left alone. */
export async function releaseLock(file: string): Promise<void> {
  const holder = await readLock(file).catch(() => null);
  if (holder && isThisProcess(holder)) await rm(file, { force: true });
}

/** A breaker older than this belongs to a process that died while breaking a lock. */
const BREAKER_STALE_MS = 10_000;

/**
 * Removes a lock whose holder is gone. Two processes may both find it stale: each removes it only
 * under a second lock (`.break`) and only if the file is still the one it saw, so the loser finds
 * the winner's fresh lock instead of deleting it. Returns without doing anything when another
 * process is breaking it right now; the caller looks again.
 */
export async function breakStaleLock(file: string, seen: LockHolder): Promise<void> {
  const breaker = `${file}.break`;
  try {
    const handle = await open(breaker, 'wx', 0o600);
    await handle.writeFile(String(process.pid));
    await handle.close();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const age = await stat(breaker).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > BREAKER_STALE_MS) await rm(breaker, { force: true });
    return;
  }
  try {
    const now = await readLock(file);
    if (now && now.raw === seen.raw && liveness(now) === 'dead') await rm(file, { force: true });
  } finally {
    await rm(breaker, { force: true });
  }
}
