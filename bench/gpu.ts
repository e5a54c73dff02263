// The GPU benchmark (issue 7), one command on the GPU machine: checks parity
// on the fixture with the chosen provider, measures the device's copy
// bandwidth, builds the moshi-7b-shaped LM (float16, then int4) here, times
// whole frames (temporal + depformer) at several batch sizes with the caches
// on the device, and writes bench/results/gpu-<date>.json (and $OUT/ if set).
// See docs/gpu.md.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GpuLmRunner } from '../src/model/lm/gpu-lm-runner.js';
import { isPrecision, type Precision } from '../src/model/lm/gpu/precision.js';
import { providerAvailable, type ExecutionProvider, type SessionOptions } from '../src/model/onnx/session.js';
import { runParity, type ParityVariant } from '../src/parity/run-parity.js';
import { buildDeviceModel, presetLmConfig, type BuiltModel } from './gpu-model.js';
import { summarizeProfiles, type ProfileSummary } from './gpu-profile.js';
import { kvBytesPerStep, measureCopyBandwidth, measureDispatchOverhead, timeSteps, type CopyBandwidth, type StepTiming } from './gpu-timing.js';
import { round } from './stats.js';

const { values: args } = parseArgs({
  options: {
    preset: { type: 'string', default: 'moshi-7b-shaped' },
    provider: { type: 'string', default: 'webgpu' },
    fixture: { type: 'string', default: '.gpu/fixture' },
    precisions: { type: 'string', default: 'fp16,int4' },
    batches: { type: 'string', default: '1,8,32,64' },
    /** Fewer temporal layers, for a quick trial (results are then not the preset's). */
    layers: { type: 'string' },
    threads: { type: 'string', default: '4' },
    /** precision@batch to profile per operator, or none. */
    profile: { type: 'string', default: 'fp16@32' },
    'budget-ms': { type: 'string', default: '80' },
    /** Stop starting new phases after this many seconds (the device tool allows 600 per command). */
    'time-limit': { type: 'string', default: '540' },
    'work-dir': { type: 'string', default: '/tmp/parley-gpu-bench' },
    'skip-parity': { type: 'boolean', default: false },
    /** Size of the copy-bandwidth probe buffer (at most 256: onnxruntime reuses buffers up to that size). */
    'copy-mib': { type: 'string', default: '256' },
    /** WebGPU provider options (see SessionOptions.webgpu). */
    'buffer-cache': { type: 'string', default: 'simple' },
    validation: { type: 'string', default: 'disabled' },
    'pending-dispatches': { type: 'string', default: '64' },
    commit: { type: 'string', default: 'unknown' },
    out: { type: 'string' },
  },
});

const t0 = performance.now();
const elapsed = () => (performance.now() - t0) / 1000;
const log = (m: string) => console.error(`[gpu-bench ${elapsed().toFixed(0)}s] ${m}`);
const provider = args.provider as ExecutionProvider;
const opts: SessionOptions = {
  provider,
  intraOpThreads: Number(args.threads),
  webgpu: {
    storageBufferCacheMode: args['buffer-cache'] as NonNullable<SessionOptions['webgpu']>['storageBufferCacheMode'],
    validationMode: args.validation as NonNullable<SessionOptions['webgpu']>['validationMode'],
    maxNumPendingDispatches: Number(args['pending-dispatches']),
  },
};
const budgetMs = Number(args['budget-ms']);
const GIB = 1024 ** 3;
/** Device memory kept free for activations and the small graphs. */
const MARGIN = 10 * GIB;

interface PrecisionResult {
  precision: Precision;
  buildSeconds: number;
  sessionSeconds: number;
  weightBytes: { temporal: number; depformer: number };
  kvBytesPerSession: number;
  maxSessionsInMemory: number;
  timings: StepTiming[];
  sustainedSessions: number;
  /** The same judged by each batch's p99 frame time instead of its mean. */
  sustainedSessionsP99: number;
  bandwidth: { batch: number; capacity: number; bytesPerStep: number; bytesPerSecond: number; fraction: number }[];
  profile?: ProfileSummary & { batch: number; steps: number };
  batchErrors: { batch: number; error: string }[];
  error?: string;
}

function device(): { name: string; memoryBytes: number; driver: string } {
  try {
    const line = execFileSync('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader,nounits'], { encoding: 'utf8' }).trim().split('\n')[0]!;
    const [name, mib, driver] = line.split(',').map((s) => s.trim());
    return { name: name!, memoryBytes: Number(mib) * 1024 * 1024, driver: driver! };
  } catch {
    return { name: 'unknown', memoryBytes: 80 * GIB, driver: 'unknown' };
  }
}

async function parityTable(): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  const variants: [string, ParityVariant][] = [['host caches fp32', {}], ['device caches fp32', { precision: 'fp32' }], ['device caches fp16', { precision: 'fp16' }], ['device caches int4', { precision: 'int4' }]];
  for (const [name, v] of variants) {
    try {
      const r = await runParity(args.fixture!, opts, v);
      rows.push({ variant: name, pass: r.pass, checks: Object.fromEntries(r.checks.map((c) => [c.name, `${c.value} (${c.limit}) ${c.limit === 'info' ? 'info' : c.pass ? 'ok' : 'FAIL'}`])) });
      log(`parity ${name}: ${r.pass ? 'PASS' : 'FAIL'} (text ${r.lm.maxTextLogitDiff.toExponential(2)}, dep ${r.lm.maxDepformerLogitDiff.toExponential(2)}, greedy ${r.lm.greedyMatched}/${r.lm.greedyTotal})`);
    } catch (e) {
      rows.push({ variant: name, error: (e as Error).message });
      log(`parity ${name}: error ${(e as Error).message}`);
    }
  }
  return rows;
}

/** Ring length for `batch` sessions: the model's context if it fits in device memory, else the longest that does. */
function capacityFor(runner: GpuLmRunner, model: BuiltModel, batch: number, memory: number): number {
  const perFrame = runner.bytesPerSlot / runner.capacity;
  const free = memory - model.weightBytes.temporal - model.weightBytes.depformer - MARGIN;
  // Rings are written in place: no step or fold needs a second copy of any of them.
  return Math.min(model.cfg.context, Math.floor(free / batch / perFrame));
}

async function benchPrecision(precision: Precision, memory: number, copyBps: number, save: () => unknown, state: State): Promise<PrecisionResult> {
  const cfg = presetLmConfig(args.preset!, args.layers ? Number(args.layers) : undefined);
  log(`${precision}: building ${args.preset} (${cfg.num_layers} layers, dim ${cfg.dim})`);
  const model = buildDeviceModel(cfg, args.preset!, precision, join(args['work-dir']!, precision), log);
  const gib = (b: number) => (b / GIB).toFixed(2);
  log(`${precision}: weights ${gib(model.weightBytes.temporal)} GiB temporal + ${gib(model.weightBytes.depformer)} GiB depformer, built in ${model.buildSeconds.toFixed(0)} s`);
  const [pPrec, pBatch] = (args.profile ?? 'none').split('@');
  const profileBatch = pPrec === precision ? Number(pBatch ?? 8) : null;
  const result: PrecisionResult = {
    precision, buildSeconds: round(model.buildSeconds, 1), sessionSeconds: 0, weightBytes: model.weightBytes,
    kvBytesPerSession: 0, maxSessionsInMemory: 0, timings: [], sustainedSessions: 0, sustainedSessionsP99: 0, bandwidth: [], batchErrors: [],
  };
  // Visible to intermediate saves while this precision runs.
  state.per.push(result);
  // Sessions are created afresh for each batch size: with the 'simple' buffer cache a process keeps every
  // buffer size it has used until its WebGPU sessions are all gone.
  const withRunner = async (batch: number, fn: (runner: GpuLmRunner, capacity: number) => Promise<void>) => {
    const profiling = batch === profileBatch ? join(args['work-dir']!, `profile-${precision}`) : undefined;
    const s0 = performance.now();
    const runner = await GpuLmRunner.create(cfg, model.graphs, 1, opts, { profilePrefix: profiling });
    result.sessionSeconds = round((performance.now() - s0) / 1000, 1);
    result.kvBytesPerSession = runner.bytesPerSlot;
    result.maxSessionsInMemory = Math.floor((memory - model.weightBytes.temporal - model.weightBytes.depformer - MARGIN) / runner.bytesPerSlot);
    try {
      const capacity = capacityFor(runner, model, batch, memory);
      if (capacity < 2) return void log(`${precision}: batch ${batch} does not fit in device memory`);
      await runner.reallocate(batch, capacity);
      if (profiling) {
        await timeSteps(runner, batch, 0, 3);
        await runner.endProfiling();
        result.profile = { ...summarizeProfiles(profiling, 3), batch, steps: 3 };
        log(`${precision}: profiled 3 steps at batch ${batch}; CPU-assigned ops: ${result.profile.cpuOps.join(', ') || 'none'}; device kernel ms/step ${result.profile.deviceMsPerStep}`);
      }
      await fn(runner, capacity);
    } finally {
      await runner.release();
    }
  };
  try {
    const batches = args.batches!.split(',').map(Number);
    const done = new Set<number>();
    const run = async (b: number) => {
      if (done.has(b) || elapsed() > Number(args['time-limit'])) return;
      done.add(b);
      try {
        await withRunner(b, async (runner, capacity) => {
        // Warm up past the first cache fold: its buffers are allocated once, then reused ('simple' cache).
          const t = await timeSteps(runner, b, 5, 30);
        result.timings.push(t);
        const bytesPerStep = model.weightBytes.temporal + model.weightBytes.depformer + kvBytesPerStep(runner, b);
        const bps = bytesPerStep / (t.meanMs / 1000);
        result.bandwidth.push({ batch: b, capacity, bytesPerStep, bytesPerSecond: Math.round(bps), fraction: round(bps / copyBps, 3) });
        save();
        log(`${precision}: batch ${b} (ring ${capacity}): mean ${t.meanMs} ms, p50 ${t.p50Ms} (temporal ${t.temporalP50Ms}, depformer ${t.depformerP50Ms}), p95 ${t.p95Ms}, p99 ${t.p99Ms}, max ${t.maxMs} (temporal max ${t.temporalMaxMs}, depformer max ${t.depformerMaxMs}); ${(bps / 1e12).toFixed(3)} TB/s = ${(100 * bps / copyBps).toFixed(1)}% of copy`);
        });
      } catch (e) {
        result.batchErrors.push({ batch: b, error: String((e as Error).message ?? e).slice(0, 600) });
        log(`${precision}: batch ${b} failed: ${(e as Error).message}`);
      }
    };
    for (const b of batches) await run(b);
    // Past the listed sizes: the most sessions that fit with the full context, if the largest listed one kept up.
    const full = result.timings.filter((t) => t.capacity === cfg.context);
    const best = full.filter((t) => t.meanMs <= budgetMs).sort((a, b) => b.batch - a.batch)[0];
    const most = Math.min(result.maxSessionsInMemory, 4 * Math.max(...batches));
    if (best && best.batch === Math.max(...full.map((t) => t.batch)) && most > best.batch) await run(most);
    const ok = result.timings.filter((t) => t.capacity === cfg.context && t.meanMs <= budgetMs);
    result.sustainedSessions = ok.length ? Math.max(...ok.map((t) => t.batch)) : 0;
    const okP99 = result.timings.filter((t) => t.capacity === cfg.context && t.p99Ms <= budgetMs);
    result.sustainedSessionsP99 = okP99.length ? Math.max(...okP99.map((t) => t.batch)) : 0;
  } catch (e) {
    result.error = (e as Error).stack ?? String(e);
    log(`${precision}: error ${result.error}`);
  }
  rmSync(join(args['work-dir']!, precision), { recursive: true, force: true });
  state.per.splice(state.per.indexOf(result), 1);
  return result;
}

async function main(): Promise<void> {
  const started = new Date();
  if (!providerAvailable(provider)) throw new Error(`provider ${provider} is not available here`);
  const dev = device();
  log(`device ${dev.name}, ${(dev.memoryBytes / GIB).toFixed(0)} GiB, driver ${dev.driver}`);
  mkdirSync(args['work-dir']!, { recursive: true });
  const file = args.out ?? join('bench', 'results', `gpu-${started.toISOString().slice(0, 10)}.json`);
  const state: State = { started, dev, parity: [], copy: null, per: [] };
  // Written after every phase, so a run stopped at the device's time limit still leaves its numbers.
  const save = () => writeResults(file, state);
  if (!args['skip-parity']) state.parity = await parityTable();
  save();
  log('measuring copy bandwidth');
  state.copy = await measureCopyBandwidth(opts, (Number(args['copy-mib']) * 1024 * 1024) / 4);
  log(`copy bandwidth ${(state.copy.bytesPerSecond / 1e12).toFixed(2)} TB/s (read + write)`);
  state.dispatch = await measureDispatchOverhead(opts);
  log(`dispatch overhead ${state.dispatch.usPerNode} us per kernel`);
  save();
  for (const p of args.precisions!.split(',')) {
    if (!isPrecision(p)) throw new Error(`unknown precision ${p}`);
    if (elapsed() > Number(args['time-limit'])) {
      log(`${p}: skipped, out of time`);
      continue;
    }
    try {
      state.per.push(await benchPrecision(p, dev.memoryBytes, state.copy.bytesPerSecond, save, state));
    } catch (e) {
      log(`${p}: failed: ${(e as Error).stack ?? e}`);
      state.per.push({
        precision: p, buildSeconds: 0, sessionSeconds: 0, weightBytes: { temporal: 0, depformer: 0 }, kvBytesPerSession: 0,
        maxSessionsInMemory: 0, timings: [], sustainedSessions: 0, sustainedSessionsP99: 0, bandwidth: [], batchErrors: [], error: (e as Error).stack ?? String(e),
      });
    }
    save();
  }
  const r = writeResults(file, state);
  log(`wrote ${file}`);
  console.log(JSON.stringify({ sustainedSessions: r.sustainedSessions, sustainedSessionsFp16: r.sustainedSessionsFp16, sustainedSessionsInt4: r.sustainedSessionsInt4, sustainedSessionsP99Fp16: r.sustainedSessionsP99Fp16, bandwidthFraction: r.bandwidthFraction, stepMsAtBatch: r.stepMsAtBatch, stepMsAtBatchInt4: r.stepMsAtBatchInt4 }));
}

interface State {
  started: Date;
  dev: ReturnType<typeof device>;
  parity: Record<string, unknown>[];
  copy: CopyBandwidth | null;
  dispatch?: { nodes: number; usPerNode: number };
  per: PrecisionResult[];
}

function writeResults(file: string, st: State) {
  const per = st.per;
  const of = (p: Precision) => per.find((r) => r.precision === p);
  const fp16 = of('fp16');
  const int4 = of('int4');
  const main = fp16 ?? per[0];
  const context = presetLmConfig(args.preset!).context;
  const pick = main?.bandwidth.filter((b) => b.capacity === context).sort((a, b) => b.batch - a.batch)[0];
  const table = (r: PrecisionResult | undefined) => Object.fromEntries(args.batches!.split(',').map((b) => [b, r?.timings.find((t) => t.batch === Number(b))?.meanMs ?? null]));
  const results = {
    preset: args.preset + (args.layers ? ` (${args.layers} temporal layers)` : ''),
    provider,
    device: `${st.dev.name} (${(st.dev.memoryBytes / GIB).toFixed(0)} GiB, driver ${st.dev.driver})`,
    sustainedSessions: Math.max(0, ...per.map((r) => r.sustainedSessions)),
    sustainedSessionsFp16: fp16?.sustainedSessions ?? null,
    sustainedSessionsInt4: int4?.sustainedSessions ?? null,
    sustainedSessionsP99Fp16: fp16?.sustainedSessionsP99 ?? null,
    sustainedSessionsP99Int4: int4?.sustainedSessionsP99 ?? null,
    bandwidthFraction: pick?.fraction ?? null,
    stepMsAtBatch: table(main),
    stepMsAtBatchNote: `${main?.precision ?? '-'} weights; mean ms of whole frames (temporal step, text argmax on the host, then the depformer frame graph: ${presetLmConfig(args.preset!).dep_q} codebook steps drawing tokens in the graph at temperature 0.8, top-k 250) over 30 frames after 5 warm-up frames; a batch whose full-context KV cache does not fit in device memory runs with a shorter ring (precisions[].timings[].capacity)`,
    stepMsAtBatchInt4: table(int4),
    budgetMs,
    copyBandwidth: st.copy,
    bandwidthFractionNote: `bytes a frame must read (all weights + every row's KV ring) / mean frame time / device copy bandwidth (bytes read + written per second), at batch ${pick?.batch ?? '-'} ${main?.precision ?? ''}`,
    limits: limits(st, main, context),
    parity: st.parity,
    precisions: per,
    machine: { host: hostname(), cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', memoryBytes: totalmem(), node: process.version },
    date: st.started.toISOString(),
    commit: args.commit,
    command: `node dist/bench/gpu.js ${process.argv.slice(2).join(' ')}`,
    elapsedSeconds: round(elapsed(), 1),
  };
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  const outDir = process.env['OUT'];
  if (outDir) copyFileSync(file, join(outDir, file.split('/').pop()!));
  return results;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

/** What bounds the frame time, from this run's own numbers. */
function limits(st: State, main: PrecisionResult | undefined, context: number) {
  if (!main || !st.copy) return null;
  const prof = main.profile;
  const us = st.dispatch?.usPerNode ?? null;
  const at = (b: number) => main.timings.find((t) => t.batch === b && t.capacity === context);
  const bw = main.bandwidth.filter((b) => b.capacity === context).sort((a, b) => b.batch - a.batch)[0];
  const floorMs = bw ? (bw.bytesPerStep / st.copy.bytesPerSecond) * 1000 : null;
  const dispatchMs = prof && us !== null ? round((prof.nodesPerStep * us) / 1000, 1) : null;
  // Device time of the matrix products (MatMul, Gemm, MatMulNBits) per profiled frame.
  const matmulMs = prof ? round(prof.deviceKernels.filter((k) => /^(MatMul|Gemm)/.test(k.name)).reduce((a, k) => a + k.ms, 0) / prof.steps, 1) : null;
  const profBw = prof ? main.bandwidth.find((b) => b.batch === prof.batch) : undefined;
  const profBytesGB = profBw ? profBw.bytesPerStep / 1e9 : null;
  return {
    nodesPerFrame: prof?.nodesPerStep ?? null,
    dispatchUsPerKernel: us,
    dispatchMsPerFrame: dispatchMs,
    deviceKernelMsPerFrame: prof ? { batch: prof.batch, ms: prof.deviceMsPerStep, matrixProductsMs: matmulMs, unprofiledFrameMs: at(prof.batch)?.meanMs ?? null } : null,
    frameMsAtBatch1: at(1)?.meanMs ?? null,
    bytesPerFrame: bw ? { batch: bw.batch, bytes: bw.bytesPerStep, floorMsAtCopyBandwidth: floorMs === null ? null : round(floorMs, 1), measuredMs: at(bw.batch)?.meanMs ?? null } : null,
    notes: [
      `Each frame executes ${prof?.nodesPerStep ?? '?'} onnxruntime nodes (the temporal graph, then the depformer frame graph with its ${presetLmConfig(args.preset!).dep_q} codebook steps and their sampling); at ${us ?? '?'} us of host time per dispatch (measured on a chain of tiny Adds) that is about ${dispatchMs ?? '?'} ms per frame whatever the batch, against ${at(1)?.meanMs ?? '?'} ms measured at batch 1 and a ${round(((main.weightBytes.temporal + main.weightBytes.depformer) / st.copy.bytesPerSecond) * 1000, 1)} ms weight-read floor at this run's copy bandwidth: ${dispatchMs !== null && at(1) && dispatchMs > 0.5 * at(1)!.meanMs ? 'per-kernel dispatch dominates the batch-1 frame' : 'dispatch is not the main cost at batch 1'}.`,
      `Profiled at batch ${prof?.batch ?? '?'} (WebGPU timestamp queries, which add their own cost): ${prof?.deviceMsPerStep ?? '?'} ms of kernel time per frame, ${matmulMs ?? '?'} ms of it in matrix products, which read ${profBytesGB === null ? '?' : profBytesGB.toFixed(1)} GB (weights + KV cache) per frame: ${matmulMs ? Math.round(((profBytesGB ?? 0) / matmulMs) * 1000) : '?'} GB/s, against ${(st.copy.bytesPerSecond / 2e9).toFixed(0)} GB/s read by the copy probe.`,
      `At batch ${bw?.batch ?? '?'} a frame must read ${bw ? (bw.bytesPerStep / 1e9).toFixed(1) : '?'} GB (weights + every row's KV ring), ${floorMs === null ? '?' : round(floorMs, 1)} ms at this run's copy bandwidth; it took ${bw ? at(bw.batch)?.meanMs : '?'} ms, ${bw ? Math.round(100 * bw.fraction) : '?'}% of copy bandwidth (per-operator times in precisions[].profile).`,
      'What would reach 32 sessions: far fewer kernels per frame (a fused attention kernel over the ring, fused QKV + RoPE, the per-layer norms and residual adds fused), decode-shaped kernels that read the weights and the float16 KV ring at bandwidth, or the CUDA provider on the same graphs (few-microsecond launches, cuBLAS). WebGPU graph capture does work from onnxruntime-node with preallocated outputs, but on a chain of 400 tiny kernels it saved 2-23% (bench/results/gpu-probe-2026-11-23.json): the per-kernel cost is not mostly host-side encoding.',
    ],
  };
}
