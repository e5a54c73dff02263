// Reply playback with a small jitter buffer: start once `startMs` of audio is
// queued, and when the queue grows past `maxMs` (the network delivered a burst
// after a stall) drop the oldest audio back down to `startMs`, so the delay
// between the model and the ear stays small. An underrun plays silence and
// waits for `startMs` again.

interface PlayerStats {
  bufferedSamples: number;
  playedSamples: number;
  underruns: number;
  droppedSamples: number;
  playing: boolean;
}

type PlayerCommand = { type: 'pcm'; samples: Float32Array } | { type: 'reset' };

const START_MS = 80;
const MAX_MS = 320;
const STATS_EVERY_BLOCKS = 16;

class PlayerProcessor extends AudioWorkletProcessor {
  private readonly startSamples = Math.round((sampleRate * START_MS) / 1000);
  private readonly maxSamples = Math.round((sampleRate * MAX_MS) / 1000);
  private queue: Float32Array[] = [];
  /** Read position in queue[0]. */
  private offset = 0;
  private buffered = 0;
  private playing = false;
  private played = 0;
  private underruns = 0;
  private dropped = 0;
  private blocks = 0;

  constructor() {
    super();
    this.port.onmessage = (e: MessageEvent<PlayerCommand>) => {
      if (e.data.type === 'reset') {
        this.queue = [];
        this.offset = 0;
        this.buffered = 0;
        this.playing = false;
        return;
      }
      this.queue.push(e.data.samples);
      this.buffered += e.data.samples.length;
      if (this.buffered > this.maxSamples) this.skip(this.buffered - this.startSamples);
      if (!this.playing && this.buffered >= this.startSamples) this.playing = true;
    };
  }

  private skip(n: number): void {
    this.dropped += n;
    this.buffered -= n;
    while (n > 0) {
      const head = this.queue[0]!;
      const take = Math.min(n, head.length - this.offset);
      this.offset += take;
      n -= take;
      if (this.offset === head.length) {
        this.queue.shift();
        this.offset = 0;
      }
    }
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const out = outputs[0]?.[0];
    if (out) {
      let at = 0;
      if (this.playing) {
        while (at < out.length && this.queue.length > 0) {
          const head = this.queue[0]!;
          const n = Math.min(out.length - at, head.length - this.offset);
          out.set(head.subarray(this.offset, this.offset + n), at);
          at += n;
          this.offset += n;
          if (this.offset === head.length) {
            this.queue.shift();
            this.offset = 0;
          }
        }
        this.buffered -= at;
        this.played += at;
        if (at < out.length) {
          this.underruns++;
          this.playing = false;
        }
      }
      out.fill(0, at);
      for (let c = 1; c < outputs[0]!.length; c++) outputs[0]![c]!.set(out);
    }
    if (++this.blocks % STATS_EVERY_BLOCKS === 0) {
      const stats: PlayerStats = {
        bufferedSamples: this.buffered,
        playedSamples: this.played,
        underruns: this.underruns,
        droppedSamples: this.dropped,
        playing: this.playing,
      };
      this.port.postMessage(stats);
    }
    return true;
  }
}

registerProcessor('parley-player', PlayerProcessor);
