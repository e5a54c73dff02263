import { readFileSync } from 'node:fs';
import { prepareClip } from '../core/input-clip.js';
import { M } from '../core/metrics.js';
import { overrunS, type Scenario, type Thresholds } from '../core/scenario.js';
import { runIteration } from '../core/vu.js';
import { buildScenario } from '../scenarios/index.js';
import { MetricRecorder } from './recorder.js';
import { ensureSpeechClip } from './speech-clip.js';
import { summarize, type RunReport } from './summary.js';
import { evaluateThresholds } from './thresholds.js';
import { nodeRuntime, type NodeRuntime } from './ws-runtime.js';

export const DEFAULT_URL = 'ws://127.0.0.1:8998/api/chat';
/** Far more iterations than any VU can fit in its duration: only a bound against a runaway loop. */
const MAX_ITERATIONS_PER_VU = 100_000;

export interface LoadRunOptions {
  scenario: string;
  url?: string;
  vus?: number;
  durationS?: number;
  /** Ogg Opus clip to stream; default: the cached espeak-ng clip (made on first use). */
  audio?: Uint8Array;
  /** Replaces the scenario's thresholds. */
  thresholds?: Thresholds;
  log?: (line: string) => void;
}

export interface LoadRunResult extends RunReport {
  recorder: MetricRecorder;
}

/**
 * Runs a scenario with the Node runtime, emulating k6's constant-vus executor:
 * each VU repeats iterations until the duration is up; conversations still
 * running then finish by themselves (their own deadlines), and anything left
 * past the overrun allowance is terminated.
 */
export async function runLoad(opts: LoadRunOptions): Promise<LoadRunResult> {
  const base = buildScenario(opts.scenario, { vus: opts.vus, durationS: opts.durationS });
  const scenario: Scenario = opts.thresholds ? { ...base, thresholds: opts.thresholds } : base;
  const url = opts.url ?? DEFAULT_URL;
  const log = opts.log ?? ((line: string) => console.error(line));
  const clip = prepareClip(opts.audio ?? new Uint8Array(readFileSync(ensureSpeechClip())));
  const recorder = new MetricRecorder();
  const rt = nodeRuntime((name, value, tags) => recorder.add(name, value, tags), log);
  const startedAt = new Date().toISOString();
  const start = rt.now();
  const end = start + scenario.durationS * 1000;

  const runVu = async (vu: number): Promise<void> => {
    for (let iteration = 0; iteration < MAX_ITERATIONS_PER_VU && rt.now() < end; iteration++) {
      try {
        await runIteration(rt, scenario, clip, { vu, iteration, scenarioStart: start, url });
      } catch (e) {
        // A bug in the client must show up as a failure, not end the run.
        recorder.add(M.errors.name, 1);
        log(`VU ${vu}: ${(e as Error).stack ?? String(e)}`);
      }
    }
  };
  const all = Promise.all(Array.from({ length: scenario.vus }, (_, i) => runVu(i + 1)));
  await withWatchdog(rt, all, end + (overrunS(scenario) + 2) * 1000);

  const wallS = (rt.now() - start) / 1000;
  const thresholds = evaluateThresholds(recorder, scenario.thresholds, scenario.durationS);
  return {
    scenario,
    url,
    startedAt,
    wallS,
    summary: summarize(recorder),
    thresholds,
    passed: thresholds.every((t) => t.ok),
    recorder,
  };
}

/** Waits for `work`, but past `hardStop` terminates every socket and waits at most 2 s more. */
async function withWatchdog(rt: NodeRuntime, work: Promise<unknown>, hardStop: number): Promise<void> {
  let cancel = (): void => {};
  const timedOut = new Promise<boolean>((resolve) => {
    cancel = rt.timer(() => resolve(true), hardStop - rt.now());
  });
  const late = await Promise.race([work.then(() => false), timedOut]);
  cancel();
  if (!late) return;
  rt.log('load: VUs still running past the hard stop; terminating their sockets');
  rt.terminateAll();
  let cancelGrace = (): void => {};
  await Promise.race([work, new Promise<void>((resolve) => { cancelGrace = rt.timer(resolve, 2000); })]);
  cancelGrace();
}
