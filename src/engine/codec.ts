import type { ExecutionProvider } from '../model/onnx/session.js';

export interface CodecState {
  encoder: Float32Array[];
  decoder: Float32Array[];
}

/** What the engine needs from the audio codec (Mimi's batched runner). */
export interface Codec {
  readonly frameSize: number;
  readonly numCodebooks: number;
  readonly bytesPerSlot: number;
  /** pcm: [rows, frameSize] -> codes [rows, numCodebooks]. */
  encode(rows: number, pcm: Float32Array, exec?: Uint8Array): Promise<ArrayLike<number | bigint>>;
  /** codes [rows, numCodebooks] -> pcm [rows, frameSize]. */
  decode(rows: number, codes: BigInt64Array, exec?: Uint8Array): Promise<Float32Array>;
  resetSlot(slot: number): void;
  exportSlot(slot: number): CodecState | Promise<CodecState>;
  importSlot(slot: number, state: CodecState): void | Promise<void>;
  moveSlot(from: number, to: number): void;
  release(): Promise<void>;
}

/**
 * How the codec overlaps the LM. 'off': encode, LM and decode one after the
 * other in the inference thread. 'decode': Mimi in threads of its own and a
 * tick's decode runs on into the next tick (period encode + LM, same
 * latency). 'full': also encodes a tick's frames while the LM steps those
 * encoded the tick before (period bounded by the slowest stage, one tick
 * more of latency).
 */
export type CodecOverlap = 'off' | 'decode' | 'full';

/**
 * The overlap a setting means here. 'auto' is 'full' when the LM is on a GPU
 * and the codec on the host cores (different hardware: throughput first);
 * on a CPU-only server both would share the same cores, so 'off'.
 */
export function resolveCodecOverlap(setting: CodecOverlap | 'auto', lmProvider: ExecutionProvider, codecProvider: ExecutionProvider): CodecOverlap {
  if (setting !== 'auto') return setting;
  return lmProvider !== 'cpu' && codecProvider === 'cpu' ? 'full' : 'off';
}

/**
 * Where Mimi runs when the config does not say. On WebGPU its hundreds of
 * small kernels per frame are bound by per-dispatch host cost: real-width
 * Mimi measured 142 ms per frame at batch 1 on an H100 against 17 ms on
 * 8 of the same machine's CPU cores (docs/gpu.md), so WebGPU serving keeps
 * the codec on the host.
 */
export function defaultCodecProvider(lmProvider: ExecutionProvider): ExecutionProvider {
  return lmProvider === 'webgpu' ? 'cpu' : lmProvider;
}
