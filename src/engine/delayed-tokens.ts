/**
 * Moshi's acoustic delays, per session slot: the token streams (text, the
 * model's audio codebooks, the user's audio codebooks) are fed to the model
 * shifted by per-stream delays, and the model's outputs are realigned before
 * they reach the codec. This mirrors LMGen's ring of max_delay + 2 steps.
 */
export class DelayedTokens {
  /** [slots, streams, ring] token ring. */
  private readonly ring: Int32Array;
  /** Steps each slot has taken. */
  readonly offsets: Int32Array;
  private readonly ringLen: number;
  private readonly streams: number;
  readonly maxDelay: number;
  static readonly UNGENERATED = -2;

  constructor(
    readonly slots: number,
    private readonly delays: readonly number[],
    /** Streams the model generates: text + dep_q audio codebooks. */
    private readonly generated: number,
    private readonly initialText: number,
    private readonly initialAudio: number,
  ) {
    this.streams = delays.length;
    this.maxDelay = Math.max(...delays);
    this.ringLen = this.maxDelay + 2;
    this.ring = new Int32Array(slots * this.streams * this.ringLen).fill(DelayedTokens.UNGENERATED);
    this.offsets = new Int32Array(slots);
  }

  reset(slot: number): void {
    const n = this.streams * this.ringLen;
    this.ring.fill(DelayedTokens.UNGENERATED, slot * n, (slot + 1) * n);
    this.offsets[slot] = 0;
  }

  move(from: number, to: number): void {
    if (from === to) return;
    const n = this.streams * this.ringLen;
    this.ring.copyWithin(to * n, from * n, (from + 1) * n);
    this.offsets[to] = this.offsets[from]!;
  }

  /** A slot's ring and offset, for a resume. */
  exportSlot(slot: number): { ring: Int32Array; offset: number } {
    const n = this.streams * this.ringLen;
    return { ring: this.ring.slice(slot * n, (slot + 1) * n), offset: this.offsets[slot]! };
  }

  importSlot(slot: number, s: { ring: Int32Array; offset: number }): void {
    const n = this.streams * this.ringLen;
    if (s.ring.length !== n) throw new Error(`delay snapshot has ${s.ring.length} tokens, expected ${n}`);
    this.ring.set(s.ring, slot * n);
    this.offsets[slot] = s.offset;
  }

  private at(slot: number, stream: number, pos: number): number {
    return (slot * this.streams + stream) * this.ringLen + (pos % this.ringLen);
  }

  /**
   * Stores the user's audio tokens for this step (at their delayed positions)
   * and writes into `out` the tokens the model takes as input now, one per
   * stream, with the initial tokens standing in while a stream's delay has
   * not yet elapsed.
   */
  input(slot: number, userTokens: ArrayLike<number>, out: Int32Array | number[]): void {
    const off = this.offsets[slot]!;
    for (let i = 0; i < this.streams - this.generated; i++) {
      const s = this.generated + i;
      this.ring[this.at(slot, s, off + this.delays[s]!)] = userTokens[i]!;
    }
    for (let s = 0; s < this.streams; s++) {
      const init = off <= this.delays[s]!;
      out[s] = init ? (s === 0 ? this.initialText : this.initialAudio) : this.ring[this.at(slot, s, off)]!;
    }
  }

  /**
   * Records the tokens sampled this step (text, then dep_q audio) and advances.
   * Returns true and fills `out` (text + audio, delays undone) once the
   * delays have produced a complete frame.
   */
  commit(slot: number, sampled: ArrayLike<number>, out: Int32Array | number[]): boolean {
    const off = ++this.offsets[slot]!;
    for (let s = 0; s < this.generated; s++) this.ring[this.at(slot, s, off)] = sampled[s]!;
    if (off <= this.maxDelay) return false;
    for (let s = 0; s < this.generated; s++) {
      out[s] = this.ring[this.at(slot, s, off - this.maxDelay + this.delays[s]!)]!;
    }
    return true;
  }
}
