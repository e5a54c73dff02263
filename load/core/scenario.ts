// A load scenario as data: both runners read the same object. Its shape
// follows k6's `constant-vus` executor (N VUs repeating an iteration until the
// duration is up) so that k6 runs it natively and the Node runner emulates it.

/** k6 threshold expressions (`'p(95)<200'`, `'count==0'`, `'rate==1'`) per metric name, as in k6 `options.thresholds`. */
export type ThresholdSpec = string | { threshold: string; abortOnFail?: boolean };
export type Thresholds = Record<string, readonly ThresholdSpec[]>;

export interface Scenario {
  name: string;
  description: string;
  vus: number;
  durationS: number;
  /** VU i (1-based) opens its first conversation after (i - 1) × staggerS / vus seconds. */
  staggerS: number;
  /** Seconds of audio one conversation streams, drawn uniformly from [min, max], cut short at the end of the duration. */
  talkS: readonly [number, number];
  /** Seconds a VU waits between conversations. */
  pauseS: number;
  /** Query parameters added to the chat URL (sampling settings). */
  query: Readonly<Record<string, string>>;
  handshakeTimeoutMs: number;
  /** After the last input page: how long to wait for the replies still due. */
  drainMs: number;
  closeTimeoutMs: number;
  thresholds: Thresholds;
}

export interface ScenarioOverrides {
  vus?: number;
  durationS?: number;
}

export type ScenarioFactory = (overrides: ScenarioOverrides) => Scenario;

/** The thresholds every scenario starts from (issue 5: reply within 200 ms at p95). */
export const DEFAULT_THRESHOLDS: Thresholds = {
  parley_handshake_ok: ['rate==1'],
  parley_handshake_ms: ['p(95)<1000'],
  parley_reply_latency_ms: ['p(95)<200'],
  parley_frames_received: ['count>0'],
  parley_frames_missing: ['count==0'],
  parley_errors: ['count==0'],
  parley_unexpected_closes: ['count==0'],
};

export const SESSION_DEFAULTS = {
  handshakeTimeoutMs: 10_000,
  drainMs: 2_000,
  closeTimeoutMs: 3_000,
} as const;

/** Seconds a conversation may run past the scenario's duration (handshake, drain, close). */
export function overrunS(s: Scenario): number {
  return Math.ceil((s.handshakeTimeoutMs + s.drainMs + s.closeTimeoutMs) / 1000) + 2;
}

/** Validates overrides coming from flags or environment variables. */
export function checkOverrides(o: ScenarioOverrides): ScenarioOverrides {
  if (o.vus !== undefined && (!Number.isInteger(o.vus) || o.vus < 1 || o.vus > 10_000)) {
    throw new RangeError(`vus must be an integer in [1, 10000], got ${o.vus}`);
  }
  if (o.durationS !== undefined && (!Number.isFinite(o.durationS) || o.durationS < 1 || o.durationS > 86_400)) {
    throw new RangeError(`duration must be in [1, 86400] seconds, got ${o.durationS}`);
  }
  return o;
}

/** `url` with the scenario's query parameters appended (no URLSearchParams: k6 lacks it). */
export function chatUrl(url: string, query: Readonly<Record<string, string>>): string {
  const parts = Object.keys(query).map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(query[k]!)}`);
  if (parts.length === 0) return url;
  return url + (url.includes('?') ? '&' : '?') + parts.join('&');
}

/** The k6 `options` for a scenario: one constant-vus scenario plus its thresholds. */
export function k6Options(s: Scenario): Record<string, unknown> {
  return {
    scenarios: {
      [s.name]: {
        executor: 'constant-vus',
        vus: s.vus,
        duration: `${s.durationS}s`,
        gracefulStop: `${overrunS(s)}s`,
      },
    },
    thresholds: s.thresholds,
    summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(95)', 'p(99)'],
  };
}
