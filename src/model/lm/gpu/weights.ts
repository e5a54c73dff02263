import { transpose2d } from '../../graphs/blocks/linear.js';
import { halfBits, int4Block, quantizeInt4, toHalf, type Precision } from './precision.js';

/** A Linear's weight as the device graph stores it. */
export type MatrixWeight =
  /** [in, out] for `x @ W`, float32 or float16 bits. */
  | { kind: 'dense'; data: Float32Array | Uint16Array }
  /** MatMulNBits blocks of torch's [out, in]; scales in the activation dtype. */
  | { kind: 'nbits'; packed: Uint8Array; scales: Float32Array | Uint16Array; block: number };

/**
 * Where the device graphs get their large tensors, already in storage
 * precision. `read` gives the float32 values in torch's layout; a source may
 * ignore it (the benchmark draws random values directly in storage form).
 */
export interface StorageWeights {
  readonly precision: Precision;
  /** A Linear's weight; `read` returns torch's [out, in]. */
  matrix(name: string, out: number, inp: number, read: () => Float32Array): MatrixWeight;
  /** An embedding table [rows, dim] in the activation dtype. */
  table(name: string, rows: number, dim: number, read: () => Float32Array): Float32Array | Uint16Array;
}

/** Converts checkpoint weights (the conversion path). */
export class ConvertedWeights implements StorageWeights {
  constructor(readonly precision: Precision) {}

  matrix(_name: string, out: number, inp: number, read: () => Float32Array): MatrixWeight {
    const w = read();
    const block = this.precision === 'int4' ? int4Block(inp) : null;
    if (block !== null) {
      const q = quantizeInt4(w, out, inp, block);
      return { kind: 'nbits', packed: q.packed, scales: toHalf(q.scales), block };
    }
    const t = transpose2d(w, out, inp);
    return { kind: 'dense', data: this.precision === 'fp32' ? t : toHalf(t) };
  }

  table(_name: string, _rows: number, _dim: number, read: () => Float32Array): Float32Array | Uint16Array {
    const t = read();
    return this.precision === 'fp32' ? t : toHalf(t);
  }
}

/**
 * Seeded uniform random weights drawn directly in storage form, for
 * benchmarks of large shapes: the preset path (float32 draw, transpose,
 * conversion) costs minutes of one core for a 7B model. Values follow the
 * presets' rule (uniform, std 1/sqrt(fan-in)); their order is not the
 * checkpoint layout's, which no timing depends on.
 */
export class RandomStorageWeights implements StorageWeights {
  private state: number;
  private readonly tables = new Map<number, Uint16Array>();

  constructor(readonly precision: Precision, seed: number) {
    this.state = seed | 1;
  }

  matrix(_name: string, out: number, inp: number): MatrixWeight {
    const scale = 1 / Math.sqrt(inp);
    const block = this.precision === 'int4' ? int4Block(inp) : null;
    if (block !== null) {
      const packed = new Uint8Array((out * inp) / 2);
      this.fillBytes(packed);
      // Nibbles uniform in 0..15: (q - 8) * s spans ±8 s; s chosen so the std matches.
      const s = (scale * Math.sqrt(12)) / 16;
      const scales = new Uint16Array((out * inp) / block).fill(halfBits(s));
      return { kind: 'nbits', packed, scales, block };
    }
    return { kind: 'dense', data: this.dense(out * inp, scale) };
  }

  table(_name: string, rows: number, dim: number): Float32Array | Uint16Array {
    return this.dense(rows * dim, 1 / Math.sqrt(dim));
  }

  private dense(n: number, scale: number): Float32Array | Uint16Array {
    if (this.precision === 'fp32') {
      const out = new Float32Array(n);
      const a = scale * Math.sqrt(3);
      for (let i = 0; i < n; i++) out[i] = (this.next() / 4294967296 * 2 - 1) * a;
      return out;
    }
    // One draw gives two halves through a 65536-entry table of uniform values.
    const lut = this.lut(scale);
    const out = new Uint16Array(n);
    const words = new Uint32Array(out.buffer, 0, n >>> 1);
    for (let i = 0; i < words.length; i++) {
      const r = this.next();
      words[i] = lut[r & 0xffff]! | (lut[r >>> 16]! << 16);
    }
    if (n & 1) out[n - 1] = lut[this.next() & 0xffff]!;
    return out;
  }

  private lut(scale: number): Uint16Array {
    let t = this.tables.get(scale);
    if (!t) {
      t = new Uint16Array(65536);
      const a = scale * Math.sqrt(3);
      for (let i = 0; i < 65536; i++) t[i] = halfBits(((i + 0.5) / 65536 * 2 - 1) * a);
      this.tables.set(scale, t);
    }
    return t;
  }

  private fillBytes(out: Uint8Array): void {
    const words = new Uint32Array(out.buffer, out.byteOffset, out.length >>> 2);
    for (let i = 0; i < words.length; i++) words[i] = this.next();
    for (let i = words.length * 4; i < out.length; i++) out[i] = this.next() & 0xff;
  }

  /** xorshift32 */
  private next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x;
    return x >>> 0;
  }
}
