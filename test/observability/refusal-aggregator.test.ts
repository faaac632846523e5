/**
 * The refusal aggregator on its own: first refusal per client and kind written, the rest
 * counted, summaries at interval end and on close, a bounded table whose overflow is counted
 * in "others" (never dropped), and the clock deciding when an interval ends.
 */

import { describe, expect, it } from 'vitest';
import { RefusalAggregator, type RefusalSummary } from '../../src/observability/refusal-aggregator.js';
import { sleep, until } from '../helpers/wait.js';

function aggregator(options: { intervalMs?: number; maxTracked?: number } = {}) {
  let clock = 1_000_000;
  const summaries: Array<RefusalSummary<{ client: string }>> = [];
  const refusals = new RefusalAggregator<{ client: string }>({
    intervalMs: options.intervalMs ?? 60_000,
    maxTracked: options.maxTracked,
    now: () => clock,
    onSummary: (summary) => summaries.push(summary),
  });
  return { refusals, summaries, advance: (ms: number) => (clock += ms) };
}

describe('refusal aggregator', () => {
  it('writes the first refusal per client and kind, counts the rest, and summarises at the interval end', () => {
    const { refusals, summaries, advance } = aggregator();
    let written = 0;
    for (let index = 0; index < 1000; index++) if (refusals.note('auth_failure:unknown_key', 'a', { client: 'a' })) written++;
    for (let index = 0; index < 10; index++) if (refusals.note('denied:banned', 'a', { client: 'a' })) written++;
    if (refusals.note('auth_failure:unknown_key', 'b', { client: 'b' })) written++;
    expect(written).toBe(3);
    expect(summaries).toEqual([]);
    advance(59_999);
    refusals.note('auth_failure:unknown_key', 'a', { client: 'a' });
    expect(summaries).toEqual([]);
    advance(1);
    // The interval is over: this refusal flushes the last one's summaries and is written itself.
    expect(refusals.note('auth_failure:unknown_key', 'a', { client: 'a' })).toBe(true);
    expect(summaries.map((summary) => [summary.kind, summary.label.client, summary.count, summary.others])).toEqual([
      ['auth_failure:unknown_key', 'a', 1000, false],
      ['denied:banned', 'a', 9, false],
    ]);
    expect(summaries[0]?.last).toBe((summaries[0]?.first ?? 0) + 59_999);
    refusals.close();
    expect(summaries).toHaveLength(2);
  });

  it('counts clients beyond the bound in one "others" aggregate per kind, never dropping a count', () => {
    const { refusals, summaries } = aggregator({ maxTracked: 3 });
    let written = 0;
    for (let client = 0; client < 10; client++) {
      for (let index = 0; index < 5; index++) if (refusals.note('rate_limited:ip', `c${client}`, { client: `c${client}` })) written++;
    }
    expect(written).toBe(3);
    refusals.close();
    expect(summaries.filter((summary) => !summary.others).map((summary) => summary.count)).toEqual([4, 4, 4]);
    expect(summaries.filter((summary) => summary.others)).toEqual([expect.objectContaining({ kind: 'rate_limited:ip', count: 35, others: true })]);
    expect(written + summaries.reduce((sum, summary) => sum + summary.count, 0)).toBe(50);
  });

  it('with interval 0 every refusal is written and nothing is summarised', () => {
    const { refusals, summaries } = aggregator({ intervalMs: 0 });
    for (let index = 0; index < 5; index++) expect(refusals.note('auth_failure:x', 'a', { client: 'a' })).toBe(true);
    refusals.close();
    expect(summaries).toEqual([]);
  });

  it('flushes on its own once the clock passes the interval end', async () => {
    const { refusals, summaries, advance } = aggregator({ intervalMs: 20 });
    try {
      refusals.note('denied:banned', 'a', { client: 'a' });
      refusals.note('denied:banned', 'a', { client: 'a' });
      await sleep(60);
      // Real time passed, the clock did not: nothing yet.
      expect(summaries).toEqual([]);
      advance(20);
      await until(() => summaries.length > 0, 500, 10);
      expect(summaries.map((summary) => summary.count)).toEqual([1]);
    } finally {
      refusals.close();
    }
  });
});
