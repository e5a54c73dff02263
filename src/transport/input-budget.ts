/**
 * Token bucket over decoded input audio, in 80 ms frames: a burst, then at
 * most `speed` times real time. Decoding runs on the main thread and Opus
 * packets can be tiny (a byte can stand for 60 ms), so without this one
 * message could make the server decode hours of audio while every other
 * session waits.
 */
export class InputBudget {
  private tokens: number;
  private last = performance.now();

  constructor(private readonly burstFrames: number, private readonly framesPerSecond: number) {
    this.tokens = burstFrames;
  }

  /** Takes `frames`; false once the client has sent more than the budget allows. */
  take(frames: number): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.burstFrames, this.tokens + ((now - this.last) / 1000) * this.framesPerSecond);
    this.last = now;
    this.tokens -= frames;
    return this.tokens >= 0;
  }
}
