import { METRIC_DEFS, type MetricKind } from '../core/metrics.js';
import type { MetricTags } from '../core/runtime.js';

export interface Sample {
  value: number;
  tags: MetricTags;
}

/** Every sample the core reports, kept in memory (a load run yields thousands, not millions). */
export class MetricRecorder {
  private readonly samples = new Map<string, Sample[]>();

  add(name: string, value: number, tags: MetricTags = {}): void {
    let list = this.samples.get(name);
    if (!list) this.samples.set(name, (list = []));
    list.push({ value, tags });
  }

  /** Samples of `name` whose tags include every entry of `filter`. */
  get(name: string, filter: MetricTags = {}): Sample[] {
    const keys = Object.keys(filter);
    return (this.samples.get(name) ?? []).filter((s) => keys.every((k) => s.tags[k] === filter[k]));
  }

  values(name: string, filter?: MetricTags): number[] {
    return this.get(name, filter).map((s) => s.value);
  }

  sum(name: string, filter?: MetricTags): number {
    return this.values(name, filter).reduce((a, b) => a + b, 0);
  }

  /** Counter totals per value of one tag, e.g. closes by code. */
  sumBy(name: string, tag: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.get(name)) {
      const k = s.tags[tag] ?? '';
      out[k] = (out[k] ?? 0) + s.value;
    }
    return out;
  }
}

export function metricKind(name: string): MetricKind | undefined {
  return METRIC_DEFS.find((d) => d.name === name)?.kind;
}

/** k6's percentile: linear interpolation between the closest ranks of the sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(i);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (i - lo);
}

export interface TrendStats {
  count: number;
  avg: number;
  min: number;
  med: number;
  max: number;
  p: (q: number) => number;
}

export function trendStats(values: readonly number[]): TrendStats {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  return {
    count: n,
    avg: n ? sorted.reduce((a, b) => a + b, 0) / n : NaN,
    min: n ? sorted[0]! : NaN,
    med: percentile(sorted, 50),
    max: n ? sorted[n - 1]! : NaN,
    p: (q) => percentile(sorted, q),
  };
}
