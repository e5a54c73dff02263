import { M } from '../core/metrics.js';
import type { Scenario } from '../core/scenario.js';
import { trendStats, type MetricRecorder } from './recorder.js';
import type { ThresholdResult } from './thresholds.js';

export interface LoadSummary {
  sessions: number;
  handshakes: number;
  handshakeP50Ms: number | null;
  handshakeP95Ms: number | null;
  replyLatencyP50Ms: number | null;
  replyLatencyP95Ms: number | null;
  replyLatencyP99Ms: number | null;
  replyLatencyMaxMs: number | null;
  firstTextP50Ms: number | null;
  framesSent: number;
  framesReceived: number;
  framesMissing: number;
  textMessages: number;
  errors: number;
  unexpectedCloses: number;
  /** Keyed `code/by`, e.g. `1000/client`, `1013/server`. */
  closes: Record<string, number>;
}

const num = (v: number): number | null => (Number.isFinite(v) ? Math.round(v * 10) / 10 : null);

export function summarize(rec: MetricRecorder): LoadSummary {
  const hs = trendStats(rec.values(M.handshakeMs.name));
  const lat = trendStats(rec.values(M.replyLatencyMs.name));
  const text = trendStats(rec.values(M.firstTextMs.name));
  const closes: Record<string, number> = {};
  for (const s of rec.get(M.closes.name)) {
    const k = `${s.tags['code'] ?? '?'}/${s.tags['by'] ?? '?'}`;
    closes[k] = (closes[k] ?? 0) + s.value;
  }
  return {
    sessions: rec.sum(M.sessions.name),
    handshakes: rec.values(M.handshakeOk.name).filter((v) => v !== 0).length,
    handshakeP50Ms: num(hs.med),
    handshakeP95Ms: num(hs.p(95)),
    replyLatencyP50Ms: num(lat.med),
    replyLatencyP95Ms: num(lat.p(95)),
    replyLatencyP99Ms: num(lat.p(99)),
    replyLatencyMaxMs: num(lat.max),
    firstTextP50Ms: num(text.med),
    framesSent: rec.sum(M.framesSent.name),
    framesReceived: rec.sum(M.framesReceived.name),
    framesMissing: rec.sum(M.framesMissing.name),
    textMessages: rec.sum(M.textMessages.name),
    errors: rec.sum(M.errors.name),
    unexpectedCloses: rec.sum(M.unexpectedCloses.name),
    closes,
  };
}

export interface RunReport {
  scenario: Scenario;
  url: string;
  startedAt: string;
  wallS: number;
  summary: LoadSummary;
  thresholds: ThresholdResult[];
  passed: boolean;
}

const fmt = (v: number | null, unit = ''): string => (v === null ? '–' : `${v}${unit}`);

/** The table printed at the end of a Node run. */
export function formatReport(r: RunReport): string {
  const s = r.summary;
  const rows: [string, string][] = [
    ['scenario', `${r.scenario.name}: ${r.scenario.description}`],
    ['target', r.url],
    ['wall time', `${r.wallS.toFixed(1)} s`],
    ['sessions / handshakes', `${s.sessions} / ${s.handshakes}`],
    ['handshake p50 / p95', `${fmt(s.handshakeP50Ms, ' ms')} / ${fmt(s.handshakeP95Ms, ' ms')}`],
    ['reply latency p50 / p95 / p99', `${fmt(s.replyLatencyP50Ms, ' ms')} / ${fmt(s.replyLatencyP95Ms, ' ms')} / ${fmt(s.replyLatencyP99Ms, ' ms')} (max ${fmt(s.replyLatencyMaxMs, ' ms')})`],
    ['frames sent / received / missing', `${s.framesSent} / ${s.framesReceived} / ${s.framesMissing}`],
    ['text messages (first p50)', `${s.textMessages} (${fmt(s.firstTextP50Ms, ' ms')})`],
    ['errors', String(s.errors)],
    ['closes (code/by)', Object.entries(s.closes).map(([k, v]) => `${k}: ${v}`).join(', ') || '–'],
    ['unexpected closes', String(s.unexpectedCloses)],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`);
  lines.push('', '  thresholds:');
  for (const t of r.thresholds) {
    const got = t.problem ?? `got ${t.value === null ? '–' : Math.round(t.value * 100) / 100}`;
    lines.push(`    ${t.ok ? 'PASS' : 'FAIL'}  ${t.metric}: ${t.expression}  (${got})`);
  }
  lines.push('', `  ${r.passed ? 'PASSED' : 'FAILED'}`);
  return lines.join('\n');
}

/** The JSON written by --out: the run, plus flat keys the benchmark results file records. */
export function reportJson(r: RunReport): Record<string, unknown> {
  return {
    scenario: r.scenario.name,
    url: r.url,
    vus: r.scenario.vus,
    durationS: r.scenario.durationS,
    startedAt: r.startedAt,
    wallS: Math.round(r.wallS * 10) / 10,
    passed: r.passed,
    loadVus: r.scenario.vus,
    loadReplyLatencyP50Ms: r.summary.replyLatencyP50Ms,
    loadReplyLatencyP95Ms: r.summary.replyLatencyP95Ms,
    loadReplyLatencyP99Ms: r.summary.replyLatencyP99Ms,
    loadHandshakeP95Ms: r.summary.handshakeP95Ms,
    loadFramesSent: r.summary.framesSent,
    loadFramesReceived: r.summary.framesReceived,
    loadFramesMissing: r.summary.framesMissing,
    loadErrors: r.summary.errors,
    summary: r.summary,
    thresholds: r.thresholds,
    scenarioDefinition: r.scenario,
  };
}
