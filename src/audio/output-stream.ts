import { OggStreamWriter } from './ogg/page-writer.js';
import { DEFAULT_OPUS_FRAME, ENCODER_SAMPLE_RATE, OpusFrameEncoder } from './opus/encoder.js';
import { buildOpusHead, buildOpusTags } from './opus/opus-head.js';
import { MODEL_FRAME_SAMPLES } from './pcm/framer.js';

export const DEFAULT_OUTPUT_SERIAL = 42;

/** Granule positions and pre-skip count 48 kHz samples whatever the coding rate. */
const GRANULE_PER_SAMPLE = 48000 / ENCODER_SAMPLE_RATE;

export interface OggOpusOutputOptions {
  /** Ogg stream serial (default 42, as Moshi's Rust server). */
  serial?: number;
  /** Samples per pushed frame (default 1920). Must be a multiple of opusFrameSize. */
  frameSize?: number;
  /** Samples per Opus packet and page (default 960 = 40 ms). */
  opusFrameSize?: number;
  bitrate?: number;
  complexity?: number;
  vendor?: string;
  comments?: string[];
}

export interface AudioOutputStats {
  frames: number;
  packets: number;
  pages: number;
  bytes: number;
}

/**
 * Model audio → Ogg Opus pages: OpusHead and OpusTags pages first, then one
 * page per Opus packet, each ready to send as it is produced.
 */
export class OggOpusOutput {
  readonly serial: number;
  readonly frameSize: number;
  /** OpusHead pre-skip, in 48 kHz samples. */
  readonly preSkip: number;
  private readonly encoder: OpusFrameEncoder;
  private readonly writer: OggStreamWriter;
  private readonly vendor: string;
  private readonly comments: string[];
  private headersSent = false;
  private finished = false;
  /** 24 kHz samples encoded so far (flush padding excluded). */
  private samples = 0;
  private packets = 0;
  private readonly counts: AudioOutputStats = { frames: 0, packets: 0, pages: 0, bytes: 0 };

  constructor(options: OggOpusOutputOptions = {}) {
    const opusFrame = options.opusFrameSize ?? DEFAULT_OPUS_FRAME;
    this.frameSize = options.frameSize ?? MODEL_FRAME_SAMPLES;
    if (!Number.isInteger(this.frameSize) || this.frameSize <= 0 || this.frameSize % opusFrame !== 0) {
      throw new RangeError(`frameSize ${this.frameSize} must be a positive multiple of the Opus frame size ${opusFrame}`);
    }
    this.serial = options.serial ?? DEFAULT_OUTPUT_SERIAL;
    this.writer = new OggStreamWriter(this.serial);
    this.encoder = new OpusFrameEncoder({ frameSize: opusFrame, bitrate: options.bitrate, complexity: options.complexity });
    this.preSkip = this.encoder.lookahead * GRANULE_PER_SAMPLE;
    this.vendor = options.vendor ?? 'parley';
    this.comments = options.comments ?? [];
  }

  get stats(): AudioOutputStats {
    return { ...this.counts };
  }

  /** Pages to send now for one frame of `frameSize` samples in [-1, 1]. */
  push(frame: Float32Array): Uint8Array[] {
    if (this.finished) throw new Error('OggOpusOutput.push after finish() or close()');
    if (frame.length !== this.frameSize) throw new RangeError(`expected ${this.frameSize} samples, got ${frame.length}`);
    const pages = this.headerPages();
    const step = this.encoder.frameSize;
    for (let off = 0; off < frame.length; off += step) {
      const packet = this.encoder.encode(frame.subarray(off, off + step));
      this.samples += step;
      this.packets++;
      pages.push(...this.writePacket(packet, this.packets * step * GRANULE_PER_SAMPLE, false));
    }
    this.counts.frames++;
    return pages;
  }

  /**
   * Ends the stream: one more packet drains the encoder's lookahead, on a page
   * marked EOS whose granule trims the padding (RFC 7845 §4.4).
   */
  finish(): Uint8Array[] {
    if (this.finished) return [];
    const pages = this.headerPages();
    const packet = this.encoder.encode(new Float32Array(this.encoder.frameSize));
    this.packets++;
    pages.push(...this.writePacket(packet, this.preSkip + this.samples * GRANULE_PER_SAMPLE, true));
    this.finished = true;
    this.encoder.close();
    return pages;
  }

  /** Restarts the encoder state; the Ogg stream (serial, sequence, granule) goes on. */
  reset(): void {
    if (!this.finished) this.encoder.reset();
  }

  /** Frees the encoder without ending the stream (a client that went away). */
  close(): void {
    this.finished = true;
    this.encoder.close();
  }

  private headerPages(): Uint8Array[] {
    if (this.headersSent) return [];
    this.headersSent = true;
    const head = buildOpusHead({ channels: 1, preSkip: this.preSkip, inputSampleRate: ENCODER_SAMPLE_RATE });
    const tags = buildOpusTags({ vendor: this.vendor, comments: this.comments });
    return [...this.writePacket(head, 0, false), ...this.writePacket(tags, 0, false)];
  }

  private writePacket(packet: Uint8Array, granule: number, eos: boolean): Uint8Array[] {
    const pages = this.writer.writePacket(packet, granule, { eos });
    this.counts.pages += pages.length;
    for (const p of pages) this.counts.bytes += p.length;
    this.counts.packets = this.packets;
    return pages;
  }
}
