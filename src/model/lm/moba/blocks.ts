/** MoBA settings for a prefill: key block size (frames) and blocks chosen per query. */
export interface MobaOptions {
  blockSize: number;
  /** Blocks each query attends to, its own block included. */
  topK: number;
}

export function checkMobaOptions(m: MobaOptions): void {
  if (!Number.isInteger(m.blockSize) || m.blockSize < 1) throw new RangeError(`MoBA block size must be a positive integer, got ${m.blockSize}`);
  if (!Number.isInteger(m.topK) || m.topK < 1) throw new RangeError(`MoBA top-k must be a positive integer, got ${m.topK}`);
}

export interface MobaBlocks {
  /** [P] block of each past column, -1 for none. */
  past: BigInt64Array;
  /** [T] block of each new frame. */
  fresh: BigInt64Array;
}

/**
 * Assigns the keys of one prefill pass to MoBA blocks. Blocks are fixed spans
 * of absolute positions (block n = positions n*B .. n*B+B-1), whatever column
 * of the ring a key sits in; ids are made relative to the pass's first block
 * so that the graph's one-hot width stays about (P + T) / B. Past columns that
 * are empty, or hold a key no query of the pass can see (it left the context
 * window), get -1 so that they count in no block mean.
 */
export function mobaBlocks(
  pastPositions: Int32Array, position: number, T: number, blockSize: number, context: number,
): MobaBlocks {
  const visible = (s: number) => s >= 0 && position - s < context;
  let first = Math.floor(position / blockSize);
  for (const s of pastPositions) if (visible(s)) first = Math.min(first, Math.floor(s / blockSize));
  const past = new BigInt64Array(pastPositions.length);
  pastPositions.forEach((s, j) => (past[j] = BigInt(visible(s) ? Math.floor(s / blockSize) - first : -1)));
  const fresh = new BigInt64Array(T);
  for (let t = 0; t < T; t++) fresh[t] = BigInt(Math.floor((position + t) / blockSize) - first);
  return { past, fresh };
}
