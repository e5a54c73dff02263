import type ort from 'onnxruntime-node';
import { KvRing } from '../runtime/kv-ring.js';
import { causalBias, ropeTables } from '../runtime/rope-tables.js';
import { createSession, f32, i64, outputF32, type SessionOptions } from '../onnx/session.js';
import { lmDims, type LmConfig, type LmDims } from './config.js';
import { runDepformerFrame, type AudioDraws } from './depformer-frame.js';
import { mobaBlocks, type MobaOptions } from './moba/blocks.js';
import { PastScratch, pastBias, prefillPast, writeSlot } from './prefill-cache.js';

export interface LmGraphs {
  temporal: Uint8Array | string;
  depformer: (Uint8Array | string)[];
  /** The depformer's whole frame with sampling (depformer-frame-graph.ts); needed by depformerFrame. */
  depformerFrame?: Uint8Array | string;
  /** Prefill graphs (prefill-graph.ts), full attention and MoBA; optional. */
  prefill?: Uint8Array | string;
  prefillMoba?: Uint8Array | string;
}

interface PrefillSessions {
  full: ort.InferenceSession | null;
  moba: ort.InferenceSession | null;
}

export interface TemporalResult {
  /** [rows, T, D] */
  hidden: Float32Array;
  /** [rows, T, text_card] */
  textLogits: Float32Array;
}

/**
 * Runs the LM graphs for a batch made of the first `rows` slots, keeping each
 * slot's temporal KV cache (a ring of `context` frames) and the depformer's
 * per-frame cache outside the graphs.
 */
export class LmRunner {
  readonly dims: LmDims;
  readonly temporalCache: KvRing;
  readonly depCache: KvRing;
  /** Prefill's copy of a not-yet-wrapped past (one slot's worth), allocated on the first prefill. */
  private pastScratch: PastScratch | null = null;
  private constructor(
    readonly config: LmConfig,
    readonly slots: number,
    private readonly temporal: ort.InferenceSession,
    private readonly depformer: ort.InferenceSession[],
    private readonly prefillSessions: PrefillSessions = { full: null, moba: null },
    private readonly frame: ort.InferenceSession | null = null,
  ) {
    this.dims = lmDims(config);
    const d = this.dims;
    this.temporalCache = new KvRing(d.layers, slots, d.heads, d.dimPerHead, config.context);
    this.depCache = new KvRing(d.depLayers, slots, d.depHeads, d.depDimPerHead, d.depQ);
  }

  static async create(config: LmConfig, graphs: LmGraphs, slots: number, opts: SessionOptions): Promise<LmRunner> {
    const temporal = await createSession(graphs.temporal, opts);
    const dep: ort.InferenceSession[] = [];
    for (const g of graphs.depformer) dep.push(await createSession(g, opts));
    const prefill: PrefillSessions = {
      full: graphs.prefill ? await createSession(graphs.prefill, opts) : null,
      moba: graphs.prefillMoba ? await createSession(graphs.prefillMoba, opts) : null,
    };
    const frame = graphs.depformerFrame ? await createSession(graphs.depformerFrame, opts) : null;
    return new LmRunner(config, slots, temporal, dep, prefill, frame);
  }

  /** Bytes of KV cache held per session. */
  get bytesPerSlot(): number {
    return this.temporalCache.bytesPerSlot + this.depCache.bytesPerSlot;
  }

  resetSlot(slot: number): void {
    this.temporalCache.reset(slot);
    this.depCache.reset(slot);
  }

  moveSlot(from: number, to: number): void {
    this.temporalCache.move(from, to);
  }

  /**
   * One temporal pass over T new frames per row. `indices` are embedding-table
   * rows [rows, T, streams]. Rows with exec[r] = 0 are computed but their
   * cache is left as it was.
   */
  async temporalStep(rows: number, T: number, indices: BigInt64Array, exec?: Uint8Array): Promise<TemporalResult> {
    const d = this.dims;
    const C = this.config.context;
    const cache = this.temporalCache;
    const rope = ropeTables(cache.positions, rows, T, d.dimPerHead, this.config.max_period);
    const feeds: Record<string, ort.Tensor> = {
      tokens: i64(indices, [rows, T, d.streams]),
      rope_cos: f32(rope.cos, [rows, 1, T, d.dimPerHead / 2, 1]),
      rope_sin: f32(rope.sin, [rows, 1, T, d.dimPerHead / 2, 1]),
      past_bias: f32(cache.bias(rows, T), [rows, 1, T, C]),
      self_bias: f32(causalBias(T, C), [1, 1, T, T]),
    };
    for (let l = 0; l < d.layers; l++) {
      feeds[`past_k_${l}`] = f32(cache.keyView(l, rows), [rows, d.heads, C, d.dimPerHead]);
      feeds[`past_v_${l}`] = f32(cache.valueView(l, rows), [rows, d.heads, C, d.dimPerHead]);
    }
    const out = await this.temporal.run(feeds);
    for (let l = 0; l < d.layers; l++) {
      cache.write(l, rows, T, outputF32(out, `new_k_${l}`), outputF32(out, `new_v_${l}`), exec);
    }
    cache.advance(rows, T, exec);
    return { hidden: outputF32(out, 'hidden'), textLogits: outputF32(out, 'text_logits') };
  }

  /** Whether this runner has the prefill graph for full attention, or for MoBA. */
  canPrefill(moba: boolean): boolean {
    return (moba ? this.prefillSessions.moba : this.prefillSessions.full) !== null;
  }

  /**
   * One prefill pass over T known frames of slot `slot` alone, through the
   * prefill graph (MoBA's when `moba` is set): the frames' keys/values go
   * into the slot's cache, other slots are untouched. Returns the last
   * frame's hidden state [1, 1, D] and text logits [1, 1, text_card].
   */
  async prefillStep(slot: number, T: number, indices: BigInt64Array, moba: MobaOptions | null = null): Promise<TemporalResult> {
    const session = moba ? this.prefillSessions.moba : this.prefillSessions.full;
    if (!session) throw new Error(missingPrefillGraph(moba !== null));
    const d = this.dims;
    const C = this.config.context;
    const cache = this.temporalCache;
    const p = cache.positions[slot]!;
    this.pastScratch ??= new PastScratch(cache);
    const past = prefillPast(cache, slot, this.pastScratch);
    const P = past.length;
    const rope = ropeTables([p], 1, T, d.dimPerHead, this.config.max_period);
    const feeds: Record<string, ort.Tensor> = {
      tokens: i64(indices, [1, T, d.streams]),
      rope_cos: f32(rope.cos, [1, 1, T, d.dimPerHead / 2, 1]),
      rope_sin: f32(rope.sin, [1, 1, T, d.dimPerHead / 2, 1]),
      past_bias: f32(pastBias(past.positions, p, T, C), [1, 1, T, P]),
      self_bias: f32(causalBias(T, C), [1, 1, T, T]),
    };
    for (let l = 0; l < d.layers; l++) {
      feeds[`past_k_${l}`] = f32(past.keys(l), [1, d.heads, P, d.dimPerHead]);
      feeds[`past_v_${l}`] = f32(past.values(l), [1, d.heads, P, d.dimPerHead]);
    }
    if (moba) {
      const blocks = mobaBlocks(past.positions, p, T, moba.blockSize, C);
      feeds['moba_past_block'] = i64(blocks.past, [1, P]);
      feeds['moba_new_block'] = i64(blocks.fresh, [1, T]);
      feeds['moba_top_k'] = i64(BigInt64Array.of(BigInt(moba.topK)), [1]);
    }
    const out = await session.run(feeds);
    writeSlot(cache, slot, T, (l) => outputF32(out, `new_k_${l}`), (l) => outputF32(out, `new_v_${l}`));
    return { hidden: outputF32(out, 'hidden'), textLogits: outputF32(out, 'text_logits') };
  }

  /** Restarts the depformer cache of the first `rows` slots (once per frame). */
  beginDepformer(rows: number): void {
    for (let r = 0; r < rows; r++) this.depCache.reset(r);
  }

  /** Depformer step for codebook k: returns logits [rows, card]. */
  async depformerStep(k: number, rows: number, hidden: Float32Array, prevTokens: BigInt64Array): Promise<Float32Array> {
    const d = this.dims;
    const Q = d.depQ;
    const cache = this.depCache;
    const feeds: Record<string, ort.Tensor> = {
      hidden: f32(hidden, [rows, d.dim]),
      prev_token: i64(prevTokens, [rows]),
      past_bias: f32(cache.bias(rows, 1), [rows, 1, 1, Q]),
    };
    for (let l = 0; l < d.depLayers; l++) {
      feeds[`past_k_${l}`] = f32(cache.keyView(l, rows), [rows, d.depHeads, Q, d.depDimPerHead]);
      feeds[`past_v_${l}`] = f32(cache.valueView(l, rows), [rows, d.depHeads, Q, d.depDimPerHead]);
    }
    const out = await this.depformer[k]!.run(feeds);
    for (let l = 0; l < d.depLayers; l++) {
      cache.write(l, rows, 1, outputF32(out, `new_k_${l}`), outputF32(out, `new_v_${l}`));
    }
    cache.advance(rows, 1);
    return outputF32(out, 'logits');
  }

  /** The depformer's whole frame, sampling in the graph: audio tokens [rows, Q]. */
  async depformerFrame(rows: number, hidden: Float32Array, textTokens: Int32Array, draws: AudioDraws): Promise<Int32Array> {
    return runDepformerFrame(this.frame, 'LmRunner', this.config, rows, hidden, textTokens, draws);
  }

  async release(): Promise<void> {
    await this.frame?.release();
    await this.temporal.release();
    for (const s of this.depformer) await s.release();
    await this.prefillSessions.full?.release();
    await this.prefillSessions.moba?.release();
  }
}

export function missingPrefillGraph(moba: boolean): string {
  return `this LmRunner was created without the ${moba ? 'prefillMoba' : 'prefill'} graph (LmGraphs.${moba ? 'prefillMoba' : 'prefill'})`;
}
