import type ort from 'onnxruntime-node';
import { createSession, defaultSessionOptions, f32, i64, outputF32, type SessionOptions } from '../onnx/session.js';
import { KvRing } from '../runtime/kv-ring.js';
import { ropeTables } from '../runtime/rope-tables.js';
import { IO, type GraphLayout, type MimiLayout, type StateSpec } from './layout.js';
import { ringChunkBias } from './ring-bias.js';
import { stateInputName, stateOutputName } from './stream-state.js';

export interface MimiModels {
  /** ONNX bytes or a file path. */
  encoder: Uint8Array | string;
  decoder: Uint8Array | string;
}

/** Which directions a runner loads: a codec thread serves one of them. */
export type MimiDirections = 'both' | 'encoder' | 'decoder';

interface SlotState {
  spec: StateSpec;
  perRow: number;
  /** [slots, ...shape] */
  data: Float32Array;
}

/**
 * One direction (encoder or decoder): its session and every slot's streaming
 * state, i.e. the conv histories as [slots, ...] arrays and the transformer's
 * KV ring. A batch is always the first `rows` slots.
 */
class StreamingGraph {
  private readonly states: SlotState[];
  readonly ring: KvRing | null;
  private busy = false;

  constructor(
    private readonly what: string,
    private readonly session: ort.InferenceSession,
    private readonly layout: GraphLayout,
    readonly slots: number,
  ) {
    this.states = layout.states.map((spec) => {
      const perRow = spec.shape.reduce((a, b) => a * b, 1);
      return { spec, perRow, data: new Float32Array(slots * perRow).fill(spec.init) };
    });
    const t = layout.transformer;
    this.ring = t ? new KvRing(t.layers, slots, t.heads, t.dimPerHead, t.context) : null;
  }

  get bytesPerSlot(): number {
    return this.states.reduce((a, s) => a + s.perRow * 4, 0) + (this.ring?.bytesPerSlot ?? 0);
  }

  reset(slot: number): void {
    for (const s of this.states) s.data.fill(s.spec.init, slot * s.perRow, (slot + 1) * s.perRow);
    this.ring?.reset(slot);
  }

  move(from: number, to: number): void {
    if (from === to) return;
    for (const s of this.states) s.data.copyWithin(to * s.perRow, from * s.perRow, (from + 1) * s.perRow);
    this.ring?.move(from, to);
  }

  /** One slot's whole streaming state (conv histories, then the KV ring), for a resume. */
  exportSlot(slot: number): Float32Array[] {
    const parts: Float32Array[] = this.states.map((s) => s.data.slice(slot * s.perRow, (slot + 1) * s.perRow));
    if (this.ring) parts.push(this.ring.exportSlot(slot));
    return parts;
  }

  importSlot(slot: number, parts: Float32Array[]): void {
    if (parts.length !== this.states.length + (this.ring ? 1 : 0)) throw new Error(`Mimi ${this.what} snapshot has ${parts.length} parts`);
    this.states.forEach((s, i) => {
      if (parts[i]!.length !== s.perRow) throw new Error(`Mimi ${this.what} state ${s.spec.name}: ${parts[i]!.length} values, expected ${s.perRow}`);
      s.data.set(parts[i]!, slot * s.perRow);
    });
    if (this.ring) this.ring.importSlot(slot, parts[this.states.length]!);
  }

  async run(rows: number, feeds: Record<string, ort.Tensor>, exec?: Uint8Array): Promise<ort.InferenceSession.OnnxValueMapType> {
    if (this.busy) throw new Error(`MimiRunner.${this.what}: the previous call has not finished`);
    this.busy = true;
    try {
      for (const s of this.states) {
        feeds[stateInputName(s.spec.name)] = f32(s.data.subarray(0, rows * s.perRow), [rows, ...s.spec.shape]);
      }
      const t = this.layout.transformer;
      const ring = this.ring;
      if (t && ring) {
        const C = t.context;
        const T = t.steps;
        feeds[IO.pastBias] = f32(ringChunkBias(ring.positions, rows, T, C), [rows, 1, T, C]);
        if (t.ropeMaxPeriod !== null) {
          const rope = ropeTables(ring.positions, rows, T, t.dimPerHead, t.ropeMaxPeriod);
          feeds[IO.ropeCos] = f32(rope.cos, [rows, 1, T, t.dimPerHead / 2, 1]);
          feeds[IO.ropeSin] = f32(rope.sin, [rows, 1, T, t.dimPerHead / 2, 1]);
        }
        for (let l = 0; l < t.layers; l++) {
          feeds[IO.pastK(l)] = f32(ring.keyView(l, rows), [rows, t.heads, C, t.dimPerHead]);
          feeds[IO.pastV(l)] = f32(ring.valueView(l, rows), [rows, t.heads, C, t.dimPerHead]);
        }
      }
      const out = await this.session.run(feeds);
      // Store the new state of the rows that executed; the others keep theirs.
      const all = !exec || exec.subarray(0, rows).every((e) => e !== 0);
      for (const s of this.states) {
        const next = outputF32(out, stateOutputName(s.spec.name));
        if (all) s.data.set(next.subarray(0, rows * s.perRow));
        else {
          for (let r = 0; r < rows; r++) {
            if (exec![r]) s.data.set(next.subarray(r * s.perRow, (r + 1) * s.perRow), r * s.perRow);
          }
        }
      }
      if (t && ring) {
        for (let l = 0; l < t.layers; l++) {
          ring.write(l, rows, t.steps, outputF32(out, IO.newK(l)), outputF32(out, IO.newV(l)), all ? undefined : exec);
        }
        ring.advance(rows, t.steps, all ? undefined : exec);
      }
      return out;
    } finally {
      this.busy = false;
    }
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Streaming Mimi for up to `slots` concurrent sessions. Each call codes one
 * frame for each of the first `rows` slots; rows with exec[r] = 0 are
 * computed but keep their state, as if the call had not happened for them.
 * Encode and decode have independent state and may run concurrently; calls
 * in one direction must not overlap. A runner created for one direction has
 * no session for the other, and calls to it fail.
 */
export class MimiRunner {
  private constructor(
    readonly layout: MimiLayout,
    readonly slots: number,
    private readonly encGraph: StreamingGraph | null,
    private readonly decGraph: StreamingGraph | null,
  ) {}

  static async create(
    models: MimiModels, layout: MimiLayout, slots: number, opts: SessionOptions = defaultSessionOptions, directions: MimiDirections = 'both',
  ): Promise<MimiRunner> {
    if (!Number.isInteger(slots) || slots < 1) throw new Error(`slots must be a positive integer, got ${slots}`);
    const encoder = directions === 'decoder' ? null : await createSession(models.encoder, opts);
    let decoder: ort.InferenceSession | null = null;
    try {
      if (directions !== 'encoder') decoder = await createSession(models.decoder, opts);
    } catch (e) {
      await encoder?.release();
      throw e;
    }
    return new MimiRunner(
      layout, slots,
      encoder && new StreamingGraph('encode', encoder, layout.encoder, slots),
      decoder && new StreamingGraph('decode', decoder, layout.decoder, slots),
    );
  }

  private get enc(): StreamingGraph {
    if (!this.encGraph) throw new Error('this Mimi runner was created without its encoder');
    return this.encGraph;
  }

  private get dec(): StreamingGraph {
    if (!this.decGraph) throw new Error('this Mimi runner was created without its decoder');
    return this.decGraph;
  }

  private get graphs(): StreamingGraph[] {
    return [this.encGraph, this.decGraph].filter((g): g is StreamingGraph => g !== null);
  }

  get frameSize(): number {
    return this.layout.frameSize;
  }

  get numCodebooks(): number {
    return this.layout.numCodebooks;
  }

  /** Bytes of streaming state (conv histories and both KV rings) held per session. */
  get bytesPerSlot(): number {
    return this.graphs.reduce((a, g) => a + g.bytesPerSlot, 0);
  }

  /** pcm: rows × frameSize samples -> codes: rows × numCodebooks. */
  async encode(rows: number, pcm: Float32Array, exec?: Uint8Array): Promise<Int32Array> {
    this.checkRows('encode', rows, exec);
    const F = this.layout.frameSize;
    if (pcm.length !== rows * F) throw new Error(`MimiRunner.encode: expected ${rows} × ${F} samples, got ${pcm.length}`);
    const out = await this.enc.run(rows, { [IO.pcmIn]: f32(pcm, [rows, F]) }, exec);
    const t = out[IO.codesOut];
    if (!t) throw new Error(`graph output ${IO.codesOut} missing`);
    return Int32Array.from(t.data as BigInt64Array, (c) => Number(c));
  }

  /** codes: rows × numCodebooks -> pcm: rows × frameSize samples. */
  async decode(rows: number, codes: Int32Array | BigInt64Array, exec?: Uint8Array): Promise<Float32Array> {
    this.checkRows('decode', rows, exec);
    const Q = this.layout.numCodebooks;
    if (codes.length !== rows * Q) throw new Error(`MimiRunner.decode: expected ${rows} × ${Q} codes, got ${codes.length}`);
    const card = this.layout.cardinality;
    const c64 = new BigInt64Array(rows * Q);
    for (let i = 0; i < c64.length; i++) {
      const v = Number(codes[i]!);
      if (!(v >= 0 && v < card)) throw new Error(`MimiRunner.decode: code ${v} at row ${Math.floor(i / Q)}, codebook ${i % Q} is outside [0, ${card})`);
      c64[i] = BigInt(v);
    }
    const out = await this.dec.run(rows, { [IO.codesIn]: i64(c64, [rows, Q]) }, exec);
    return outputF32(out, IO.pcmOut);
  }

  /** Gives a slot the state of a fresh MimiModel stream (new or restarted session). */
  resetSlot(slot: number): void {
    this.checkSlot(slot);
    for (const g of this.graphs) g.reset(slot);
  }

  /** A slot's encoder and decoder state, to restore the codec exactly where a session left it (empty for a direction not loaded). */
  exportSlot(slot: number): { encoder: Float32Array[]; decoder: Float32Array[] } {
    this.checkSlot(slot);
    return { encoder: this.encGraph?.exportSlot(slot) ?? [], decoder: this.decGraph?.exportSlot(slot) ?? [] };
  }

  /** Restores a slot's state; a direction not loaded ignores its part. */
  importSlot(slot: number, state: { encoder: Float32Array[]; decoder: Float32Array[] }): void {
    this.checkSlot(slot);
    this.encGraph?.importSlot(slot, state.encoder);
    this.decGraph?.importSlot(slot, state.decoder);
  }

  /** Moves a session's whole state to another slot (to keep batches compact). */
  moveSlot(from: number, to: number): void {
    this.checkSlot(from);
    this.checkSlot(to);
    for (const g of this.graphs) g.move(from, to);
  }

  async release(): Promise<void> {
    for (const g of this.graphs) await g.release();
  }

  private checkRows(what: string, rows: number, exec?: Uint8Array): void {
    if (!Number.isInteger(rows) || rows < 1 || rows > this.slots) {
      throw new Error(`MimiRunner.${what}: rows must be in [1, ${this.slots}], got ${rows}`);
    }
    if (exec && exec.length < rows) throw new Error(`MimiRunner.${what}: exec has ${exec.length} flags for ${rows} rows`);
  }

  private checkSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slots) throw new Error(`slot ${slot} is outside [0, ${this.slots})`);
  }
}
