// Band-limited resampling with a Kaiser-windowed sinc kernel, evaluated from
// a finely sampled table so any rate ratio works (44100 → 24000 included)
// without building one filter per phase.

export interface ResampleOptions {
  /** Sinc zero crossings on each side of the kernel centre (default 16). */
  zeroCrossings?: number;
  /** Passband edge as a fraction of the lower Nyquist frequency (default 0.94). */
  rolloff?: number;
  /** Kaiser window shape; higher = more stopband attenuation, wider transition (default 8.6). */
  kaiserBeta?: number;
}

/** Table points per zero crossing; linear interpolation between them. */
const TABLE_DENSITY = 512;

/** Zeroth-order modified Bessel function of the first kind, by its series. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

const tableCache = new Map<string, Float64Array>();

/** Windowed sinc sampled at u = j / TABLE_DENSITY for u in [0, zeroCrossings], plus a guard point. */
function kernelTable(zeroCrossings: number, beta: number): Float64Array {
  const key = `${zeroCrossings}:${beta}`;
  const cached = tableCache.get(key);
  if (cached) return cached;
  const n = zeroCrossings * TABLE_DENSITY;
  const table = new Float64Array(n + 2);
  const norm = besselI0(beta);
  for (let j = 0; j <= n; j++) {
    const u = j / TABLE_DENSITY;
    const r = u / zeroCrossings;
    const sinc = u === 0 ? 1 : Math.sin(Math.PI * u) / (Math.PI * u);
    table[j] = (sinc * besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r)))) / norm;
  }
  tableCache.set(key, table);
  return table;
}

/**
 * Resamples mono PCM from `fromRate` to `toRate`. The output has
 * round(length × toRate / fromRate) samples; output sample i sits at input
 * time i × fromRate / toRate, and the signal is taken as zero outside the input.
 */
export function resample(input: Float32Array, fromRate: number, toRate: number, options: ResampleOptions = {}): Float32Array {
  for (const [name, r] of [['fromRate', fromRate], ['toRate', toRate]] as const) {
    if (!Number.isFinite(r) || r <= 0) throw new RangeError(`${name} must be a positive number, got ${r}`);
  }
  if (fromRate === toRate) return input.slice();
  const zeroCrossings = options.zeroCrossings ?? 16;
  const rolloff = options.rolloff ?? 0.94;
  const beta = options.kaiserBeta ?? 8.6;
  if (!Number.isInteger(zeroCrossings) || zeroCrossings < 1 || zeroCrossings > 256) throw new RangeError('zeroCrossings must be an integer in [1, 256]');
  if (!(rolloff > 0 && rolloff <= 1)) throw new RangeError('rolloff must be in (0, 1]');

  const table = kernelTable(zeroCrossings, beta);
  const ratio = toRate / fromRate;
  // Cutoff relative to the input Nyquist frequency; below 1 when downsampling.
  const fc = Math.min(1, ratio) * rolloff;
  const halfWidth = zeroCrossings / fc;
  const outLength = Math.round(input.length * ratio);
  const out = new Float32Array(outLength);
  const step = fromRate / toRate;
  const last = input.length - 1;

  for (let i = 0; i < outLength; i++) {
    const t = i * step;
    const lo = Math.max(0, Math.ceil(t - halfWidth));
    const hi = Math.min(last, Math.floor(t + halfWidth));
    let acc = 0;
    for (let n = lo; n <= hi; n++) {
      const pos = Math.abs(t - n) * fc * TABLE_DENSITY;
      const j = Math.floor(pos);
      const frac = pos - j;
      acc += input[n]! * (table[j]! + frac * (table[j + 1]! - table[j]!));
    }
    out[i] = acc * fc;
  }
  return out;
}
