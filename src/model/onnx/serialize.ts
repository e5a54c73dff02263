import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import onnxProto from 'onnx-proto';
import { ONNX_TYPE, type Attr, type Dim, type GraphDef, type IODef, type InitializerDef } from './graph-builder.js';

const { onnx } = onnxProto;
type ITensorProto = InstanceType<typeof onnx.TensorProto>;

const IR_VERSION = 8;
/** Initializers at least this large go to the external data file, when there is one. */
const EXTERNAL_MIN_BYTES = 1024;
/**
 * Tables read row by row (Gather's data input: embeddings, codebooks) stay in
 * the model file up to this many bytes in all. onnxruntime maps external data
 * and reads such a table straight from the mapping, so its pages fault in as
 * tokens are first seen and a serving process's memory grows for minutes;
 * inline tables are copied once at load. Products' weights are repacked by
 * onnxruntime at load anyway, so they stay external. The budget keeps the
 * model file under protobuf's 2 GiB.
 */
const INLINE_ROW_TABLES_MAX_BYTES = 1.5 * 2 ** 30;

/** Initializers kept inline: those read by row, largest first while they fit the budget. */
function inlineRowTables(graph: GraphDef): Set<string> {
  const rowRead = new Set(graph.nodes.filter((n) => n.opType === 'Gather').map((n) => n.inputs[0]));
  const tables = graph.initializers.filter((i) => rowRead.has(i.name)).sort((a, b) => b.data.byteLength - a.data.byteLength);
  const keep = new Set<string>();
  let total = 0;
  for (const t of tables) {
    if (total + t.data.byteLength > INLINE_ROW_TABLES_MAX_BYTES) continue;
    total += t.data.byteLength;
    keep.add(t.name);
  }
  return keep;
}

function bytesOf(init: InitializerDef): Uint8Array {
  const d = init.data;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

function attrProto(name: string, a: Attr): InstanceType<typeof onnx.AttributeProto> {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case 'int':
      return onnx.AttributeProto.create({ name, type: T.INT, i: a.value });
    case 'float':
      return onnx.AttributeProto.create({ name, type: T.FLOAT, f: a.value });
    case 'ints':
      return onnx.AttributeProto.create({ name, type: T.INTS, ints: a.value });
    case 'floats':
      return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: a.value });
    case 'string':
      return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(a.value) });
  }
}

function valueInfo(io: IODef): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name: io.name,
    type: {
      tensorType: {
        elemType: ONNX_TYPE[io.dtype],
        shape: { dim: io.dims.map((d: Dim) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

/**
 * Encodes a graph as an ONNX model. With `externalDataPath`, large initializers
 * are written there (ONNX external data, location relative to the model file),
 * which lifts protobuf's 2 GB limit and lets onnxruntime map weights directly.
 */
export function encodeModel(graph: GraphDef, externalDataPath?: string): Uint8Array {
  let fd: number | null = null;
  let offset = 0;
  const initializers: ITensorProto[] = [];
  const inline = externalDataPath ? inlineRowTables(graph) : new Set<string>();
  try {
    if (externalDataPath) fd = openSync(externalDataPath, 'w');
    for (const init of graph.initializers) {
      const raw = bytesOf(init);
      const base = { name: init.name, dims: init.dims, dataType: ONNX_TYPE[init.dtype] };
      if (fd !== null && externalDataPath && raw.byteLength >= EXTERNAL_MIN_BYTES && !inline.has(init.name)) {
        // Keep each tensor 64-byte aligned so it can be mapped without copying.
        const pad = (64 - (offset % 64)) % 64;
        if (pad) writeSync(fd, new Uint8Array(pad));
        offset += pad;
        writeSync(fd, raw);
        initializers.push(
          onnx.TensorProto.create({
            ...base,
            dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
            externalData: [
              { key: 'location', value: basename(externalDataPath) },
              { key: 'offset', value: String(offset) },
              { key: 'length', value: String(raw.byteLength) },
            ],
          }),
        );
        offset += raw.byteLength;
      } else {
        initializers.push(onnx.TensorProto.create({ ...base, rawData: raw }));
      }
    }
  } finally {
    if (fd !== null) closeSync(fd);
  }
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'parley',
    opsetImport: [...graph.domains].map(([domain, version]) => ({ domain, version })),
    graph: {
      name: graph.name,
      node: graph.nodes.map((n) =>
        onnx.NodeProto.create({
          name: n.name,
          opType: n.opType,
          domain: n.domain,
          input: n.inputs,
          output: n.outputs,
          attribute: Object.entries(n.attrs).map(([k, v]) => attrProto(k, v)),
        }),
      ),
      initializer: initializers,
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Writes `<path>` and, for graphs with large weights, `<path>.data` beside it. */
export function writeModel(graph: GraphDef, path: string, external = true): void {
  const bytes = encodeModel(graph, external ? `${path}.data` : undefined);
  writeFileSync(path, bytes);
}
