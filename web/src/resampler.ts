/**
 * Streaming linear-interpolation resampler. Used only to bring the decoder's
 * 48 kHz output to the 24 kHz context: the reply was encoded from 24 kHz
 * audio, so it holds nothing above 12 kHz and needs no extra low-pass.
 */
export class LinearResampler {
  private readonly step: number;
  /** Input position of the next output sample, relative to the current block; -1 is `prev`. */
  private pos = 0;
  private prev = 0;

  constructor(fromRate: number, toRate: number) {
    this.step = fromRate / toRate;
  }

  process(x: Float32Array): Float32Array {
    if (this.step === 1 || x.length === 0) return x;
    const out = new Float32Array(Math.ceil((x.length - this.pos) / this.step) + 1);
    let n = 0;
    const last = x.length - 1;
    while (this.pos <= last) {
      const i = Math.floor(this.pos);
      const frac = this.pos - i;
      const a = i < 0 ? this.prev : x[i]!;
      const b = frac === 0 ? a : x[i + 1]!;
      out[n++] = a + (b - a) * frac;
      this.pos += this.step;
    }
    this.pos -= x.length;
    this.prev = x[last]!;
    return out.subarray(0, n);
  }
}
