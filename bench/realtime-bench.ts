import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { CodecOverlap } from '../src/engine/codec.js';
import { EngineClient } from '../src/engine/engine-client.js';
import { DEFAULT_SAMPLING_PARAMS } from '../src/engine/sampling/sampling-params.js';
import type { TickStats } from '../src/engine/scheduler.js';
import { emptyStageTimes, STAGES, type StageTimes } from '../src/engine/stage-timer.js';
import type { LmCaches } from '../src/model/lm/lm-stepper.js';
import type { ExecutionProvider } from '../src/model/onnx/session.js';
import { syntheticFrame } from './pipeline-bench.js';
import { percentile, round } from './stats.js';

export interface RealtimeOptions {
  modelDir: string;
  /** Where the LM runs (default cpu), where its caches live and where Mimi runs (the engine's defaults when absent). */
  provider?: ExecutionProvider;
  lmCaches?: LmCaches;
  codecProvider?: ExecutionProvider;
  /** Mimi in threads of its own beside the LM (the engine's default, auto, when absent). */
  codecOverlap?: CodecOverlap | 'auto';
  /** Codec threads per direction when overlapped (the engine's default, 1, when absent). */
  codecShards?: number;
  sessions: number;
  seconds: number;
  threads: number;
  /** Sessions end after a random lifetime in [min, max] s and are replaced at once (soak); null: they live throughout. */
  churn: { minSeconds: number; maxSeconds: number } | null;
  /** Seconds ignored at the start (warm-up) for tick, latency and memory figures. */
  warmupSeconds: number;
  /** Also read memory (after full collections) every this many seconds from the end of warm-up; absent: only at the two ends. */
  memorySampleSeconds?: number;
}

/** One reading of the memory series: seconds since the end of warm-up, MB after full collections. */
export interface MemorySample {
  atSeconds: number;
  rssMB: number;
  anonymousMB: number | null;
  fileMB: number | null;
}

export interface RealtimeResult {
  sessions: number;
  /** How the engine overlapped Mimi with the LM (then encode and decode are their own durations, not shares of a tick). */
  codecOverlap: CodecOverlap;
  seconds: number;
  ticks: number;
  tickP50Ms: number;
  tickP99Ms: number;
  /** Each stage's median over the ticks after warm-up (ms): where a tick's time goes. */
  stageP50Ms: StageTimes;
  /** Ticks whose model work took longer than 80 ms. */
  overrunTicks: number;
  lateFrames: number;
  droppedFrames: number;
  framesIn: number;
  framesOut: number;
  replyLatencyP50Ms: number;
  replyLatencyP95Ms: number;
  eventLoopLagP99Ms: number;
  sessionsOpened: number;
  rssStartMB: number;
  rssEndMB: number;
  rssPeakMB: number;
  /** RSS growth from the end of warm-up to the end (MB), each read after a full collection of the main thread's heap. */
  memoryGrowthMB: number;
  /** The main thread's V8 heap in use at those two points (MB). */
  heapStartMB: number;
  heapEndMB: number;
  /** The inference worker's V8 heap in use at those two points, after its own full collection (MB). */
  workerHeapStartMB: number | null;
  workerHeapEndMB: number | null;
  /**
   * The RSS growth split by kind (Linux; null elsewhere): anonymous memory
   * (heaps, arenas, pools) and file-backed pages, which are mostly the
   * model's weight files that onnxruntime maps and that fault in as they are
   * first read (embedding rows of tokens not seen before), bounded by the
   * files' size.
   */
  anonymousGrowthMB: number | null;
  fileGrowthMB: number | null;
  /** Readings every memorySampleSeconds (the first at the end of warm-up, the last at the end); empty when not asked for. */
  memorySeries: MemorySample[];
  /**
   * RSS and anonymous growth over the second half of the series only (MB):
   * a process whose allocators have warmed up stays near 0 here, a leak
   * grows by half its total. Null without a series of at least 3 readings.
   */
  secondHalfGrowthMB: number | null;
  secondHalfAnonymousGrowthMB: number | null;
}

interface CollectedMemory { rssMB: number; heapMB: number; workerHeapMB: number | null; anonMB: number | null; fileMB: number | null }

/**
 * Full collections of the inference worker's heap and the main thread's first
 * where node runs with --expose-gc (the isolated runs do), so garbage not yet
 * collected (with the native buffers it holds) does not read as growth.
 */
async function collectedMemory(engine: EngineClient): Promise<CollectedMemory> {
  const worker = await engine.collectGarbage();
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rssMB: m.rss / 2 ** 20, heapMB: m.heapUsed / 2 ** 20, workerHeapMB: worker === null ? null : worker / 2 ** 20, ...residentByKind() };
}

/** Resident anonymous and file-backed memory of this process (MB) from /proc/self/smaps_rollup. */
function residentByKind(): { anonMB: number | null; fileMB: number | null } {
  let text: string;
  try {
    text = readFileSync('/proc/self/smaps_rollup', 'utf8');
  } catch {
    return { anonMB: null, fileMB: null };
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  const rss = kb('Rss');
  const anon = kb('Anonymous');
  return Number.isFinite(rss) && Number.isFinite(anon) ? { anonMB: anon / 1024, fileMB: (rss - anon) / 1024 } : { anonMB: null, fileMB: null };
}

const TICK_MS = 80;

/** The benchmark's rule for real time: every tick within the 80 ms period at p99, and no frame late or dropped over the run. */
export function sustainsRealTime(r: RealtimeResult): boolean {
  return r.tickP99Ms <= TICK_MS && r.lateFrames === 0 && r.droppedFrames === 0;
}

/**
 * Drives the real engine (inference worker, scheduler) with synthetic
 * sessions that each deliver one 80 ms frame every 80 ms, at random phases,
 * as microphones do; measures ticks, lateness, reply latency, event-loop lag
 * on the main thread and memory.
 */
export async function runRealtime(o: RealtimeOptions): Promise<RealtimeResult> {
  const engine = await EngineClient.start({
    modelDir: o.modelDir, provider: o.provider ?? 'cpu', threads: o.threads, maxSessions: o.sessions, tickMs: TICK_MS, maxQueuedFrames: 25, maxSessionSteps: 4500,
    ...(o.lmCaches ? { lmCaches: o.lmCaches } : {}), ...(o.codecProvider ? { codecProvider: o.codecProvider } : {}),
    ...(o.codecOverlap ? { codecOverlap: o.codecOverlap } : {}),
    ...(o.codecShards ? { codecShards: o.codecShards } : {}),
  });
  const ticks: TickStats[] = [];
  let dropped = 0;
  const t0 = performance.now();
  const warm = () => performance.now() - t0 > o.warmupSeconds * 1000;
  engine.on('tick', (s) => {
    if (warm()) ticks.push(s);
  });
  engine.on('dropped', (_id, n) => (dropped += n));
  const lag = monitorEventLoopDelay({ resolution: 10 });
  const latencies: number[] = [];
  let framesIn = 0;
  let framesOut = 0;
  let opened = 0;
  let start: CollectedMemory | null = null;
  let rssPeak = 0;
  const timers = new Set<NodeJS.Timeout>();
  let stopping = false;

  const startSession = async (index: number): Promise<void> => {
    const id = `bench-${index}-${opened++}`;
    const sentAt: number[] = [];
    const ok = await engine.open(id, { ...DEFAULT_SAMPLING_PARAMS, textSeed: BigInt(opened), audioSeed: BigInt(opened + 7) }, {
      onFrame: (f) => {
        framesOut++;
        const at = sentAt[f.inputFrame];
        if (at !== undefined && warm()) latencies.push(performance.now() - at);
        delete sentAt[f.inputFrame];
      },
      onLost: () => {},
    });
    if (!ok) throw new Error(`engine refused bench session ${id}`);
    const lifetime = o.churn ? (o.churn.minSeconds + Math.random() * (o.churn.maxSeconds - o.churn.minSeconds)) * 1000 : Infinity;
    const born = performance.now();
    let frame = 0;
    const phase = Math.random() * TICK_MS;
    const next = () => {
      if (stopping) return;
      if (performance.now() - born > lifetime) {
        engine.close(id);
        void startSession(index);
        return;
      }
      sentAt[frame] = performance.now();
      engine.pushFrame(id, syntheticFrame(index, frame++));
      framesIn++;
      const due = born + phase + frame * TICK_MS;
      const t = setTimeout(() => {
        timers.delete(t);
        next();
      }, Math.max(0, due - performance.now()));
      timers.add(t);
    };
    const t = setTimeout(() => {
      timers.delete(t);
      next();
    }, phase);
    timers.add(t);
  };

  for (let i = 0; i < o.sessions; i++) await startSession(i);
  let startTaken = false;
  let warmAt = 0;
  const series: MemorySample[] = [];
  const sample = (m: CollectedMemory, atMs: number): void => {
    series.push({ atSeconds: round((atMs - warmAt) / 1000, 1), rssMB: round(m.rssMB, 1), anonymousMB: m.anonMB === null ? null : round(m.anonMB, 1), fileMB: m.fileMB === null ? null : round(m.fileMB, 1) });
  };
  let nextSampleAt = Infinity;
  const memTimer = setInterval(() => {
    const rss = process.memoryUsage().rss / 2 ** 20;
    rssPeak = Math.max(rssPeak, rss);
    const now = performance.now();
    if (!startTaken && warm()) {
      startTaken = true;
      warmAt = now;
      void collectedMemory(engine).then((m) => {
        start = m;
        if (o.memorySampleSeconds) sample(m, now);
      });
      lag.enable();
      if (o.memorySampleSeconds) nextSampleAt = now + o.memorySampleSeconds * 1000;
    } else if (now >= nextSampleAt) {
      nextSampleAt += o.memorySampleSeconds! * 1000;
      void collectedMemory(engine).then((m) => sample(m, now));
    }
  }, 1000);
  await new Promise((r) => setTimeout(r, o.seconds * 1000));
  stopping = true;
  for (const t of timers) clearTimeout(t);
  clearInterval(memTimer);
  lag.disable();
  const end = await collectedMemory(engine);
  const first = start ?? end;
  if (o.memorySampleSeconds && startTaken) sample(end, performance.now());
  const half = secondHalfGrowth(series);
  const growth = (a: number | null, b: number | null) => (a === null || b === null ? null : round(b - a, 1));
  const mb = (v: number | null) => (v === null ? null : round(v, 1));
  await engine.stop();
  const tickMs = ticks.map((t) => t.ms);
  return {
    sessions: o.sessions,
    seconds: o.seconds,
    ticks: ticks.length,
    tickP50Ms: round(percentile(tickMs, 50)),
    tickP99Ms: round(percentile(tickMs, 99)),
    stageP50Ms: stageMedians(ticks),
    overrunTicks: tickMs.filter((m) => m > TICK_MS).length,
    lateFrames: ticks.reduce((n, t) => n + t.late, 0),
    droppedFrames: dropped,
    framesIn,
    framesOut,
    replyLatencyP50Ms: round(percentile(latencies, 50)),
    replyLatencyP95Ms: round(percentile(latencies, 95)),
    eventLoopLagP99Ms: round(lag.percentile(99) / 1e6),
    sessionsOpened: opened,
    codecOverlap: engine.info?.codecOverlap ?? 'off',
    rssStartMB: round(first.rssMB, 1),
    rssEndMB: round(end.rssMB, 1),
    rssPeakMB: round(Math.max(rssPeak, end.rssMB), 1),
    memoryGrowthMB: round(end.rssMB - first.rssMB, 1),
    heapStartMB: round(first.heapMB, 1),
    heapEndMB: round(end.heapMB, 1),
    workerHeapStartMB: mb(first.workerHeapMB),
    workerHeapEndMB: mb(end.workerHeapMB),
    anonymousGrowthMB: growth(first.anonMB, end.anonMB),
    fileGrowthMB: growth(first.fileMB, end.fileMB),
    memorySeries: series,
    secondHalfGrowthMB: half.rss,
    secondHalfAnonymousGrowthMB: half.anonymous,
  };
}

function stageMedians(ticks: readonly TickStats[]): StageTimes {
  const m = emptyStageTimes();
  for (const k of STAGES) m[k] = round(percentile(ticks.map((t) => t.times[k]), 50));
  return m;
}

/** Growth from the reading nearest the series' middle time to its last reading. */
export function secondHalfGrowth(series: readonly MemorySample[]): { rss: number | null; anonymous: number | null } {
  if (series.length < 3) return { rss: null, anonymous: null };
  const last = series.at(-1)!;
  const mid = last.atSeconds / 2;
  const from = series.reduce((best, s) => (Math.abs(s.atSeconds - mid) < Math.abs(best.atSeconds - mid) ? s : best));
  const anonymous = from.anonymousMB === null || last.anonymousMB === null ? null : round(last.anonymousMB - from.anonymousMB, 1);
  return { rss: round(last.rssMB - from.rssMB, 1), anonymous };
}

/** This process's node flags without an inline script (-e/-p and its text), which the child would run again. */
function nodeFlags(): string[] {
  const out: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const a = process.execArgv[i]!;
    if (['-e', '--eval', '-p', '--print'].includes(a)) i++;
    else if (!/^--(eval|print)=/.test(a)) out.push(a);
  }
  return out;
}

/** runRealtime in a fresh child process (same node flags and environment). */
export async function runRealtimeIsolated(o: RealtimeOptions): Promise<RealtimeResult> {
  const { execFile } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const child = fileURLToPath(new URL('./realtime-child.js', import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...nodeFlags(), '--expose-gc', child, JSON.stringify(o)], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`real-time run failed: ${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout) as RealtimeResult);
    });
  });
}
