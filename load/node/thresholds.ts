import type { ThresholdSpec, Thresholds } from '../core/scenario.js';
import type { MetricTags } from '../core/runtime.js';
import { metricKind, trendStats, type MetricRecorder } from './recorder.js';

export interface ThresholdResult {
  /** The key as written, e.g. `parley_closes{code:1011}`. */
  metric: string;
  expression: string;
  /** The aggregate compared; null when it could not be computed. */
  value: number | null;
  ok: boolean;
  /** Why it failed without a comparison (unknown metric, no samples, bad expression). */
  problem?: string;
}

const EXPR = /^\s*(avg|min|max|med|count|rate|p\(\s*(\d+(?:\.\d+)?)\s*\))\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*$/;
const KEY = /^([^{}]+)(?:\{([^{}]*)\})?$/;

function parseKey(key: string): { name: string; filter: MetricTags } | null {
  const m = KEY.exec(key.trim());
  if (!m) return null;
  const filter: MetricTags = {};
  for (const part of (m[2] ?? '').split(',').filter((p) => p.trim() !== '')) {
    const i = part.indexOf(':');
    if (i < 0) return null;
    filter[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return { name: m[1]!.trim(), filter };
}

function compare(a: number, op: string, b: number): boolean {
  switch (op) {
    case '<': return a < b;
    case '<=': return a <= b;
    case '>': return a > b;
    case '>=': return a >= b;
    case '==':
    case '===': return a === b;
    default: return a !== b;
  }
}

/** One aggregate of a metric, as k6 computes it for thresholds; a string says why there is none. */
function aggregate(rec: MetricRecorder, name: string, filter: MetricTags, agg: string, pct: number | null, durationS: number): number | string {
  const kind = metricKind(name);
  const values = rec.values(name, filter);
  if (kind === 'counter') {
    const sum = values.reduce((a, b) => a + b, 0);
    if (agg === 'count') return sum;
    if (agg === 'rate') return sum / durationS;
    return `${agg} does not apply to counter ${name}`;
  }
  if (kind === 'rate') {
    if (agg !== 'rate') return `${agg} does not apply to rate ${name}`;
    return values.length ? values.filter((v) => v !== 0).length / values.length : `no samples of ${name}`;
  }
  if (kind === 'trend') {
    if (values.length === 0) return `no samples of ${name}`;
    const st = trendStats(values);
    if (pct !== null) return st.p(pct);
    if (agg === 'avg' || agg === 'min' || agg === 'max' || agg === 'med') return st[agg];
    return `${agg} does not apply to trend ${name}`;
  }
  return `unknown metric ${name}`;
}

/**
 * Evaluates k6 threshold expressions against recorded samples. Stricter than
 * k6 in one way: a trend or rate with no samples fails rather than passing
 * vacuously (a run that measured no latency has not shown a good one).
 */
export function evaluateThresholds(rec: MetricRecorder, thresholds: Thresholds, durationS: number): ThresholdResult[] {
  const out: ThresholdResult[] = [];
  for (const [key, specs] of Object.entries(thresholds)) {
    for (const spec of specs as readonly ThresholdSpec[]) {
      const expression = typeof spec === 'string' ? spec : spec.threshold;
      const k = parseKey(key);
      const e = EXPR.exec(expression);
      if (!k || !e) {
        out.push({ metric: key, expression, value: null, ok: false, problem: 'cannot parse threshold' });
        continue;
      }
      const agg = e[1]!.startsWith('p(') ? 'p' : e[1]!;
      const value = aggregate(rec, k.name, k.filter, agg, e[2] !== undefined ? Number(e[2]) : null, durationS);
      if (typeof value === 'string') out.push({ metric: key, expression, value: null, ok: false, problem: value });
      else out.push({ metric: key, expression, value, ok: compare(value, e[3]!, Number(e[4])) });
    }
  }
  return out;
}
