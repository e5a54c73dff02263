import ort from 'onnxruntime-node';

export type ExecutionProvider = 'cpu' | 'webgpu' | 'cuda';

export interface SessionOptions {
  provider: ExecutionProvider;
  /** Threads for one operator; onnxruntime's default (all physical cores per session) oversubscribes. */
  intraOpThreads: number;
}

export const defaultSessionOptions: SessionOptions = { provider: 'cpu', intraOpThreads: 1 };

/** Creates an onnxruntime session from ONNX bytes or a file path. */
export async function createSession(model: Uint8Array | string, opts: SessionOptions): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [opts.provider],
    intraOpNumThreads: opts.intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    // Each session has its own thread pool; spinning pools steal the cores
    // from the next graph of the same tick (measured: 5x slower with 2 threads).
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
  // Operator-level traces for performance work: PARLEY_ORT_PROFILE=<file prefix>.
  const profile = process.env['PARLEY_ORT_PROFILE'];
  if (profile) {
    options.enableProfiling = true;
    options.profileFilePrefix = profile;
  }
  try {
    return typeof model === 'string'
      ? await ort.InferenceSession.create(model, options)
      : await ort.InferenceSession.create(model, options);
  } catch (e) {
    const msg = (e as Error).message;
    if (opts.provider !== 'cpu' && /backend|provider|not found|not available/i.test(msg)) {
      throw new Error(`execution provider '${opts.provider}' is not available on this machine: ${msg}`);
    }
    throw e;
  }
}

export function f32(data: Float32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

export function i64(data: BigInt64Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('int64', data, dims);
}

export function outputF32(out: ort.InferenceSession.OnnxValueMapType, name: string): Float32Array {
  const t = out[name];
  if (!t) throw new Error(`graph output ${name} missing`);
  return t.data as Float32Array;
}
