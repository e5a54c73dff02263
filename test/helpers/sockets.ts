import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import type { TestClient } from './server-harness.js';

/** The TCP socket under a ws client (ws keeps it in a private field). */
export function rawSocket(ws: WebSocket): Socket {
  return (ws as unknown as { _socket: Socket })._socket;
}

export type AbruptClose = 'terminate' | 'reset';

/**
 * Drops a connection without a WebSocket close frame: `terminate` closes
 * the TCP stream (FIN), `reset` sends a TCP RST.
 */
export function closeAbruptly(c: TestClient, how: AbruptClose): void {
  if (how === 'terminate') c.ws.terminate();
  else rawSocket(c.ws).resetAndDestroy();
}

/** Polls `pred` every 20 ms until it holds, or fails after `timeoutMs`. */
export async function until(pred: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!(await pred())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const kindsOf = (c: TestClient): number[] => c.messages.map((m) => m.kind);
export const errorsOf = (c: TestClient): string[] => c.messages.filter((m) => m.kind === 0x05).map((m) => m.payload.toString('utf8'));
