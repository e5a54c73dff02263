// Per-frame reply latency, measured as the CLI client does: from sending the
// input that completes model frame n (80 ms, 1920 samples at 24 kHz, counted
// after the server drops the input's pre-skip) to receiving the reply audio
// that completes reply frame n. It includes the model's acoustic delay.

const FRAME = 1920;
const WINDOW = 50;

export class FrameLatency {
  private readonly sentAt: number[] = [];
  private sentFrames = 0;
  private receivedFrames = 0;
  private readonly recent: number[] = [];

  constructor(private readonly inputPreSkip24k: number) {}

  /** `rawSent`: 24 kHz samples of encoded input sent so far. */
  sent(rawSent: number, now: number): void {
    const complete = Math.max(0, Math.floor((rawSent - this.inputPreSkip24k) / FRAME));
    for (; this.sentFrames < complete; this.sentFrames++) this.sentAt[this.sentFrames] = now;
  }

  /** `rawReceived`: 24 kHz samples of reply audio received so far. */
  received(rawReceived: number, now: number): void {
    const complete = Math.floor(rawReceived / FRAME);
    for (; this.receivedFrames < complete; this.receivedFrames++) {
      const t = this.sentAt[this.receivedFrames];
      if (t === undefined) continue;
      delete this.sentAt[this.receivedFrames];
      this.recent.push(now - t);
      if (this.recent.length > WINDOW) this.recent.shift();
    }
  }

  get last(): number | null {
    return this.recent.at(-1) ?? null;
  }

  /** Nearest-rank percentile over the last 50 frames. */
  percentile(p: number): number | null {
    if (this.recent.length === 0) return null;
    const sorted = [...this.recent].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
  }
}
