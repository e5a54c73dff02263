import { OpusDecoder } from 'opus-decoder';
import { checkOpusPacket } from './packet.js';

export const DECODER_SAMPLE_RATE = 24000;

export type DecodeResult = { ok: true; samples: Float32Array } | { ok: false; error: string };

export interface OpusPacketDecoderOptions {
  /** Channels coded in the stream (OpusHead channel count, mapping family 0); default 1. */
  channels?: 1 | 2;
}

/**
 * Decodes raw Opus packets to 24 kHz mono float PCM (libopus resamples
 * internally; stereo is averaged to mono). Pre-skip is left to the caller.
 */
export class OpusPacketDecoder {
  private decoder: OpusDecoder<24000> | null;
  readonly channels: 1 | 2;
  /**
   * opus-decoder copies each packet into a fixed WASM buffer of 3840 bytes per
   * channel and throws a RangeError beyond it; legal but absurd packets (up
   * to 48 frames of 1275 bytes) can be larger.
   */
  private readonly maxPacketBytes: number;

  private constructor(decoder: OpusDecoder<24000>, channels: 1 | 2) {
    this.decoder = decoder;
    this.channels = channels;
    this.maxPacketBytes = 3840 * channels;
  }

  static async create(options: OpusPacketDecoderOptions = {}): Promise<OpusPacketDecoder> {
    const channels = options.channels ?? 1;
    const decoder = new OpusDecoder({ sampleRate: DECODER_SAMPLE_RATE, channels, preSkip: 0 });
    await decoder.ready;
    return new OpusPacketDecoder(decoder, channels);
  }

  decode(packet: Uint8Array): DecodeResult {
    const decoder = this.decoder;
    if (!decoder) return { ok: false, error: 'decoder is closed' };
    const check = checkOpusPacket(packet);
    if (!check.ok) return { ok: false, error: `invalid Opus packet: ${check.reason}` };
    if (packet.length > this.maxPacketBytes) {
      return { ok: false, error: `Opus packet of ${packet.length} bytes exceeds the decoder's ${this.maxPacketBytes}-byte input buffer` };
    }
    try {
      const out = decoder.decodeFrame(packet);
      if (out.errors.length > 0) return { ok: false, error: out.errors.map((e) => e.message).join('; ') };
      return { ok: true, samples: downmix(out.channelData, out.samplesDecoded) };
    } catch (err) {
      return { ok: false, error: `decoder failure: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  close(): void {
    this.decoder?.free();
    this.decoder = null;
  }
}

function downmix(channels: Float32Array[], length: number): Float32Array {
  const first = channels[0] ?? new Float32Array(0);
  if (channels.length === 1) return first.length === length ? first : first.slice(0, length);
  const out = new Float32Array(length);
  const scale = 1 / channels.length;
  for (const ch of channels) {
    for (let i = 0; i < length; i++) out[i]! += ch[i]! * scale;
  }
  return out;
}
