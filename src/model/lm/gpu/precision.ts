import type { DType } from '../../onnx/graph-builder.js';

/**
 * Weight precision of the device graphs. fp16 and int4 compute in float16,
 * the residual stream included (norms compute in float32 inside their
 * kernels; graph inputs and outputs stay float32); int4
 * stores the large matrices as onnxruntime's MatMulNBits blocks.
 */
export type Precision = 'fp32' | 'fp16' | 'int4';
export const PRECISIONS: readonly Precision[] = ['fp32', 'fp16', 'int4'];

export function isPrecision(s: string): s is Precision {
  return (PRECISIONS as readonly string[]).includes(s);
}

/** The dtype of activations and KV caches on the device. */
export function actType(p: Precision): DType {
  return p === 'fp32' ? 'float32' : 'float16';
}

export function actBytes(p: Precision): number {
  return p === 'fp32' ? 4 : 2;
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** IEEE half bits of a float32, rounded to nearest even (subnormals, infinities and NaN kept). */
export function halfBits(x: number): number {
  scratch[0] = x;
  return halfFromBits(scratchBits[0]!);
}

function halfFromBits(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

export function toHalf(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfFromBits(bits[i]!);
  return out;
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

export function fromHalf(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = halfToFloat(src[i]!);
  return out;
}

/** MatMulNBits block size for a reduction of length K, or null when K does not split into blocks. */
export function int4Block(K: number): number | null {
  for (const b of [32, 16]) if (K % b === 0) return b;
  return null;
}

export interface Int4Matrix {
  /** [N, K / block, block / 2]: element 2j in the low nibble, 2j+1 in the high one. */
  packed: Uint8Array;
  /** [N * K / block] */
  scales: Float32Array;
  block: number;
}

/**
 * Symmetric 4-bit quantization of a torch Linear weight [N = out, K = in]
 * (MatMulNBits's own layout, so no transpose): q = round(w / s) + 8 with
 * s = max|w| / 7 per block, dequantized as (q - 8) * s (no zero points).
 */
export function quantizeInt4(w: Float32Array, N: number, K: number, block: number): Int4Matrix {
  const nb = K / block;
  const packed = new Uint8Array(N * K / 2);
  const scales = new Float32Array(N * nb);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < nb; j++) {
      const base = n * K + j * block;
      let max = 0;
      for (let i = 0; i < block; i++) max = Math.max(max, Math.abs(w[base + i]!));
      const s = max / 7;
      scales[n * nb + j] = s;
      const inv = s > 0 ? 1 / s : 0;
      const out = (n * nb + j) * (block / 2);
      for (let i = 0; i < block; i += 2) {
        const lo = Math.min(15, Math.max(0, Math.round(w[base + i]! * inv) + 8));
        const hi = Math.min(15, Math.max(0, Math.round(w[base + i + 1]! * inv) + 8));
        packed[out + i / 2] = lo | (hi << 4);
      }
    }
  }
  return { packed, scales, block };
}

export function dequantizeInt4(m: Int4Matrix, N: number, K: number): Float32Array {
  const nb = K / m.block;
  const out = new Float32Array(N * K);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < nb; j++) {
      const s = m.scales[n * nb + j]!;
      for (let i = 0; i < m.block; i += 2) {
        const byte = m.packed[(n * nb + j) * (m.block / 2) + i / 2]!;
        out[n * K + j * m.block + i] = ((byte & 15) - 8) * s;
        out[n * K + j * m.block + i + 1] = ((byte >>> 4) - 8) * s;
      }
    }
  }
  return out;
}
