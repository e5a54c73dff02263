import type { LoadRuntime, MetricTags, SocketEvents, LoadSocket } from '../../load/core/runtime.js';
import { MetricRecorder } from '../../load/node/recorder.js';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A LoadRuntime on virtual time: timers fire in order as fast as the code
 * can run, so session timing can be asserted exactly. The socket side is
 * whatever `connect` the test supplies.
 */
export class VirtualRuntime implements LoadRuntime {
  t = 0;
  readonly recorder = new MetricRecorder();
  readonly logs: string[] = [];
  private timers: Timer[] = [];
  private seq = 0;

  constructor(private readonly connectFn: (url: string, events: SocketEvents, rt: VirtualRuntime) => LoadSocket) {}

  connect(url: string, events: SocketEvents): LoadSocket {
    return this.connectFn(url, events, this);
  }

  now(): number {
    return this.t;
  }

  timer(fn: () => void, ms: number): () => void {
    const t: Timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(t);
    return () => {
      t.cancelled = true;
    };
  }

  metric(name: string, value: number, tags?: MetricTags): void {
    this.recorder.add(name, value, tags);
  }

  log(message: string): void {
    this.logs.push(message);
  }

  /** Drives `work` to completion: settle promise chains, then jump to the next timer. */
  async run<T>(work: Promise<T>, maxSteps = 200_000): Promise<T> {
    let done = false;
    work.then(() => (done = true), () => (done = true));
    for (let i = 0; i < maxSteps; i++) {
      await new Promise((r) => setImmediate(r));
      if (done) return work;
      this.timers = this.timers.filter((t) => !t.cancelled).sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift();
      if (!next) throw new Error(`virtual run stalled at t=${this.t} with nothing scheduled`);
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    throw new Error('virtual run did not finish');
  }
}
