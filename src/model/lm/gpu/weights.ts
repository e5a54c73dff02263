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
 * presets' rule (uniform, std 1/sqrt(fan-in)); each tensor is cut from a
 * 16M-value pool per scale at a moving offset (copies run at memory speed),
 * so values repeat every 32 MB, which no timing depends on.
 */
export class RandomStorageWeights implements StorageWeights {
  private state: number;
  private readonly pools = new Map<string, Uint8Array>();
  private offset = 0;

  constructor(readonly precision: Precision, seed: number) {
    this.state = seed | 1;
  }

  matrix(_name: string, out: number, inp: number): MatrixWeight {
    const scale = 1 / Math.sqrt(inp);
    const block = this.precision === 'int4' ? int4Block(inp) : null;
    if (block !== null) {
      const packed = new Uint8Array((out * inp) / 2);
      this.cut(packed, this.pool('bytes', () => this.randomBytes(POOL)));
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
    const a = scale * Math.sqrt(3);
    if (this.precision === 'fp32') {
      const out = new Float32Array(n);
      const pool = this.pool(`f32:${scale}`, () => {
        const p = new Float32Array(POOL);
        for (let i = 0; i < POOL; i++) p[i] = (this.next() / 4294967296 * 2 - 1) * a;
        return new Uint8Array(p.buffer);
      });
      this.cut(new Uint8Array(out.buffer), pool);
      return out;
    }
    const out = new Uint16Array(n);
    const pool = this.pool(`f16:${scale}`, () => {
      const lut = new Uint16Array(65536);
      for (let i = 0; i < 65536; i++) lut[i] = halfBits(((i + 0.5) / 65536 * 2 - 1) * a);
      const p = new Uint16Array(POOL);
      for (let i = 0; i < POOL; i += 2) {
        const r = this.next();
        p[i] = lut[r & 0xffff]!;
        p[i + 1] = lut[r >>> 16]!;
      }
      return new Uint8Array(p.buffer);
    });
    this.cut(new Uint8Array(out.buffer), pool);
    return out;
  }

  private pool(key: string, make: () => Uint8Array): Uint8Array {
    let p = this.pools.get(key);
    if (!p) {
      p = make();
      this.pools.set(key, p);
    }
    return p;
  }

  /** Fills `out` from the pool, starting at a moving offset (element-aligned: a multiple of 4 bytes). */
  private cut(out: Uint8Array, pool: Uint8Array): void {
    let at = this.offset % pool.length;
    this.offset += 4 * 7919 * 1024;
    for (let i = 0; i < out.length;) {
      const n = Math.min(out.length - i, pool.length - at);
      out.set(pool.subarray(at, at + n), i);
      i += n;
      at = 0;
    }
  }

  private randomBytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    const words = new Uint32Array(out.buffer);
    for (let i = 0; i < words.length; i++) words[i] = this.next();
    return out;
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

/** Values per pool (16M: 32 MB of halves). */
const POOL = 1 << 24;
