import type ort from 'onnxruntime-node';
import { f32, i64, outputI32 } from '../onnx/session.js';
import { lmDims, type LmConfig } from './config.js';
import { depNoneRow } from './gpu/depformer-graph.js';
import { FRAME_IO } from './depformer-frame-graph.js';

/** How each row draws its audio tokens in the depformer frame graph (Moshi's sample_token settings). */
export interface AudioDraws {
  /** [rows] 1: argmax (temperature <= 0 or top-k 1). */
  greedy: Uint8Array;
  /** [rows] */
  temperature: Float32Array;
  /** [rows] entries to draw among; <= 0 or >= card: all of them. */
  topK: Int32Array;
  /** [rows, Q] uniforms in [0, 1), one per codebook (ignored by greedy rows). */
  uniforms: Float32Array;
}

/** Largest uniform fed to the graph: keeps u · total below the CDF's last step in float32. */
const MAX_UNIFORM = 1 - 1e-6;

/** The frame graph's feeds for the first `rows` rows. Greedy rows draw top-1 at u = 0 (see sampleTokens). */
export function depformerFrameFeeds(cfg: LmConfig, rows: number, hidden: Float32Array, textTokens: Int32Array, draws: AudioDraws): Record<string, ort.Tensor> {
  const d = lmDims(cfg);
  const Q = d.depQ;
  const card = d.card;
  const kOf = (r: number) => (draws.greedy[r] ? 1 : draws.topK[r]! <= 0 ? card : Math.min(draws.topK[r]!, card));
  let K = 1;
  for (let r = 0; r < rows; r++) K = Math.max(K, kOf(r));
  const mask = new Float32Array(rows * K);
  const invT = new Float32Array(rows);
  const uniforms = new Float32Array(rows * Q);
  const text = new BigInt64Array(rows);
  const none = depNoneRow(cfg, 0);
  for (let r = 0; r < rows; r++) {
    mask.fill(1, r * K, r * K + kOf(r));
    invT[r] = draws.greedy[r] ? 1 : 1 / draws.temperature[r]!;
    if (!draws.greedy[r]) for (let q = 0; q < Q; q++) uniforms[r * Q + q] = Math.min(draws.uniforms[r * Q + q]!, MAX_UNIFORM);
    text[r] = BigInt(textTokens[r]! < 0 ? none : textTokens[r]!);
  }
  return {
    [FRAME_IO.hidden]: f32(hidden.subarray(0, rows * d.dim), [rows, d.dim]),
    [FRAME_IO.textIndex]: i64(text, [rows]),
    [FRAME_IO.uniforms]: f32(uniforms, [rows, Q]),
    [FRAME_IO.invTemperature]: f32(invT, [rows, 1]),
    [FRAME_IO.rankMask]: f32(mask, [rows, K]),
    [FRAME_IO.topK]: i64(BigInt64Array.of(BigInt(K)), [1]),
  };
}

/** One run of the frame graph (either runner's): audio tokens [rows, Q]. `owner` names the runner in the error when it has no frame graph. */
export async function runDepformerFrame(frame: ort.InferenceSession | null, owner: string, cfg: LmConfig, rows: number, hidden: Float32Array, textTokens: Int32Array, draws: AudioDraws): Promise<Int32Array> {
  if (!frame) throw new Error(`this ${owner} was created without the depformer frame graph (its graphs' depformerFrame)`);
  return outputI32(await frame.run(depformerFrameFeeds(cfg, rows, hidden, textTokens, draws)), FRAME_IO.tokens);
}
