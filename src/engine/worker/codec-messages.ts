import type { MessagePort } from 'node:worker_threads';
import type { SessionOptions } from '../../model/onnx/session.js';
import type { MimiLayout } from '../../model/mimi/layout.js';

// Messages between the inference worker and a codec thread (one Mimi
// direction). Plain types: both sides are this codebase.

export interface CodecThreadOptions {
  direction: 'encoder' | 'decoder';
  /** The direction's ONNX file. */
  model: string;
  layout: MimiLayout;
  slots: number;
  session: SessionOptions;
}

export type ToCodecThread =
  | { type: 'run'; id: number; rows: number; data: Float32Array | BigInt64Array; exec: Uint8Array }
  | { type: 'reset'; slot: number }
  | { type: 'move'; from: number; to: number }
  | { type: 'export'; id: number; slot: number }
  | { type: 'import'; id: number; slot: number; state: Float32Array[] }
  /** A slot's state to another codec thread of the same direction (a slot move across shards): send it on `port`... */
  | { type: 'send'; slot: number; port: MessagePort }
  /** ...and take it from `port` into `slot` before any later request. */
  | { type: 'receive'; slot: number; port: MessagePort };

/** The requests that are answered (by id); the others are fire-and-forget, applied in order. */
export type CodecThreadRequest = Extract<ToCodecThread, { id: number }>;

export type FromCodecThread =
  | { type: 'ready'; bytesPerSlot: number }
  | { type: 'failed'; message: string }
  | { type: 'done'; id: number; out: Float32Array | Int32Array | Float32Array[] | null }
  | { type: 'error'; id: number | null; message: string };
