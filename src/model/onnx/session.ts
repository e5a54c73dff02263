import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';

export type ExecutionProvider = 'cpu' | 'webgpu' | 'cuda';

export interface SessionOptions {
  provider: ExecutionProvider;
  /** Threads for one operator; onnxruntime's default (all physical cores per session) oversubscribes. */
  intraOpThreads: number;
  /**
   * WebGPU provider options (onnxruntime's names). All WebGPU sessions of a
   * process share one device context, so give every session the same ones.
   */
  webgpu?: WebGpuOptions;
}

export interface WebGpuOptions {
  /**
   * 'simple' keeps every released device buffer for reuse at the same size:
   * no allocation per step once shapes are steady (a device cache rewritten
   * every N steps otherwise allocates a fresh buffer per layer). 'bucket'
   * (onnxruntime's default) caches buffers up to 256 MB only.
   */
  storageBufferCacheMode?: 'disabled' | 'lazyRelease' | 'simple' | 'bucket';
  /** 'disabled' skips Dawn's API validation (less CPU time per dispatch). */
  validationMode?: 'disabled' | 'wgpuOnly' | 'basic' | 'full';
  /** Dispatches recorded before a submit (onnxruntime's default 16). */
  maxNumPendingDispatches?: number;
}

export const defaultSessionOptions: SessionOptions = { provider: 'cpu', intraOpThreads: 1 };

/** The WebGPU settings the server runs with (what docs/gpu.md measured best: buffers reused, no API validation). */
export const WEBGPU_SERVING: WebGpuOptions = { storageBufferCacheMode: 'simple', validationMode: 'disabled' };

/** Session options as the server uses them: WebGPU sessions get WEBGPU_SERVING. */
export function servingOptions(provider: ExecutionProvider, intraOpThreads: number): SessionOptions {
  return { provider, intraOpThreads, ...(provider === 'webgpu' ? { webgpu: WEBGPU_SERVING } : {}) };
}

/** Per-session additions for device-resident state (see lm/gpu/). */
export interface SessionExtras {
  /**
   * Outputs to leave on the device (WebGPU: 'gpu-buffer'); such outputs can
   * only be fed back as inputs or disposed, never read on the host.
   */
  preferredOutputLocation?: Record<string, 'cpu' | 'gpu-buffer'>;
  /** Operator-level trace for this session (file prefix); see also PARLEY_ORT_PROFILE. */
  profilePrefix?: string;
}

/** Whether this onnxruntime build bundles (or was installed with) the provider. */
export function providerAvailable(provider: ExecutionProvider): boolean {
  if (!ort.listSupportedBackends().some((b) => b.name === provider)) return false;
  // The Linux build lists 'cuda' even when its provider library was never installed.
  return provider !== 'cuda' || existsSync(join(ortBinDir(), 'libonnxruntime_providers_cuda.so'));
}

function ortBinDir(): string {
  const pkg = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

/** Creates an onnxruntime session from ONNX bytes or a file path. */
export async function createSession(model: Uint8Array | string, opts: SessionOptions, extras: SessionExtras = {}): Promise<ort.InferenceSession> {
  if (opts.provider !== 'cpu' && !providerAvailable(opts.provider)) {
    const have = ort.listSupportedBackends().map((b) => b.name).join(', ');
    const hint = opts.provider === 'cuda' ? ' (install its binaries: ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci; see docs/gpu.md)' : '';
    throw new Error(`execution provider '${opts.provider}' is not available on this machine: this onnxruntime-node has ${have}${hint}`);
  }
  const w = opts.provider === 'webgpu' ? opts.webgpu : undefined;
  const ep = w && (w.storageBufferCacheMode || w.validationMode)
    ? { name: 'webgpu', ...(w.storageBufferCacheMode ? { storageBufferCacheMode: w.storageBufferCacheMode } : {}), ...(w.validationMode ? { validationMode: w.validationMode } : {}) }
    : opts.provider;
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [ep],
    intraOpNumThreads: opts.intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    // Each session has its own thread pool; spinning pools steal the cores
    // from the next graph of the same tick (measured: 5x slower with 2 threads).
    extra: {
      session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } },
      // On the CPU, onnxruntime's MatmulTransposeFusion turns attention's K·qᵀ
      // (one query against a long cache) into a FusedMatMul with a transposed
      // operand that runs 2.4x slower than the plain MatMul over q reshaped
      // (measured: the bench preset's temporal step at 16 rows 60 -> 48 ms).
      ...(opts.provider === 'cpu' ? { optimization: { disable_specified_optimizers: 'MatmulTransposeFusion' } } : {}),
      // Read by the WebGPU provider from the session's config (not a binding option in onnxruntime-node 1.30).
      ...(w?.maxNumPendingDispatches ? { ep: { webgpuexecutionprovider: { maxNumPendingDispatches: String(w.maxNumPendingDispatches) } } } : {}),
    },
  };
  // Device outputs exist only where the provider keeps buffers (WebGPU); elsewhere they come back as host tensors.
  if (extras.preferredOutputLocation && opts.provider === 'webgpu') options.preferredOutputLocation = extras.preferredOutputLocation;
  // Operator-level traces for performance work: PARLEY_ORT_PROFILE=<file prefix>.
  const profile = extras.profilePrefix ?? process.env['PARLEY_ORT_PROFILE'];
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
    if (opts.provider !== 'cpu' && /backend|provider|not found|not available|adapter|device|vulkan|cuda|dawn/i.test(msg)) {
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

export function i32(data: Int32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('int32', data, dims);
}

function outputData(out: ort.InferenceSession.OnnxValueMapType, name: string): ort.Tensor['data'] {
  const t = out[name];
  if (!t) throw new Error(`graph output ${name} missing`);
  return t.data;
}

export function outputF32(out: ort.InferenceSession.OnnxValueMapType, name: string): Float32Array {
  return outputData(out, name) as Float32Array;
}

export function outputI32(out: ort.InferenceSession.OnnxValueMapType, name: string): Int32Array {
  return outputData(out, name) as Int32Array;
}
