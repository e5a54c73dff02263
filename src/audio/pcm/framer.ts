export const MODEL_FRAME_SAMPLES = 1920;

/** Cuts a stream of float chunks of any length into frames of exactly `frameSize` samples. */
export class PcmFramer {
  readonly frameSize: number;
  private pending: Float32Array;
  private filled = 0;

  constructor(frameSize = MODEL_FRAME_SAMPLES) {
    if (!Number.isInteger(frameSize) || frameSize <= 0) throw new RangeError(`frameSize must be a positive integer, got ${frameSize}`);
    this.frameSize = frameSize;
    this.pending = new Float32Array(frameSize);
  }

  /** Samples held back, waiting for a full frame. */
  get bufferedSamples(): number {
    return this.filled;
  }

  /** Returns every frame completed by `chunk`; each frame is a new array the caller owns. */
  push(chunk: Float32Array): Float32Array[] {
    const frames: Float32Array[] = [];
    const size = this.frameSize;
    let off = 0;
    if (this.filled > 0) {
      const take = Math.min(size - this.filled, chunk.length);
      this.pending.set(chunk.subarray(0, take), this.filled);
      this.filled += take;
      off = take;
      if (this.filled < size) return frames;
      frames.push(this.pending);
      this.pending = new Float32Array(size);
      this.filled = 0;
    }
    for (; off + size <= chunk.length; off += size) frames.push(chunk.slice(off, off + size));
    this.pending.set(chunk.subarray(off), 0);
    this.filled = chunk.length - off;
    return frames;
  }

  /** Returns the held samples zero-padded to a whole frame, or null if none are held. */
  flush(): Float32Array | null {
    if (this.filled === 0) return null;
    const frame = this.pending;
    frame.fill(0, this.filled);
    this.pending = new Float32Array(this.frameSize);
    this.filled = 0;
    return frame;
  }

  /** Drops held samples. */
  clear(): void {
    this.filled = 0;
  }
}
