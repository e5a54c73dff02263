import type { WebSocket } from 'ws';

export interface OutboxLimits {
  /** Bytes we let the socket buffer before holding messages back. */
  maxBufferedBytes: number;
  /** Audio dropped (oldest first) before we give up on the reader. */
  maxDroppedAudioBytes: number;
}

interface Pending {
  data: Uint8Array;
  droppable: boolean;
}

/**
 * Outgoing messages for one client. While the socket's buffer is full, audio
 * waits here; when what waits exceeds the bound, the oldest audio is dropped,
 * so a client that stops reading cannot grow the server's memory. Past the
 * drop budget the session is ended by the owner (`onStalled`).
 */
export class Outbox {
  private readonly queue: Pending[] = [];
  private queuedBytes = 0;
  droppedBytes = 0;
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ws: WebSocket,
    private readonly limits: OutboxLimits,
    private readonly onDrop: (bytes: number) => void,
    private readonly onStalled: () => void,
  ) {}

  send(data: Uint8Array, droppable: boolean): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.queue.length === 0 && this.ws.bufferedAmount < this.limits.maxBufferedBytes) {
      this.ws.send(data);
      return;
    }
    this.queue.push({ data, droppable });
    this.queuedBytes += data.length;
    while (this.queuedBytes > this.limits.maxBufferedBytes) {
      const i = this.queue.findIndex((p) => p.droppable);
      if (i < 0) break;
      const [p] = this.queue.splice(i, 1);
      this.queuedBytes -= p!.data.length;
      this.droppedBytes += p!.data.length;
      this.onDrop(p!.data.length);
    }
    if (this.droppedBytes > this.limits.maxDroppedAudioBytes) {
      this.onStalled();
      return;
    }
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.flush();
    }, 20);
  }

  private flush(): void {
    while (this.queue.length > 0 && this.ws.readyState === this.ws.OPEN && this.ws.bufferedAmount < this.limits.maxBufferedBytes) {
      const p = this.queue.shift()!;
      this.queuedBytes -= p.data.length;
      this.ws.send(p.data);
    }
    if (this.queue.length > 0 && this.ws.readyState === this.ws.OPEN) this.scheduleFlush();
  }

  /** Bytes held for this client: ours plus the socket's. */
  get heldBytes(): number {
    return this.queuedBytes + this.ws.bufferedAmount;
  }

  dispose(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.queue.length = 0;
    this.queuedBytes = 0;
  }
}
