import { GraphBuilder, type DType, type GraphDef } from '../../onnx/graph-builder.js';

/** Small graphs that create and reshape device caches (no weights). */

/** `out` = zeros of the runtime shape `shape` [4] int64. */
export function buildFillGraph(act: DType): GraphDef {
  const b = new GraphBuilder('cache_fill');
  const shape = b.input('shape', 'int64', [4]);
  const zero = act === 'float32' ? b.weight('zero', Float32Array.of(0), [1, 1, 1, 1]) : b.weight('zero', Uint16Array.of(0), [1, 1, 1, 1], 'float16');
  b.output(b.op1('Expand', [zero, shape]), 'out', act, ['B', 'a', 'b', 'c']);
  return b.build();
}

export type MergeAt = 'first' | 'middle' | 'last';

/**
 * Writes a layer's window of N frames into its ring at a frame offset, keys
 * ([B,H,Dh,C], frames on axis 3) and values ([B,H,C,Dh], axis 2) in one run:
 * `first` at 0, `last` at C - N, `middle` at the runtime offsets `at` and
 * `at_end` (at + N), each [1] int64. Three graphs because a Concat with an
 * empty part is avoided. Outputs out_k, out_v: new rings (a full copy each:
 * onnxruntime has no in-place output).
 */
export function buildMergeGraph(act: DType, N: number, at: MergeAt): GraphDef {
  const b = new GraphBuilder(`cache_merge_${at}`);
  const from = at === 'middle' ? b.input('at', 'int64', [1]) : null;
  const to = at === 'middle' ? b.input('at_end', 'int64', [1]) : null;
  for (const [kind, axis] of [['k', 3], ['v', 2]] as const) {
    const dims = (len: string | number) => (axis === 3 ? ['B', 'H', 'D', len] : ['B', 'H', len, 'D']);
    const big = b.input(`big_${kind}`, act, dims('C'));
    const win = b.input(`win_${kind}`, act, dims(N));
    const ax = b.constI64([axis]);
    const end = () => b.constI64([Number.MAX_SAFE_INTEGER]);
    let out;
    if (at === 'first') {
      out = b.concat([win, b.op1('Slice', [big, b.constI64([N]), end(), ax])], axis);
    } else if (at === 'last') {
      out = b.concat([b.op1('Slice', [big, b.constI64([0]), b.constI64([-N]), ax]), win], axis);
    } else {
      out = b.concat([b.op1('Slice', [big, b.constI64([0]), from!, ax]), win, b.op1('Slice', [big, to!, end(), ax])], axis);
    }
    b.output(out, `out_${kind}`, act, dims('C'));
  }
  return b.build();
}

/** `out[i]` = `x[rows[i]]` along the batch axis (moving sessions between slots). */
export function buildGatherRowsGraph(act: DType): GraphDef {
  const b = new GraphBuilder('cache_gather_rows');
  const x = b.input('x', act, ['B', 'a', 'b', 'c']);
  const rows = b.input('rows', 'int64', ['R']);
  b.output(b.gather(x, rows, 0), 'out', act, ['R', 'a', 'b', 'c']);
  return b.build();
}

/** `out` = -x: reads and writes every byte once (the device copy-bandwidth probe). */
export function buildNegGraph(act: DType): GraphDef {
  const b = new GraphBuilder('copy_probe');
  const x = b.input('x', act, ['a', 'b', 'c', 'n']);
  b.output(b.op1('Neg', [x]), 'out', act, ['a', 'b', 'c', 'n']);
  return b.build();
}
