import WebSocket from 'ws';
import type { EncodedInput } from './input-audio.js';
import { SAMPLE_RATE } from './input-audio.js';
import { FrameLatency } from './latency.js';
import { describeClose, parseServerMessage } from './messages.js';
import { ReplyDecoder } from './reply-audio.js';
import { audioMessage } from '../../transport/protocol.js';

/** A failure the user should read: refused, closed early, unreachable. */
export class ClientError extends Error {
  override readonly name = 'ClientError';
}

export interface SessionOptions {
  url: string;
  pace: 'realtime' | 'fast';
  timeoutMs: number;
  /** Model frames sent ahead of the replies in fast mode; the server queues 25 before dropping. */
  fastWindowFrames?: number;
}

export interface Progress {
  sentSeconds: number;
  totalSeconds: number;
  receivedSeconds: number;
  p50Ms: number | null;
}

export interface SessionResult {
  handshakeMs: number;
  /** From the first audio page sent to the first reply audio received. */
  firstAudioMs: number | null;
  latency: FrameLatency;
  reply: Float32Array;
  transcript: string;
  metadata: unknown;
  /** 0x05 messages the server sent during a session that otherwise completed. */
  serverErrors: string[];
  /** Things that went wrong on our side of the stream but did not stop it. */
  warnings: string[];
  framesExpected: number;
}

const MAX_BUFFERED_BYTES = 64 * 1024;
/** Silence from the server, once replies have started, that means it has answered everything it will. */
const TAIL_QUIET_MS = 1500;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One conversation: connect, wait for the handshake, stream the input, collect the reply until every frame has come back. */
export async function runSession(opts: SessionOptions, input: EncodedInput, onProgress?: (p: Progress) => void): Promise<SessionResult> {
  const decoder = await ReplyDecoder.create();
  const latency = new FrameLatency(input.preSkip);
  const serverErrors: string[] = [];
  const warnings: string[] = [];
  let transcript = '';
  let metadata: unknown = null;
  let handshakeAt: number | null = null;
  let firstSentAt: number | null = null;
  let firstAudioAt: number | null = null;
  let closed: { code: number; reason: string } | null = null;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    wake?.();
    wake = null;
  };
  /** Resolves at the next message, close or error, or after `ms`. */
  const nextEvent = (ms: number): Promise<void> => new Promise((r) => {
    const t = setTimeout(r, ms);
    wake = () => {
      clearTimeout(t);
      r();
    };
  });

  const t0 = performance.now();
  const ws = new WebSocket(opts.url, { perMessageDeflate: false, handshakeTimeout: opts.timeoutMs });
  ws.binaryType = 'nodebuffer';
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) return;
    const now = performance.now();
    const msg = parseServerMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    switch (msg.kind) {
      case 'handshake':
        handshakeAt ??= now;
        break;
      case 'audio': {
        const r = decoder.push(msg.data);
        warnings.push(...r.errors);
        if (r.rawSamples > 0) firstAudioAt ??= now;
        latency.received(decoder.rawSamples, now);
        break;
      }
      case 'text':
      case 'coloredText':
        transcript += msg.text;
        break;
      case 'metadata':
        metadata = msg.value;
        break;
      case 'error':
        serverErrors.push(msg.message);
        break;
      case 'ping':
      case 'control':
      case 'ignored':
        break;
    }
    notify();
  });
  ws.on('close', (code: number, reason: Buffer) => {
    closed = { code, reason: reason.toString('utf8') };
    notify();
  });
  ws.on('error', (e: Error) => {
    failure ??= e;
    notify();
  });

  const check = (): void => {
    if (failure) throw new ClientError(`cannot talk to ${opts.url}: ${describeSocketError(failure)}`);
    const c = closed;
    if (c) {
      // The close reason usually repeats the last 0x05 message (cut to 120 bytes); say it once.
      const extra = serverErrors.filter((m) => !c.reason.startsWith(m.slice(0, 120)));
      const said = extra.length > 0 ? `; the server said: ${extra.join(' | ')}` : '';
      throw new ClientError(`${describeClose(c.code, c.reason)}${said}`);
    }
  };

  const closedNormally = (): boolean => closed?.code === 1000 && failure === null;

  try {
    // Handshake.
    const deadline = t0 + opts.timeoutMs;
    while (handshakeAt === null) {
      check();
      if (performance.now() > deadline) throw new ClientError(`no handshake from the server within ${opts.timeoutMs} ms`);
      await nextEvent(deadline - performance.now());
    }

    // Stream the input.
    const start = performance.now();
    let rawSent = 0;
    const aheadFrames = opts.fastWindowFrames ?? 8;
    const totalSeconds = input.frames * 1920 / SAMPLE_RATE;
    let lastProgress = 0;
    const progress = (): void => {
      const now = performance.now();
      if (!onProgress || now - lastProgress < 250) return;
      lastProgress = now;
      onProgress({
        sentSeconds: Math.min(totalSeconds, Math.max(0, rawSent - input.preSkip) / SAMPLE_RATE),
        totalSeconds,
        receivedSeconds: decoder.rawSamples / SAMPLE_RATE,
        p50Ms: latency.percentile(50),
      });
    };
    for (const page of input.pages) {
      for (;;) {
        check();
        const now = performance.now();
        const wait = opts.pace === 'realtime'
          ? start + (page.rawEnd / SAMPLE_RATE) * 1000 - now
          : latency.inFlight >= aheadFrames || ws.bufferedAmount > MAX_BUFFERED_BYTES ? 20 : 0;
        if (wait <= 0) break;
        progress();
        await nextEvent(Math.min(wait, 250));
      }
      ws.send(audioMessage(page.bytes));
      const now = performance.now();
      if (page.rawEnd > 0) firstSentAt ??= now;
      rawSent = Math.max(rawSent, page.rawEnd);
      latency.sent(rawSent, now);
    }

    // Collect the rest of the reply. The model answers frame n only after its
    // acoustic delay, so the last `delay` input frames get no reply; the
    // client does not know the delay and stops once the reply goes quiet.
    const inputDoneAt = performance.now();
    let lastReceived = latency.framesReceived;
    let lastReceivedAt = inputDoneAt;
    while (latency.framesReceived < input.frames) {
      // A server that closes normally once it has answered everything is done, not failing.
      if (closedNormally()) break;
      check();
      const now = performance.now();
      if (latency.framesReceived > lastReceived) {
        lastReceived = latency.framesReceived;
        lastReceivedAt = now;
      }
      // A loaded server answers late and in bursts: wait longer when replies have been slow.
      const quietMs = latency.framesReceived > 0
        ? Math.min(Math.max(TAIL_QUIET_MS, 2 * (latency.percentile(95) ?? 0)), opts.timeoutMs)
        : opts.timeoutMs;
      if (now - lastReceivedAt > quietMs) break;
      progress();
      await nextEvent(100);
    }
    if (latency.framesReceived === 0) warnings.push(`no reply audio arrived within ${opts.timeoutMs} ms of the end of the input`);
    onProgress?.({ sentSeconds: totalSeconds, totalSeconds, receivedSeconds: decoder.rawSamples / SAMPLE_RATE, p50Ms: latency.percentile(50) });
  } finally {
    await closeSocket(ws);
    decoder.close();
  }

  return {
    handshakeMs: handshakeAt - t0,
    firstAudioMs: firstAudioAt !== null && firstSentAt !== null ? firstAudioAt - firstSentAt : null,
    latency,
    reply: decoder.pcm(),
    transcript,
    metadata,
    serverErrors,
    warnings,
    framesExpected: input.frames,
  };
}

async function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return;
  const done = new Promise<void>((r) => ws.once('close', () => r()));
  if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
  else ws.close(1000, 'done');
  // A server that never answers the close handshake does not hold us up.
  await Promise.race([done, sleep(2000).then(() => ws.terminate())]);
}

function describeSocketError(e: Error): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return 'connection refused (is the server running?)';
  if (code === 'ENOTFOUND') return 'host not found';
  if (/Unexpected server response: (\d+)/.test(e.message)) return `${e.message} (is this a Parley or Moshi chat endpoint?)`;
  return e.message;
}
