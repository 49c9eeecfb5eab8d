/**
 * The HTTP embedding providers against a local server speaking the `/embeddings` wire format that
 * OpenAI-compatible servers (OpenAI, Ollama, vLLM) and Voyage share: request shape, auth, batching,
 * out-of-order answers, and every way a provider can answer badly.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEmbedder, EmbeddingError, HttpEmbedder } from '../../services/memory/embeddings';

interface Received {
  path: string;
  auth: string | undefined;
  body: { model: string; input: string[]; input_type?: string; dimensions?: number };
}

let server: http.Server;
let url: string;
let received: Received[] = [];
/** How the next answers misbehave. */
let mode: 'ok' | 'status' | 'non-json' | 'short' | 'nan' = 'ok';

/** A deterministic 3-dimensional vector per text, so order mistakes are visible. */
const vectorOf = (text: string) => [text.length, text.charCodeAt(0), 1];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw) as Received['body'];
      received.push({ path: req.url!, auth: req.headers.authorization, body });
      if (mode === 'status') return void res.writeHead(429, { 'content-type': 'application/json' }).end('{"error":{"message":"rate limited"}}');
      if (mode === 'non-json') return void res.writeHead(200).end('<html>gateway</html>');
      const data = body.input.map((text, index) => ({ object: 'embedding', index, embedding: mode === 'nan' && index === 1 ? [1, 'x', 2] : vectorOf(text) }));
      // Real servers may answer in any order; the index field is what counts.
      const answer = mode === 'short' ? data.slice(1) : [...data].reverse();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: answer, model: body.model }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  received = [];
  mode = 'ok';
});

describe('HTTP embedders', () => {
  it('OpenAI-compatible: POST {url}/embeddings with model, input and bearer auth; vectors back in input order, in batches', async () => {
    const embedder = new HttpEmbedder({ flavour: 'openai', url: `${url}/`, model: 'nomic-embed-text', apiKey: 'sk-local', batchSize: 2 });
    const texts = ['alpha', 'be', 'gamma ray', 'd'];
    expect(await embedder.embed(texts, 'document')).toEqual(texts.map(vectorOf));
    expect(received.map((r) => r.body.input)).toEqual([
      ['alpha', 'be'],
      ['gamma ray', 'd'],
    ]);
    expect(received[0]).toMatchObject({ path: '/v1/embeddings', auth: 'Bearer sk-local', body: { model: 'nomic-embed-text' } });
    expect(received[0]!.body.input_type).toBeUndefined();
    expect(embedder.id).toBe('openai:nomic-embed-text');
    expect(await embedder.dimensions()).toBe(3);
  });

  it('Voyage: sends input_type (query vs document); configured dims are enforced', async () => {
    const embedder = createEmbedder({ provider: 'voyage', url, model: 'voyage-3', apiKey: 'pa-key', dims: 3 });
    await embedder.embed(['what is deployed?'], 'query');
    await embedder.embed(['deploys go to prod-eu'], 'document');
    expect(received.map((r) => r.body.input_type)).toEqual(['query', 'document']);
    const wrongDims = createEmbedder({ provider: 'voyage', url, model: 'voyage-3', dims: 1024 });
    await expect(wrongDims.embed(['x'], 'query')).rejects.toThrow(/returned 3 dimensions, expected 1024/);
  });

  it.each([
    ['status', /answered 429: .*rate limited/],
    ['non-json', /answered with non-JSON/],
    ['short', /returned 1 vectors for 2 texts/],
    ['nan', /malformed vector at index 1/],
  ] as const)('a provider answering %s is an EmbeddingError naming the problem', async (bad, message) => {
    mode = bad;
    const embedder = new HttpEmbedder({ flavour: 'openai', url, model: 'm' });
    const failure = embedder.embed(['one', 'two'], 'document');
    await expect(failure).rejects.toBeInstanceOf(EmbeddingError);
    await expect(embedder.embed(['one', 'two'], 'document')).rejects.toThrow(message);
  });

  it('an unreachable provider and a missing URL are clear errors', async () => {
    const down = new HttpEmbedder({ flavour: 'openai', url: 'http://127.0.0.1:9/v1', model: 'm', timeoutMs: 2_000 });
    await expect(down.embed(['x'], 'query')).rejects.toThrow(/embedding request to http:\/\/127.0.0.1:9\/v1\/embeddings failed/);
    expect(() => createEmbedder({ provider: 'openai' })).toThrow(/needs AGENT_EMBEDDINGS_URL/);
  });
});
