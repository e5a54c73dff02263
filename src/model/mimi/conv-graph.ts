import type { WeightSource } from '../checkpoint/weights.js';
import { activation } from '../graphs/blocks/ffn.js';
import { linear } from '../graphs/blocks/linear.js';
import { A, type GraphBuilder, type Value } from '../onnx/graph-builder.js';
import type { MimiConfig } from './config.js';
import type { ConvSpec, ConvTrSpec } from './seanet-plan.js';
import type { StreamStates } from './stream-state.js';

// Streaming convolutions as `moshi/modules/conv.py` computes them, with the
// carried history as explicit graph state:
// - StreamingConv1d keeps the last (k-1)*dilation+1-stride input samples and
//   prepends them to the next chunk (zeros at start; with pad_mode
//   'replicate', the first chunk's first sample repeated instead).
// - StreamingConvTranspose1d keeps the last K-S output samples (minus bias)
//   and adds them to the start of the next chunk's output.

/** A (static) time length travelling with a value, to size slices and states. */
export interface Timed {
  x: Value;
  T: number;
}

/** Reads a conv weight, folding weight_norm (`weight_g`, `weight_v`) when that is how it is stored. */
export function convWeight(w: WeightSource, name: string, shape: number[]): Float32Array {
  if (w.has(`${name}.weight`) || !w.has(`${name}.weight_v`)) return w.get(`${name}.weight`, shape);
  const v = w.get(`${name}.weight_v`, shape);
  const g = w.get(`${name}.weight_g`, [shape[0]!, 1, 1]);
  const per = v.length / shape[0]!;
  const out = new Float32Array(v.length);
  for (let o = 0; o < shape[0]!; o++) {
    let ss = 0;
    for (let i = 0; i < per; i++) ss += v[o * per + i]! ** 2;
    const scale = g[o]! / Math.sqrt(ss);
    for (let i = 0; i < per; i++) out[o * per + i] = v[o * per + i]! * scale;
  }
  return out;
}

export function seanetActivation(b: GraphBuilder, x: Value, cfg: MimiConfig): Value {
  const s = cfg.seanet;
  switch (s.activation) {
    case 'ELU': {
      // Relu(x) + alpha * (exp(min(x, 0)) - 1): onnxruntime's CPU Elu kernel
      // is slower than these four vectorized ones (1.2 vs 0.9 ms on [8, 64, 1920]).
      const negative = b.sub(b.op1('Exp', [b.op1('Min', [x, b.constF32(0)])]), b.constF32(1));
      const alpha = s.activation_params.alpha;
      return b.add(b.op1('Relu', [x]), alpha === 1 ? negative : b.mul(negative, b.constF32(alpha)));
    }
    case 'ReLU':
      return activation(b, x, 'relu');
    case 'GELU':
      return activation(b, x, 'gelu');
    case 'SiLU':
      return activation(b, x, 'silu');
    case 'Tanh':
      return activation(b, x, 'tanh');
  }
}

export function streamingConv1d(b: GraphBuilder, st: StreamStates, w: WeightSource, spec: ConvSpec, input: Timed): Timed {
  const { inCh, outCh, kernel, stride, dilation, groups } = spec;
  const T = input.T;
  if (T % stride !== 0) throw new Error(`${spec.name}: ${T} steps per frame is not a multiple of the stride ${stride}`);
  const history = (kernel - 1) * dilation + 1 - stride;
  let x = input.x;
  if (history > 0) {
    let prev = st.input(spec.name, [inCh, history], 0);
    if (spec.padMode === 'replicate') {
      if (T < history) throw new Error(`${spec.name}: replicate padding needs ${history} steps per frame, got ${T}`);
      // A fresh session's history is its first sample, repeated.
      const first = st.input(`${spec.name}.first`, [1, 1], 1);
      prev = b.op1('Where', [b.cast(first, 'bool'), b.slice(x, [0], [1], [2]), prev]);
      st.output(`${spec.name}.first`, b.mul(first, b.constF32(0)));
    }
    x = withHistory(b, st, spec.name, x, prev, T, history);
  }
  const wData = convWeight(w, spec.name, [outCh, inCh / groups, kernel]);
  const bias = spec.bias ? w.get(`${spec.name}.bias`, [outCh]) : null;
  return { x: conv1d(b, spec, x, wData, bias, T / stride), T: T / stride };
}

/** Prepends the carried history to x [B, C, T] and stores the new history (the last `history` steps). */
function withHistory(b: GraphBuilder, st: StreamStates, name: string, x: Value, prev: Value, T: number, history: number): Value {
  const joined = b.concat([prev, x], 2);
  st.output(name, b.slice(joined, [T], [T + history], [2]));
  return joined;
}

/** An unpadded Conv1d of x [B, Cin, Tin] (history already prepended) with a float32 weight [Cout, Cin/groups, K]. */
function conv1d(b: GraphBuilder, spec: ConvSpec, x: Value, wData: Float32Array, bias: Float32Array | null, outT: number): Value {
  const { inCh, outCh, kernel, stride, dilation, groups } = spec;
  if (groups === 1 && outT <= GEMM_MAX_STEPS) return convAsMatMul(b, spec, x, wData, bias, outT);
  const weight = b.weight(`${spec.name}.weight`, wData, [outCh, inCh / groups, kernel]);
  const inputs = [x, weight];
  if (bias) inputs.push(b.weight(`${spec.name}.bias`, bias, [outCh]));
  return b.op1('Conv', inputs, {
    kernel_shape: A.ints([kernel]),
    strides: A.ints([stride]),
    dilations: A.ints([dilation]),
    group: A.i(groups),
    pads: A.ints([0, 0]),
  });
}

/**
 * Convolutions with few output steps per frame are weight-bound: onnxruntime's
 * Conv runs one GEMM per batch row, reading the weight once per session (33 MB
 * for Mimi's largest). Written as one MatMul over [rows x steps, Cin*K] patches
 * against a constant (prepacked) weight, it is read once per tick.
 */
const GEMM_MAX_STEPS = 16;

/** Conv1d (groups 1, no padding) of x [B, Cin, Tin] as patches x weight: [B, Cout, outT]. */
function convAsMatMul(b: GraphBuilder, spec: ConvSpec, x: Value, weight: Float32Array, bias: Float32Array | null, outT: number): Value {
  return b.transpose(convAsMatMulTimeMajor(b, spec, x, weight, bias, outT), [0, 2, 1]);
}

/** convAsMatMul before its final transpose: [B, outT, Cout]. */
function convAsMatMulTimeMajor(b: GraphBuilder, spec: ConvSpec, x: Value, weight: Float32Array, bias: Float32Array | null, outT: number): Value {
  const { inCh, outCh, kernel: K, stride: S, dilation: d } = spec;
  const span = (K - 1) * d + 1;
  // One slice per output step: [B, Cin, K] each, stacked to [B, outT, Cin, K].
  const patches = Array.from({ length: outT }, (_, t) => b.unsqueeze(b.slice(x, [t * S], [t * S + span], [2], [d]), [1]));
  const rows = b.reshape(patches.length === 1 ? patches[0]! : b.concat(patches, 1), [0, 0, inCh * K]);
  // The weight [Cout, Cin, K] is a linear layer's [out, in] over the flattened patches.
  let y = linear(b, rows, `${spec.name}.weight_t`, weight, outCh, inCh * K); // [B, outT, Cout]
  if (bias) y = b.add(y, b.weight(`${spec.name}.bias`, bias, [outCh]));
  return y;
}

export function streamingConvTr1d(b: GraphBuilder, st: StreamStates, w: WeightSource, spec: ConvTrSpec, input: Timed): Timed {
  const { inCh, outCh, kernel: K, stride: S, groups } = spec;
  const T = input.T;
  const wData = convWeight(w, spec.name, [inCh, outCh / groups, K]);
  const bias = spec.bias ? w.get(`${spec.name}.bias`, [outCh]) : null;
  if (groups === 1 && K % S === 0) return { x: polyphaseConvTr(b, st, spec, input, wData, bias), T: T * S };
  const tail = K - S;
  const outT = T * S;
  if (tail > outT) throw new Error(`${spec.name}: kernel ${K} overlaps more than one chunk of ${outT} steps`);
  const inputs = [input.x, b.weight(`${spec.name}.weight`, wData, [inCh, outCh / groups, K])];
  if (bias) inputs.push(b.weight(`${spec.name}.bias`, bias, [outCh]));
  const y = b.op1('ConvTranspose', inputs, {
    kernel_shape: A.ints([K]),
    strides: A.ints([S]),
    group: A.i(groups),
    pads: A.ints([0, 0]),
  });
  if (tail <= 0) return { x: y, T: outT };
  const partial = st.input(spec.name, [outCh, tail], 0);
  const head = b.add(b.slice(y, [0], [tail], [2]), partial);
  const out = outT > tail ? b.concat([head, b.slice(y, [tail], [outT], [2])], 2) : head;
  let next = b.slice(y, [outT], [outT + tail], [2]);
  // The carried part excludes the bias, which the next chunk's output already has.
  if (bias) next = b.sub(next, b.weight(`${spec.name}.bias_col`, bias, [outCh, 1]));
  st.output(spec.name, next);
  return { x: out, T: outT };
}

/**
 * ConvTranspose1d (groups 1, kernel K = m * stride S) as a plain convolution
 * of m taps over the input, with the last m - 1 input steps as carried
 * history: output step t*S + r is the sum over s < m of input step t - s
 * through taps s*S + r, which is a conv with S*Cout output channels followed
 * by interleaving those S phases in time. The stream it produces is the one
 * Moshi's StreamingConvTranspose1d produces by carrying its last K - S output
 * samples, but the heavy part is a Conv onnxruntime runs at its GEMM rate,
 * without the slices, pads and sums of an overlap-add.
 */
function polyphaseConvTr(
  b: GraphBuilder, st: StreamStates, spec: ConvTrSpec, input: Timed, weight: Float32Array, bias: Float32Array | null,
): Value {
  const { inCh, outCh, kernel: K, stride: S } = spec;
  const m = K / S;
  const T = input.T;
  let x = input.x;
  if (m > 1) x = withHistory(b, st, spec.name, x, st.input(spec.name, [inCh, m - 1], 0), T, m - 1);
  // Tap j of the conv reads input step t - (m - 1 - j): it is the transposed kernel's block s = m - 1 - j.
  const phases = new Float32Array(outCh * S * inCh * m);
  for (let ci = 0; ci < inCh; ci++) {
    for (let c = 0; c < outCh; c++) {
      for (let k = 0; k < K; k++) {
        const s = Math.floor(k / S);
        const r = k % S;
        phases[((c * S + r) * inCh + ci) * m + (m - 1 - s)] = weight[(ci * outCh + c) * K + k]!;
      }
    }
  }
  const phaseBias = bias ? Float32Array.from({ length: outCh * S }, (_, o) => bias[Math.floor(o / S)]!) : null;
  const conv: ConvSpec = {
    kind: 'conv', name: `${spec.name}.phases`, inCh, outCh: outCh * S, kernel: m, stride: 1, dilation: 1, groups: 1,
    bias: bias !== null, padMode: 'constant',
  };
  let interleaved: Value; // [B, Cout, T, S]
  if (T <= GEMM_MAX_STEPS) {
    // Few steps: the product comes out time-major, [B, T, Cout*S], and one transpose interleaves it.
    const z = convAsMatMulTimeMajor(b, conv, x, phases, phaseBias, T);
    interleaved = b.transpose(b.reshape(z, [0, T, outCh, S]), [0, 2, 1, 3]);
  } else {
    const z = conv1d(b, conv, x, phases, phaseBias, T); // [B, Cout*S, T], channel c*S + r
    interleaved = b.transpose(b.reshape(z, [0, outCh, S, T]), [0, 1, 3, 2]);
  }
  return b.reshape(interleaved, [0, outCh, T * S]);
}
