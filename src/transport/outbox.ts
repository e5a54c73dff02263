import type { WebSocket } from 'ws';

export interface OutboxLimits {
  /** Bytes held for one client (waiting here plus the socket's own buffer) before its oldest audio is dropped. */
  maxBufferedBytes: number;
  /** Audio dropped (oldest first) before we give up on the reader. */
  maxDroppedAudioBytes: number;
}

interface Pending {
  data: Uint8Array;
  droppable: boolean;
}

/** What an Outbox holds and has dropped, for metrics and tests. */
export interface OutboxStats {
  /** Bytes held now: waiting here plus the socket's buffer. */
  heldBytes: number;
  /** The most held at once, measured after every send. */
  peakHeldBytes: number;
  droppedBytes: number;
}

/**
 * Outgoing messages for one client. While the socket's buffer is full, audio
 * waits here; what waits here and in the socket together is kept under
 * `maxBufferedBytes` (plus the one message being sent) by dropping the oldest
 * audio, so a client that stops reading cannot grow the server's memory.
 * Past the drop budget the session is ended by the owner (`onStalled`).
 */
export class Outbox {
  private readonly queue: Pending[] = [];
  private queuedBytes = 0;
  private peak = 0;
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
      this.notePeak();
      return;
    }
    this.queue.push({ data, droppable });
    this.queuedBytes += data.length;
    // The socket's buffer counts against the same bound: only what fits beside it may wait here.
    while (this.queuedBytes + this.ws.bufferedAmount > this.limits.maxBufferedBytes) {
      const i = this.queue.findIndex((p) => p.droppable);
      if (i < 0) break;
      const [p] = this.queue.splice(i, 1);
      this.queuedBytes -= p!.data.length;
      this.droppedBytes += p!.data.length;
      this.onDrop(p!.data.length);
    }
    this.notePeak();
    if (this.droppedBytes > this.limits.maxDroppedAudioBytes) {
      this.onStalled();
      return;
    }
    this.scheduleFlush();
  }

  private notePeak(): void {
    const held = this.heldBytes;
    if (held > this.peak) this.peak = held;
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
    this.notePeak();
    if (this.queue.length > 0 && this.ws.readyState === this.ws.OPEN) this.scheduleFlush();
  }

  /** Bytes held for this client: ours plus the socket's. */
  get heldBytes(): number {
    return this.queuedBytes + this.ws.bufferedAmount;
  }

  get stats(): OutboxStats {
    return { heldBytes: this.heldBytes, peakHeldBytes: this.peak, droppedBytes: this.droppedBytes };
  }

  dispose(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.queue.length = 0;
    this.queuedBytes = 0;
  }
}
