/**
 * CPU time of processes, read from Linux /proc, for the benches' CPU-per-task columns. /proc rather
 * than process.cpuUsage(): the other side of the measurement (the Temporal server, PostgreSQL) is
 * another process, and both sides are best read with the same clock and the same rounding.
 * Every function returns null where /proc cannot answer (not Linux, process gone, not visible
 * from this container), so a bench prints "n/a" instead of failing.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Clock ticks per second of /proc's CPU times (USER_HZ). getconf answers for the running kernel;
 * 100 is what Linux uses on every common architecture, so it is the fallback when getconf is absent.
 */
export const CLOCK_TICKS: number = (() => {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
})();

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime of the process's own threads, in ticks. */
  own: number;
  /** cutime + cstime: what its children that have exited and been waited for used, in ticks. */
  reaped: number;
}

function readStat(pid: number | 'self'): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
  // What follows starts at field 3 (state): field n is at index n - 3.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const num = (field: number) => Number(fields[field - 3]);
  return { pid: Number(text.slice(0, text.indexOf(' '))), ppid: num(4), own: num(14) + num(15), reaped: num(16) + num(17) };
}

const toMs = (ticks: number) => (ticks * 1000) / CLOCK_TICKS;

/** CPU ms used so far by this process's own threads (main thread, libuv pool, worker threads, native SDK threads); not its children. */
export function selfCpuMs(): number | null {
  const stat = readStat('self');
  return stat ? toMs(stat.own) : null;
}

/** The NUL-separated command line of a process as one space-separated string; '' when unreadable or a kernel thread. */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

function allPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * CPU ms used so far by a process tree: every live process in it, plus everything its exited
 * descendants used (the kernel adds a reaped child's own and reaped time to its parent's cutime/cstime).
 * So the difference between two samples counts a PostgreSQL backend that ended in between, and one
 * that started in between, once each. A process that exits during the walk itself can be missed or
 * counted twice; with pooled connections that is noise. Null when the root is gone.
 */
export function treeCpuMs(rootPid: number): number | null {
  const root = readStat(rootPid);
  if (!root) return null;
  const children = new Map<number, ProcStat[]>();
  for (const pid of allPids()) {
    if (pid === rootPid) continue;
    const stat = readStat(pid);
    if (!stat) continue;
    const siblings = children.get(stat.ppid);
    if (siblings) siblings.push(stat);
    else children.set(stat.ppid, [stat]);
  }
  let ticks = 0;
  const queue = [root];
  for (let stat = queue.pop(); stat; stat = queue.pop()) {
    ticks += stat.own + stat.reaped;
    queue.push(...(children.get(stat.pid) ?? []));
  }
  return toMs(ticks);
}

/**
 * The postmaster of the PostgreSQL cluster in `dataDir`, or null when it is not visible from here
 * (another host or container, or postmaster.pid not readable). Its first line is the postmaster's
 * pid; the pid's command line must name the data directory, so a stale file whose pid was reused
 * is not believed. Without a readable file, the process whose command line holds the data
 * directory and whose parent's does not (backends rename themselves, so only the postmaster matches).
 */
export function postmasterPid(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
    if (Number.isInteger(pid) && pid > 0 && cmdline(pid).includes(dataDir)) return pid;
  } catch {
    // Not readable from here: fall back to looking at every process's command line.
  }
  for (const pid of allPids()) {
    if (!cmdline(pid).includes(dataDir)) continue;
    const parent = readStat(pid)?.ppid;
    if (parent !== undefined && !cmdline(parent).includes(dataDir)) return pid;
  }
  return null;
}
