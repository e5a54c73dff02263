import type { WeightSource } from '../checkpoint/weights.js';
import type { GraphBuilder, Value } from '../onnx/graph-builder.js';
import type { LmDims } from './config.js';

/**
 * The temporal transformer's input embeddings (text, then each audio
 * codebook) are stored as one table so that a step is a single Gather over
 * [B, T, streams] indices followed by a sum. The last row is all zeros: it is
 * where Moshi's "zero token" (-1, no input) points.
 */
export interface EmbeddingLayout {
  /** First row of each stream's table: stream 0 is text, 1.. are audio. */
  offsets: number[];
  rows: number;
  zeroRow: number;
}

export function embeddingLayout(d: LmDims): EmbeddingLayout {
  const offsets = [0];
  let rows = d.textCard + 1;
  for (let q = 0; q < d.nQ; q++) {
    offsets.push(rows);
    rows += d.card + 1;
  }
  return { offsets, rows: rows + 1, zeroRow: rows };
}

/** Writes the table indices for one row's tokens (one per stream). */
export function embeddingIndices(layout: EmbeddingLayout, tokens: ArrayLike<number>, out: BigInt64Array, at: number): void {
  for (let s = 0; s < layout.offsets.length; s++) {
    const t = tokens[s]!;
    out[at + s] = BigInt(t < 0 ? layout.zeroRow : layout.offsets[s]! + t);
  }
}

/** The summed input embeddings [B, T, D] of token rows [B, T, streams] (indices from `embeddingIndices`). */
export function embedTokens(b: GraphBuilder, src: WeightSource, d: LmDims, tokens: Value): Value {
  const layout = embeddingLayout(d);
  const table = new Float32Array(layout.rows * d.dim);
  table.set(src.get('text_emb.weight', [d.textCard + 1, d.dim]), 0);
  for (let q = 0; q < d.nQ; q++) {
    table.set(src.get(`emb.${q}.weight`, [d.card + 1, d.dim]), layout.offsets[q + 1]! * d.dim);
  }
  const emb = b.gather(b.weight('emb_table', table, [layout.rows, d.dim]), tokens, 0);
  return b.reduceSum(emb, [2], false);
}
