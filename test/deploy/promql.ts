import { parser } from '@prometheus-io/lezer-promql';
import { Metrics } from '../../src/transport/metrics.js';

export interface PromqlFacts {
  /** Syntax errors, as the text around each. */
  errors: string[];
  /** Metric names the expression selects. */
  metrics: string[];
  /** Label names in `by (...)` / `without (...)` clauses and in label matchers. */
  labels: string[];
}

/** Parses one PromQL expression with Prometheus' own (lezer) grammar. */
export function promql(expr: string): PromqlFacts {
  const facts: PromqlFacts = { errors: [], metrics: [], labels: [] };
  parser.parse(expr).iterate({
    enter(n) {
      const text = expr.slice(n.from, n.to);
      if (n.type.isError) facts.errors.push(`at ${n.from}: '${expr.slice(Math.max(0, n.from - 15), n.to + 15)}'`);
      else if (n.name === 'Identifier' && n.node.parent?.name === 'VectorSelector') facts.metrics.push(text);
      else if (n.name === 'LabelName') facts.labels.push(text);
    },
  });
  return facts;
}

/** Grafana's interval variables, replaced by a duration so that the query parses as Prometheus would get it. */
export function expandGrafanaVariables(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m');
}

export interface ExportedMetric {
  /** Series names a query can select: histograms add _bucket, _sum and _count. */
  series: string[];
  labels: string[];
}

/** Every metric family Parley's /metrics serves, from the server's own Metrics class. */
export function exportedMetrics(): Map<string, ExportedMetric> {
  const out = new Map<string, ExportedMetric>();
  for (const m of new Metrics().registry.getMetricsAsArray()) {
    // labelNames is not in prom-client's typings but is set on every metric it creates.
    const labels = [...((m as unknown as { labelNames?: readonly string[] }).labelNames ?? [])];
    const type = String(m.type);
    const series = type === 'histogram' ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`]
      : type === 'summary' ? [m.name, `${m.name}_sum`, `${m.name}_count`] : [m.name];
    if (type === 'histogram') labels.push('le');
    out.set(m.name, { series, labels });
  }
  return out;
}

/** Labels Prometheus itself attaches to every scraped series (job, instance) or Kubernetes discovery adds. */
export const TARGET_LABELS = ['job', 'instance', 'namespace', 'pod', 'container', 'node'];
