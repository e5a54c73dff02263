import { fromHalf, toHalf } from '../lm/gpu/precision.js';
import { checkShape, SafetensorsFile } from './safetensors.js';

/**
 * Where graph builders get their weights: a checkpoint file, or seeded random
 * values for the built-in presets. `get` checks the shape and names the tensor
 * in its error.
 */
export interface WeightSource {
  readonly label: string;
  has(name: string): boolean;
  get(name: string, shape: readonly number[]): Float32Array;
}

export class SafetensorsWeights implements WeightSource {
  constructor(private readonly file: SafetensorsFile) {}
  get label(): string {
    return this.file.path;
  }
  has(name: string): boolean {
    return this.file.has(name);
  }
  get(name: string, shape: readonly number[]): Float32Array {
    if (!this.file.has(name)) {
      throw new Error(`${this.file.path}: missing tensor ${name} (expected shape [${shape.join(', ')}])`);
    }
    return this.file.readF32(name, shape);
  }
}

/** Deterministic pseudo-random weights: each tensor seeded from (seed, name). */
export class RandomWeights implements WeightSource {
  readonly label: string;
  constructor(
    private readonly seed: number,
    /** Returns the fill for a tensor: a constant, or a uniform spread around zero. */
    private readonly rule: (name: string, shape: readonly number[]) => { constant: number } | { scale: number },
  ) {
    this.label = `random(seed=${seed})`;
  }
  has(): boolean {
    return true;
  }
  get(name: string, shape: readonly number[]): Float32Array {
    const n = shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    const r = this.rule(name, shape);
    if ('constant' in r) return out.fill(r.constant);
    let s = hashString(name) ^ this.seed;
    for (let i = 0; i < n; i++) {
      // mulberry32: fast, good enough for weights.
      s = (s + 0x6d2b79f5) | 0;
      let t = Math.imul(s ^ (s >>> 15), 1 | s);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      out[i] = (u * 2 - 1) * r.scale * Math.sqrt(3);
    }
    return out;
  }
}

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h | 0;
}

export function checkWeightShape(label: string, name: string, expected: readonly number[], found: readonly number[]): void {
  checkShape(label, name, expected, found);
}

/**
 * Another source's weights rounded to float16 and widened back: float16
 * storage with float32 arithmetic, to tell how much of a float16 model's
 * error comes from its weights alone (`parley parity --round-weights fp16`).
 */
export class HalfRoundedWeights implements WeightSource {
  constructor(private readonly inner: WeightSource) {}
  get label(): string {
    return `${this.inner.label} (rounded to float16)`;
  }
  has(name: string): boolean {
    return this.inner.has(name);
  }
  get(name: string, shape: readonly number[]): Float32Array {
    return fromHalf(toHalf(this.inner.get(name, shape)));
  }
}
