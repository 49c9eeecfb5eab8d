/**
 * Embeddings behind one interface. The default needs no model download: hashed word and character
 * n-grams (feature hashing into a fixed number of dimensions), which pair well with PostgreSQL
 * full-text search in the hybrid recall. HTTP providers cover real embedding models: Voyage AI and
 * any OpenAI-compatible /embeddings endpoint (OpenAI, a local Ollama or vLLM).
 */
export type EmbedPurpose = 'document' | 'query';

export interface Embedder {
  /** Names the model and its parameters; vectors of different ids must never share an index. */
  readonly id: string;
  /** Vector length; for HTTP providers without configured dims, found with one probe call. */
  dimensions(): Promise<number>;
  /** One vector per text, in order. Throws EmbeddingError with the provider's message on failure. */
  embed(texts: string[], purpose: EmbedPurpose): Promise<number[][]>;
}

export class EmbeddingError extends Error {}

const STOPWORDS = new Set('a an and are as at be by for from in is it of on or that the this to was were will with'.split(' '));

/** Lowercased alphanumeric words, without the commonest English function words. */
export function words(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w && !STOPWORDS.has(w));
}

/** 32-bit FNV-1a: fast, stable across processes and versions (vectors are persisted). */
function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Feature-hashed n-grams: words (weight 1), adjacent word pairs (0.7) and character trigrams of
 * each word (0.3 each, so a word's trigrams together weigh about as much as the word). Trigrams make
 * "deploys"/"deployment" land near "deploy"; a second hash picks the sign so collisions cancel out
 * on average instead of piling up.
 */
export class HashedEmbedder implements Embedder {
  readonly id: string;

  constructor(private readonly dims = 256) {
    if (!Number.isInteger(dims) || dims < 16) throw new EmbeddingError(`hashed embeddings need at least 16 dimensions, got ${dims}`);
    this.id = `hashed-ngram-v1-${dims}`;
  }

  async dimensions(): Promise<number> {
    return this.dims;
  }

  async embed(texts: string[]): Promise<number[][]> {
    return texts.map((t) => this.embedOne(t));
  }

  embedOne(text: string): number[] {
    const v = new Float64Array(this.dims);
    const add = (feature: string, weight: number) => {
      const h = fnv1a(feature);
      const sign = fnv1a(feature, 0x9747b28c) & 1 ? 1 : -1;
      v[h % this.dims]! += sign * weight;
    };
    const ws = words(text);
    ws.forEach((w, i) => {
      add(`w:${w}`, 1);
      if (i > 0) add(`b:${ws[i - 1]} ${w}`, 0.7);
      const padded = `^${w}$`;
      const grams = Math.max(1, padded.length - 2);
      for (let j = 0; j + 3 <= padded.length; j++) add(`c:${padded.slice(j, j + 3)}`, 0.3 * Math.min(1, 3 / grams));
    });
    let norm = 0;
    for (const x of v) norm += x * x;
    norm = Math.sqrt(norm);
    // An empty text gets a zero vector; cosine search then simply ranks it last.
    return Array.from(v, (x) => (norm > 0 ? Math.round((x / norm) * 1e6) / 1e6 : 0));
  }
}

export interface HttpEmbedderOptions {
  flavour: 'openai' | 'voyage';
  /** Base URL, e.g. https://api.openai.com/v1, http://localhost:11434/v1, https://api.voyageai.com/v1 */
  url: string;
  model: string;
  apiKey?: string;
  dims?: number;
  timeoutMs?: number;
  batchSize?: number;
}

/**
 * POST {url}/embeddings with {model, input}; both providers answer {data: [{embedding, index}]}.
 * Voyage also takes input_type, which improves retrieval when queries and documents differ.
 */
export class HttpEmbedder implements Embedder {
  readonly id: string;
  private dims: number | undefined;

  constructor(private readonly options: HttpEmbedderOptions) {
    this.id = `${options.flavour}:${options.model}`;
    this.dims = options.dims;
  }

  async dimensions(): Promise<number> {
    this.dims ??= (await this.embed(['dimension probe'], 'query'))[0]!.length;
    return this.dims;
  }

  async embed(texts: string[], purpose: EmbedPurpose): Promise<number[][]> {
    const out: number[][] = [];
    const size = this.options.batchSize ?? 64;
    for (let i = 0; i < texts.length; i += size) out.push(...(await this.batch(texts.slice(i, i + size), purpose)));
    return out;
  }

  private async batch(input: string[], purpose: EmbedPurpose): Promise<number[][]> {
    const { flavour, url, model, apiKey } = this.options;
    const body: Record<string, unknown> = { model, input };
    if (flavour === 'voyage') body.input_type = purpose;
    if (flavour === 'openai' && this.options.dims) body.dimensions = this.options.dims;
    const endpoint = `${url.replace(/\/+$/, '')}/embeddings`;
    let response: Response;
    try {
      response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (err) {
      throw new EmbeddingError(`embedding request to ${endpoint} failed: ${(err as Error).message}`);
    }
    const text = await response.text();
    if (!response.ok) throw new EmbeddingError(`embedding provider ${endpoint} answered ${response.status}: ${text.slice(0, 300)}`);
    let parsed: { data?: { embedding?: unknown; index?: number }[] };
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new EmbeddingError(`embedding provider ${endpoint} answered with non-JSON: ${text.slice(0, 200)}`);
    }
    const data = parsed.data;
    if (!Array.isArray(data) || data.length !== input.length) {
      throw new EmbeddingError(`embedding provider ${endpoint} returned ${Array.isArray(data) ? data.length : 'no'} vectors for ${input.length} texts`);
    }
    const sorted = [...data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    return sorted.map((d, i) => {
      if (!Array.isArray(d.embedding) || !d.embedding.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        throw new EmbeddingError(`embedding provider ${endpoint} returned a malformed vector at index ${i}`);
      }
      if (this.dims !== undefined && d.embedding.length !== this.dims) {
        throw new EmbeddingError(`embedding provider ${endpoint} returned ${d.embedding.length} dimensions, expected ${this.dims}`);
      }
      return d.embedding as number[];
    });
  }
}

/** Builds the configured embedder; throws EmbeddingError naming the missing setting. */
export function createEmbedder(config: { provider: 'hashed' | 'openai' | 'voyage'; url?: string; model?: string; apiKey?: string; dims?: number }): Embedder {
  if (config.provider === 'hashed') return new HashedEmbedder(config.dims ?? 256);
  const url = config.url ?? (config.provider === 'voyage' ? 'https://api.voyageai.com/v1' : undefined);
  if (!url) throw new EmbeddingError('AGENT_EMBEDDINGS=openai needs AGENT_EMBEDDINGS_URL (e.g. https://api.openai.com/v1 or http://localhost:11434/v1)');
  const model = config.model ?? (config.provider === 'voyage' ? 'voyage-3.5' : undefined);
  if (!model) throw new EmbeddingError(`AGENT_EMBEDDINGS=${config.provider} needs AGENT_EMBEDDINGS_MODEL`);
  return new HttpEmbedder({ flavour: config.provider, url, model, apiKey: config.apiKey, dims: config.dims });
}

/** Cosine similarity of two equal-length vectors (exact search in tests and the bench). */
export function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}
