import type ort from 'onnxruntime-node';
import type { WeightSource } from '../checkpoint/weights.js';
import type { GraphDef } from '../onnx/graph-builder.js';
import { encodeModel } from '../onnx/serialize.js';
import { createSession, f32, i64, outputF32, type SessionOptions } from '../onnx/session.js';
import { ropeTables } from '../runtime/rope-tables.js';
import { buildFillGraph, buildGatherRowsGraph, buildMergeGraph, type MergeAt } from './gpu/cache-graphs.js';
import { CacheBook, foldGroupOf, foldPhase } from './gpu/cache-book.js';
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
  /** Window length N the temporal graph was built with (divides the ring length). */
  window: number;
}

export interface GpuRunnerOptions {
  /** Ring length C (default: the model's context); a multiple of the window. */
  capacity?: number;
  /** onnxruntime profile file prefix for the model sessions. */
  profilePrefix?: string;
}

/** Builds the device graphs (see gpu/temporal-graph.ts and gpu/depformer-graph.ts). */
export function buildGpuLmGraphs(cfg: LmConfig, src: WeightSource, store: StorageWeights, window: number): { temporal: GraphDef; depformer: GraphDef[]; depformerFrame: GraphDef } {
  return {
    temporal: inlineOutputs(buildGpuTemporalGraph(cfg, src, store, window)),
    depformer: Array.from({ length: cfg.dep_q }, (_, k) => inlineOutputs(buildGpuDepformerGraph(cfg, src, store, k))),
    depformerFrame: inlineOutputs(buildDepformerFrameGraph(cfg, src, store)),
  };
}

interface CacheSessions {
  fill: ort.InferenceSession;
  gather: ort.InferenceSession;
  merge: Map<MergeAt, ort.InferenceSession>;
}

const GPU_OUT = 'gpu-buffer' as const;

/**
 * LmRunner's counterpart with every cache on the device: the temporal KV
 * cache (a ring plus a window, see gpu/temporal-graph.ts) and the
 * depformer's per-frame cache are graph outputs kept as device buffers
 * ('gpu-buffer' on WebGPU) and fed back as inputs. Only tokens, position
 * tables, the attention bias, hidden states and logits cross to the host.
 * On the CPU provider the same code runs with host tensors (for tests).
 *
 * The device graphs take one frame per row and always the whole batch of
 * `slots` rows (rows past `rows` are padding); `temporalStep` with T > 1 runs
 * T steps.
 */
export class GpuLmRunner {
  readonly dims: LmDims;
  /** One per fold group (temporal-graph.ts), all at the same positions, each folding on its own steps. */
  private books: CacheBook[];
  private readonly foldGroups: number;
  private readonly bigK: ort.Tensor[] = [];
  private readonly bigV: ort.Tensor[] = [];
  private readonly winK: ort.Tensor[] = [];
  private readonly winV: ort.Tensor[] = [];
  private dep: { k: ort.Tensor[]; v: ort.Tensor[] } | null = null;
  private readonly depformer: (ort.InferenceSession | undefined)[] = [];
  /** Pending slot moves: new row i takes the current row perm[i]; applied before the next step. */
  private perm: Int32Array | null = null;

  private constructor(
    readonly config: LmConfig,
    private slotCount: number,
    readonly precision: Precision,
    readonly window: number,
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
    // The graph has one bias per fold group.
    this.foldGroups = temporal.inputNames.filter((n) => n.startsWith('bias_')).length;
    if (this.foldGroups < 1) throw new Error('GpuLmRunner: the temporal graph has no bias_<g> inputs (convert the model again with this version)');
    this.books = this.newBooks(slotCount, capacity);
  }

  private newBooks(slots: number, capacity: number): CacheBook[] {
    return Array.from({ length: this.foldGroups }, (_, g) => new CacheBook(slots, capacity, this.window, this.config.context, foldPhase(g, this.foldGroups, this.window)));
  }

  static async create(config: LmConfig, graphs: GpuLmGraphs, slots: number, opts: SessionOptions, gopts: GpuRunnerOptions = {}): Promise<GpuLmRunner> {
    const d = lmDims(config);
    const act = actType(graphs.precision);
    const extras = (outs: string[]) => ({ preferredOutputLocation: Object.fromEntries(outs.map((o) => [o, GPU_OUT])), profilePrefix: gopts.profilePrefix });
    const winOuts = Array.from({ length: d.layers }, (_, l) => [TEMPORAL_IO.winKOut(l), TEMPORAL_IO.winVOut(l)]).flat();
    const temporal = await createSession(graphs.temporal, opts, extras(winOuts));
    const small = (g: GraphDef, outs = ['out']) => createSession(encodeModel(inlineOutputs(g)), opts, { preferredOutputLocation: Object.fromEntries(outs.map((o) => [o, GPU_OUT])) });
    const merge = new Map<MergeAt, ort.InferenceSession>();
    for (const at of ['first', 'middle', 'last'] as const) merge.set(at, await small(buildMergeGraph(act, graphs.window, at), ['out_k', 'out_v']));
    const cache: CacheSessions = { fill: await small(buildFillGraph(act)), gather: await small(buildGatherRowsGraph(act)), merge };
    const frame = graphs.depformerFrame ? await createSession(graphs.depformerFrame, opts, extras([])) : null;
    const runner = new GpuLmRunner(config, slots, graphs.precision, graphs.window, temporal, graphs.depformer, opts, cache, gopts.capacity ?? config.context, frame, gopts.profilePrefix);
    await runner.allocate();
    return runner;
  }

  get slots(): number {
    return this.slotCount;
  }

  /** Ring length C. */
  get capacity(): number {
    return this.books[0]!.capacity;
  }

  /** Bytes of KV cache held per session on the device. */
  get bytesPerSlot(): number {
    const d = this.dims;
    return d.layers * 2 * d.heads * d.dimPerHead * (this.capacity + this.window) * actBytes(this.precision);
  }

  /** Drops every cache and starts again with `slots` rows and a ring of `capacity` frames (benchmarks). */
  async reallocate(slots: number, capacity = this.config.context): Promise<void> {
    this.disposeCaches();
    this.slotCount = slots;
    this.books = this.newBooks(slots, capacity);
    this.perm = null;
    await this.allocate();
  }

  resetSlot(slot: number): void {
    for (const book of this.books) book.reset(slot);
  }

  moveSlot(from: number, to: number): void {
    if (from === to) return;
    for (const book of this.books) book.move(from, to);
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
    for (const s of this.cache.merge.values()) await s.release();
  }

  private async step(rows: number, indices: BigInt64Array, exec?: Uint8Array): Promise<TemporalResult> {
    await this.applyMoves();
    const d = this.dims;
    const B = this.slotCount;
    const S = d.streams;
    const tokens = new BigInt64Array(B * S).fill(BigInt(embeddingLayout(d).zeroRow));
    tokens.set(indices.subarray(0, rows * S));
    const ex = new Uint8Array(B);
    for (let r = 0; r < rows; r++) ex[r] = exec ? (exec[r]! ? 1 : 0) : 1;
    const rope = ropeTables(this.books[0]!.positions, B, 1, d.dimPerHead, this.config.max_period);
    const W = this.capacity + this.window;
    const feeds: Record<string, ort.Tensor> = {
      tokens: i64(tokens, [B, 1, S]),
      rope_cos: f32(rope.cos, [B, 1, 1, d.dimPerHead / 2, 1]),
      rope_sin: f32(rope.sin, [B, 1, 1, d.dimPerHead / 2, 1]),
      ring_len: i64(BigInt64Array.of(BigInt(this.capacity)), [1]),
      row_ids: i64(BigInt64Array.from({ length: B }, (_, r) => BigInt(r)), [B, 1]),
    };
    this.books.forEach((book, g) => (feeds[TEMPORAL_IO.bias(g)] = f32(book.bias(), [B, 1, 1, W])));
    for (let l = 0; l < d.layers; l++) {
      feeds[TEMPORAL_IO.bigK(l)] = this.bigK[l]!;
      feeds[TEMPORAL_IO.bigV(l)] = this.bigV[l]!;
      feeds[TEMPORAL_IO.winK(l)] = this.winK[l]!;
      feeds[TEMPORAL_IO.winV(l)] = this.winV[l]!;
    }
    const out = await this.temporal.run(feeds);
    for (let l = 0; l < d.layers; l++) {
      this.winK[l]!.dispose();
      this.winV[l]!.dispose();
      this.winK[l] = out[TEMPORAL_IO.winKOut(l)]!;
      this.winV[l] = out[TEMPORAL_IO.winVOut(l)]!;
    }
    for (let g = 0; g < this.books.length; g++) {
      const at = this.books[g]!.advance(ex);
      if (at !== null) await this.fold(g, at);
    }
    return {
      hidden: outputF32(out, 'hidden').subarray(0, rows * d.dim),
      textLogits: outputF32(out, 'text_logits').subarray(0, rows * d.textCard),
    };
  }

  /** Writes fold group g's windows into its rings at `at`, one layer at a time (peak extra memory: one layer's rings). */
  private async fold(g: number, at: number): Promise<void> {
    const C = this.capacity;
    const N = this.window;
    const where: MergeAt = at === 0 ? 'first' : at === C - N ? 'last' : 'middle';
    const offsets: Record<string, ort.Tensor> = where === 'middle' ? { at: i64(BigInt64Array.of(BigInt(at)), [1]), at_end: i64(BigInt64Array.of(BigInt(at + N)), [1]) } : {};
    const merge = this.cache.merge.get(where)!;
    for (let l = 0; l < this.dims.layers; l++) {
      if (foldGroupOf(l, this.dims.layers, this.foldGroups) !== g) continue;
      const out = await merge.run({ big_k: this.bigK[l]!, win_k: this.winK[l]!, big_v: this.bigV[l]!, win_v: this.winV[l]!, ...offsets });
      this.bigK[l]!.dispose();
      this.bigV[l]!.dispose();
      this.bigK[l] = out['out_k']!;
      this.bigV[l] = out['out_v']!;
    }
    this.books[g]!.merged(at);
  }

  private async applyMoves(): Promise<void> {
    const perm = this.perm;
    if (!perm) return;
    this.perm = null;
    const rows = i64(BigInt64Array.from(perm, (v) => BigInt(v)), [perm.length]);
    for (const list of [this.bigK, this.bigV, this.winK, this.winV]) {
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
      this.bigK.push(await zeros([B, d.heads, d.dimPerHead, this.capacity]));
      this.bigV.push(await zeros([B, d.heads, this.capacity, d.dimPerHead]));
      this.winK.push(await zeros([B, d.heads, d.dimPerHead, this.window]));
      this.winV.push(await zeros([B, d.heads, this.window, d.dimPerHead]));
    }
  }

  private disposeCaches(): void {
    for (const list of [this.bigK, this.bigV, this.winK, this.winV]) {
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
