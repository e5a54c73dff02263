import { OggReader } from './ogg/reader.js';
import { isOpusTags, parseOpusHead } from './opus/head.js';
import { opusPacketSamples48k } from './opus/packet.js';
import { LinearResampler } from './resampler.js';

// Reply audio: Ogg pages → packets (demuxed here) → WebCodecs AudioDecoder →
// the playback worklet's jitter buffer. Chromium's Opus decoder always
// outputs 48 kHz, so its output is brought to the context's rate.

export interface PlayerWorkletStats {
  bufferedSamples: number;
  playedSamples: number;
  underruns: number;
  droppedSamples: number;
  playing: boolean;
}

export interface PlayerCallbacks {
  /** Reply audio received (24 kHz samples, pre-skip included), counted when the page arrives, before decoding. */
  onReceived(rawSamples24k: number): void;
  /** Decoded samples handed to the worklet. */
  onScheduled(samples: number): void;
  onWorkletStats(s: PlayerWorkletStats): void;
  onError(message: string): void;
}

export class ReplyPlayer {
  private readonly reader = new OggReader();
  private decoder: AudioDecoder | null = null;
  private resampler: LinearResampler | null = null;
  private preSkip48k = 0;
  /** Output samples still to drop for pre-skip, once the output rate is known; null until then. */
  private skipLeft: number | null = null;
  private received48k = 0;

  private constructor(private readonly ctx: AudioContext, private readonly node: AudioWorkletNode, private readonly cb: PlayerCallbacks) {
    node.port.onmessage = (e: MessageEvent<PlayerWorkletStats>) => cb.onWorkletStats(e.data);
  }

  static async create(ctx: AudioContext, cb: PlayerCallbacks): Promise<ReplyPlayer> {
    await ctx.audioWorklet.addModule(new URL('./worklets/player.js', import.meta.url));
    const node = new AudioWorkletNode(ctx, 'parley-player', { numberOfInputs: 0, numberOfOutputs: 1, outputChannelCount: [1] });
    node.connect(ctx.destination);
    return new ReplyPlayer(ctx, node, cb);
  }

  /** One `0x01` message's payload: any piece of the Ogg stream. */
  push(bytes: Uint8Array): void {
    for (const p of this.reader.push(bytes)) {
      const head = parseOpusHead(p.data);
      if (head) {
        this.startStream(head.channels, head.preSkip48k);
        continue;
      }
      if (isOpusTags(p.data) || !this.decoder || this.decoder.state !== 'configured') continue;
      const duration48k = opusPacketSamples48k(p.data);
      this.decoder.decode(new EncodedAudioChunk({
        type: 'key',
        timestamp: Math.round((this.received48k / 48) * 1000),
        duration: Math.round((duration48k / 48) * 1000),
        data: p.data,
      }));
      this.received48k += duration48k;
      this.cb.onReceived(this.received48k / 2);
    }
  }

  stop(): void {
    if (this.decoder && this.decoder.state !== 'closed') this.decoder.close();
    this.node.port.postMessage({ type: 'reset' });
    this.node.disconnect();
    this.node.port.onmessage = null;
  }

  private startStream(channels: number, preSkip48k: number): void {
    if (this.decoder && this.decoder.state !== 'closed') this.decoder.close();
    this.preSkip48k = preSkip48k;
    this.skipLeft = null;
    this.resampler = null;
    this.decoder = new AudioDecoder({
      output: (a) => this.onDecoded(a),
      error: (e) => this.cb.onError(`The reply audio could not be decoded: ${e.message}`),
    });
    // No description: mapping family 0 needs none, and pre-skip is applied here, once.
    this.decoder.configure({ codec: 'opus', sampleRate: 48000, numberOfChannels: channels });
  }

  private onDecoded(a: AudioData): void {
    const pcm = new Float32Array(a.numberOfFrames);
    a.copyTo(pcm, { planeIndex: 0, format: 'f32-planar' });
    const rate = a.sampleRate;
    a.close();
    if (this.skipLeft === null) this.skipLeft = Math.round((this.preSkip48k * rate) / 48000);
    this.resampler ??= new LinearResampler(rate, this.ctx.sampleRate);
    const drop = Math.min(this.skipLeft, pcm.length);
    this.skipLeft -= drop;
    const out = this.resampler.process(pcm.subarray(drop)).slice();
    const n = out.length;
    if (n === 0) return;
    // Transferred, not copied: `out` is empty afterwards.
    this.node.port.postMessage({ type: 'pcm', samples: out }, [out.buffer]);
    this.cb.onScheduled(n);
  }
}
