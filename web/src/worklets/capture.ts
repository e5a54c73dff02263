// Microphone capture: hands the main thread 20 ms chunks of the first input
// channel, at the context's rate (24 kHz in the page), ready for the Opus encoder.

class CaptureProcessor extends AudioWorkletProcessor {
  private readonly chunk = Math.round(sampleRate / 50);
  private buffer = new Float32Array(this.chunk);
  private filled = 0;

  process(inputs: Float32Array[][]): boolean {
    const input = inputs[0]?.[0];
    if (!input) return true;
    let at = 0;
    while (at < input.length) {
      const n = Math.min(input.length - at, this.chunk - this.filled);
      this.buffer.set(input.subarray(at, at + n), this.filled);
      this.filled += n;
      at += n;
      if (this.filled === this.chunk) {
        this.port.postMessage(this.buffer, [this.buffer.buffer]);
        this.buffer = new Float32Array(this.chunk);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor('parley-capture', CaptureProcessor);
