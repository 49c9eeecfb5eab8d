/**
 * The bubblewrap sandbox around run_command, exercised with real commands under real bwrap. These
 * tests fail (never skip) when bubblewrap is missing: the sandbox is a safety property, and a CI
 * image without it must not go green.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, realpath, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bubblewrapArgs, detectSandbox, SANDBOX_HOME, type SandboxPolicy } from '../../services/sandbox/bubblewrap';
import { runCommand, type SandboxRequest } from '../../services/tools/run-command';

const tag = () => randomBytes(6).toString('hex');
const realHome = os.homedir();

let base: string;
let ws: string;
let plantedSecret: string;
const SECRET_CONTENT = `planted-secret-${tag()}`;

beforeAll(async () => {
  const info = await detectSandbox();
  if (!info.available) {
    throw new Error(`bubblewrap sandbox unavailable (${info.reason}). Install it with: apt-get install bubblewrap`);
  }
  plantedSecret = path.join(realHome, `.agent-sandbox-secret-${tag()}`);
  await writeFile(plantedSecret, `${SECRET_CONTENT}\n`, { mode: 0o600 });
});

afterAll(async () => {
  if (plantedSecret) await rm(plantedSecret, { force: true });
});

beforeEach(async () => {
  base = await realpath(await mkdtemp(path.join(os.tmpdir(), 'sandbox-')));
  ws = path.join(base, 'ws');
  await mkdir(ws);
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

async function exists(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null)) !== null;
}

function policy(extra: Partial<SandboxPolicy> = {}): SandboxPolicy {
  return { workspace: ws, network: null, ...extra };
}

function sandboxed(command: string, options: { timeoutSeconds?: number; policy?: Partial<SandboxRequest>; signal?: AbortSignal; workspace?: string } = {}) {
  const workspace = options.workspace ?? ws;
  return runCommand(workspace, { command, timeoutSeconds: options.timeoutSeconds ?? 20 }, { sandbox: { network: null, ...options.policy, workspace }, signal: options.signal });
}

/** Host pids of running (not zombie) processes whose argv[0] starts with `marker` (set with `exec -a`). */
async function processesWith(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline.startsWith(marker)) continue;
    const st = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const state = st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3);
    if (st && state !== 'Z' && state !== 'X') found.push(Number(entry));
  }
  return found;
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return await check();
}

/** Background jobs, a setsid'd double-forked daemon and the foreground job, all named by `marker`. */
function processTree(marker: string): string {
  return [
    `(exec -a ${marker}-bg sleep 30) >/dev/null 2>&1 &`,
    `setsid -f bash -c 'exec -a ${marker}-daemon sleep 30' </dev/null >/dev/null 2>&1`,
    `exec -a ${marker}-fg sleep 30`,
  ].join('\n');
}

describe('detectSandbox', () => {
  it('reports bubblewrap as available here (cached)', async () => {
    const info = await detectSandbox();
    expect(info).toMatchObject({ available: true, kind: 'bubblewrap' });
    expect(info.path).toMatch(/bwrap$/);
    expect(await detectSandbox()).toBe(info);
  });
});

describe('file system', () => {
  it('allows writes inside the workspace, with cwd = workspace', async () => {
    const result = await sandboxed('pwd; echo hello > a.txt && mkdir -p d/e && echo deep > d/e/f.txt && rm a.txt && echo again > b.txt');
    expect(result).toMatchObject({ exitCode: 0, stdout: `${ws}\n`, stderr: '' });
    expect(await readFile(path.join(ws, 'b.txt'), 'utf8')).toBe('again\n');
    expect(await readFile(path.join(ws, 'd', 'e', 'f.txt'), 'utf8')).toBe('deep\n');
    expect(await exists(path.join(ws, 'a.txt'))).toBe(false);
  });

  it('refuses writes outside the workspace, and nothing appears on the host', async () => {
    const id = tag();
    const targets = [`/etc/agent-sandbox-test-${id}`, `/opt/agent-sandbox-test-${id}`, `/usr/local/agent-sandbox-test-${id}`, path.join(realHome, `agent-sandbox-test-${id}`)];
    for (const target of targets) {
      const touch = await sandboxed(`touch ${target}`);
      expect(touch.exitCode, target).not.toBe(0);
      expect(touch.stderr, target).toMatch(/Read-only file system|Permission denied/);
      const redirect = await sandboxed(`echo x > ${target}`);
      expect(redirect.exitCode, target).not.toBe(0);
      expect(await exists(target), target).toBe(false);
    }
    // Nor can the sandbox remount its way out: it has no capabilities, even when we run as root.
    const remount = await sandboxed(`mount -o remount,rw / && touch /etc/agent-sandbox-test-${id}; grep CapEff /proc/self/status`);
    expect(remount.stdout).toMatch(/CapEff:\s+0+\n/);
    expect(await exists(`/etc/agent-sandbox-test-${id}`)).toBe(false);
  });

  it('gives the command a private /tmp', async () => {
    const id = tag();
    const hostFile = path.join(os.tmpdir(), `agent-sandbox-host-${id}`);
    await writeFile(hostFile, 'host');
    try {
      const result = await sandboxed(`echo inside > /tmp/agent-sandbox-inner-${id} && cat /tmp/agent-sandbox-inner-${id}; cat ${hostFile}`);
      expect(result.stdout).toBe('inside\n');
      expect(result.stderr).toContain('No such file or directory');
      expect(await exists(`/tmp/agent-sandbox-inner-${id}`)).toBe(false);
      expect(await exists(path.join(os.tmpdir(), `agent-sandbox-inner-${id}`))).toBe(false);
    } finally {
      await rm(hostFile, { force: true });
    }
  });

  it('hides the real home (~/.ssh, planted secrets) and sets HOME to a private directory', async () => {
    const result = await sandboxed(`echo "home=$HOME"; cat ${plantedSecret}; ls -A ${realHome}/.ssh; ls -A ${realHome}; touch "$HOME/cache" && echo home-writable`);
    expect(result.stdout).toContain(`home=${SANDBOX_HOME}\n`);
    expect(result.stdout).toContain('home-writable');
    expect(result.stdout + result.stderr).not.toContain(SECRET_CONTENT);
    expect(result.stdout).not.toContain(path.basename(plantedSecret));
    expect(result.stderr).toMatch(new RegExp(`cat: ${plantedSecret}: No such file or directory`));
    expect(result.stderr).toMatch(/ls: cannot access '.*\/\.ssh': No such file or directory/);
    // Reading it by another route fails as well.
    const viaNode = await sandboxed(`node -e 'require("fs").readFileSync(${JSON.stringify(plantedSecret)})'`);
    expect(viaNode.exitCode).not.toBe(0);
    expect(viaNode.stderr).toContain('ENOENT');
  });

  it('keeps secrets hidden when the workspace lives inside the home, and the workspace writable', async () => {
    const homeWs = path.join(realHome, `agent-sandbox-ws-${tag()}`);
    await mkdir(homeWs);
    try {
      const sibling = path.join(realHome, `agent-sandbox-sibling-${tag()}`);
      const result = await sandboxed(`echo ok > inside.txt && pwd; cat ${plantedSecret}; touch ${sibling}`, { workspace: homeWs });
      expect(result.stdout).toBe(`${homeWs}\n`);
      expect(await readFile(path.join(homeWs, 'inside.txt'), 'utf8')).toBe('ok\n');
      expect(result.stdout + result.stderr).not.toContain(SECRET_CONTENT);
      expect(result.stderr).toContain(`touch: cannot touch '${sibling}': Read-only file system`);
      expect(await exists(sibling)).toBe(false);
    } finally {
      await rm(homeWs, { recursive: true, force: true });
    }
  });

  it('hides host service sockets under /run (a unix socket needs no network)', async () => {
    expect((await readdir('/run')).length).toBeGreaterThan(0);
    expect(await sandboxed('ls -A /run')).toMatchObject({ exitCode: 0, stdout: '' });
    // Planting a socket in /run needs root; the listing above covers other users.
    if (process.getuid?.() !== 0) return;
    const sock = `/run/agent-sandbox-${tag()}.sock`;
    const server = net.createServer((c) => c.end('hello from the host\n'));
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    try {
      const result = await sandboxed(`test -S ${sock} && echo visible; node -e 'require("net").connect(${JSON.stringify(sock)}).on("data", d => process.stdout.write(d))'`);
      expect(result.stdout).not.toContain('visible');
      expect(result.stdout).not.toContain('hello from the host');
      expect(result.stderr).toContain('ENOENT');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('shows extra dirs read-only or writable as asked, and a read-only dir inside the workspace stays read-only', async () => {
    const ro = path.join(base, 'ro');
    const rw = path.join(base, 'rw');
    const hidden = path.join(base, 'hidden');
    await Promise.all([mkdir(ro), mkdir(rw), mkdir(hidden), mkdir(path.join(ws, 'locked'))]);
    await writeFile(path.join(ro, 'r.txt'), 'readable\n');
    await writeFile(path.join(hidden, 'h.txt'), 'hidden\n');
    const result = await sandboxed(
      `cat ${ro}/r.txt; touch ${ro}/new || echo ro-refused; echo w > ${rw}/w.txt && echo rw-ok; cat ${hidden}/h.txt || echo hidden-missing; ` +
        `touch locked/x || echo locked-refused; touch free.txt && echo ws-ok`,
      { policy: { extraReadOnly: [ro, path.join(ws, 'locked'), path.join(base, 'missing')], extraWritable: [rw] } },
    );
    expect(result.stdout).toBe('readable\nro-refused\nrw-ok\nhidden-missing\nlocked-refused\nws-ok\n');
    expect(await readFile(path.join(rw, 'w.txt'), 'utf8')).toBe('w\n');
    expect(await exists(path.join(ro, 'new'))).toBe(false);
    expect(await exists(path.join(ws, 'locked', 'x'))).toBe(false);
  });
});

describe('network', () => {
  let server: net.Server;
  let port: number;
  let connections = 0;

  beforeAll(async () => {
    server = net.createServer((socket) => {
      connections++;
      socket.end('HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nhi\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    port = (server.address() as net.AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  const connect = (host = '127.0.0.1') => `exec 3<>/dev/tcp/${host}/${port} && echo connected && head -1 <&3`;
  const grant = (allow: string[] = [], deny: string[] = []) => ({ network: { allow, deny }, refuse: [`localhost:${port}`] });

  it('blocks connections to the host without a network grant (only the sandbox loopback exists)', async () => {
    const before = connections;
    const result = await sandboxed(connect());
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout).not.toContain('connected');
    expect(result.stderr).toMatch(/Connection refused/);
    expect(connections).toBe(before);
    const links = await sandboxed('cat /proc/net/dev');
    expect(links.stdout.match(/^\s*[\w.-]+:/gm)?.map((l) => l.trim())).toEqual(['lo:']);
  });

  it("with a network grant, still never joins the host network: loopback and the host's own addresses stay unreachable, directly and through the proxy", async () => {
    const before = connections;
    const ownAddress = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a && !a.internal && a.family === 'IPv4')?.address;
    const targets = ['127.0.0.1', 'localhost', '[::1]', '0.0.0.0', '127.1', ...(ownAddress ? [ownAddress] : [])];
    const script = [
      connect(),
      'cat /proc/net/dev | grep -c :',
      ...targets.map((t) => `curl -s -m 5 -o /dev/null -w '%{http_code} ' http://${t}:${port}/`),
      ...targets.map((t) => `curl -s -m 5 -o /dev/null -w '%{http_code} ' https://${t}:${port}/ || echo -n 'tls-refused '`),
    ].join('; ');
    // Even a rule allowing every host cannot open loopback or this machine.
    const result = await sandboxed(script, { policy: grant(['*', '127.0.0.1', 'localhost', ...(ownAddress ? [ownAddress] : [])]) });
    expect(result.stdout).not.toContain('connected');
    expect(result.stdout).toMatch(/^1\n/); // only lo inside
    expect(result.stdout).not.toMatch(/\b200\b/);
    expect(result.stdout.match(/403/g)?.length).toBe(targets.length);
    expect(result.stdout).not.toContain('hi');
    expect(connections).toBe(before);
    expect(result.network).toMatch(/refused 127\.0\.0\.1:\d+ ×\d+ \(127\.0\.0\.1 is a loopback address\)/);
    if (ownAddress) expect(result.network).toContain(`${ownAddress} is an address of this machine`);
  });

  it("reaches only the allowed domains: others, denied ones and the agent's own services are refused by name", async () => {
    const result = await sandboxed(
      [
        'curl -s -m 5 -w " %{http_code}" https://example.invalid/ || true',
        'curl -s -m 5 -w " %{http_code}" https://denied.example.com/ || true',
        'curl -s -m 5 -w " %{http_code}" http://localhost:7233/ || true',
        // A tool that ignores the proxy variables has no route at all.
        'env -u https_proxy -u HTTPS_PROXY -u ALL_PROXY -u all_proxy curl -s -m 5 https://example.com/ || echo no-route',
      ].join('; echo; '),
      { policy: { network: { allow: ['*.example.com'], deny: ['denied.example.com'] }, refuse: ['localhost:7233'] } },
    );
    expect(result.stdout).toContain('no-route');
    expect(result.stdout).not.toMatch(/\b200\b/);
    expect(result.network).toMatch(/example\.invalid:443 \(example\.invalid is not an allowed domain/);
    expect(result.network).toMatch(/denied\.example\.com:443 \(.*deny network\(denied\.example\.com\)/);
    expect(result.network).toMatch(/localhost:7233 \(localhost is the machine itself/);
  });

  it('npm reaches the package registry through the proxy (when this machine reaches it at all)', async (ctx) => {
    const reachable = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: 'registry.npmjs.org', port: 443, timeout: 5_000 });
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => (socket.destroy(), resolve(false)));
    });
    // Only the positive path depends on the outside world; every refusal above is tested offline.
    if (!reachable) return ctx.skip();
    const result = await sandboxed('npm view is-number@7.0.0 version --fetch-retries=0', { policy: grant(['registry.npmjs.org']), timeoutSeconds: 60 });
    expect(result.stdout.trim()).toBe('7.0.0');
    expect(result.network).toMatch(/reached registry\.npmjs\.org:443/);
  });
});

describe('protected paths inside the workspace (enforced by the kernel, whatever the spelling)', () => {
  const HOOK = '#!/bin/sh\necho planted\n';
  let gitConfig = '';

  async function repo(): Promise<void> {
    await new Promise<void>((resolve, reject) => spawn('git', ['init', '-q', ws]).on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`git init: ${code}`)))));
    for (const hook of await readdir(path.join(ws, '.git', 'hooks'))) await rm(path.join(ws, '.git', 'hooks', hook));
    await writeFile(path.join(ws, '.git', 'hooks', 'pre-commit.sample'), 'sample\n');
    gitConfig = await readFile(path.join(ws, '.git', 'config'), 'utf8');
    await mkdir(path.join(ws, '.agent'));
    await writeFile(path.join(ws, '.agent', 'policy.json'), '{"rules":[]}\n');
    await writeFile(path.join(ws, '.env'), 'API_TOKEN=supersecret-env-value\n');
    await mkdir(path.join(ws, 'services', 'api'), { recursive: true });
    await writeFile(path.join(ws, 'services', 'api', '.env.local'), 'DB_PASSWORD=nested-secret-value\n');
    await writeFile(path.join(ws, 'x'), HOOK);
  }

  it('glob, brace and computed spellings cannot write hooks, git config or the agent policy', async () => {
    await repo();
    const attacks = [
      'cp x .g*/hooks/pre-commit',
      'tee .gi?/hooks/post-checkout < x',
      'echo "[core] fsmonitor = ./x" >> .gi[t]/config',
      `printf '{"rules":["allow *"]}' > .agen?/policy.json`,
      'cp x .{g,h}it/hooks/pre-push',
      'cp x "$(echo .gi?)/hooks/pre-rebase"',
      'd=.git; cp x $d/hooks/commit-msg',
      'rm -f .git/hooks/pre-commit.sample',
      'mv .git .git-old && mkdir -p .git/hooks && cp x .git/hooks/pre-commit',
      'mv .agent .agent-old; mkdir .agent; echo "{}" > .agent/policy.json',
      'rm -rf .git/hooks',
    ];
    for (const attack of attacks) {
      const result = await sandboxed(attack);
      expect(result.exitCode, attack).not.toBe(0);
    }
    expect((await readdir(path.join(ws, '.git', 'hooks'))).sort()).toEqual(['pre-commit.sample']);
    expect(await readFile(path.join(ws, '.git', 'config'), 'utf8')).toBe(gitConfig);
    expect(await readFile(path.join(ws, '.agent', 'policy.json'), 'utf8')).toBe('{"rules":[]}\n');
    expect(await exists(path.join(ws, '.git-old'))).toBe(false);
    expect(await exists(path.join(ws, '.agent-old'))).toBe(false);
    // Ordinary git work in the repository still works.
    const git = await sandboxed('echo a > a.txt && git add a.txt && git -c user.name=t -c user.email=t@t commit -qm a && git log --oneline | wc -l');
    expect(git.stderr).toBe('');
    expect(git.stdout.trim()).toBe('1');
  });

  it('glob reads of .env files return nothing from them, anywhere in the workspace', async () => {
    await repo();
    const reads = [
      'cat .e*',
      'cat .[e]nv',
      'head .en?',
      'find . -name ".e*" -exec cat {} +',
      'grep -r PASS .',
      'grep -r TOKEN .',
      'cat services/api/.env*',
      'cp .env copy.txt; cat copy.txt',
      'base64 .env',
    ];
    for (const read of reads) {
      const result = await sandboxed(read);
      expect(result.stdout + result.stderr, read).not.toMatch(/supersecret|nested-secret|c3VwZXJzZWNyZXQ/);
    }
    // The host files are untouched, and a write to them fails.
    expect((await sandboxed('echo X= > .env')).exitCode).not.toBe(0);
    expect(await readFile(path.join(ws, '.env'), 'utf8')).toContain('supersecret');
  });

  it('a git hooksPath inside the workspace is protected like .git/hooks', async () => {
    await repo();
    await mkdir(path.join(ws, '.husky', '_'), { recursive: true });
    await writeFile(path.join(ws, '.git', 'config'), `${gitConfig}[core]\n\thooksPath = .husky/_\n`);
    for (const attack of ['cp x .husky/_/pre-commit', 'mv .husky .h2 && mkdir -p .husky/_ && cp x .husky/_/pre-commit']) {
      expect((await sandboxed(attack)).exitCode, attack).not.toBe(0);
    }
    expect(await readdir(path.join(ws, '.husky', '_'))).toEqual([]);
  });

  it("hides the agent's own state and the approver key, wherever they live", async () => {
    const agentHome = path.join(base, 'agent-home');
    const userDir = path.join(base, 'user-dir');
    await mkdir(path.join(agentHome, 'nested'), { recursive: true });
    await mkdir(userDir);
    await writeFile(path.join(agentHome, 'temporal.db'), 'history');
    await writeFile(path.join(userDir, 'approver-key.pem'), 'PRIVATE KEY');
    const result = await sandboxed(`ls -A ${agentHome} ${userDir}; cat ${userDir}/approver-key.pem; echo x > ${agentHome}/planted`, {
      policy: { hidden: [agentHome, path.join(agentHome, 'nested'), userDir] },
    });
    expect(result.exitCode).not.toBe(0); // the write into the masked AGENT_HOME fails
    expect(result.stderr).not.toMatch(/bwrap/);
    expect(result.stdout).not.toMatch(/temporal\.db|approver-key|PRIVATE KEY|nested/);
    expect(await exists(path.join(agentHome, 'planted'))).toBe(false);
  });

  it('finds what to protect quickly', async () => {
    await repo();
    const { findProtectedPaths } = await import('../../services/sandbox/protected-paths');
    const found = await findProtectedPaths(ws);
    expect(found.readOnly).toEqual([path.join(ws, '.agent'), path.join(ws, '.git', 'config'), path.join(ws, '.git', 'hooks')]);
    expect(found.masked).toEqual([path.join(ws, '.env'), path.join(ws, 'services', 'api', '.env.local')]);
    expect(found.pinned).toEqual([path.join(ws, '.git')]);
    expect(found.incomplete).toBeNull();
  });
});

describe('process lifetime', () => {
  it('on timeout kills the whole sandboxed tree, daemons included', async () => {
    const marker = `agent-sbx-${tag()}`;
    const started = Date.now();
    const running = sandboxed(processTree(marker), { timeoutSeconds: 1 });
    expect(await waitFor(async () => (await processesWith(marker)).length === 3, 5_000)).toBe(true);
    const result = await running;
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL' });
    expect(await waitFor(async () => (await processesWith(marker)).length === 0, 2_000)).toBe(true);
  });

  it('an AbortSignal kills the whole sandboxed tree', async () => {
    const marker = `agent-sbx-${tag()}`;
    const controller = new AbortController();
    const running = sandboxed(processTree(marker), { timeoutSeconds: 60, signal: controller.signal });
    expect(await waitFor(async () => (await processesWith(marker)).length === 3, 5_000)).toBe(true);
    controller.abort();
    const result = await running;
    expect(result).toMatchObject({ timedOut: false, signal: 'SIGKILL' });
    expect(await waitFor(async () => (await processesWith(marker)).length === 0, 2_000)).toBe(true);
  });

  it('dies with the worker: a SIGKILLed parent process takes the sandboxed tree with it', async () => {
    const marker = `agent-sbx-${tag()}`;
    const script = path.join(base, 'parent.mts');
    const runCommandUrl = new URL('../../services/tools/run-command.ts', import.meta.url).href;
    await writeFile(
      script,
      `import { runCommand } from ${JSON.stringify(runCommandUrl)};\n` +
        `await runCommand(${JSON.stringify(ws)}, { command: ${JSON.stringify(processTree(marker))}, timeoutSeconds: 60 }, ` +
        `{ sandbox: { workspace: ${JSON.stringify(ws)}, network: null } });\n`,
    );
    const parent = spawn(process.execPath, ['--import', 'tsx', script], { cwd: path.dirname(fileURLToPath(runCommandUrl)), stdio: 'ignore' });
    try {
      expect(await waitFor(async () => (await processesWith(marker)).length === 3, 10_000)).toBe(true);
    } finally {
      parent.kill('SIGKILL');
    }
    expect(await waitFor(async () => (await processesWith(marker)).length === 0, 2_000)).toBe(true);
  });

  it('passes exit codes, stdout and stderr through', async () => {
    expect(await sandboxed('echo out; echo err >&2; exit 42')).toEqual({ exitCode: 42, signal: null, timedOut: false, stdout: 'out\n', stderr: 'err\n' });
    // The network bridge must not change what the command's own exit code and output are.
    expect(await sandboxed('echo out; exit 3', { policy: { network: { allow: [], deny: [] } } })).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: '' });
    expect((await sandboxed('true')).exitCode).toBe(0);
    expect((await sandboxed('false')).exitCode).toBe(1);
    // A command killed by a signal inside surfaces as bwrap's 128 + signal.
    expect((await sandboxed('kill -9 $$')).exitCode).toBe(137);
  });

  it('does not let the command see the host processes', async () => {
    const result = await sandboxed(`ls /proc | grep -E '^[0-9]+$' | wc -l; test -e /proc/${process.pid}/environ && echo host-visible`);
    expect(Number(result.stdout.split('\n')[0])).toBeLessThan(10);
    expect(result.stdout).not.toContain('host-visible');
  });
});

describe('environment', () => {
  const before = process.env.AGENT_SANDBOX_SECRET;
  afterAll(() => {
    if (before === undefined) delete process.env.AGENT_SANDBOX_SECRET;
    else process.env.AGENT_SANDBOX_SECRET = before;
  });

  it('passes only the allow-listed variables, never secrets', async () => {
    const secret = `s3cr3t-${tag()}`;
    process.env.AGENT_SANDBOX_SECRET = secret;
    const result = await sandboxed('echo "secret=[$AGENT_SANDBOX_SECRET]"; env; cat /proc/1/environ | tr "\\0" "\\n"');
    expect(result.stdout).toContain('secret=[]');
    expect(result.stdout).not.toContain(secret);
    expect(result.stdout).toMatch(/^PATH=/m);
    expect(result.stdout).toContain(`HOME=${SANDBOX_HOME}\n`);
    expect(result.stdout).toContain('TMPDIR=/tmp\n');
  });

  it('runs node, npm and git from PATH', async () => {
    const result = await sandboxed('node --version && git --version && npm --version && git init -q && git status --short && echo git-ok');
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^v\d+\.\d+\.\d+\ngit version \d+\.\d+.*\n\d+\.\d+\.\d+\ngit-ok\n$/);
    expect(await exists(path.join(ws, '.git', 'HEAD'))).toBe(true);
  });
});

describe('bubblewrapArgs', () => {
  it('has the documented shape: read-only root, private /tmp, no network, cleared env', () => {
    const args = bubblewrapArgs(policy(), { PATH: '/usr/bin:/bin', HOME: realHome });
    const joined = args.join(' ');
    expect(args.slice(0, 3)).toEqual(['--ro-bind', '/', '/']);
    expect(joined).toContain('--dev /dev --proc /proc --tmpfs /tmp');
    expect(joined).toContain(`--bind ${ws} ${ws}`);
    expect(joined).toContain(`--chdir ${ws}`);
    for (const flag of ['--unshare-all', '--die-with-parent', '--new-session', '--clearenv']) expect(args).toContain(flag);
    expect(args).not.toContain('--share-net');
    // A network grant binds the proxy socket in; it never shares the host's network namespace.
    const withNetwork = bubblewrapArgs(policy({ network: { proxySocket: path.join(base, 'proxy.sock') } }), {});
    expect(withNetwork).not.toContain('--share-net');
    expect(withNetwork.join(' ')).toContain(`--bind ${path.join(base, 'proxy.sock')} /tmp/.agent-proxy.sock`);
    expect(withNetwork.join(' ')).toContain('--setenv HTTPS_PROXY http://127.0.0.1:3128');
    expect(bubblewrapArgs(policy(), {}, { noNestedUserNamespaces: true }).join(' ')).toContain('--unshare-user --disable-userns');
    expect(joined).toContain(`--setenv HOME ${SANDBOX_HOME}`);
    expect(joined).not.toContain(`--setenv HOME ${realHome}`);
    expect(args.indexOf('--clearenv')).toBeLessThan(args.indexOf('--setenv'));
    expect(args).not.toContain('--');
  });

  it('masks the home before binding a workspace inside it (bwrap applies mounts in order)', async () => {
    const homeWs = path.join(realHome, `agent-sandbox-ws-${tag()}`);
    await mkdir(homeWs);
    try {
      const args = bubblewrapArgs({ workspace: homeWs, network: null }, {});
      const at = (op: string, target: string) => args.findIndex((a, i) => a === op && args[i + 1] === target);
      expect(at('--tmpfs', realHome)).toBeGreaterThan(0);
      expect(at('--bind', homeWs)).toBeGreaterThan(at('--tmpfs', realHome));
      expect(at('--remount-ro', realHome)).toBeGreaterThan(at('--bind', homeWs));
    } finally {
      await rm(homeWs, { recursive: true, force: true });
    }
  });

  it('with the home itself as the workspace, masks ~/.ssh and friends again', async () => {
    const result = await sandboxed('ls -A .ssh 2>/dev/null | wc -l; cat .npmrc .bash_history 2>/dev/null | wc -c; ls -A .config 2>/dev/null | wc -l', { workspace: realHome });
    expect(result.stdout).toBe('0\n0\n0\n');
    const args = bubblewrapArgs({ workspace: realHome, network: null }, {});
    expect(args.some((a, i) => a === '--remount-ro' && args[i + 1] === realHome)).toBe(false);
  });

  it('refuses / as the workspace', () => {
    expect(() => bubblewrapArgs({ workspace: '/', network: null }, {})).toThrow(/cannot be \//);
  });
});
