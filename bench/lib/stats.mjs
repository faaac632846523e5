/**
 * @module bench/lib/stats
 * Small numeric helpers: median, percentiles over raw samples, a growable sample buffer.
 */

export function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Index of the median element (the lower middle for even counts), for "the median round". */
export function medianIndex(values) {
  const order = values.map((value, index) => ({ value, index })).sort((a, b) => a.value - b.value);
  return order[Math.floor((order.length - 1) / 2)].index;
}

/** Latency samples (ms) in a growable Float64Array; percentiles by nearest rank. */
export class Samples {
  #data = new Float64Array(1 << 16);
  #length = 0;

  push(value) {
    if (this.#length === this.#data.length) {
      const bigger = new Float64Array(this.#data.length * 2);
      bigger.set(this.#data);
      this.#data = bigger;
    }
    this.#data[this.#length++] = value;
  }

  get length() {
    return this.#length;
  }

  /** @param {number[]} ps percentiles in 0..100 */
  percentiles(ps) {
    const sorted = this.#data.slice(0, this.#length).sort();
    const out = {};
    for (const p of ps) {
      if (sorted.length === 0) {
        out[`p${p}`] = NaN;
        continue;
      }
      const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
      out[`p${p}`] = sorted[rank];
    }
    out.max = sorted.length > 0 ? sorted[sorted.length - 1] : NaN;
    out.mean = sorted.length > 0 ? sorted.reduce((sum, v) => sum + v, 0) / sorted.length : NaN;
    return out;
  }
}

/** Nanoseconds → microseconds per op with 3 significant decimals. */
export function usPerOp(totalNs, ops) {
  return Number((Number(totalNs) / 1000 / ops).toFixed(3));
}
