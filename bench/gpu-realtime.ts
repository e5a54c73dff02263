// A Moshi-shaped model served end to end through the engine on the GPU
// machine (issue 7): a device-only model directory (the device-cache LM
// graphs in one precision, random weights drawn in storage form, real-width
// Mimi), then real-time runs through the real engine (inference worker,
// scheduler, Mimi on its provider, the LM with device caches) at growing
// session counts, each in a process of its own, as `npm run bench` does on
// the CPU. Writes JSON to --out (and stdout).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { convertModel } from '../src/model/convert.js';
import { isPrecision } from '../src/model/lm/gpu/precision.js';
import { RandomStorageWeights } from '../src/model/lm/gpu/weights.js';
import type { ExecutionProvider } from '../src/model/onnx/session.js';
import { presetSource } from '../src/model/presets/presets.js';
import { runRealtimeIsolated, sustainsRealTime, type RealtimeResult } from './realtime-bench.js';
import { round } from './stats.js';

const { values: args } = parseArgs({
  options: {
    preset: { type: 'string', default: 'moshi-7b-shaped' },
    precision: { type: 'string', default: 'fp16' },
    provider: { type: 'string', default: 'webgpu' },
    'codec-provider': { type: 'string', default: 'cpu' },
    // Comma list: each setting runs the whole session ladder (auto, off, decode, full).
    'codec-overlap': { type: 'string', default: 'auto' },
    'codec-shards': { type: 'string', default: '1' },
    threads: { type: 'string', default: '8' },
    sessions: { type: 'string', default: '1,2,4,8,12,16' },
    seconds: { type: 'string', default: '30' },
    'work-dir': { type: 'string', default: '/dev/shm/parley-realtime' },
    'time-limit': { type: 'string', default: '540' },
    commit: { type: 'string', default: '' },
    // Go on past the first count that misses real time, for the stage medians of the larger batches.
    'keep-going': { type: 'boolean', default: false },
    out: { type: 'string', default: 'gpu-realtime.json' },
  },
});

const log = (m: string) => console.error(`[gpu-realtime] ${m}`);
const started = new Date();
const t0 = performance.now();
const elapsed = () => (performance.now() - t0) / 1000;

function gpuName(): string {
  try {
    return execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], { encoding: 'utf8' }).trim().split('\n')[0]!;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const precision = args.precision!;
  if (!isPrecision(precision)) throw new Error('--precision needs fp32, fp16 or int4');
  const dir = join(args['work-dir']!, `${args.preset}-${precision}`);
  rmSync(dir, { recursive: true, force: true });
  log(`converting ${args.preset} (${precision}, device graphs only) into ${dir}`);
  convertModel(presetSource(args.preset!), dir, log, { gpuPrecision: precision, deviceOnly: true, gpuWeights: new RandomStorageWeights(precision, 1234) });
  const buildSeconds = round(elapsed(), 1);
  log(`built in ${buildSeconds} s`);

  const seconds = Number(args.seconds);
  const ladders: { codecOverlap: string; sustainedSessions: number; runs: RealtimeResult[]; errors: { sessions: number; error: string }[] }[] = [];
  for (const overlap of args['codec-overlap']!.split(',')) {
    if (overlap !== 'auto' && overlap !== 'off' && overlap !== 'decode' && overlap !== 'full') throw new Error('--codec-overlap takes auto, off, decode or full (comma list)');
    const ladder = { codecOverlap: overlap, sustainedSessions: 0, runs: [] as RealtimeResult[], errors: [] as { sessions: number; error: string }[] };
    ladders.push(ladder);
    let missed = false;
    for (const sessions of args.sessions!.split(',').map(Number)) {
      // A run loads the model afresh (about 20 s for 7B shapes) before its seconds.
      if (elapsed() + seconds + 40 > Number(args['time-limit'])) {
        log(`stopping before ${sessions} sessions (overlap ${overlap}): time limit`);
        break;
      }
      log(`real-time run: ${sessions} sessions for ${seconds} s, codec overlap ${overlap}`);
      try {
        const r = await runRealtimeIsolated({
          modelDir: dir, provider: args.provider as ExecutionProvider, lmCaches: 'device', codecProvider: args['codec-provider'] as ExecutionProvider,
          codecOverlap: overlap, codecShards: Number(args['codec-shards']), sessions, seconds, threads: Number(args.threads), churn: null, warmupSeconds: 5,
        });
        ladder.runs.push(r);
        log(`  tick p50 ${r.tickP50Ms} ms, p99 ${r.tickP99Ms} ms, late ${r.lateFrames}, dropped ${r.droppedFrames}, reply p50 ${r.replyLatencyP50Ms} ms; stages p50 ${JSON.stringify(r.stageP50Ms)}`);
        if (!sustainsRealTime(r)) missed = true;
        else if (!missed) ladder.sustainedSessions = sessions;
        if (missed && !args['keep-going']) break;
      } catch (e) {
        ladder.errors.push({ sessions, error: (e as Error).message.slice(0, 2000) });
        log(`  failed: ${(e as Error).message.slice(0, 300)}`);
        break;
      }
    }
  }
  const sustainedSessions = Math.max(0, ...ladders.map((l) => l.sustainedSessions));
  const result = {
    preset: args.preset,
    provider: args.provider,
    codecProvider: args['codec-provider'],
    codecShards: Number(args['codec-shards']),
    precision,
    device: gpuName(),
    /** Sessions served end to end at real-time pace (tick p99 <= 80 ms, no late or dropped frame over the run), best over the ladders. */
    sustainedSessions,
    /** One ladder of session counts per codec-overlap setting. */
    ladders,
    buildSeconds,
    machine: { host: hostname(), cpu: cpus()[0]?.model, cores: cpus().length },
    date: started.toISOString(),
    commit: args.commit || null,
    command: `node dist/bench/gpu-realtime.js ${process.argv.slice(2).join(' ')}`.trim(),
    elapsedSeconds: round(elapsed(), 1),
  };
  mkdirSync(dirname(args.out!) || '.', { recursive: true });
  writeFileSync(args.out!, JSON.stringify(result, null, 2) + '\n');
  const brief = ladders.map((l) => ({
    codecOverlap: l.codecOverlap,
    sustainedSessions: l.sustainedSessions,
    runs: l.runs.map((r) => ({ sessions: r.sessions, overlap: r.codecOverlap, tickP50Ms: r.tickP50Ms, tickP99Ms: r.tickP99Ms, late: r.lateFrames, dropped: r.droppedFrames, replyP50Ms: r.replyLatencyP50Ms, stages: r.stageP50Ms })),
    errors: l.errors,
  }));
  console.log(JSON.stringify({ sustainedSessions, ladders: brief }, null, 2));
  rmSync(dir, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
