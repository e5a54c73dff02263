import { createRequire } from 'node:module';

// opusscript's own encode() keeps typed-array views of the WASM heap made at
// construction (and addresses its input buffer at twice its real pointer), so
// it writes into other encoders' memory and throws once the shared heap grows
// (about 150 live encoders). This file drives the same compiled libopus
// handler, from one private module instance, with views taken per call.

interface NativeHandler {
  _encode(inputPtr: number, bytes: number, outputPtr: number, frameSize: number): number;
  _encoder_ctl(request: number, arg: number): number;
}

interface NativeModule {
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  OpusScriptHandler: {
    new (sampleRate: number, channels: number, application: number): NativeHandler;
    destroy_handler(handler: NativeHandler): void;
  };
}

type NativeFactory = () => NativeModule;

let native: NativeModule | null = null;
function nativeModule(): NativeModule {
  if (!native) {
    const factory = createRequire(import.meta.url)('opusscript/build/opusscript_native_wasm.js') as NativeFactory;
    native = factory();
  }
  return native;
}

export const ENCODER_SAMPLE_RATE = 24000;
export const DEFAULT_OPUS_FRAME = 960;

const OPUS_APPLICATION_VOIP = 2048;
const OPUS_SET_BITRATE = 4002;
const OPUS_SET_COMPLEXITY = 4010;
const OPUS_GET_LOOKAHEAD = 4027;
const OPUS_RESET_STATE = 4028;
/** Output capacity the native handler assumes (3 × 1276 bytes). */
const MAX_PACKET_BYTES = 3828;
/** Opus frame durations at 24 kHz: 2.5, 5, 10, 20, 40, 60 ms. */
const VALID_FRAME_SIZES = [60, 120, 240, 480, 960, 1440];

const OPUS_ERRORS: Record<number, string> = {
  [-1]: 'bad argument',
  [-2]: 'buffer too small',
  [-3]: 'internal error',
  [-4]: 'invalid packet',
  [-5]: 'unimplemented',
  [-6]: 'invalid state',
  [-7]: 'allocation failed',
};

export interface OpusEncoderOptions {
  /** Samples per Opus packet at 24 kHz (default 960 = 40 ms). */
  frameSize?: number;
  /** Bits per second; libopus chooses when omitted. */
  bitrate?: number;
  /** 0–10; libopus default (10) when omitted. */
  complexity?: number;
}

/** libopus encoder for 24 kHz mono (VOIP application): one packet per `frameSize` samples. */
export class OpusFrameEncoder {
  readonly frameSize: number;
  /** Encoder delay in 24 kHz samples; twice this is the OpusHead pre-skip. */
  readonly lookahead: number;
  private handler: NativeHandler | null;
  private readonly mod: NativeModule;
  private readonly inPtr: number;
  private readonly outPtr: number;

  constructor(options: OpusEncoderOptions = {}) {
    const frameSize = options.frameSize ?? DEFAULT_OPUS_FRAME;
    if (!VALID_FRAME_SIZES.includes(frameSize)) {
      throw new RangeError(`frameSize must be one of ${VALID_FRAME_SIZES.join(', ')} at 24 kHz, got ${frameSize}`);
    }
    this.frameSize = frameSize;
    this.mod = nativeModule();
    this.handler = new this.mod.OpusScriptHandler(ENCODER_SAMPLE_RATE, 1, OPUS_APPLICATION_VOIP);
    // The handler reads each PCM byte from its own 16-bit slot: 4 bytes per sample.
    this.inPtr = this.mod._malloc(frameSize * 4);
    this.outPtr = this.mod._malloc(MAX_PACKET_BYTES);
    try {
      if (options.bitrate !== undefined) this.ctl(OPUS_SET_BITRATE, options.bitrate);
      if (options.complexity !== undefined) this.ctl(OPUS_SET_COMPLEXITY, options.complexity);
      this.ctl(OPUS_GET_LOOKAHEAD, this.outPtr);
      this.lookahead = new DataView(this.mod.HEAPU8.buffer).getInt32(this.outPtr, true);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  private live(): NativeHandler {
    if (!this.handler) throw new Error('Opus encoder is closed');
    return this.handler;
  }

  private ctl(request: number, arg: number): void {
    const rc = this.live()._encoder_ctl(request, arg);
    if (rc < 0) throw new Error(`opus_encoder_ctl(${request}) failed: ${OPUS_ERRORS[rc] ?? rc}`);
  }

  /** Encodes exactly `frameSize` samples in [-1, 1] (clipped outside) to one Opus packet. */
  encode(pcm: Float32Array): Uint8Array {
    const handler = this.live();
    if (pcm.length !== this.frameSize) {
      throw new RangeError(`expected ${this.frameSize} samples, got ${pcm.length}`);
    }
    const n = this.frameSize;
    // Fresh view each call: the heap's ArrayBuffer is replaced when it grows.
    const slots = new Uint16Array(this.mod.HEAPU8.buffer, this.inPtr, n * 2);
    for (let i = 0; i < n; i++) {
      const x = pcm[i]!;
      const s = x >= 1 ? 32767 : x <= -1 ? -32768 : Math.round(x * 32767);
      slots[2 * i] = s & 0xff;
      slots[2 * i + 1] = (s >> 8) & 0xff;
    }
    // Its `bytes` argument is really the number of samples it repacks; n keeps
    // every read inside our buffer.
    const len = handler._encode(this.inPtr, n, this.outPtr, n);
    if (len < 0) throw new Error(`opus_encode failed: ${OPUS_ERRORS[len] ?? len}`);
    return this.mod.HEAPU8.slice(this.outPtr, this.outPtr + len);
  }

  /** Restarts the codec state (as after a stream discontinuity); settings are kept. */
  reset(): void {
    this.ctl(OPUS_RESET_STATE, 0);
  }

  /** Frees the native encoder; further calls throw. Safe to call twice. */
  close(): void {
    if (!this.handler) return;
    this.mod.OpusScriptHandler.destroy_handler(this.handler);
    this.mod._free(this.inPtr);
    this.mod._free(this.outPtr);
    this.handler = null;
  }
}
