import { buildPage } from './ogg/writer.js';
import { buildOpusHead, buildOpusTags } from './opus/head.js';

// Microphone → Ogg Opus pages shaped like those of Moshi's web client
// (opus-recorder): 20 ms Opus frames, 2 per page, OpusHead and OpusTags pages
// first. WebCodecs' AudioEncoder emits raw packets, so the pages are written here.

const FRAME_US = 20_000;
const PACKETS_PER_PAGE = 2;
/**
 * libopus's lookahead (2.5 ms + 4 ms) in 48 kHz samples, the unit OpusHead
 * wants. Chromium's own OpusHead gives it in input-rate samples (156 at
 * 24 kHz), so the page writes its own header.
 */
const PRE_SKIP_48K = 312;

export interface MicPage {
  bytes: Uint8Array;
  /** Encoded 24 kHz samples up to the end of this page (0 for header pages). */
  rawEnd24k: number;
}

export interface MicCallbacks {
  onPage(page: MicPage): void;
  onLevel(rms: number): void;
  onError(message: string): void;
}

export class MicEncoder {
  /** Pre-skip in 24 kHz samples: what the server drops from the start of what it decodes. */
  static readonly preSkip24k = PRE_SKIP_48K / 2;
  private readonly serial = crypto.getRandomValues(new Uint32Array(1))[0]!;
  private sequence = 0;
  private granule = 0;
  private packets: Uint8Array[] = [];
  private samplesIn = 0;
  private started = false;
  private readonly encoder: AudioEncoder;

  private constructor(
    private readonly ctx: AudioContext,
    private readonly source: MediaStreamAudioSourceNode,
    private readonly node: AudioWorkletNode,
    private readonly sink: GainNode,
    private readonly cb: MicCallbacks,
  ) {
    this.encoder = new AudioEncoder({
      output: (chunk) => this.onPacket(chunk),
      error: (e) => cb.onError(`The Opus encoder failed: ${e.message}`),
    });
    this.encoder.configure({
      codec: 'opus',
      sampleRate: ctx.sampleRate,
      numberOfChannels: 1,
      bitrate: 32_000,
      opus: { frameDuration: FRAME_US },
    });
    node.port.onmessage = (e: MessageEvent<Float32Array<ArrayBuffer>>) => this.onChunk(e.data);
  }

  static async create(ctx: AudioContext, stream: MediaStream, cb: MicCallbacks): Promise<MicEncoder> {
    await ctx.audioWorklet.addModule(new URL('./worklets/capture.js', import.meta.url));
    const source = ctx.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(ctx, 'parley-capture', { numberOfInputs: 1, numberOfOutputs: 1, channelCount: 1 });
    // The capture node must feed the destination to be pulled; through a muted gain, so the mic is not played back.
    const sink = ctx.createGain();
    sink.gain.value = 0;
    return new MicEncoder(ctx, source, node, sink, cb);
  }

  /** Sends the header pages, then audio pages as the microphone fills them. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.emit([buildOpusHead(PRE_SKIP_48K, this.ctx.sampleRate)], 0, true);
    this.emit([buildOpusTags('parley web client (WebCodecs)')], 0, false);
    this.source.connect(this.node);
    this.node.connect(this.sink);
    this.sink.connect(this.ctx.destination);
  }

  stop(): void {
    this.source.disconnect();
    this.node.disconnect();
    this.sink.disconnect();
    this.node.port.onmessage = null;
    if (this.encoder.state !== 'closed') this.encoder.close();
  }

  private onChunk(samples: Float32Array<ArrayBuffer>): void {
    if (!this.started || this.encoder.state !== 'configured') return;
    let sum = 0;
    for (const s of samples) sum += s * s;
    this.cb.onLevel(Math.sqrt(sum / samples.length));
    const data = new AudioData({
      format: 'f32-planar',
      sampleRate: this.ctx.sampleRate,
      numberOfFrames: samples.length,
      numberOfChannels: 1,
      timestamp: Math.round((this.samplesIn / this.ctx.sampleRate) * 1e6),
      data: samples,
    });
    this.samplesIn += samples.length;
    this.encoder.encode(data);
    data.close();
  }

  private onPacket(chunk: EncodedAudioChunk): void {
    const bytes = new Uint8Array(chunk.byteLength);
    chunk.copyTo(bytes);
    this.packets.push(bytes);
    this.granule += Math.round(((chunk.duration ?? FRAME_US) * 48) / 1000);
    if (this.packets.length === PACKETS_PER_PAGE) {
      this.emit(this.packets, this.granule, false);
      this.packets = [];
    }
  }

  private emit(packets: Uint8Array[], granule: number, bos: boolean): void {
    const bytes = buildPage({ serial: this.serial, sequence: this.sequence++, granule, bos, packets });
    this.cb.onPage({ bytes, rawEnd24k: granule / 2 });
  }
}
