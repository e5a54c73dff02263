import type { AudioDraws } from '../model/lm/depformer-frame.js';
import type { LmStepper } from '../model/lm/lm-stepper.js';
import { embeddingIndices, embeddingLayout, type EmbeddingLayout } from '../model/lm/embeddings.js';
import type { Codec, CodecOverlap, CodecState } from './codec.js';
import { DelayedTokens } from './delayed-tokens.js';
import { StageTimer, type StageTimes } from './stage-timer.js';

/** How a row draws this frame's audio tokens (the depformer samples them in its graph). */
export interface AudioDrawSettings {
  greedy: boolean;
  temperature: number;
  topK: number;
}

/** Per-row choices the pipeline delegates to the session that owns the row. */
export interface RowSampler {
  sampleText(logits: Float32Array, offset: number, length: number): number;
  /** This frame's audio draw: fills uniforms[offset, offset + count) with the row's own draws unless greedy. */
  audioDraw(uniforms: Float32Array, offset: number, count: number): AudioDrawSettings;
}

export interface RowInput {
  /** This row takes a step now (it has a whole input frame). */
  exec: boolean;
  /** First frame of the session: encoded, then the codec state restarts (as Moshi's server does). */
  first: boolean;
  pcm: Float32Array | null;
  sampler: RowSampler | null;
}

export interface RowOutput {
  /** The LM stepped this row: it consumed one input frame (overlapped, the one encoded a tick earlier). */
  stepped: boolean;
  /** Decoded model audio for this step, once the delays have filled (overlapped: in `pcmLater`). */
  pcm: Float32Array | null;
  /** Realigned tokens [text, audio...] of this step's output frame. */
  tokens: Int32Array | null;
}

/** Everything a session's model state is rebuilt from (see `restore`). */
export interface PipelineSnapshot {
  /** Steps taken; the input tokens of each, [steps, streams]. */
  steps: number;
  history: Int32Array;
  delay: { ring: Int32Array; offset: number };
  codec: CodecState;
}

export interface StepResult {
  rows: RowOutput[];
  times: StageTimes;
  /** Overlapped: each row's decoded audio, once the codec thread has it (rows in order, null where none). */
  pcmLater: Promise<(Float32Array | null)[]> | null;
}

/**
 * One frame of the whole model for a batch made of the first `rows` slots:
 * codec encode, one temporal step, the depformer's codebook steps, sampling,
 * codec decode. Rows that are not executing are computed alongside (batch
 * shapes stay fixed) but keep their state.
 *
 * Overlapped (`overlap`, for a codec in threads of its own beside an LM on a
 * GPU), the decode of a tick's output runs on while the next tick starts
 * ('decode': a period of encode + LM, no added latency). With 'full' each
 * tick also encodes the frames that came in while the LM steps the frames
 * encoded the tick before: a period bounded by the slowest stage rather than
 * their sum, at one tick more of latency. Each slot then holds at most one
 * encoded frame waiting for the LM.
 */
export class ModelPipeline {
  readonly tokens: DelayedTokens;
  private readonly layout: EmbeddingLayout;
  private readonly frameSize: number;
  /** Each slot's input tokens, step by step, kept so that a session can be rebuilt elsewhere by prefill. */
  private readonly history: Int32Array;
  private readonly historyLen: Int32Array;
  /** Overlapped: each slot's encoded frame waiting for the LM, [slots, depQ]. */
  private readonly pendingCodes: Int32Array;
  private readonly pendingValid: Uint8Array;
  /** Overlapped: the decode in flight (never rejects; its failure is kept in `failure`). */
  private inFlight: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  private lastDecodeMs = 0;

  constructor(readonly lm: LmStepper, readonly codec: Codec, readonly slots: number, readonly maxSteps = 4500, readonly overlap: CodecOverlap = 'off') {
    const d = lm.dims;
    this.history = new Int32Array(slots * maxSteps * d.streams);
    this.historyLen = new Int32Array(slots);
    this.tokens = new DelayedTokens(slots, lm.config.delays, 1 + d.depQ, d.textCard, d.card);
    this.layout = embeddingLayout(d);
    this.frameSize = codec.frameSize;
    this.pendingCodes = new Int32Array(slots * d.depQ);
    this.pendingValid = new Uint8Array(slots);
    if (codec.numCodebooks !== d.depQ) {
      throw new Error(`codec gives ${codec.numCodebooks} codebooks but the LM expects ${d.depQ}`);
    }
  }

  resetSlot(slot: number): void {
    this.lm.resetSlot(slot);
    this.codec.resetSlot(slot);
    this.tokens.reset(slot);
    this.historyLen[slot] = 0;
    this.pendingValid[slot] = 0;
  }

  moveSlot(from: number, to: number): void {
    this.lm.moveSlot(from, to);
    this.codec.moveSlot(from, to);
    this.tokens.move(from, to);
    const n = this.maxSteps * this.lm.dims.streams;
    this.history.copyWithin(to * n, from * n, from * n + this.historyLen[from]! * this.lm.dims.streams);
    this.historyLen[to] = this.historyLen[from]!;
    const Q = this.lm.dims.depQ;
    this.pendingCodes.copyWithin(to * Q, from * Q, (from + 1) * Q);
    this.pendingValid[to] = this.pendingValid[from]!;
  }

  /** A slot's state as of its last step; overlapped, after the decode in flight and with no frame pending (flush it first). */
  async snapshot(slot: number): Promise<PipelineSnapshot> {
    await this.drain();
    if (this.pendingValid[slot]) throw new Error(`slot ${slot} holds an encoded frame the LM has not stepped`);
    const S = this.lm.dims.streams;
    const steps = this.historyLen[slot]!;
    const base = slot * this.maxSteps * S;
    return {
      steps,
      history: this.history.slice(base, base + steps * S),
      delay: this.tokens.exportSlot(slot),
      codec: await this.codec.exportSlot(slot),
    };
  }

  /**
   * Rebuilds a session in `slot` from a snapshot: the temporal KV cache by
   * prefill over its whole token history (chunks of `chunk` frames; only the
   * last `context` frames stay in the ring, but every frame shapes them), the
   * delays and the codec state as they were. The other rows of the batch are
   * computed alongside but keep their state.
   */
  async restore(slot: number, snap: PipelineSnapshot, chunk = 32): Promise<void> {
    const d = this.lm.dims;
    const S = d.streams;
    if (snap.history.length !== snap.steps * S) throw new Error('resume snapshot: history does not match its step count');
    if (snap.steps > this.maxSteps) throw new Error(`resume snapshot has ${snap.steps} steps, more than this server keeps (${this.maxSteps})`);
    this.resetSlot(slot);
    const rows = slot + 1;
    const exec = new Uint8Array(rows);
    exec[slot] = 1;
    for (let at = 0; at < snap.steps; at += chunk) {
      const T = Math.min(chunk, snap.steps - at);
      const idx = new BigInt64Array(rows * T * S);
      for (let t = 0; t < T; t++) embeddingIndices(this.layout, snap.history.subarray((at + t) * S, (at + t + 1) * S), idx, (slot * T + t) * S);
      for (let r = 0; r < rows; r++) {
        if (r === slot) continue;
        for (let t = 0; t < T; t++) embeddingIndices(this.layout, new Int32Array(S).fill(-1), idx, (r * T + t) * S);
      }
      await this.lm.temporalStep(rows, T, idx, exec);
    }
    this.tokens.importSlot(slot, snap.delay);
    await this.codec.importSlot(slot, snap.codec);
    this.history.set(snap.history, slot * this.maxSteps * S);
    this.historyLen[slot] = snap.steps;
  }

  /**
   * One tick. Serial: encode, LM, decode, one after the other. Overlapped:
   * this tick's frames are encoded (codec thread) while the LM steps the rows
   * encoded last tick, and their decode is started (codec thread) but not
   * awaited: `pcmLater` resolves with it. `lmOnly` limits the LM to one row
   * (a flush before a snapshot; overlapped only).
   */
  async step(inputs: RowInput[], lmOnly?: number): Promise<StepResult> {
    if (this.overlap !== 'off') return this.stepOverlapped(inputs, lmOnly);
    const rows = inputs.length;
    const timer = new StageTimer();
    const exec = new Uint8Array(rows);
    const pcm = this.gatherPcm(inputs, exec);
    timer.mark('overhead');

    const codes = await this.codec.encode(rows, pcm, exec);
    inputs.forEach((r, i) => {
      if (r.exec && r.first) this.codec.resetSlot(i);
    });
    timer.mark('encode');

    const lm = await this.lmStep(inputs, exec, codes, timer);
    let decoded: Float32Array | null = null;
    if (lm.decodeExec.some((v) => v)) decoded = await this.codec.decode(rows, lm.outCodes, lm.decodeExec);
    timer.mark('decode');

    const results: RowOutput[] = lm.outTokens.map((t, r) => ({
      stepped: exec[r] === 1,
      tokens: t,
      pcm: t && decoded ? decoded.slice(r * this.frameSize, (r + 1) * this.frameSize) : null,
    }));
    timer.mark('overhead');
    return { rows: results, times: timer.times, pcmLater: null };
  }

  /** True while a slot holds an encoded frame that the LM has not stepped (overlapped only). */
  hasPending(slot: number): boolean {
    return this.pendingValid[slot] === 1;
  }

  /** Waits for the decode in flight (overlapped); rethrows its failure. */
  async drain(): Promise<void> {
    await this.inFlight;
    if (this.failure) throw this.failure;
  }

  private gatherPcm(inputs: RowInput[], exec: Uint8Array): Float32Array {
    const pcm = new Float32Array(inputs.length * this.frameSize);
    inputs.forEach((r, i) => {
      exec[i] = r.exec ? 1 : 0;
      if (r.exec && r.pcm) pcm.set(r.pcm, i * this.frameSize);
    });
    return pcm;
  }

  private async stepOverlapped(inputs: RowInput[], lmOnly?: number): Promise<StepResult> {
    if (this.failure) throw this.failure;
    const rows = inputs.length;
    const Q = this.lm.dims.depQ;
    const timer = new StageTimer();
    const encExec = new Uint8Array(rows);
    const pcm = this.gatherPcm(inputs, encExec);
    timer.mark('overhead');

    const encStart = performance.now();
    const encoding = encExec.some((v) => v) ? this.codec.encode(rows, pcm, encExec).then((c) => ({ codes: c, ms: performance.now() - encStart })) : null;
    inputs.forEach((r, i) => {
      if (r.exec && r.first) this.codec.resetSlot(i);
    });
    encoding?.catch(() => undefined); // awaited below; not left unhandled if the LM throws first
    const keep = (encoded: { codes: ArrayLike<number | bigint> } | null) => {
      for (let r = 0; r < rows; r++) {
        if (!encExec[r] || !encoded) continue;
        for (let q = 0; q < Q; q++) this.pendingCodes[r * Q + q] = Number(encoded.codes[r * Q + q]!);
        this.pendingValid[r] = 1;
      }
    };
    // 'decode': this tick's frames go to the LM now. 'full': the LM steps last tick's while the codec thread encodes these.
    const ahead = this.overlap === 'full';
    let encoded: { codes: ArrayLike<number | bigint>; ms: number } | null = null;
    if (!ahead) {
      encoded = encoding && (await encoding);
      keep(encoded);
    }
    const lmExec = new Uint8Array(rows);
    for (let r = 0; r < rows; r++) lmExec[r] = this.pendingValid[r]! && (lmOnly === undefined || lmOnly === r) ? 1 : 0;
    timer.mark('overhead');
    const lm = lmExec.some((v) => v) ? await this.lmStep(inputs, lmExec, this.pendingCodes, timer) : null;
    for (let r = 0; r < rows; r++) if (lmExec[r]) this.pendingValid[r] = 0;
    if (ahead) {
      encoded = encoding && (await encoding);
      keep(encoded);
    }
    timer.mark('overhead');

    let pcmLater: Promise<(Float32Array | null)[]> | null = null;
    if (lm && lm.decodeExec.some((v) => v)) {
      const decStart = performance.now();
      const tokens = lm.outTokens;
      pcmLater = this.codec.decode(rows, lm.outCodes, lm.decodeExec).then((decoded) => {
        this.lastDecodeMs = performance.now() - decStart;
        return tokens.map((t, r) => (t ? decoded.slice(r * this.frameSize, (r + 1) * this.frameSize) : null));
      });
      this.inFlight = pcmLater.then(
        () => undefined,
        (e: unknown) => {
          this.failure ??= e instanceof Error ? e : new Error(String(e));
        },
      );
    }
    const results: RowOutput[] = (lm?.outTokens ?? inputs.map(() => null)).map((t, r) => ({ stepped: lmExec[r] === 1, tokens: t, pcm: null }));
    const times = timer.times;
    // The codec's stages ran beside the LM: their own durations, not shares of this tick.
    times.encode = encoded?.ms ?? 0;
    times.decode = this.lastDecodeMs;
    return { rows: results, times, pcmLater };
  }

  /** Delays, history, temporal step, sampling and the depformer for the rows in `exec`, from their input codes. */
  private async lmStep(inputs: RowInput[], exec: Uint8Array, codes: ArrayLike<number | bigint>, timer: StageTimer): Promise<{ outTokens: (Int32Array | null)[]; outCodes: BigInt64Array; decodeExec: Uint8Array }> {
    const rows = inputs.length;
    const d = this.lm.dims;
    const Q = d.depQ;
    const idx = new BigInt64Array(rows * d.streams);
    const tok = new Int32Array(d.streams);
    const user = new Int32Array(Q);
    for (let r = 0; r < rows; r++) {
      if (exec[r]) {
        for (let q = 0; q < Q; q++) user[q] = Number(codes[r * Q + q]!);
        this.tokens.input(r, user, tok);
        const len = this.historyLen[r]!;
        if (len < this.maxSteps) {
          this.history.set(tok, (r * this.maxSteps + len) * d.streams);
          this.historyLen[r] = len + 1;
        }
      } else {
        tok.fill(-1);
      }
      embeddingIndices(this.layout, tok, idx, r * d.streams);
    }
    timer.mark('overhead');

    const { hidden, textLogits } = await this.lm.temporalStep(rows, 1, idx, exec);
    timer.mark('temporal');

    const sampled = new Int32Array(rows * (1 + Q));
    const text = new Int32Array(rows);
    const draws: AudioDraws = { greedy: new Uint8Array(rows), temperature: new Float32Array(rows), topK: new Int32Array(rows), uniforms: new Float32Array(rows * Q) };
    for (let r = 0; r < rows; r++) {
      const s = inputs[r]!.sampler;
      if (exec[r] && s) {
        text[r] = s.sampleText(textLogits, r * d.textCard, d.textCard);
        const a = s.audioDraw(draws.uniforms, r * Q, Q);
        draws.greedy[r] = a.greedy ? 1 : 0;
        draws.temperature[r] = a.temperature;
        draws.topK[r] = a.topK;
      } else {
        draws.greedy[r] = 1;
      }
      sampled[r * (1 + Q)] = text[r]!;
    }
    timer.mark('sampling');

    const audio = await this.lm.depformerFrame(rows, hidden, text, draws);
    for (let r = 0; r < rows; r++) {
      if (exec[r] && inputs[r]!.sampler) sampled.set(audio.subarray(r * Q, (r + 1) * Q), r * (1 + Q) + 1);
    }
    timer.mark('depformer');

    const outTokens: (Int32Array | null)[] = [];
    const decodeExec = new Uint8Array(rows);
    const outCodes = new BigInt64Array(rows * Q);
    for (let r = 0; r < rows; r++) {
      if (!exec[r]) {
        outTokens.push(null);
        continue;
      }
      const out = new Int32Array(1 + Q);
      if (this.tokens.commit(r, sampled.subarray(r * (1 + Q), (r + 1) * (1 + Q)), out)) {
        outTokens.push(out);
        decodeExec[r] = 1;
        for (let q = 0; q < Q; q++) outCodes[r * Q + q] = BigInt(out[1 + q]!);
      } else {
        outTokens.push(null);
      }
    }
    timer.mark('overhead');
    return { outTokens, outCodes, decodeExec };
  }
}
