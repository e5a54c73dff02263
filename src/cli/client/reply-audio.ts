import { OggPageReader, type OggPacket } from '../../audio/ogg/page-reader.js';
import { OpusPacketDecoder } from '../../audio/opus/decoder.js';
import { isOpusHead, isOpusTags, parseOpusHead } from '../../audio/opus/opus-head.js';
import { checkOpusPacket } from '../../audio/opus/packet.js';

export interface ReplyChunk {
  /** 24 kHz samples carried by the audio packets of this push, before pre-skip is dropped (for frame timing). */
  rawSamples: number;
  errors: string[];
}

/**
 * The server's Ogg Opus stream, in whatever pieces it arrives, to 24 kHz
 * mono PCM: pre-skip dropped from the start, the EOS granule honoured at the end.
 */
export class ReplyDecoder {
  private readonly reader = new OggPageReader();
  private readonly chunks: Float32Array[] = [];
  private skipLeft = 0;
  private preSkip48 = 0;
  private decoded = 0;
  private headSeen = false;
  private rawTotal = 0;

  private constructor(private readonly decoder: OpusPacketDecoder) {}

  static async create(): Promise<ReplyDecoder> {
    // A stereo decoder decodes mono streams too; the channel count is only known from OpusHead.
    return new ReplyDecoder(await OpusPacketDecoder.create({ channels: 2 }));
  }

  /** 24 kHz samples of audio received so far, before pre-skip. */
  get rawSamples(): number {
    return this.rawTotal;
  }

  push(bytes: Uint8Array): ReplyChunk {
    const out: ReplyChunk = { rawSamples: 0, errors: [] };
    const read = this.reader.push(bytes);
    for (const e of read.errors) out.errors.push(`reply audio: ${e.message}`);
    for (const p of read.packets) this.onPacket(p, out);
    this.rawTotal += out.rawSamples;
    return out;
  }

  private onPacket(p: OggPacket, out: ReplyChunk): void {
    if (isOpusHead(p.data)) {
      try {
        const head = parseOpusHead(p.data);
        this.preSkip48 = head.preSkip;
        this.skipLeft = Math.round(head.preSkip / 2);
        this.headSeen = true;
      } catch (e) {
        out.errors.push(`reply audio: ${(e as Error).message}`);
      }
      return;
    }
    if (isOpusTags(p.data) || !this.headSeen) return;
    const check = checkOpusPacket(p.data);
    if (check.ok) out.rawSamples += check.samples48k / 2;
    const res = this.decoder.decode(p.data);
    if (!res.ok) {
      out.errors.push(`reply audio: ${res.error}`);
      return;
    }
    let pcm = res.samples;
    const drop = Math.min(this.skipLeft, pcm.length);
    this.skipLeft -= drop;
    pcm = pcm.subarray(drop);
    if (p.eos && p.granule >= 0) {
      const total = Math.max(0, Math.floor((p.granule - this.preSkip48) / 2));
      pcm = pcm.subarray(0, Math.max(0, Math.min(pcm.length, total - this.decoded)));
    }
    this.decoded += pcm.length;
    this.chunks.push(pcm.slice());
  }

  /** Everything decoded so far as one buffer. */
  pcm(): Float32Array {
    const all = new Float32Array(this.decoded);
    let at = 0;
    for (const c of this.chunks) {
      all.set(c, at);
      at += c.length;
    }
    return all;
  }

  close(): void {
    this.decoder.close();
  }
}
