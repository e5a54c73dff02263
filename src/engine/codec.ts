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
  exportSlot(slot: number): CodecState;
  importSlot(slot: number, state: CodecState): void;
  moveSlot(from: number, to: number): void;
}
