import type { LmCaches } from '../../model/lm/lm-stepper.js';
import type { CodecOverlap } from '../codec.js';
import type { SamplingParams } from '../sampling/sampling-params.js';
import type { TickStats } from '../scheduler.js';
import type { EngineSnapshot } from '../snapshot.js';

// Messages between the main thread and the inference worker. Plain types:
// both sides are this codebase, so there is nothing to validate.

export interface EngineOptions {
  modelDir: string;
  provider: 'cpu' | 'webgpu' | 'cuda';
  threads: number;
  maxSessions: number;
  tickMs: number;
  maxQueuedFrames: number;
  /** Steps a session may take (Moshi stops at 4500); also the token history kept for resumes. */
  maxSessionSteps: number;
  /** Where the LM's KV caches live (see model/lm/lm-stepper.ts); default auto. */
  lmCaches?: LmCaches;
  /** Where the Mimi codec runs; default: defaultCodecProvider(provider). */
  codecProvider?: 'cpu' | 'webgpu' | 'cuda';
  /** Mimi in threads of its own, overlapping the LM (see engine/codec.ts); default auto. */
  codecOverlap?: CodecOverlap | 'auto';
  /** With the codec overlapped: threads per direction, splitting the slots (default 1). */
  codecShards?: number;
}

export type ToWorker =
  | { type: 'open'; id: string; sampling: SamplingParams; resume?: EngineSnapshot }
  | { type: 'frame'; id: string; pcm: Float32Array }
  | { type: 'restart'; id: string }
  | { type: 'close'; id: string; snapshot?: boolean }
  | { type: 'stop' }
  /** Diagnostics: a full collection of the worker's heap (where node runs with --expose-gc), answered with 'collected'. */
  | { type: 'collect' }
  /** Fault injection: the worker throws from its message handler, as a bug would. */
  | { type: 'crash' };

export interface EngineInfo {
  modelName: string;
  /** Name and build time: snapshots only resume on the same model. */
  modelId: string;
  maxSessions: number;
  frameSize: number;
  sampleRate: number;
  bytesPerSession: number;
  textCard: number;
  /** Where the LM's KV caches ended up. */
  lmCaches: 'host' | 'device';
  /** Where the Mimi codec runs. */
  codecProvider: 'cpu' | 'webgpu' | 'cuda';
  /** How the codec overlaps the LM (the setting resolved). */
  codecOverlap: CodecOverlap;
}

export type FromWorker =
  | { type: 'ready'; info: EngineInfo }
  | { type: 'opened'; id: string; ok: boolean; error?: string }
  | { type: 'snapshot'; id: string; snapshot: EngineSnapshot | null }
  | { type: 'frame'; id: string; inputFrame: number; pcm: Float32Array | null; tokens: Int32Array | null; queuedAt: number }
  | { type: 'dropped'; id: string; frames: number }
  | { type: 'tick'; stats: TickStats }
  | { type: 'failed'; message: string }
  | { type: 'collected'; heapUsedBytes: number }
  | { type: 'stopped' };
