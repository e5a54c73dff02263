import type ort from 'onnxruntime-node';
import type { WeightSource } from '../checkpoint/weights.js';
import type { GraphDef } from '../onnx/graph-builder.js';
import { encodeModel } from '../onnx/serialize.js';
import { createSession, f32, i32, i64, outputF32, type SessionOptions } from '../onnx/session.js';
import { ropeTables } from '../runtime/rope-tables.js';
import { buildFillGraph, buildGatherRowsGraph } from './gpu/cache-graphs.js';
import { RingBook } from './gpu/ring-book.js';
import { buildGpuDepformerGraph, DEP_IO, depNoneRow } from './gpu/depformer-graph.js';
import { inlineOutputs } from './gpu/inline-outputs.js';
import { actBytes, actType, type Precision } from './gpu/precision.js';
import { buildGpuTemporalGraph, TEMPORAL_IO } from './gpu/temporal-graph.js';
import type { StorageWeights } from './gpu/weights.js';
import { lmDims, type LmConfig, type LmDims } from './config.js';
import { embeddingLayout } from './embeddings.js';
import type { TemporalResult } from './lm-runner.js';
import { runDepformerFrame, type AudioDraws } from './depformer-frame.js';
import { buildDepformerFrameGraph } from './depformer-frame-graph.js';

export interface GpuLmGraphs {
  temporal: Uint8Array | string;
  depformer: (Uint8Array | string)[];
  /** The depformer's whole frame with sampling (depformer-frame-graph.ts); needed by depformerFrame. */
  depformerFrame?: Uint8Array | string;
  precision: Precision;
}

export interface GpuRunnerOptions {
  /** Ring length C (default and most: the model's context). */
  capacity?: number;
  /** onnxruntime profile file prefix for the model sessions. */
  profilePrefix?: string;
}

/** Builds the device graphs (see gpu/temporal-graph.ts and gpu/depformer-graph.ts). */
export function buildGpuLmGraphs(cfg: LmConfig, src: WeightSource, store: StorageWeights): { temporal: GraphDef; depformer: GraphDef[]; depformerFrame: GraphDef } {
  return {
    temporal: inlineOutputs(buildGpuTemporalGraph(cfg, src, store)),
    depformer: Array.from({ length: cfg.dep_q }, (_, k) => inlineOutputs(buildGpuDepformerGraph(cfg, src, store, k))),
    depformerFrame: inlineOutputs(buildDepformerFrameGraph(cfg, src, store)),
  };
}

interface CacheSessions {
  fill: ort.InferenceSession;
  gather: ort.InferenceSession;
}

const GPU_OUT = 'gpu-buffer' as const;

/**
 * LmRunner's counterpart with every cache on the device. The temporal KV
 * cache is a ring per layer that the graph updates in place (see
 * gpu/temporal-graph.ts): each ring is fed as an input and passed as the
 * preallocated buffer of its output. That takes onnxruntime-node's plain run
 * path, which honours preallocated outputs; a session with
 * preferredOutputLocation goes through IO binding, which ignores them, so the
 * temporal session has none. The depformer's per-frame cache stays inside its
 * frame graph. Only tokens, position tables, the attention bias, slots,
 * hidden states and logits cross to the host. On the CPU provider the same
 * code runs with host tensors (for tests).
 *
 * The device graphs take one frame per row and always the whole batch of
 * `slots` rows (rows past `rows` are padding); `temporalStep` with T > 1 runs
 * T steps.
 */
export class GpuLmRunner {
  readonly dims: LmDims;
  private book: RingBook;
  private readonly ringK: ort.Tensor[] = [];
  private readonly ringV: ort.Tensor[] = [];
  private dep: { k: ort.Tensor[]; v: ort.Tensor[] } | null = null;
  private readonly depformer: (ort.InferenceSession | undefined)[] = [];
  /** Pending slot moves: new row i takes the current row perm[i]; applied before the next step. */
  private perm: Int32Array | null = null;

  private constructor(
    readonly config: LmConfig,
    private slotCount: number,
    readonly precision: Precision,
    private readonly temporal: ort.InferenceSession,
    /** Per-codebook graphs (teacher-forced logits, for parity and tests), opened on first use: serving needs only the frame graph, and each copy of the weights costs device memory. */
    private readonly depformerGraphs: (Uint8Array | string)[],
    private readonly opts: SessionOptions,
    private readonly cache: CacheSessions,
    capacity: number,
    private readonly frame: ort.InferenceSession | null,
    private readonly profilePrefix: string | undefined,
  ) {
    this.dims = lmDims(config);
    if (!temporal.inputNames.includes(TEMPORAL_IO.ringK(0))) {
      throw new Error('GpuLmRunner: the temporal graph has no in-place cache rings (it was converted by an older version: convert the model again)');
    }
    this.book = new RingBook(slotCount, capacity, config.context);
  }

  static async create(config: LmConfig, graphs: GpuLmGraphs, slots: number, opts: SessionOptions, gopts: GpuRunnerOptions = {}): Promise<GpuLmRunner> {
    const d = lmDims(config);
    const act = actType(graphs.precision);
    const extras = (outs: string[]) => ({ preferredOutputLocation: Object.fromEntries(outs.map((o) => [o, GPU_OUT])), profilePrefix: gopts.profilePrefix });
    // No preferredOutputLocation: the rings come back through preallocated outputs (see the class comment).
    const temporal = await createSession(graphs.temporal, opts, { profilePrefix: gopts.profilePrefix });
    const small = (g: GraphDef) => createSession(encodeModel(inlineOutputs(g)), opts, { preferredOutputLocation: { out: GPU_OUT } });
    const cache: CacheSessions = { fill: await small(buildFillGraph(act)), gather: await small(buildGatherRowsGraph(act)) };
    const frame = graphs.depformerFrame ? await createSession(graphs.depformerFrame, opts, extras([])) : null;
    const runner = new GpuLmRunner(config, slots, graphs.precision, temporal, graphs.depformer, opts, cache, gopts.capacity ?? config.context, frame, gopts.profilePrefix);
    await runner.allocate();
    return runner;
  }

  get slots(): number {
    return this.slotCount;
  }

  /** Ring length C. */
  get capacity(): number {
    return this.book.capacity;
  }

  /** Bytes of KV cache held per session on the device. */
  get bytesPerSlot(): number {
    const d = this.dims;
    return d.layers * 2 * d.heads * d.dimPerHead * this.capacity * actBytes(this.precision);
  }

  /** Drops every cache and starts again with `slots` rows and a ring of `capacity` frames (benchmarks). */
  async reallocate(slots: number, capacity = this.config.context): Promise<void> {
    this.disposeCaches();
    this.slotCount = slots;
    this.book = new RingBook(slots, capacity, this.config.context);
    this.perm = null;
    await this.allocate();
  }

  resetSlot(slot: number): void {
    this.book.reset(slot);
  }

  moveSlot(from: number, to: number): void {
    if (from === to) return;
    this.book.move(from, to);
    const perm = this.perm ?? Int32Array.from({ length: this.slotCount }, (_, i) => i);
    perm[to] = perm[from]!;
    this.perm = perm;
  }

  /**
   * T new frames per row for the first `rows` slots (indices [rows, T,
   * streams]); rows with exec[r] = 0 are computed but keep their cache and
   * position.
   */
  async temporalStep(rows: number, T: number, indices: BigInt64Array, exec?: Uint8Array): Promise<TemporalResult> {
    if (rows > this.slotCount) throw new Error(`GpuLmRunner: ${rows} rows for ${this.slotCount} slots`);
    const S = this.dims.streams;
    if (T === 1) return this.step(rows, indices, exec);
    const D = this.dims.dim;
    const Tc = this.dims.textCard;
    const hidden = new Float32Array(rows * T * D);
    const textLogits = new Float32Array(rows * T * Tc);
    const frame = new BigInt64Array(rows * S);
    for (let t = 0; t < T; t++) {
      for (let r = 0; r < rows; r++) frame.set(indices.subarray((r * T + t) * S, (r * T + t + 1) * S), r * S);
      const out = await this.step(rows, frame, exec);
      for (let r = 0; r < rows; r++) {
        hidden.set(out.hidden.subarray(r * D, (r + 1) * D), (r * T + t) * D);
        textLogits.set(out.textLogits.subarray(r * Tc, (r + 1) * Tc), (r * T + t) * Tc);
      }
    }
    return { hidden, textLogits };
  }

  /** Restarts the depformer cache (once per frame). */
  beginDepformer(_rows: number): void {
    this.disposeDep();
  }

  /** Depformer step for codebook k: returns logits [rows, card]. */
  async depformerStep(k: number, rows: number, hidden: Float32Array, prevTokens: BigInt64Array): Promise<Float32Array> {
    const d = this.dims;
    const none = BigInt(depNoneRow(this.config, k));
    const index = new BigInt64Array(rows);
    for (let r = 0; r < rows; r++) index[r] = prevTokens[r]! < 0n ? none : prevTokens[r]!;
    const feeds: Record<string, ort.Tensor> = {
      hidden: f32(hidden.subarray(0, rows * d.dim), [rows, d.dim]),
      emb_index: i64(index, [rows]),
    };
    if (k > 0) {
      if (!this.dep) throw new Error(`depformer step ${k} before step ${k - 1}`);
      for (let l = 0; l < d.depLayers; l++) {
        feeds[DEP_IO.pastK(l)] = this.dep.k[l]!;
        feeds[DEP_IO.pastV(l)] = this.dep.v[l]!;
      }
    }
    const out = await (await this.depformerSession(k)).run(feeds);
    this.disposeDep();
    if (k < d.depQ - 1) {
      const take = (name: (l: number) => string) => Array.from({ length: d.depLayers }, (_, l) => out[name(l)]!);
      this.dep = { k: take(DEP_IO.presentK), v: take(DEP_IO.presentV) };
    }
    return outputF32(out, 'logits');
  }

  private async depformerSession(k: number): Promise<ort.InferenceSession> {
    const open = this.depformer[k];
    if (open) return open;
    const d = this.dims;
    const outs = k === d.depQ - 1 ? [] : Array.from({ length: d.depLayers }, (_, l) => [DEP_IO.presentK(l), DEP_IO.presentV(l)]).flat();
    const session = await createSession(this.depformerGraphs[k]!, this.opts, { preferredOutputLocation: Object.fromEntries(outs.map((o) => [o, GPU_OUT])), profilePrefix: this.profilePrefix });
    this.depformer[k] = session;
    return session;
  }

  /** The depformer's whole frame, sampling in the graph: audio tokens [rows, Q]. Only they cross back to the host. */
  async depformerFrame(rows: number, hidden: Float32Array, textTokens: Int32Array, draws: AudioDraws): Promise<Int32Array> {
    return runDepformerFrame(this.frame, 'GpuLmRunner', this.config, rows, hidden, textTokens, draws);
  }

  /** Ends profiling on the model sessions (their traces are written then). */
  async endProfiling(): Promise<void> {
    await this.temporal.endProfiling();
    for (const s of this.depformer) await s?.endProfiling();
    await this.frame?.endProfiling();
  }

  async release(): Promise<void> {
    await this.frame?.release();
    this.disposeCaches();
    await this.temporal.release();
    for (const s of this.depformer) await s?.release();
    await this.cache.fill.release();
    await this.cache.gather.release();
  }

  private async step(rows: number, indices: BigInt64Array, exec?: Uint8Array): Promise<TemporalResult> {
    await this.applyMoves();
    const d = this.dims;
    const B = this.slotCount;
    const S = d.streams;
    const C = this.capacity;
    const tokens = new BigInt64Array(B * S).fill(BigInt(embeddingLayout(d).zeroRow));
    tokens.set(indices.subarray(0, rows * S));
    const ex = new Uint8Array(B);
    for (let r = 0; r < rows; r++) ex[r] = exec ? (exec[r]! ? 1 : 0) : 1;
    const rope = ropeTables(this.book.positions, B, 1, d.dimPerHead, this.config.max_period);
    const feeds: Record<string, ort.Tensor> = {
      tokens: i64(tokens, [B, 1, S]),
      rope_cos: f32(rope.cos, [B, 1, 1, d.dimPerHead / 2, 1]),
      rope_sin: f32(rope.sin, [B, 1, 1, d.dimPerHead / 2, 1]),
      row_ids: i64(BigInt64Array.from({ length: B }, (_, r) => BigInt(r)), [B, 1]),
      bias: f32(this.book.bias, [B, 1, 1, C]),
      slot: i32(this.book.slot, [B, 1, 1, 1]),
    };
    const fetches: Record<string, ort.Tensor | null> = { hidden: null, text_logits: null };
    for (let l = 0; l < d.layers; l++) {
      feeds[TEMPORAL_IO.ringK(l)] = this.ringK[l]!;
      feeds[TEMPORAL_IO.ringV(l)] = this.ringV[l]!;
      fetches[TEMPORAL_IO.ringKOut(l)] = this.ringK[l]!;
      fetches[TEMPORAL_IO.ringVOut(l)] = this.ringV[l]!;
    }
    const out = await this.temporal.run(feeds, fetches);
    // The returned ring tensors are views of the buffers fed in; releasing a view leaves the buffer alone.
    for (let l = 0; l < d.layers; l++) {
      out[TEMPORAL_IO.ringKOut(l)]?.dispose();
      out[TEMPORAL_IO.ringVOut(l)]?.dispose();
    }
    this.book.advance(ex);
    return {
      hidden: outputF32(out, 'hidden').subarray(0, rows * d.dim),
      textLogits: outputF32(out, 'text_logits').subarray(0, rows * d.textCard),
    };
  }

  private async applyMoves(): Promise<void> {
    const perm = this.perm;
    if (!perm) return;
    this.perm = null;
    const rows = i64(BigInt64Array.from(perm, (v) => BigInt(v)), [perm.length]);
    for (const list of [this.ringK, this.ringV]) {
      for (let l = 0; l < list.length; l++) {
        const moved = (await this.cache.gather.run({ x: list[l]!, rows }))['out']!;
        list[l]!.dispose();
        list[l] = moved;
      }
    }
  }

  private async allocate(): Promise<void> {
    const d = this.dims;
    const B = this.slotCount;
    const zeros = async (shape: number[]) => (await this.cache.fill.run({ shape: i64(BigInt64Array.from(shape, (v) => BigInt(v)), [4]) }))['out']!;
    for (let l = 0; l < d.layers; l++) {
      this.ringK.push(await zeros([B, d.heads, d.dimPerHead, this.capacity]));
      this.ringV.push(await zeros([B, d.heads, this.capacity, d.dimPerHead]));
    }
  }

  private disposeCaches(): void {
    for (const list of [this.ringK, this.ringV]) {
      for (const t of list) t.dispose();
      list.length = 0;
    }
    this.disposeDep();
  }

  private disposeDep(): void {
    if (!this.dep) return;
    for (const t of [...this.dep.k, ...this.dep.v]) t.dispose();
    this.dep = null;
  }
}
