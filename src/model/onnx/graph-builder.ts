// A small ONNX graph builder: the model's graphs are written in TypeScript from
// the checkpoint's config and weights, then serialized with onnx-proto.

export type DType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool' | 'uint8';
export type Dim = number | string;
export type WeightData = Float32Array | Uint16Array | Int32Array | BigInt64Array | Uint8Array;

export interface Value {
  readonly name: string;
}

export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string };

/** Typed attribute constructors, because a JS number does not say int or float. */
export const A = {
  i: (value: number): Attr => ({ kind: 'int', value }),
  f: (value: number): Attr => ({ kind: 'float', value }),
  ints: (value: number[]): Attr => ({ kind: 'ints', value }),
  floats: (value: number[]): Attr => ({ kind: 'floats', value }),
  s: (value: string): Attr => ({ kind: 'string', value }),
};

export interface NodeDef {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attr>;
}

export interface InitializerDef {
  name: string;
  dtype: DType;
  dims: number[];
  data: WeightData;
}

export interface IODef {
  name: string;
  dtype: DType;
  dims: Dim[];
}

export interface GraphDef {
  name: string;
  nodes: NodeDef[];
  initializers: InitializerDef[];
  inputs: IODef[];
  outputs: IODef[];
  domains: Map<string, number>;
}

export const MS_DOMAIN = 'com.microsoft';

export class GraphBuilder {
  private readonly nodes: NodeDef[] = [];
  private readonly initializers: InitializerDef[] = [];
  private readonly inputs: IODef[] = [];
  private readonly outputs: IODef[] = [];
  private readonly usedNames = new Set<string>();
  private readonly constCache = new Map<string, Value>();
  /** Initializers by their data array, so that a tensor used twice is stored once. */
  private readonly byData = new WeakMap<WeightData, Map<string, Value>>();
  private readonly prefixes: string[] = [];
  private readonly domains = new Map<string, number>([['', 17]]);
  private counter = 0;

  constructor(readonly name: string) {}

  /** Runs `fn` with a name prefix, so that node names read like module paths. */
  scope<T>(prefix: string, fn: () => T): T {
    this.prefixes.push(prefix);
    try {
      return fn();
    } finally {
      this.prefixes.pop();
    }
  }

  private fresh(base: string): string {
    const prefix = this.prefixes.length > 0 ? this.prefixes.join('/') + '/' : '';
    let name = prefix + base;
    while (this.usedNames.has(name)) name = `${prefix}${base}_${++this.counter}`;
    this.usedNames.add(name);
    return name;
  }

  input(name: string, dtype: DType, dims: Dim[]): Value {
    if (this.usedNames.has(name)) throw new Error(`duplicate graph input ${name}`);
    this.usedNames.add(name);
    this.inputs.push({ name, dtype, dims });
    return { name };
  }

  output(value: Value, name: string, dtype: DType, dims: Dim[]): void {
    if (this.usedNames.has(name)) throw new Error(`duplicate graph output ${name}`);
    this.usedNames.add(name);
    this.nodes.push({ opType: 'Identity', domain: '', name: `out/${name}`, inputs: [value.name], outputs: [name], attrs: {} });
    this.outputs.push({ name, dtype, dims });
  }

  weight(name: string, data: WeightData, dims: number[], dtype: DType = dtypeOf(data)): Value {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) {
      throw new Error(`weight ${name}: ${data.length} elements for shape [${dims.join(', ')}]`);
    }
    const key = `${dtype}:${dims.join('x')}`;
    const known = this.byData.get(data)?.get(key);
    if (known) return known;
    const full = this.fresh(name);
    this.initializers.push({ name: full, dtype, dims, data });
    const v = { name: full };
    let forData = this.byData.get(data);
    if (!forData) this.byData.set(data, (forData = new Map()));
    forData.set(key, v);
    return v;
  }

  constF32(values: number | number[], dims?: number[]): Value {
    const arr = typeof values === 'number' ? [values] : values;
    const shape = dims ?? (typeof values === 'number' ? [] : [arr.length]);
    const key = `f32:${shape.join('x')}:${arr.join(',')}`;
    return this.cachedConst(key, () => this.weight('const_f', Float32Array.from(arr), shape, 'float32'));
  }

  constI64(values: number | number[], dims?: number[]): Value {
    const arr = typeof values === 'number' ? [values] : values;
    const shape = dims ?? (typeof values === 'number' ? [] : [arr.length]);
    const key = `i64:${shape.join('x')}:${arr.join(',')}`;
    return this.cachedConst(key, () =>
      this.weight('const_i', BigInt64Array.from(arr.map((v) => BigInt(v))), shape, 'int64'),
    );
  }

  private cachedConst(key: string, make: () => Value): Value {
    let v = this.constCache.get(key);
    if (!v) {
      // Constants are shared across scopes, so they are named outside any prefix.
      const saved = this.prefixes.splice(0);
      try {
        v = make();
      } finally {
        this.prefixes.push(...saved);
      }
      this.constCache.set(key, v);
    }
    return v;
  }

  /** Adds a node and returns its outputs. An empty-string input means "absent". */
  op(
    opType: string,
    inputs: (Value | null)[],
    attrs: Record<string, Attr> = {},
    opts: { outputs?: number; domain?: string } = {},
  ): Value[] {
    const domain = opts.domain ?? '';
    if (domain !== '' && !this.domains.has(domain)) this.domains.set(domain, 1);
    const n = opts.outputs ?? 1;
    const nodeName = this.fresh(opType);
    const outs: Value[] = [];
    for (let i = 0; i < n; i++) outs.push({ name: n === 1 ? `${nodeName}:out` : `${nodeName}:out${i}` });
    for (const o of outs) this.usedNames.add(o.name);
    this.nodes.push({
      opType,
      domain,
      name: nodeName,
      inputs: inputs.map((v) => (v ? v.name : '')),
      outputs: outs.map((o) => o.name),
      attrs,
    });
    return outs;
  }

  op1(opType: string, inputs: (Value | null)[], attrs: Record<string, Attr> = {}, domain = ''): Value {
    return this.op(opType, inputs, attrs, { domain })[0]!;
  }

  // Sugar for the common operators.
  add(a: Value, b: Value): Value { return this.op1('Add', [a, b]); }
  sub(a: Value, b: Value): Value { return this.op1('Sub', [a, b]); }
  mul(a: Value, b: Value): Value { return this.op1('Mul', [a, b]); }
  div(a: Value, b: Value): Value { return this.op1('Div', [a, b]); }
  matmul(a: Value, b: Value): Value { return this.op1('MatMul', [a, b]); }
  reshape(x: Value, shape: number[]): Value { return this.op1('Reshape', [x, this.constI64(shape)]); }
  transpose(x: Value, perm: number[]): Value { return this.op1('Transpose', [x], { perm: A.ints(perm) }); }
  concat(xs: Value[], axis: number): Value { return this.op1('Concat', xs, { axis: A.i(axis) }); }
  unsqueeze(x: Value, axes: number[]): Value { return this.op1('Unsqueeze', [x, this.constI64(axes)]); }
  squeeze(x: Value, axes: number[]): Value { return this.op1('Squeeze', [x, this.constI64(axes)]); }
  gather(x: Value, indices: Value, axis = 0): Value { return this.op1('Gather', [x, indices], { axis: A.i(axis) }); }
  softmax(x: Value, axis = -1): Value { return this.op1('Softmax', [x], { axis: A.i(axis) }); }
  sigmoid(x: Value): Value { return this.op1('Sigmoid', [x]); }
  cast(x: Value, to: DType): Value { return this.op1('Cast', [x], { to: A.i(ONNX_TYPE[to]) }); }
  slice(x: Value, starts: number[], ends: number[], axes: number[], steps?: number[]): Value {
    const ins = [x, this.constI64(starts), this.constI64(ends), this.constI64(axes)];
    if (steps) ins.push(this.constI64(steps));
    return this.op1('Slice', ins);
  }
  split(x: Value, sizes: number[], axis: number): Value[] {
    return this.op('Split', [x, this.constI64(sizes)], { axis: A.i(axis) }, { outputs: sizes.length });
  }
  reduceMean(x: Value, axes: number[], keepdims = true): Value {
    return this.op1('ReduceMean', [x], { axes: A.ints(axes), keepdims: A.i(keepdims ? 1 : 0) });
  }
  reduceSum(x: Value, axes: number[], keepdims = true): Value {
    return this.op1('ReduceSum', [x, this.constI64(axes)], { keepdims: A.i(keepdims ? 1 : 0) });
  }

  build(): GraphDef {
    return {
      name: this.name,
      nodes: [...this.nodes],
      initializers: [...this.initializers],
      inputs: [...this.inputs],
      outputs: [...this.outputs],
      domains: new Map(this.domains),
    };
  }
}

export const ONNX_TYPE: Record<DType, number> = {
  float32: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
};

export function dtypeOf(data: WeightData): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Uint16Array) return 'float16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  return 'uint8';
}
