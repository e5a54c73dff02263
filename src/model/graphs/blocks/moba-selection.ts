import { A, type GraphBuilder, type Value } from '../../onnx/graph-builder.js';
import type { KeySelection } from './attention.js';

/**
 * Mixture of Block Attention (MoBA) key selection, as additive biases over
 * the scores of one attention layer. Keys are grouped into blocks of absolute
 * positions; each query (per head) keeps its own block and the top-k earlier
 * blocks ranked by a gate, the query's dot product with the block's mean key.
 * Everything else gets -inf. Causality and the context window are left to the
 * attention's other biases, so with top-k >= the number of blocks this adds
 * only zeros and attention is exactly full.
 *
 * The block of every key is computed on the host (the cache is a ring, so
 * block boundaries are not positions in the tensor; see lm/moba/blocks.ts)
 * and arrives as block ids relative to the first block of the pass, -1 for
 * columns holding no key. Membership then becomes a one-hot matrix, and block
 * means, gate scores and the key mask are MatMuls over it.
 */
export interface MobaBlockInputs {
  /** [B, P] int64: block of each past key column, -1 for none. */
  pastBlock: Value;
  /** [B, T] int64: block of each new token (queries and new keys alike). */
  newBlock: Value;
  /** [1] int64: blocks chosen per query, the own block included. */
  topK: Value;
}

export interface MobaSelectionArgs {
  blocks: MobaBlockInputs;
  /** [B, H, P, Dh] past keys, as the cache stores them. */
  pastK: Value;
  /** [B, H, T, Dh] queries. */
  q: Value;
  /** [B, H, T, Dh] new keys. */
  newK: Value;
}

export function mobaSelection(b: GraphBuilder, a: MobaSelectionArgs): KeySelection {
  return b.scope('moba', () => {
    const ids = blockIds(b, a.blocks);
    // One-hot membership, [B, 1, keys, NB] (the 1 broadcasts over heads).
    const pastMember = b.unsqueeze(oneHot(b, a.blocks.pastBlock, ids), [1]);
    const newMember = b.unsqueeze(oneHot(b, a.blocks.newBlock, ids), [1]);

    const count = b.add(b.reduceSum(pastMember, [2]), b.reduceSum(newMember, [2])); // [B, 1, 1, NB]

    const means = blockMeans(b, a.pastK, a.newK, pastMember, newMember, count);
    // [B, H, T, NB]; q carries the 1/sqrt(Dh) score scale, which leaves the ranking as it is.
    const gate = b.matmul(a.q, means);
    const chosen = topBlocks(b, gate, a.blocks, ids, count);

    // A key is visible when its block was chosen: chosen [B,H,T,NB] x membershipᵀ.
    const chosenF = b.cast(chosen, 'float32');
    const pastVisible = b.matmul(chosenF, b.transpose(pastMember, [0, 1, 3, 2]));
    const newVisible = b.matmul(chosenF, b.transpose(newMember, [0, 1, 3, 2]));
    return { past: maskToBias(b, pastVisible), self: maskToBias(b, newVisible) };
  });
}

/** [NB] int64: 0 .. (largest block id in the pass). */
function blockIds(b: GraphBuilder, blocks: MobaBlockInputs): Value {
  const all = b.concat([blocks.pastBlock, blocks.newBlock], 1);
  const last = b.op1('ReduceMax', [all], { keepdims: A.i(0) });
  return b.op1('Range', [b.constI64(0), b.add(last, b.constI64(1)), b.constI64(1)]);
}

/** [B, K] block ids -> [B, K, NB] float 0/1; ids of -1 (no key) match nothing. */
function oneHot(b: GraphBuilder, blockOf: Value, ids: Value): Value {
  return b.cast(b.op1('Equal', [b.unsqueeze(blockOf, [-1]), ids]), 'float32');
}

/**
 * [B, H, Dh, NB]: mean key of each block over the keys of the pass (past and
 * new). Past and new keys are joined first: a MatMul over an empty past
 * (the first pass) would sum over nothing, and onnxruntime leaves such an
 * output unwritten.
 */
function blockMeans(b: GraphBuilder, pastK: Value, newK: Value, pastMember: Value, newMember: Value, count: Value): Value {
  const keys = b.concat([pastK, newK], 2); // [B, H, P + T, Dh]
  const members = b.transpose(b.concat([pastMember, newMember], 2), [0, 1, 3, 2]); // [B, 1, NB, P + T]
  const sums = b.matmul(members, keys); // [B, H, NB, Dh]
  const counts = b.transpose(b.op1('Max', [count, b.constF32(1)]), [0, 1, 3, 2]); // [B, 1, NB, 1]
  return b.transpose(b.div(sums, counts), [0, 1, 3, 2]);
}

/**
 * [B, H, T, NB] bool: the query's own block, plus the best-scoring earlier
 * non-empty blocks up to top-k in all. Selection takes every block scoring at
 * least the k-th best score (exact ties may keep one more block).
 */
function topBlocks(b: GraphBuilder, gate: Value, blocks: MobaBlockInputs, ids: Value, count: Value): Value {
  const queryBlock = b.unsqueeze(blocks.newBlock, [1, -1]); // [B, 1, T, 1]
  const own = b.op1('Equal', [ids, queryBlock]);
  const earlier = b.op1('And', [b.op1('Less', [ids, queryBlock]), b.op1('Greater', [count, b.constF32(0)])]);
  const inf = b.constF32(Infinity);
  const negInf = b.constF32(-Infinity);
  const score = b.op1('Where', [own, inf, b.op1('Where', [earlier, gate, negInf])]);

  const nb = b.slice(b.op1('Shape', [score]), [3], [4], [0]);
  const k = b.op1('Min', [blocks.topK, nb]);
  const [best] = b.op('TopK', [score, k], { axis: A.i(-1), largest: A.i(1), sorted: A.i(1) }, { outputs: 2 });
  const kth = b.slice(best!, [-1], [Number.MAX_SAFE_INTEGER], [-1]); // [B, H, T, 1]
  return b.op1('And', [b.op1('GreaterOrEqual', [score, kth]), b.op1('Greater', [score, negInf])]);
}

/** 1 -> 0, 0 -> -inf (the MatMul over a one-hot gives exact 0/1). */
function maskToBias(b: GraphBuilder, visible: Value): Value {
  return b.op1('Where', [b.op1('Greater', [visible, b.constF32(0.5)]), b.constF32(0), b.constF32(-Infinity)]);
}
