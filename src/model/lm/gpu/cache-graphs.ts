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
