import { ClipCursor, type InputClip } from './input-clip.js';
import { M } from './metrics.js';
import { isOpusHead, isOpusTags, OggPageSplitter } from './ogg.js';
import { decodeUtf8, FRAME_GRANULE, FRAME_SAMPLES, Kind, REPLY_LAG_FRAMES, withKind } from './protocol.js';
import { Waiter, type LoadRuntime, type LoadSocket } from './runtime.js';

export interface SessionPlan {
  url: string;
  /** Milliseconds of audio to stream. */
  talkMs: number;
  /** Runtime-clock time after which no more audio is sent. */
  talkUntil: number;
  handshakeTimeoutMs: number;
  drainMs: number;
  closeTimeoutMs: number;
}

export type ClosedBy = 'client' | 'server' | 'none';

export interface SessionResult {
  handshake: boolean;
  framesSent: number;
  framesReceived: number;
  framesMissing: number;
  textMessages: number;
  errors: string[];
  /** null when no close arrived within the close timeout. */
  closeCode: number | null;
  closedBy: ClosedBy;
}

/** Close codes a client-initiated close may end with (0: a k6 that does not report codes). */
const NORMAL_CLOSE_CODES = [1000, 1005, 0];

/**
 * One conversation: connect, wait for the handshake, stream the clip at
 * real-time pace, pair each output frame with the input frame of the same
 * index, drain, close; every metric goes to the runtime.
 */
export async function runSession(rt: LoadRuntime, clip: InputClip, plan: SessionPlan): Promise<SessionResult> {
  const c = new Conversation(rt);
  rt.metric(M.sessions.name, 1);
  const connectedAt = rt.now();
  c.socket = rt.connect(plan.url, {
    onOpen: () => c.onOpen(),
    onMessage: (data, at) => c.onMessage(data, at),
    onClose: (code, reason) => c.onClose(code, reason),
    onError: (message) => c.onError(message),
  });
  await c.waiter.until(rt, () => c.handshakeAt !== null || c.closed, plan.handshakeTimeoutMs);
  const handshake = c.handshakeAt !== null;
  rt.metric(M.handshakeOk.name, handshake ? 1 : 0);
  if (c.handshakeAt !== null) {
    rt.metric(M.handshakeMs.name, c.handshakeAt - connectedAt);
    await c.stream(clip, plan);
    await c.waiter.until(rt, () => c.closed || c.framesReceived >= c.framesSent - REPLY_LAG_FRAMES, plan.drainMs);
  }
  if (!c.closed) {
    c.clientClosing = true;
    c.socket.close();
    await c.waiter.until(rt, () => c.closed, plan.closeTimeoutMs);
  }
  return c.report(handshake);
}

class Conversation {
  readonly waiter = new Waiter();
  socket: LoadSocket | null = null;
  handshakeAt: number | null = null;
  closed = false;
  clientClosing = false;
  closeCode: number | null = null;
  closedBy: ClosedBy = 'none';
  framesSent = 0;
  framesReceived = 0;
  textMessages = 0;
  readonly errors: string[] = [];
  private firstAudioAt: number | null = null;
  private firstTextAt: number | null = null;
  /** When the page completing input frame n (1-based) was sent. */
  private readonly inputDoneAt = new Map<number, number>();
  private readonly replies = new OggPageSplitter();

  constructor(private readonly rt: LoadRuntime) {}

  async stream(clip: InputClip, plan: SessionPlan): Promise<void> {
    const cursor = new ClipCursor(clip);
    const start = this.rt.now();
    while (!this.closed) {
      const page = cursor.next();
      const due = start + page.dueMs;
      if (page.dueMs > plan.talkMs || due > plan.talkUntil) return;
      // Waits for the page's real-time moment, waking early only if the socket closes.
      await this.waiter.until(this.rt, () => this.closed, due - this.rt.now());
      if (this.closed) return;
      this.socket!.send(withKind(Kind.Audio, page.bytes));
      const sentAt = this.rt.now();
      if (this.firstAudioAt === null) this.firstAudioAt = sentAt;
      const complete = Math.floor(page.samples / FRAME_SAMPLES);
      while (this.framesSent < complete) this.inputDoneAt.set(++this.framesSent, sentAt);
    }
  }

  onOpen(): void {
    this.waiter.poke();
  }

  onMessage(data: Uint8Array, at: number): void {
    if (data.length > 0) this.handle(data[0]!, data.subarray(1), at);
    this.waiter.poke();
  }

  onClose(code: number, _reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closeCode = code;
    this.closedBy = this.clientClosing ? 'client' : 'server';
    this.waiter.poke();
  }

  onError(message: string): void {
    this.errors.push(`socket: ${message}`);
    this.waiter.poke();
  }

  private handle(kind: number, payload: Uint8Array, at: number): void {
    switch (kind) {
      case Kind.Handshake:
        if (this.handshakeAt === null) this.handshakeAt = at;
        return;
      case Kind.Audio:
        for (const page of this.replies.push(payload)) {
          if (page.granule <= 0 || isOpusHead(page) || isOpusTags(page)) continue;
          // Output frame n is complete once the granule reaches n frames (two 40 ms pages on Parley).
          const n = Math.floor(page.granule / FRAME_GRANULE);
          while (this.framesReceived < n) this.onReplyFrame(++this.framesReceived, at);
        }
        return;
      case Kind.Text:
      case Kind.ColoredText:
        this.textMessages++;
        if (this.firstTextAt === null) this.firstTextAt = at;
        return;
      case Kind.Error:
        this.errors.push(decodeUtf8(payload));
        return;
      default:
        return; // metadata, ping and unknown kinds carry nothing measured here
    }
  }

  private onReplyFrame(n: number, at: number): void {
    const sent = this.inputDoneAt.get(n);
    if (sent === undefined) return;
    this.inputDoneAt.delete(n);
    this.rt.metric(M.replyLatencyMs.name, at - sent);
  }

  report(handshake: boolean): SessionResult {
    const { rt } = this;
    const missing = handshake ? Math.max(0, this.framesSent - REPLY_LAG_FRAMES - this.framesReceived) : 0;
    if (this.firstAudioAt !== null && this.firstTextAt !== null) rt.metric(M.firstTextMs.name, this.firstTextAt - this.firstAudioAt);
    // Zero-valued samples too, so that every counter has data for its thresholds.
    rt.metric(M.framesSent.name, this.framesSent);
    rt.metric(M.framesReceived.name, this.framesReceived);
    rt.metric(M.framesMissing.name, missing);
    rt.metric(M.textMessages.name, this.textMessages);
    rt.metric(M.errors.name, this.errors.length);
    const code = this.closeCode === null ? 'none' : String(this.closeCode);
    rt.metric(M.closes.name, 1, { code, by: this.closedBy });
    const unexpected = this.closedBy !== 'client' || this.closeCode === null || !NORMAL_CLOSE_CODES.includes(this.closeCode);
    rt.metric(M.unexpectedCloses.name, unexpected ? 1 : 0);
    if (this.errors.length > 0) rt.log(`session errors: ${this.errors.slice(0, 3).join(' | ')}`);
    return {
      handshake,
      framesSent: this.framesSent,
      framesReceived: this.framesReceived,
      framesMissing: missing,
      textMessages: this.textMessages,
      errors: this.errors.slice(),
      closeCode: this.closeCode,
      closedBy: this.closedBy,
    };
  }
}
