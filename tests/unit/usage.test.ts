/** Usage counted honestly: four token kinds, processed tokens for budgets, cost from the price table. */
import { describe, expect, it } from 'vitest';
import { addModelUsage, emptyUsage, formatUsage, groupThousands, processedTokens, sumUsage } from '../../domain/usage';
import { loadConfig } from '../../services/config';
import { costOf, modelInfo, parsePrices } from '../../services/llm/model-catalog';

describe('usage', () => {
  it('adds the four kinds and the cost; budgets count every processed token', () => {
    const total = emptyUsage();
    addModelUsage(total, { inputTokens: 100, outputTokens: 50, cacheCreationInputTokens: 2_000, cacheReadInputTokens: 30_000, costUsd: 0.0171 });
    addModelUsage(total, { inputTokens: 10, outputTokens: 5 });
    expect(total).toEqual({ input: 110, output: 55, cacheWrite: 2_000, cacheRead: 30_000, costUsd: 0.0171 });
    expect(processedTokens(total)).toBe(32_165);
    // Results recorded before cache accounting still count.
    expect(processedTokens({ input: 10, output: 5 })).toBe(15);
    expect(sumUsage(total, { input: 1, output: 1 })).toMatchObject({ input: 111, output: 56, cacheRead: 30_000 });
    expect(formatUsage(total)).toBe('32,165 tokens (input 110 · cache write 2,000 · cache read 30,000 · output 55) · $0.0171');
  });

  it('prices a call from the model table: cache writes at 1.25×, reads at 0.1× of input', () => {
    const sonnet = modelInfo('claude-sonnet-4-5-20250929');
    expect(sonnet).toMatchObject({ contextWindow: 200_000, prices: { input: 3, output: 15, cacheWrite: 3.75 } });
    expect(sonnet.prices!.cacheRead).toBeCloseTo(0.3);
    expect(costOf({ inputTokens: 1_000_000, outputTokens: 0 }, sonnet.prices)).toBe(3);
    expect(costOf({ inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 1_000_000 }, sonnet.prices)).toBeCloseTo(0.3);
    expect(costOf({ inputTokens: 0, outputTokens: 1_000_000, cacheCreationInputTokens: 1_000_000 }, sonnet.prices)).toBe(18.75);
    expect(modelInfo('us.anthropic.claude-opus-4-1-20250805-v1:0').prices!.input).toBe(15);
    expect(modelInfo('my-local-model')).toMatchObject({ contextWindow: 128_000, prices: null });
    expect(costOf({ inputTokens: 5, outputTokens: 5 }, null)).toBeUndefined();
  });

  it('takes overrides from the environment, naming a bad value', () => {
    const config = loadConfig({ AGENT_CONTEXT_WINDOW: '32768', AGENT_MODEL_PRICES: 'input=0.5,output=1.5', AGENT_PROMPT_CACHING: 'off' }, '/srv');
    expect(config.llm).toMatchObject({ contextWindow: 32_768, prices: { input: 0.5, output: 1.5, cacheWrite: 0.625, cacheRead: 0.05 }, promptCaching: false });
    expect(modelInfo('x', { contextWindow: config.llm.contextWindow, prices: config.llm.prices }).contextWindow).toBe(32_768);
    expect(() => loadConfig({ AGENT_MODEL_PRICES: 'input=3' }, '/srv')).toThrow(/AGENT_MODEL_PRICES: give at least input=… and output=…/);
    expect(() => parsePrices('input=3,output=x')).toThrow(/"output=x" is not name=USD-per-million-tokens/);
  });
});

describe('groupThousands', () => {
  it('prints counts as toLocaleString("en-US") does', () => {
    for (const x of [0, 7, 999, 1_000, 12_345, 999_999, 1_000_000, 1_234_567_890, -4_321, 41_210.4])
      expect(groupThousands(x), String(x)).toBe(Math.round(x).toLocaleString('en-US'));
  });
});
