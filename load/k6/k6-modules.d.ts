// The few k6 modules the k6 adapter uses, declared here rather than through
// @types/k6, whose global declarations (open, __ENV, console…) would leak
// into every other file of this project's single compilation.

declare module 'k6/experimental/websockets' {
  export interface K6MessageEvent {
    data: ArrayBuffer | string;
    /** Milliseconds since the epoch when the message was read off the socket. */
    timestamp?: number;
  }
  export interface K6CloseEvent {
    /** Reported by k6 releases that include the close code; absent in older ones. */
    code?: number;
    reason?: string;
  }
  export interface K6ErrorEvent {
    error?: string;
  }
  export class WebSocket {
    constructor(url: string, protocols?: string | string[]);
    readonly readyState: number;
    binaryType: string;
    onopen: (() => void) | null;
    onmessage: ((event: K6MessageEvent) => void) | null;
    onclose: ((event: K6CloseEvent) => void) | null;
    onerror: ((event: K6ErrorEvent) => void) | null;
    send(data: ArrayBuffer | string): void;
    close(code?: number, reason?: string): void;
  }
}

declare module 'k6/metrics' {
  type Tags = Record<string, string>;
  export class Trend {
    constructor(name: string, isTime?: boolean);
    add(value: number, tags?: Tags): void;
  }
  export class Counter {
    constructor(name: string);
    add(value: number, tags?: Tags): void;
  }
  export class Rate {
    constructor(name: string);
    add(value: number | boolean, tags?: Tags): void;
  }
}

declare module 'k6/timers' {
  export function setTimeout(fn: () => void, ms: number): number;
  export function clearTimeout(id: number): void;
}

declare module 'k6/execution' {
  const exec: {
    scenario: { name: string; /** Unix milliseconds when the scenario started. */ startTime: number };
  };
  export default exec;
}
