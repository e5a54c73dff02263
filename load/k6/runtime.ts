// The k6 side of the shared core: k6's browser-like WebSocket, k6 timers and
// k6 custom metrics behind the LoadRuntime interface. Compiled by tsc to
// dist/load/k6/runtime.js and imported by the entry scripts in load/k6/*.js.
// For k6 ≥ 1.6, where the module is `k6/websockets`, change the import below.
import { WebSocket } from 'k6/experimental/websockets';
import exec from 'k6/execution';
import { Counter, Rate, Trend } from 'k6/metrics';
import { clearTimeout, setTimeout } from 'k6/timers';
import { prepareClip, type InputClip } from '../core/input-clip.js';
import { METRIC_DEFS, type MetricDef } from '../core/metrics.js';
import type { LoadRuntime, LoadSocket, MetricTags, SocketEvents } from '../core/runtime.js';
import { k6Options, type Scenario } from '../core/scenario.js';
import { runIteration } from '../core/vu.js';
import { buildScenario } from '../scenarios/index.js';

type K6Metric = Trend | Counter | Rate;

const OPEN = 1;
const CONNECTING = 0;

function makeMetric(d: MetricDef): K6Metric {
  if (d.kind === 'trend') return new Trend(d.name, d.time === true);
  if (d.kind === 'rate') return new Rate(d.name);
  return new Counter(d.name);
}

function connect(url: string, events: SocketEvents): LoadSocket {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  let closeWhenOpen = false;
  ws.onopen = () => {
    // close() while connecting would block k6's writer, so it waits for the open.
    if (closeWhenOpen) ws.close();
    else events.onOpen();
  };
  ws.onmessage = (e) => {
    if (typeof e.data === 'string') return; // the protocol is binary only
    events.onMessage(new Uint8Array(e.data), typeof e.timestamp === 'number' ? e.timestamp : Date.now());
  };
  ws.onclose = (e) => events.onClose(typeof e.code === 'number' ? e.code : 0, e.reason ?? '');
  ws.onerror = (e) => events.onError(String(e.error ?? 'websocket error'));
  return {
    send(data) {
      // Older k6 releases send only ArrayBuffers, not typed-array views.
      if (ws.readyState === OPEN) ws.send(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer);
    },
    close() {
      if (ws.readyState === CONNECTING) closeWhenOpen = true;
      else ws.close();
    },
  };
}

/** Must be called in k6's init context (module top level): it creates the custom metrics. */
export function k6Runtime(): LoadRuntime {
  const metrics = new Map<string, K6Metric>(METRIC_DEFS.map((d) => [d.name, makeMetric(d)]));
  return {
    connect,
    now: () => Date.now(),
    timer(fn, ms) {
      const id = setTimeout(fn, ms);
      return () => clearTimeout(id);
    },
    metric(name: string, value: number, tags?: MetricTags) {
      metrics.get(name)?.add(value, tags);
    },
    log: (message) => console.log(message),
  };
}

export interface K6Env {
  PARLEY_URL?: string;
  PARLEY_VUS?: string;
  PARLEY_DURATION?: string;
}

export interface K6Test {
  scenario: Scenario;
  options: Record<string, unknown>;
  /** The VU function: pass k6's __VU and __ITER. */
  iteration(vu: number, iter: number): Promise<void>;
}

export const DEFAULT_URL = 'ws://127.0.0.1:8998/api/chat';

function envNumber(v: string | undefined): number | undefined {
  return v === undefined || v === '' ? undefined : Number(v);
}

/**
 * Everything an entry script needs: the scenario (with PARLEY_VUS and
 * PARLEY_DURATION applied), k6 options with its thresholds, and the VU
 * function. `audio` is the Ogg Opus clip from `open(path, 'b')`.
 */
export function k6Test(name: string, env: K6Env, audio: ArrayBuffer): K6Test {
  const scenario = buildScenario(name, { vus: envNumber(env.PARLEY_VUS), durationS: envNumber(env.PARLEY_DURATION) });
  const clip: InputClip = prepareClip(new Uint8Array(audio));
  const rt = k6Runtime();
  const url = env.PARLEY_URL || DEFAULT_URL;
  return {
    scenario,
    options: k6Options(scenario),
    async iteration(vu, iter) {
      await runIteration(rt, scenario, clip, { vu, iteration: iter, scenarioStart: exec.scenario.startTime, url });
    },
  };
}
