import { OggPageReader, type OggPacket, type OggPageReaderOptions, type OggReadErrorKind } from './ogg/page-reader.js';
import { OpusPacketDecoder } from './opus/decoder.js';
import { isOpusHead, isOpusTags, OpusHeaderError, parseOpusHead, parseOpusTags, type OpusHead, type OpusTags } from './opus/opus-head.js';
import { MODEL_FRAME_SAMPLES, PcmFramer } from './pcm/framer.js';

export type AudioInputErrorKind =
  | OggReadErrorKind
  | 'missing-opus-head'
  | 'bad-opus-head'
  | 'missing-opus-tags'
  | 'bad-opus-tags'
  | 'unsupported-channels'
  | 'unexpected-stream' // packets of a logical stream other than the one being decoded
  | 'decode'
  | 'closed';

export interface AudioInputError {
  kind: AudioInputErrorKind;
  message: string;
}

export interface AudioInputResult {
  /** 24 kHz mono frames of exactly `frameSize` samples. */
  frames: Float32Array[];
  errors: AudioInputError[];
}

export interface AudioInputStats {
  bytes: number;
  pages: number;
  /** Audio packets received (header packets excluded). */
  packets: number;
  /** Audio packets that failed to decode. */
  decodeErrors: number;
  frames: number;
  /** All error entries, Ogg-level ones included. */
  errors: number;
}

export interface OggOpusInputOptions {
  /** Samples per output frame (default 1920 = 80 ms at 24 kHz). */
  frameSize?: number;
  reader?: OggPageReaderOptions;
}

type Phase = 'head' | 'tags' | 'audio' | 'rejected' | 'ended';

/** 48 kHz units (granule, pre-skip) per 24 kHz output sample. */
const RATE_RATIO = 2;
/** Foreign streams remembered so each is reported once. */
const MAX_REPORTED_STREAMS = 16;

/**
 * Client audio path: Ogg Opus bytes split anyhow → 24 kHz mono frames.
 * Never throws on bad input; problems come back as error entries.
 */
export class OggOpusInput {
  private readonly reader: OggPageReader;
  private readonly framer: PcmFramer;
  private decoder: OpusPacketDecoder | null;
  private phase: Phase = 'head';
  private serial: number | null = null;
  private opusHead: OpusHead | null = null;
  private opusTags: OpusTags | null = null;
  /** 24 kHz samples still to drop for pre-skip. */
  private skipLeft = 0;
  /** 24 kHz samples passed on after pre-skip, for end trimming. */
  private emitted = 0;
  /** Linear factor for the OpusHead output gain, which decoders must apply. */
  private gain = 1;
  private readonly reportedStreams = new Set<number>();
  private readonly counts = { packets: 0, decodeErrors: 0, frames: 0, errors: 0 };
  /**
   * A fresh decoder made in the background: each chained stream must start
   * from a clean decoder state (RFC 7845), and creating one is asynchronous.
   */
  private spare: OpusPacketDecoder | null = null;
  private streamsStarted = 0;

  private constructor(decoder: OpusPacketDecoder, options: OggOpusInputOptions) {
    this.decoder = decoder;
    this.prepareSpare();
    this.reader = new OggPageReader(options.reader);
    this.framer = new PcmFramer(options.frameSize ?? MODEL_FRAME_SAMPLES);
  }

  static async create(options: OggOpusInputOptions = {}): Promise<OggOpusInput> {
    // The channel count is only known from OpusHead, but the WASM decoder is
    // created asynchronously; a stereo decoder handles mono streams too
    // (both channels equal), so one is made up front.
    const decoder = await OpusPacketDecoder.create({ channels: 2 });
    return new OggOpusInput(decoder, options);
  }

  get head(): OpusHead | null {
    return this.opusHead;
  }

  get tags(): OpusTags | null {
    return this.opusTags;
  }

  get stats(): AudioInputStats {
    return { bytes: this.reader.stats.bytes, pages: this.reader.stats.pages, ...this.counts };
  }

  /** Ogg bytes held between calls (partial pages and packets). */
  get bufferedBytes(): number {
    return this.reader.bufferedBytes;
  }

  /** Decoded samples held until they fill a frame. */
  get bufferedSamples(): number {
    return this.framer.bufferedSamples;
  }

  push(bytes: Uint8Array): AudioInputResult {
    const out: AudioInputResult = { frames: [], errors: [] };
    if (!this.decoder) {
      this.fail(out, 'closed', 'input stream is closed');
      return out;
    }
    const read = this.reader.push(bytes);
    for (const e of read.errors) this.fail(out, e.kind, `${e.message} (byte ${e.offset})`);
    for (const p of read.packets) this.onPacket(p, out);
    return out;
  }

  /**
   * Ends the input: reports anything left incomplete and returns the last
   * partial frame zero-padded (unless `padPartialFrame` is false).
   */
  end(options: { padPartialFrame?: boolean } = {}): AudioInputResult {
    const out: AudioInputResult = { frames: [], errors: [] };
    for (const e of this.reader.end().errors) this.fail(out, e.kind, `${e.message} (byte ${e.offset})`);
    const last = options.padPartialFrame === false ? null : this.framer.flush();
    this.framer.clear();
    if (last) this.addFrames(out, [last]);
    return out;
  }

  /** Frees the decoder. Later pushes return a 'closed' error. */
  close(): void {
    this.decoder?.close();
    this.decoder = null;
    this.spare?.close();
    this.spare = null;
  }

  private fail(out: AudioInputResult, kind: AudioInputErrorKind, message: string): void {
    this.counts.errors++;
    out.errors.push({ kind, message });
  }

  private addFrames(out: AudioInputResult, frames: Float32Array[]): void {
    this.counts.frames += frames.length;
    for (const f of frames) out.frames.push(f);
  }

  private onPacket(p: OggPacket, out: AudioInputResult): void {
    // A new stream may start at any time (a client restarting its recorder);
    // a first OpusHead lacking the BOS flag is tolerated.
    if (isOpusHead(p.data) && (p.bos || this.phase === 'head')) {
      this.startStream(p, out);
      return;
    }
    if (this.serial !== null && p.serial !== this.serial) {
      this.reportForeign(p.serial, out);
      return;
    }
    switch (this.phase) {
      case 'head':
        this.serial = p.serial;
        this.phase = 'rejected';
        this.fail(out, 'missing-opus-head', `stream ${p.serial} does not start with an OpusHead packet on a BOS page`);
        return;
      case 'tags':
        this.phase = 'audio';
        if (isOpusTags(p.data)) {
          try {
            this.opusTags = parseOpusTags(p.data);
          } catch (err) {
            this.fail(out, 'bad-opus-tags', describe(err));
          }
          return;
        }
        // Tolerated: decode it as audio after saying so.
        this.fail(out, 'missing-opus-tags', `stream ${p.serial}: second packet is not OpusTags`);
        this.decodeAudio(p, out);
        return;
      case 'audio':
        this.decodeAudio(p, out);
        return;
      case 'rejected':
      case 'ended':
        return;
    }
  }

  private prepareSpare(): void {
    OpusPacketDecoder.create({ channels: 2 }).then((d) => {
      if (this.decoder && !this.spare) this.spare = d;
      else d.close();
    }, () => {});
  }

  private startStream(p: OggPacket, out: AudioInputResult): void {
    if (this.streamsStarted++ > 0 && this.spare && this.decoder) {
      this.decoder.close();
      this.decoder = this.spare;
      this.spare = null;
      this.prepareSpare();
    }
    this.serial = p.serial;
    this.reportedStreams.clear();
    this.skipLeft = 0;
    this.emitted = 0;
    this.opusTags = null;
    try {
      const head = parseOpusHead(p.data);
      if (head.mappingFamily !== 0) {
        this.phase = 'rejected';
        this.opusHead = null;
        this.fail(out, 'unsupported-channels', `channel mapping family ${head.mappingFamily} (${head.channels} channels) is not supported`);
        return;
      }
      this.opusHead = head;
      this.gain = 10 ** (head.outputGainDb / 20);
      this.skipLeft = Math.round(head.preSkip / RATE_RATIO);
      this.phase = 'tags';
    } catch (err) {
      this.phase = 'rejected';
      this.opusHead = null;
      this.fail(out, 'bad-opus-head', describe(err));
    }
  }

  private reportForeign(serial: number, out: AudioInputResult): void {
    if (this.reportedStreams.has(serial) || this.reportedStreams.size >= MAX_REPORTED_STREAMS) return;
    this.reportedStreams.add(serial);
    this.fail(out, 'unexpected-stream', `packets of stream ${serial} ignored while decoding stream ${this.serial}`);
  }

  private decodeAudio(p: OggPacket, out: AudioInputResult): void {
    const decoder = this.decoder;
    const head = this.opusHead;
    if (!decoder || !head) return;
    this.counts.packets++;
    const res = decoder.decode(p.data);
    if (!res.ok) {
      this.counts.decodeErrors++;
      this.fail(out, 'decode', `stream ${p.serial} page ${p.pageSequence}: ${res.error}`);
    } else {
      let pcm = res.samples;
      if (this.skipLeft > 0) {
        const drop = Math.min(this.skipLeft, pcm.length);
        this.skipLeft -= drop;
        pcm = pcm.subarray(drop);
      }
      // Only the EOS page may end the audio before the decoded packet does (RFC 7845 §4).
      if (p.eos && p.lastOnPage && p.granule >= 0) {
        const total = Math.max(0, Math.floor((p.granule - head.preSkip) / RATE_RATIO));
        pcm = pcm.subarray(0, Math.max(0, Math.min(pcm.length, total - this.emitted)));
      }
      this.emitted += pcm.length;
      if (this.gain !== 1) for (let i = 0; i < pcm.length; i++) pcm[i]! *= this.gain;
      if (pcm.length > 0) this.addFrames(out, this.framer.push(pcm));
    }
    if (p.eos && p.lastOnPage) this.phase = 'ended';
  }
}

function describe(err: unknown): string {
  if (err instanceof OpusHeaderError) return err.message;
  return err instanceof Error ? err.message : String(err);
}
