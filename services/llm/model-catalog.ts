/**
 * What the runtime must know about a model to manage its context and count its cost: the context
 * window, the smallest prefix the API will cache, and the price per million tokens (input, output,
 * 5-minute cache write = 1.25× input, cache read = 0.1× input, as Anthropic publishes them).
 * Matched by model-id prefix, most specific first; AGENT_CONTEXT_WINDOW and AGENT_MODEL_PRICES
 * override (gateways, Bedrock-style ids, local Anthropic-compatible servers).
 */
import type { ModelUsage } from '../../domain/usage';
import { roundUsd } from '../../domain/usage';

export interface Prices {
  /** USD per million tokens. */
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

export interface ModelInfo {
  contextWindow: number;
  /** The largest max_tokens the model accepts: the ceiling when a cut-off tool call is retried with a larger budget. */
  maxOutputTokens: number;
  /** Below this many tokens a prefix is not cached at all (no error, no benefit). */
  minCacheTokens: number;
  /** null: unknown price, so cost is not counted (and --max-cost cannot be enforced). */
  prices: Prices | null;
}

const priced = (input: number, output: number): Prices => ({ input, output, cacheWrite: input * 1.25, cacheRead: input * 0.1 });

const MODELS: [prefix: string, info: ModelInfo][] = [
  ['claude-opus-4-5', { contextWindow: 200_000, maxOutputTokens: 64_000, minCacheTokens: 4_096, prices: priced(5, 25) }],
  ['claude-opus-4', { contextWindow: 200_000, maxOutputTokens: 32_000, minCacheTokens: 1_024, prices: priced(15, 75) }],
  ['claude-opus', { contextWindow: 200_000, maxOutputTokens: 64_000, minCacheTokens: 4_096, prices: priced(5, 25) }],
  ['claude-sonnet', { contextWindow: 200_000, maxOutputTokens: 64_000, minCacheTokens: 1_024, prices: priced(3, 15) }],
  ['claude-haiku-4', { contextWindow: 200_000, maxOutputTokens: 64_000, minCacheTokens: 4_096, prices: priced(1, 5) }],
  ['claude-3-5-haiku', { contextWindow: 200_000, maxOutputTokens: 8_192, minCacheTokens: 2_048, prices: priced(0.8, 4) }],
  ['claude-haiku', { contextWindow: 200_000, maxOutputTokens: 64_000, minCacheTokens: 2_048, prices: priced(1, 5) }],
  ['claude', { contextWindow: 200_000, maxOutputTokens: 32_000, minCacheTokens: 1_024, prices: priced(3, 15) }],
];

/** A model nobody told us about: a conservative window, no price. */
const UNKNOWN: ModelInfo = { contextWindow: 128_000, maxOutputTokens: 8_192, minCacheTokens: 1_024, prices: null };

export interface ModelOverrides {
  contextWindow?: number;
  prices?: Prices;
}

/** What the runtime assumes about `model`; never throws. */
export function modelInfo(model: string, overrides: ModelOverrides = {}): ModelInfo {
  const id = model.toLowerCase().replace(/^(anthropic\.|us\.anthropic\.|eu\.anthropic\.)/, '');
  const base = MODELS.find(([prefix]) => id.startsWith(prefix))?.[1] ?? UNKNOWN;
  return {
    contextWindow: overrides.contextWindow ?? base.contextWindow,
    maxOutputTokens: base.maxOutputTokens,
    minCacheTokens: base.minCacheTokens,
    prices: overrides.prices ?? base.prices,
  };
}

/** USD for one call; undefined when the model's price is unknown. */
export function costOf(usage: ModelUsage, prices: Prices | null): number | undefined {
  if (!prices) return undefined;
  const perToken = (usd: number) => usd / 1_000_000;
  return roundUsd(
    usage.inputTokens * perToken(prices.input) +
      (usage.cacheCreationInputTokens ?? 0) * perToken(prices.cacheWrite) +
      (usage.cacheReadInputTokens ?? 0) * perToken(prices.cacheRead) +
      usage.outputTokens * perToken(prices.output),
  );
}

/** Parses AGENT_MODEL_PRICES: `input=3,output=15[,cacheWrite=3.75,cacheRead=0.3]` (USD per million tokens). Throws naming the problem. */
export function parsePrices(text: string): Prices {
  const values: Record<string, number> = {};
  for (const pair of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(input|output|cacheWrite|cacheRead)=(\d+(?:\.\d+)?)$/.exec(pair);
    if (!m) throw new Error(`"${pair}" is not name=USD-per-million-tokens (names: input, output, cacheWrite, cacheRead)`);
    values[m[1]!] = Number(m[2]);
  }
  if (values.input === undefined || values.output === undefined) throw new Error('give at least input=… and output=… (USD per million tokens)');
  return { input: values.input, output: values.output, cacheWrite: values.cacheWrite ?? values.input * 1.25, cacheRead: values.cacheRead ?? values.input * 0.1 };
}
