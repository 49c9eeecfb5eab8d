/**
 * The only way out of the sandbox's network namespace: an HTTP proxy on the host side, listening on
 * a unix socket that is bound into the sandbox (where socat bridges it to 127.0.0.1:3128 for the
 * tools that read HTTP(S)_PROXY). This is the design of Anthropic's sandbox-runtime on Linux, built
 * on bubblewrap directly because that package needs Node >= 22.
 *
 * Every connection is judged here, whatever the command looks like:
 *   1. the host must match an allowed domain (`example.com`, `*.example.com`, `*` for any public
 *      host) and no denied one;
 *   2. orchestrator endpoints (the Temporal frontend, the database, the approvals server) are refused
 *      by name and by address, whatever the rules say;
 *   3. the name is resolved here, once, and every address must be public: loopback, private,
 *      link-local, CGNAT, multicast and reserved ranges (IPv4 and IPv6, mapped forms included) and
 *      every address of this machine's own interfaces are refused. The proxy then connects to the
 *      address it checked, so a DNS answer that changes between check and connect (rebinding)
 *      cannot redirect it.
 *
 * Written here rather than taken from a proxy package: the check-then-connect-to-the-checked-address
 * step is the security property, and the general-purpose proxies resolve names themselves.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { NetworkGrant } from '../../domain/policy';

export type { NetworkGrant };

export interface ProxyOptions extends NetworkGrant {
  /** `host` or `host:port` of services the sandbox must never reach (refused by name and address). */
  refuse: readonly string[];
  /** Resolver, replaceable in tests; the default is the system resolver. */
  resolve?: (host: string) => Promise<string[]>;
}

export interface ConnectionRecord {
  host: string;
  port: number;
  allowed: boolean;
  /** Why a connection was refused, in words the model and a person can act on. */
  reason: string | null;
}

export interface NetworkProxy {
  /** Host path of the proxy's unix socket (bind it into the sandbox). */
  socketPath: string;
  connections: ConnectionRecord[];
  /** Stops listening and cuts every open tunnel; idempotent. */
  close(): Promise<void>;
  /** One line for the command's output: what was reached and what was refused; null when nothing was tried. */
  summary(): string | null;
}

const CONNECT_TIMEOUT_MS = 30_000;
/** Reused between commands: a refused endpoint's addresses rarely change within a minute. */
const REFUSED_CACHE_MS = 60_000;

const BLOCKED = new net.BlockList();
for (const [prefix, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  BLOCKED.addSubnet(prefix, bits, 'ipv4');
for (const [prefix, bits] of [
  ['::', 128],
  ['::1', 128],
  ['100::', 64],
  ['2001::', 23],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const)
  BLOCKED.addSubnet(prefix, bits, 'ipv6');
// Documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32) are not blocked: they
// reach nothing on the internet, and some networks put their package mirrors there.

/** This machine's own addresses: a service listening on all interfaces is reachable through any of them. */
function ownAddresses(): Set<string> {
  const found = new Set<string>();
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) found.add(a.address.toLowerCase().replace(/%.*$/, ''));
  return found;
}

/** IPv4 embedded in an IPv6 address by the mapped (::ffff:a.b.c.d), compatible or NAT64 (64:ff9b::/96) forms, else null. */
function embeddedIpv4(address: string): string | null {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1]!;
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return null;
  const hi = parseInt(hex[1]!, 16);
  const lo = parseInt(hex[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** Why an address must not be reached from the sandbox, or null when it is a public unicast address. */
export function nonPublicReason(address: string): string | null {
  const family = net.isIP(address);
  if (family === 0) return `${address} is not an IP address`;
  if (family === 6) {
    const v4 = embeddedIpv4(address);
    if (v4) return nonPublicReason(v4);
    if (BLOCKED.check(address, 'ipv6')) return `${address} is a loopback, private, link-local or reserved address`;
  } else {
    if (address.startsWith('127.')) return `${address} is a loopback address`;
    if (BLOCKED.check(address, 'ipv4')) return `${address} is a private, link-local or reserved address`;
  }
  return ownAddresses().has(address.toLowerCase()) ? `${address} is an address of this machine` : null;
}

/** Lower case, no trailing dot, no IPv6 brackets. */
export function normalizeHost(host: string): string {
  return host
    .trim()
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/^\[(.*)\]$/, '$1');
}

/** Does `host` match a domain pattern? `*` any host; `*.example.com` any subdomain (not the apex); else exact. */
export function hostMatches(pattern: string, host: string): boolean {
  const p = normalizeHost(pattern);
  if (p === '*') return true;
  if (p.startsWith('*.')) return host.endsWith(p.slice(1)) && host.length > p.length - 1;
  return p === host;
}

function splitHostPort(target: string, defaultPort: number): { host: string; port: number } | null {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(target) ?? /^([^:]+)(?::(\d+))?$/.exec(target);
  if (!m) return null;
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return null;
  return { host: normalizeHost(m[1]!), port };
}

async function systemResolve(host: string): Promise<string[]> {
  return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
}

const refusedAddressCache = new Map<string, { at: number; addresses: Promise<string[]> }>();

/** Addresses of a refused endpoint's host, cached; a name that does not resolve refuses nothing more than its name. */
function refusedAddresses(host: string, resolve: (host: string) => Promise<string[]>): Promise<string[]> {
  if (net.isIP(host)) return Promise.resolve([host]);
  const cached = refusedAddressCache.get(host);
  if (cached && Date.now() - cached.at < REFUSED_CACHE_MS) return cached.addresses;
  const addresses = resolve(host).catch(() => []);
  refusedAddressCache.set(host, { at: Date.now(), addresses });
  return addresses;
}

/**
 * Decides one connection and returns the address to connect to, or the reason it is refused.
 * Never throws: a name that does not resolve is a refusal with that reason.
 */
export async function judgeConnection(options: ProxyOptions, host: string, _port: number): Promise<{ address: string } | { refused: string }> {
  const resolve = options.resolve ?? systemResolve;
  if (!host || /[^a-z0-9.:_-]/.test(host)) return { refused: `"${host}" is not a host name` };
  if (host === 'localhost' || host.endsWith('.localhost')) return { refused: `${host} is the machine itself (loopback)` };
  const literal = net.isIP(host) !== 0;
  const literalWhy = literal ? nonPublicReason(host) : null;
  if (literalWhy) return { refused: literalWhy };
  const refusedEndpoints = options.refuse.map((r) => splitHostPort(r, 0)).filter((r): r is { host: string; port: number } => r !== null);
  if (refusedEndpoints.some((r) => r.host === host))
    return { refused: `${host} runs the agent's own services (orchestrator, database or approvals), which the sandbox may never reach` };
  const denied = options.deny.find((d) => hostMatches(d, host));
  if (denied) return { refused: `${host} is denied by rule \`deny network(${denied})\`` };
  // An IP literal counts as allowed only when a rule names it exactly: `*` means public *names*.
  const allowed = options.allow.some((a) => (literal ? normalizeHost(a) === host : hostMatches(a, host)));
  if (!allowed) return { refused: `${host} is not an allowed domain (a rule \`allow network(${host})\` would allow it)` };
  let addresses: string[];
  try {
    addresses = literal ? [host] : await resolve(host);
  } catch (err) {
    return { refused: `${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
  if (addresses.length === 0) return { refused: `${host} does not resolve` };
  // Every answer must be public: a name with one private answer is a rebinding attempt or a split-horizon name.
  for (const address of addresses) {
    const why = nonPublicReason(address);
    if (why) return { refused: `${host} resolves to ${why.replace(`${address} is `, `${address}, `)}` };
  }
  for (const endpoint of refusedEndpoints) {
    const theirs = await refusedAddresses(endpoint.host, resolve);
    if (addresses.some((a) => theirs.includes(a))) return { refused: `${host} is an address of the agent's own services, which the sandbox may never reach` };
  }
  return { address: addresses[0]! };
}

/** Starts a proxy for one command; close() it when the command ends. Throws only when the socket cannot be created. */
export async function startNetworkProxy(options: ProxyOptions): Promise<NetworkProxy> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'agent-net-'));
  const socketPath = path.join(dir, 'proxy.sock');
  const connections: ConnectionRecord[] = [];
  const open = new Set<Duplex>();
  const track = (socket: Duplex) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  };

  const decide = async (host: string, port: number) => {
    const verdict = await judgeConnection(options, host, port);
    connections.push({ host, port, allowed: 'address' in verdict, reason: 'refused' in verdict ? verdict.refused : null });
    return verdict;
  };

  const server = http.createServer((req, res) => {
    // Plain-HTTP proxying: the request line carries an absolute URL.
    void (async () => {
      let url: URL;
      try {
        url = new URL(req.url ?? '');
      } catch {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('agent sandbox proxy: only proxy requests (absolute http:// URLs) are served\n');
        return;
      }
      if (url.protocol !== 'http:') {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`agent sandbox proxy: ${url.protocol} is not proxied this way; https goes through CONNECT\n`);
        return;
      }
      const port = url.port ? Number(url.port) : 80;
      const host = normalizeHost(url.hostname);
      const verdict = await decide(host, port);
      if ('refused' in verdict) {
        res.writeHead(403, { 'content-type': 'text/plain', 'x-agent-sandbox': 'refused' }).end(`agent sandbox proxy refused ${host}:${port}: ${verdict.refused}\n`);
        return;
      }
      const headers = { ...req.headers };
      for (const name of Object.keys(headers)) if (name.startsWith('proxy-')) delete headers[name];
      const upstream = http.request({
        host: verdict.address,
        port,
        method: req.method,
        path: `${url.pathname}${url.search}`,
        headers,
        setHost: false,
        timeout: CONNECT_TIMEOUT_MS,
      });
      upstream.on('response', (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('timeout', () => upstream.destroy(new Error('upstream timed out')));
      upstream.on('error', (err) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`agent sandbox proxy: ${host}:${port} failed: ${err.message}\n`);
      });
      req.pipe(upstream);
    })();
  });

  server.on('connect', (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
    track(client);
    client.on('error', () => client.destroy());
    void (async () => {
      const target = splitHostPort(req.url ?? '', 443);
      if (!target) {
        client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
        return;
      }
      const verdict = await decide(target.host, target.port);
      if ('refused' in verdict) {
        client.end(
          `HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\nx-agent-sandbox: refused\r\n\r\nagent sandbox proxy refused ${target.host}:${target.port}: ${verdict.refused}\n`,
        );
        return;
      }
      const upstream = net.connect({ host: verdict.address, port: target.port, timeout: CONNECT_TIMEOUT_MS });
      track(upstream);
      upstream.once('connect', () => {
        upstream.setTimeout(0);
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.once('timeout', () => upstream.destroy(new Error('connect timed out')));
      upstream.once('error', (err) => {
        if (!client.destroyed) client.end(`HTTP/1.1 502 Bad Gateway\r\n\r\nagent sandbox proxy: ${target.host}:${target.port} failed: ${err.message}\n`);
      });
      client.once('close', () => upstream.destroy());
    })();
  });
  server.on('connection', (socket) => track(socket));
  // A client that never finishes its request line must not hold the proxy open.
  server.requestTimeout = CONNECT_TIMEOUT_MS;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });

  let closed: Promise<void> | null = null;
  return {
    socketPath,
    connections,
    close() {
      closed ??= (async () => {
        for (const socket of open) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await rm(dir, { recursive: true, force: true });
      })();
      return closed;
    },
    summary() {
      if (connections.length === 0) return null;
      const count = (records: ConnectionRecord[]) => {
        const byTarget = new Map<string, { n: number; reason: string | null }>();
        for (const r of records) {
          const key = `${r.host}:${r.port}`;
          const entry = byTarget.get(key) ?? { n: 0, reason: r.reason };
          entry.n++;
          byTarget.set(key, entry);
        }
        return [...byTarget].map(([key, { n, reason }]) => `${key}${n > 1 ? ` ×${n}` : ''}${reason ? ` (${reason})` : ''}`);
      };
      const allowed = connections.filter((c) => c.allowed);
      const refused = connections.filter((c) => !c.allowed);
      return ['[sandbox network]', allowed.length ? `reached ${count(allowed).join(', ')}` : null, refused.length ? `refused ${count(refused).join('; ')}` : null]
        .filter(Boolean)
        .join(' ');
    },
  };
}
