// What the shared load-test core needs from whoever runs it (k6 or Node).
// Nothing in load/core or load/scenarios may import Node or k6 modules: each
// runner passes one of these in.

/** Callbacks a socket reports to; `at` is the runtime clock reading when the message arrived. */
export interface SocketEvents {
  onOpen(): void;
  onMessage(data: Uint8Array, at: number): void;
  /** `code` is 0 where the runtime cannot tell (k6 before it reported close codes). */
  onClose(code: number, reason: string): void;
  onError(message: string): void;
}

/** The little of a browser-like WebSocket the core uses. */
export interface LoadSocket {
  send(data: Uint8Array): void;
  /** Closes with 1000; safe in any state, including while still connecting. */
  close(): void;
}

export type MetricTags = Record<string, string>;

export interface LoadRuntime {
  connect(url: string, events: SocketEvents): LoadSocket;
  /** Milliseconds on a clock that only moves forward at a steady rate. */
  now(): number;
  /** Runs `fn` after `ms`; the returned function cancels it (so no stray timer keeps a VU alive). */
  timer(fn: () => void, ms: number): () => void;
  /** Records one sample of a metric from the catalog (load/core/metrics.ts). */
  metric(name: string, value: number, tags?: MetricTags): void;
  log(message: string): void;
}

export function sleep(rt: LoadRuntime, ms: number): Promise<void> {
  return new Promise((resolve) => {
    rt.timer(resolve, Math.max(0, ms));
  });
}

/**
 * Resolves true as soon as `ready()` holds (checked whenever `poke` is
 * called), or false after `timeoutMs`. Event-driven so that no polling timer
 * outlives the wait.
 */
export class Waiter {
  private wake: (() => void) | null = null;

  /** Call after any state change that a waiter may be waiting for. */
  poke(): void {
    const w = this.wake;
    this.wake = null;
    if (w) w();
  }

  async until(rt: LoadRuntime, ready: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = rt.now() + timeoutMs;
    while (!ready()) {
      const left = deadline - rt.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const cancel = rt.timer(() => {
          this.wake = null;
          resolve();
        }, left);
        this.wake = () => {
          cancel();
          resolve();
        };
      });
    }
    return true;
  }
}
