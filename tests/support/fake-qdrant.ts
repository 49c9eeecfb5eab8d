/**
 * A local stand-in for the slice of Qdrant's REST API the QdrantIndex adapter uses (the Qdrant
 * server itself cannot run here). It speaks the real wire format — paths, JSON bodies, the
 * {result, status, time} envelope and {status: {error}} failures — so the real
 * @qdrant/js-client-rest is exercised end to end. Search is exact cosine over stored points.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cosine } from '../../services/memory/embeddings';

interface Point {
  id: string | number;
  vector: number[];
  payload: Record<string, unknown>;
}

interface Collection {
  size: number;
  distance: string;
  points: Map<string, Point>;
  payloadIndexes: Set<string>;
}

export interface FakeQdrant {
  url: string;
  collections: Map<string, Collection>;
  /** Every request as "METHOD /path", for asserting what the client sent. */
  requests: string[];
  close(): Promise<void>;
}

type Condition = { key: string; match: { value?: unknown; any?: unknown[] } };

function matches(point: Point, filter: { must?: Condition[] } | undefined): boolean {
  for (const c of filter?.must ?? []) {
    const v = point.payload[c.key];
    if (c.match.any !== undefined && !c.match.any.includes(v)) return false;
    if (c.match.value !== undefined && c.match.value !== v) return false;
  }
  return true;
}

export async function startFakeQdrant(): Promise<FakeQdrant> {
  const collections = new Map<string, Collection>();
  const requests: string[] = [];
  const started = Date.now();

  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const ok = (res: http.ServerResponse, result: unknown) => send(res, 200, { result, status: 'ok', time: (Date.now() - started) / 1e6 });
  const fail = (res: http.ServerResponse, status: number, error: string) => send(res, status, { status: { error }, time: 0 });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      requests.push(`${req.method} ${url.pathname}`);
      let body: Record<string, any> = {};
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      } catch (err) {
        return fail(res, 400, `Format error in JSON body: ${(err as Error).message}`);
      }
      const m = /^\/collections\/([^/]+)(\/.*)?$/.exec(url.pathname);
      if (req.method === 'GET' && url.pathname === '/') return send(res, 200, { title: 'qdrant - vector search engine (test stand-in)', version: '1.15.3' });
      if (!m) return fail(res, 404, `Not found: ${url.pathname}`);
      const name = decodeURIComponent(m[1]!);
      const rest = m[2] ?? '';
      const col = collections.get(name);
      const missing = () => fail(res, 404, `Not found: Collection \`${name}\` doesn't exist!`);

      if (rest === '/exists' && req.method === 'GET') return ok(res, { exists: Boolean(col) });
      if (rest === '' && req.method === 'PUT') {
        if (col) return fail(res, 409, `Wrong input: Collection \`${name}\` already exists!`);
        const vectors = body.vectors as { size?: number; distance?: string };
        if (!vectors || typeof vectors.size !== 'number' || !vectors.distance) return fail(res, 400, 'Wrong input: vectors config with size and distance is required');
        collections.set(name, { size: vectors.size, distance: vectors.distance, points: new Map(), payloadIndexes: new Set() });
        return ok(res, true);
      }
      if (rest === '' && req.method === 'DELETE') return ok(res, collections.delete(name));
      if (!col) return missing();
      if (rest === '' && req.method === 'GET') {
        return ok(res, {
          status: 'green',
          optimizer_status: 'ok',
          points_count: col.points.size,
          indexed_vectors_count: col.points.size,
          segments_count: 1,
          config: { params: { vectors: { size: col.size, distance: col.distance } } },
          payload_schema: Object.fromEntries([...col.payloadIndexes].map((f) => [f, { data_type: 'keyword', points: col.points.size }])),
        });
      }
      if (rest === '/index' && req.method === 'PUT') {
        col.payloadIndexes.add(String(body.field_name));
        return ok(res, { operation_id: 1, status: 'completed' });
      }
      if (rest === '/points' && req.method === 'PUT') {
        for (const p of (body.points ?? []) as Point[]) {
          if (!Array.isArray(p.vector) || p.vector.length !== col.size) {
            return fail(res, 400, `Wrong input: Vector dimension error: expected dim: ${col.size}, got ${Array.isArray(p.vector) ? p.vector.length : 0}`);
          }
          col.points.set(String(p.id), { id: p.id, vector: p.vector, payload: p.payload ?? {} });
        }
        return ok(res, { operation_id: 2, status: 'completed' });
      }
      if (rest === '/points/delete' && req.method === 'POST') {
        for (const id of (body.points ?? []) as (string | number)[]) col.points.delete(String(id));
        return ok(res, { operation_id: 3, status: 'completed' });
      }
      if (rest === '/points/query' && req.method === 'POST') {
        const query = body.query as number[];
        if (!Array.isArray(query) || query.length !== col.size)
          return fail(res, 400, `Wrong input: Vector dimension error: expected dim: ${col.size}, got ${Array.isArray(query) ? query.length : 0}`);
        const limit = Number(body.limit ?? 10);
        const points = [...col.points.values()]
          .filter((p) => matches(p, body.filter))
          .map((p) => ({ id: p.id, version: 1, score: cosine(query, p.vector), ...(body.with_payload ? { payload: p.payload } : {}) }))
          .sort((a, b) => b.score - a.score)
          .slice(0, limit);
        return ok(res, { points });
      }
      return fail(res, 404, `the stand-in does not implement ${req.method} ${url.pathname}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    collections,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
