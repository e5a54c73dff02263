import WebSocket from 'ws';
import type { LoadRuntime, LoadSocket, MetricTags, SocketEvents } from '../core/runtime.js';

export interface NodeRuntime extends LoadRuntime {
  /** Terminates every socket still open (the runner's last resort past its deadline). */
  terminateAll(): void;
}

function toBytes(data: WebSocket.RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** The Node side of the shared core: the `ws` client, Node timers, and a metric callback. */
export function nodeRuntime(metric: (name: string, value: number, tags?: MetricTags) => void, log: (line: string) => void): NodeRuntime {
  const live = new Set<WebSocket>();

  const connect = (url: string, events: SocketEvents): LoadSocket => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    live.add(ws);
    let closeWhenOpen = false;
    ws.on('open', () => {
      if (closeWhenOpen) ws.close(1000);
      else events.onOpen();
    });
    ws.on('message', (data, isBinary) => {
      const at = performance.now();
      if (isBinary) events.onMessage(toBytes(data), at);
    });
    ws.on('close', (code, reason) => {
      live.delete(ws);
      events.onClose(code, reason.toString('utf8'));
    });
    ws.on('error', (e) => events.onError(e.message));
    return {
      send(data) {
        if (ws.readyState === WebSocket.OPEN) ws.send(data);
      },
      close() {
        // As in k6: closing a socket that is still connecting waits for the open.
        if (ws.readyState === WebSocket.CONNECTING) closeWhenOpen = true;
        else ws.close(1000);
      },
    };
  };

  return {
    connect,
    now: () => performance.now(),
    timer(fn, ms) {
      const t = setTimeout(fn, ms);
      return () => clearTimeout(t);
    },
    metric,
    log,
    terminateAll() {
      for (const ws of live) ws.terminate();
    },
  };
}
