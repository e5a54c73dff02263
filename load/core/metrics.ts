// The load test's metrics, declared once: k6 creates a Trend/Counter/Rate for
// each, the Node runner records the same names, and thresholds refer to them.

export type MetricKind = 'trend' | 'counter' | 'rate';

export interface MetricDef {
  name: string;
  kind: MetricKind;
  /** Trend values are milliseconds (k6 shows them as times). */
  time?: boolean;
  help: string;
}

export const M = {
  sessions: { name: 'parley_sessions', kind: 'counter', help: 'connections attempted' },
  handshakeOk: { name: 'parley_handshake_ok', kind: 'rate', help: 'connections that got the handshake in time' },
  handshakeMs: { name: 'parley_handshake_ms', kind: 'trend', time: true, help: 'connect → handshake message' },
  replyLatencyMs: {
    name: 'parley_reply_latency_ms', kind: 'trend', time: true,
    help: 'sending the page that completes input frame n → receiving the last page of output frame n',
  },
  firstTextMs: { name: 'parley_first_text_ms', kind: 'trend', time: true, help: 'first audio sent → first text message' },
  framesSent: { name: 'parley_frames_sent', kind: 'counter', help: '80 ms input frames completed' },
  framesReceived: { name: 'parley_frames_received', kind: 'counter', help: '80 ms output frames received' },
  framesMissing: { name: 'parley_frames_missing', kind: 'counter', help: 'reply frames not received by the end of the drain' },
  textMessages: { name: 'parley_text_messages', kind: 'counter', help: 'text (0x02) messages received' },
  errors: { name: 'parley_errors', kind: 'counter', help: 'error (0x05) messages and socket errors' },
  closes: { name: 'parley_closes', kind: 'counter', help: 'closes, tagged by code and by who closed' },
  unexpectedCloses: { name: 'parley_unexpected_closes', kind: 'counter', help: 'closes the client did not ask for, or with an abnormal code' },
} as const satisfies Record<string, MetricDef>;

export const METRIC_DEFS: readonly MetricDef[] = Object.values(M);
