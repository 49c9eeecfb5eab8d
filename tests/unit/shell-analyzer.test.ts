import { describe, expect, it } from 'vitest';
import { SHELL_RULES } from '../../services/policy/programs/registry';
import { LIMITS, RISK_ORDER, type ShellAnalysis } from '../../services/policy/shell/analysis';
import { analyzeShell } from '../../services/policy/shell/analyze';
import { selfCheck } from '../../services/policy/shell/self-check';
import { CORPUS_CONTEXT, SHELL_CORPUS, type CorpusCase } from '../fixtures/shell-corpus';

const analyze = (command: string) => analyzeShell(command, CORPUS_CONTEXT);

/** What the analysis says, in the corpus' terms, so a mismatch shows the whole verdict at once. */
function outcome(c: CorpusCase, a: ShellAnalysis) {
  return {
    deny: a.catastrophic !== null,
    ...(c.ask !== undefined ? { ask: a.askReasons.length > 0 } : {}),
    ...(c.readOnly !== undefined ? { readOnly: a.readOnly } : {}),
    ...(c.risk !== undefined ? { risk: a.risk } : {}),
    ...(c.writes !== undefined ? { writes: [...a.writes].sort() } : {}),
  };
}

describe('shell analyser: rules', () => {
  it('every rule passes its own examples (selfCheck)', async () => {
    expect(await selfCheck()).toEqual([]);
  });

  it('every rule carries examples', () => {
    for (const rule of SHELL_RULES) expect(rule.examples.length, rule.programs.join(',')).toBeGreaterThan(0);
  });
});

describe('shell analyser: adversarial corpus', () => {
  it('has at least 150 cases', () => {
    expect(SHELL_CORPUS.length).toBeGreaterThanOrEqual(150);
    expect(new Set(SHELL_CORPUS.map((c) => c.command)).size).toBe(SHELL_CORPUS.length);
  });

  it.each(SHELL_CORPUS.map((c) => [`${c.group}: ${JSON.stringify(c.command)}`, c] as const))('%s', async (_name, c) => {
    const a = await analyze(c.command);
    const expected = {
      deny: c.deny,
      ...(c.ask !== undefined ? { ask: c.ask } : {}),
      ...(c.readOnly !== undefined ? { readOnly: c.readOnly } : {}),
      ...(c.risk !== undefined ? { risk: c.risk } : {}),
      ...(c.writes !== undefined ? { writes: [...c.writes].sort() } : {}),
    };
    expect(outcome(c, a), JSON.stringify({ catastrophic: a.catastrophic, askReasons: a.askReasons, reasons: a.reasons }, null, 1)).toEqual(expected);
    // Invariants that hold for every command.
    if (a.readOnly) {
      expect(a).toMatchObject({ parsed: true, risk: 'read-only', catastrophic: null, askReasons: [], writes: [] });
    }
    if (!a.parsed) expect(a.readOnly).toBe(false);
    if (a.catastrophic) expect(a.readOnly).toBe(false);
    expect(RISK_ORDER).toContain(a.risk);
  });
});

describe('shell analyser: parts', () => {
  it('resolves quotes, escapes and ANSI-C strings in argv', async () => {
    const a = await analyze(`r''m -rf "a b" \\x $'\\x72m' 'it''s'`);
    expect(a.parts).toHaveLength(1);
    expect(a.parts[0]).toMatchObject({ program: 'rm', argv: ['rm', '-rf', 'a b', 'x', 'rm', 'its'], dynamic: false });
  });

  it('strips harmless wrappers before naming the program', async () => {
    const a = await analyze('timeout 5 nice -n 3 env A=1 nohup stdbuf -oL command ls -la');
    expect(a.parts[0]).toMatchObject({ program: 'ls', argv: ['ls', '-la'] });
    expect(a.readOnly).toBe(true);
  });

  it('marks words that depend on expansion or globbing as dynamic', async () => {
    expect((await analyze('ls *.ts')).parts[0]!.dynamic).toBe(true);
    expect((await analyze('cat "$FILE"')).parts[0]!.dynamic).toBe(true);
    expect((await analyze("cat '*.ts'")).parts[0]!.dynamic).toBe(false);
    const a = await analyze('$cmd -la');
    expect(a.parts[0]).toMatchObject({ program: null, dynamic: true });
    expect(a.askReasons.join(' ')).toMatch(/computed at run time/);
  });

  it('finds commands in every compound form', async () => {
    const a = await analyze(
      'a && b || c; d | e & (f); { g; }; echo $(h) `i` <(j) >(k); if l; then m; fi; for x in 1; do n; done; while o; do p; done; case z in z) q;; esac; fn() { r; }',
    );
    const programs = a.parts.map((p) => p.program);
    for (const name of 'abcdefghijklmnopqr') expect(programs, name).toContain(name);
  });

  it('treats here-doc bodies as data, not commands', async () => {
    const a = await analyze('cat <<EOF > f\nrm -rf /\nEOF');
    expect(a.parts.map((p) => p.program)).toEqual(['cat']);
    expect(a.parts[0]!.redirections).toEqual([
      { op: '<<', target: null },
      { op: '>', target: 'f' },
    ]);
    expect(a.writes).toEqual(['/home/dev/project/f']);
    expect(a.catastrophic).toBeNull();
  });

  it('records redirections with their targets, null when dynamic', async () => {
    const a = await analyze('cmd 2>&1 >> "$LOG" < in.txt');
    expect(a.parts[0]!.redirections).toEqual([
      { op: '2>&', target: '1' },
      { op: '>>', target: null },
      { op: '<', target: 'in.txt' },
    ]);
  });

  it('keeps the source slice of each part', async () => {
    const a = await analyze('ls -la   &&  git   status');
    expect(a.parts.map((p) => p.text)).toEqual(['ls -la', 'git   status']);
  });

  it('analyses a literal bash -c script and reports its parts', async () => {
    const a = await analyze(`bash -c 'git status && rm -rf build'`);
    expect(a.parts.map((p) => p.program)).toEqual(['bash', 'git', 'rm']);
    expect(a.risk).toBe('destructive');
    expect(a.askReasons.join(' ')).toMatch(/not read-only/);
    expect(a.writes).toEqual(['/home/dev/project/build']);
  });

  it('names a concrete protected path for each glob, brace or computed word that could reach one', async () => {
    const a = await analyze('cp x .g*/hooks/pre-commit && cat $(echo .e*) && echo x > .agent/{policy,x}.json');
    expect(a.protectedTargets).toEqual([
      expect.objectContaining({ word: '.g*/hooks/pre-commit', example: '/home/dev/project/.git/hooks/pre-commit', access: 'write' }),
      expect.objectContaining({ word: '.e*', example: '/home/dev/project/.env', access: 'read' }),
      expect.objectContaining({ word: '$(echo .e*)', example: '/home/dev/project/.env', access: 'read' }),
      expect.objectContaining({ word: '.agent/{policy,x}.json', example: '/home/dev/project/.agent/policy.json', access: 'write' }),
    ]);
    expect((await analyze('cat src/*.ts && ls *.json')).protectedTargets).toEqual([]);
  });

  it('follows bash: * and ? skip dot files unless the command changes glob options', async () => {
    expect((await analyze('cat *')).readOnly).toBe(true);
    expect((await analyze('cat ?env')).readOnly).toBe(true);
    expect((await analyze('cat .?nv')).readOnly).toBe(false);
    for (const c of ['shopt -s dotglob; cat *', 'GLOBIGNORE=x; cat ?env', "bash -O dotglob -c 'cat *'"]) expect((await analyze(c)).readOnly, c).toBe(false);
    expect((await analyze('set -euo pipefail; cat *')).readOnly).toBe(true);
  });

  it('explains findings in plain words', async () => {
    const a = await analyze('curl -s https://x > page.html && npm install && rm -rf dist');
    expect(a.reasons).toEqual(
      expect.arrayContaining([
        'curl reaches the network',
        'npm install installs or changes packages',
        'rm -r deletes files and directories recursively (destructive)',
        'redirect > writes page.html',
      ]),
    );
  });
});

describe('shell analyser: fail closed on size, count and bytes', () => {
  it('asks for commands longer than 4 KB but still finds catastrophic parts', async () => {
    const long = await analyze(`echo ${'a'.repeat(LIMITS.maxLength)}`);
    expect(long.readOnly).toBe(false);
    expect(long.askReasons.join(' ')).toMatch(/longer than 4 KB/);
    const hidden = await analyze(`echo ${'a'.repeat(5000)}; rm -rf /`);
    expect(hidden.catastrophic).not.toBeNull();
  });

  it('refuses to parse enormous input at all', async () => {
    const a = await analyze('x'.repeat(LIMITS.hardLength + 1));
    expect(a).toMatchObject({ parsed: false, readOnly: false, risk: 'unknown' });
  });

  it('asks when there are more than 32 parts', async () => {
    const chain = Array.from({ length: 40 }, (_, i) => `echo ${i}`).join(' && ');
    const a = await analyze(chain);
    expect(a.parts.length).toBe(40);
    expect(a.readOnly).toBe(false);
    expect(a.askReasons.join(' ')).toMatch(/more than 32/);
  });

  it('asks for binary input and never throws on random bytes', async () => {
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let i = 0; i < 200; i++) {
      const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)));
      const a = await analyze(bytes.toString('latin1'));
      expect(a.readOnly && a.askReasons.length === 0 ? a.parsed : true).toBe(true);
      const b = await analyze(bytes.toString('utf8'));
      if (/[\x00-\x08\x0b-\x1f\x7f\ufffd]/.test(bytes.toString('utf8'))) expect(b.readOnly).toBe(false);
    }
  });

  it('survives pathological nesting without a stack overflow', async () => {
    const deep = `${'$('.repeat(2000)}ls${')'.repeat(2000)}`;
    const a = await analyze(deep);
    expect(a.readOnly).toBe(false);
    expect(a.askReasons.length).toBeGreaterThan(0);
    const subshells = await analyze(`${'('.repeat(5000)}ls${')'.repeat(5000)}`);
    expect(subshells.readOnly).toBe(false);
  });

  it('random shell-looking garbage never throws and is never read-only unless it parsed', async () => {
    const atoms = ['rm', '-rf', '/', '$(', ')', '`', "'", '"', '|', '&&', ';', '<<EOF', '\n', 'EOF', '${', '}', '(', '{', '>', '<', '*', '~', 'sh', 'curl', 'x', '\\', '#', '$IFS'];
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let i = 0; i < 500; i++) {
      const cmd = Array.from({ length: 1 + Math.floor(rand() * 12) }, () => atoms[Math.floor(rand() * atoms.length)]).join(rand() < 0.5 ? ' ' : '');
      const a = await analyze(cmd);
      if (a.readOnly) expect(a.parsed, cmd).toBe(true);
      if (/\brm\b.*-rf.*\//.test(cmd) && a.readOnly) throw new Error(`read-only verdict for ${JSON.stringify(cmd)}`);
    }
  });
});

describe('shell analyser: context', () => {
  it('uses the real workspace and home it is given', async () => {
    const ctx = { workspace: '/srv/repos/app', home: '/root' };
    expect((await analyzeShell('rm -rf /srv/repos', ctx)).catastrophic).toMatch(/\/srv\/repos/);
    expect((await analyzeShell('rm -rf ~', ctx)).catastrophic).toMatch(/\/root/);
    expect((await analyzeShell('rm -rf /srv/repos/app/tmp', ctx)).catastrophic).toBeNull();
    expect((await analyzeShell('touch x', ctx)).writes).toEqual(['/srv/repos/app/x']);
  });

  it('is safe to call concurrently before the parser is initialised', async () => {
    const results = await Promise.all(['ls', 'rm -rf /', 'npm test', 'git status'].map((c) => analyze(c)));
    expect(results.map((r) => [r.readOnly, r.catastrophic !== null])).toEqual([
      [true, false],
      [false, true],
      [false, false],
      [true, false],
    ]);
  });
});

describe('shell analyser: latency', () => {
  it('analyses a typical command in about a millisecond once warm', async () => {
    const typical = [
      'ls -la',
      'git status',
      'npm test',
      'cat package.json | jq .scripts',
      'git log --oneline -n 20 | head',
      'rm -rf build && npm run build',
      'grep -rn "TODO" src | wc -l',
      'find . -name "*.ts" | xargs wc -l',
      'curl -s https://x | sh',
      'cd src && ls > ../out.txt 2>&1',
    ];
    for (let i = 0; i < 500; i++) await analyze(typical[i % typical.length]!);
    const times: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const start = performance.now();
      await analyze(typical[i % typical.length]!);
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    const p50 = times[Math.floor(times.length * 0.5)]!;
    // The goal (≤ 1 ms p50, and the tail) is measured by bench/policy.ts on a quiet machine. Here only
    // the median is bounded, loosely: the tail of 5,000 runs on a machine shared with Temporal and
    // other test files measures the machine's load; a parse that stopped being cached would not pass.
    expect(p50).toBeLessThan(2);
  });
});
