import { MODEL_FRAME_SAMPLES } from '../../audio/pcm/framer.js';

/**
 * Per-frame reply latency: the time from sending the input that completes
 * model frame n to receiving the audio that completes reply frame n. The
 * server cuts frames after dropping the input's pre-skip, so input frame n is
 * complete once (n + 1) × 1920 + preSkip encoded samples have gone out; reply
 * frame n once (n + 1) × 1920 samples have come back (before their pre-skip).
 */
export class FrameLatency {
  private readonly sentAt: number[] = [];
  private readonly latencies: number[] = [];
  private sentFrames = 0;
  private receivedFrames = 0;

  constructor(private readonly inputPreSkip: number, private readonly frame = MODEL_FRAME_SAMPLES) {}

  /** `rawSent`: encoded 24 kHz input samples sent so far. */
  sent(rawSent: number, now: number): void {
    const complete = Math.max(0, Math.floor((rawSent - this.inputPreSkip) / this.frame));
    for (; this.sentFrames < complete; this.sentFrames++) this.sentAt[this.sentFrames] = now;
  }

  /** `rawReceived`: 24 kHz reply samples received so far. */
  received(rawReceived: number, now: number): void {
    const complete = Math.floor(rawReceived / this.frame);
    for (; this.receivedFrames < complete; this.receivedFrames++) {
      const t = this.sentAt[this.receivedFrames];
      if (t !== undefined) this.latencies.push(now - t);
    }
  }

  get framesSent(): number {
    return this.sentFrames;
  }

  get framesReceived(): number {
    return this.receivedFrames;
  }

  /** Frames sent whose reply has not come back yet. */
  get inFlight(): number {
    return Math.max(0, this.sentFrames - this.receivedFrames);
  }

  get samples(): readonly number[] {
    return this.latencies;
  }

  percentile(p: number): number | null {
    return percentile(this.latencies, p);
  }
}

/** Nearest-rank percentile; null for no data. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}
