import { FrameLatency } from './latency.js';
import { MicEncoder } from './mic.js';
import { ReplyPlayer } from './player.js';
import { audioMessage, describeClose, parseServerMessage } from './protocol.js';
import type { ConnectionState, ParleyStats } from './stats.js';

export interface ConversationEvents {
  state(s: ConnectionState, message: string): void;
  text(text: string, color: number | null): void;
  metadata(value: unknown): void;
  micLevel(rms: number): void;
  /** A problem to show; `fatal` ones end the conversation. */
  problem(message: string, fatal: boolean): void;
}

/** Moshi's web client gives up after 10 s without a message; so does this page, before the handshake. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** One connection: microphone → server → speaker, with the numbers kept in `stats`. */
export class Conversation {
  private ws: WebSocket | null = null;
  private ctx: AudioContext | null = null;
  private stream: MediaStream | null = null;
  private mic: MicEncoder | null = null;
  private player: ReplyPlayer | null = null;
  private readonly latency = new FrameLatency(MicEncoder.preSkip24k);
  private lastServerError = '';
  private userClosed = false;
  private ended = false;
  private failed = false;
  private opened = false;
  private host = '';
  private handshakeTimer: number | undefined;

  constructor(private readonly stats: ParleyStats, private readonly on: ConversationEvents) {}

  async start(url: URL): Promise<void> {
    const missing = missingFeatures();
    if (missing) return this.fail(missing);
    this.on.state('starting', 'Starting the microphone…');
    // One context at the model's rate for both directions: the browser resamples the microphone and the speaker.
    const ctx = new AudioContext({ sampleRate: 24000, latencyHint: 'interactive' });
    this.ctx = ctx;
    try {
      await ctx.resume();
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
    } catch (e) {
      const name = e instanceof DOMException ? e.name : '';
      return this.fail(name === 'NotAllowedError'
        ? 'Microphone access was refused. Allow the microphone for this page and connect again.'
        : name === 'NotFoundError'
          ? 'No microphone was found. Plug one in and connect again.'
          : `The microphone could not be started: ${(e as Error).message}`);
    }
    if (this.ended) return this.release();
    try {
      this.player = await ReplyPlayer.create(ctx, {
        onReceived: (raw) => {
          this.latency.received(raw, performance.now());
          this.stats.latencyMs = { last: this.latency.last, p50: this.latency.percentile(50), p95: this.latency.percentile(95) };
        },
        onScheduled: (n) => {
          this.stats.audioChunksDecoded++;
          this.stats.samplesScheduled += n;
        },
        onWorkletStats: (s) => {
          this.stats.bufferMs = (s.bufferedSamples / ctx.sampleRate) * 1000;
          this.stats.samplesPlayed = s.playedSamples;
          this.stats.underruns = s.underruns;
        },
        onError: (m) => {
          this.stats.errors.push(m);
          this.on.problem(m, false);
        },
      });
      this.mic = await MicEncoder.create(ctx, this.stream, {
        onPage: (p) => this.send(p.bytes, p.rawEnd24k),
        onLevel: (rms) => this.on.micLevel(rms),
        onError: (m) => this.fail(m),
      });
    } catch (e) {
      return this.fail(`The audio pipeline could not be set up: ${(e as Error).message}`);
    }
    if (this.ended) return this.release();

    this.host = url.host;
    this.on.state('connecting', `Connecting to ${url.host}…`);
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      this.opened = true;
      this.on.state('connecting', 'Connected; waiting for the model to be ready…');
    };
    ws.onmessage = (e: MessageEvent<ArrayBuffer | string>) => {
      if (typeof e.data !== 'string') this.onMessage(new Uint8Array(e.data));
    };
    ws.onclose = (e) => this.onClose(e.code, e.reason);
    this.handshakeTimer = window.setTimeout(() => {
      if (!this.stats.handshake) this.fail('The server did not start a conversation within 10 s. It may be overloaded, or this is not a Parley or Moshi chat address.');
    }, HANDSHAKE_TIMEOUT_MS);
  }

  /** The user's disconnect. */
  stop(): void {
    this.userClosed = true;
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close(1000, 'user disconnected');
    else this.teardown();
    if (!this.ws) this.on.state('closed', 'Disconnected.');
  }

  private send(page: Uint8Array, rawEnd24k: number): void {
    if (this.ws?.readyState !== WebSocket.OPEN) return;
    this.ws.send(audioMessage(page));
    this.stats.pagesSent++;
    if (rawEnd24k > 0) this.latency.sent(rawEnd24k, performance.now());
  }

  private onMessage(data: Uint8Array): void {
    const msg = parseServerMessage(data);
    switch (msg.kind) {
      case 'handshake':
        if (this.stats.handshake) return;
        this.stats.handshake = true;
        window.clearTimeout(this.handshakeTimer);
        this.on.state('live', 'Live: talk to the model.');
        this.mic?.start();
        return;
      case 'audio':
        this.player?.push(msg.data);
        return;
      case 'text':
        this.stats.transcript += msg.text;
        this.on.text(msg.text, null);
        return;
      case 'coloredText':
        this.stats.transcript += msg.text;
        this.on.text(msg.text, msg.color);
        return;
      case 'metadata':
        this.stats.metadata = msg.value;
        this.on.metadata(msg.value);
        return;
      case 'error':
        // Usually followed by a close whose code says what it means; shown then, with these words.
        this.lastServerError = msg.message;
        this.stats.errors.push(`The server reported: ${msg.message}`);
        this.on.problem(`The server reported: ${msg.message}`, false);
        return;
      case 'ping':
      case 'ignored':
        return;
    }
  }

  private onClose(code: number, reason: string): void {
    this.stats.closeCode = code;
    const alreadyReported = this.failed;
    this.teardown();
    if (alreadyReported) return;
    if (this.userClosed && code === 1000) {
      this.on.state('closed', 'Disconnected.');
      return;
    }
    // A refused upgrade (bad address, 401/403 for credentials or origin, 429 for too many connections) reaches the page only as 1006.
    const { text, isError } = !this.opened && code === 1006
      ? { text: `Could not open a conversation with ${this.host}: the server is not reachable there, or it refused the connection (it may need an access token, not allow this page's origin, or limit how often you connect).`, isError: true }
      : describeClose(code, reason || this.lastServerError);
    if (isError) {
      this.stats.errors.push(text);
      this.on.problem(text, true);
      this.on.state('error', 'Not connected.');
    } else {
      this.on.state('closed', text);
    }
  }

  private fail(message: string): void {
    if (this.failed) return;
    this.failed = true;
    this.stats.errors.push(message);
    this.on.problem(message, true);
    this.on.state('error', 'Not connected.');
    this.userClosed = true;
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close(1000, 'client error');
    this.teardown();
  }

  private teardown(): void {
    this.ended = true;
    window.clearTimeout(this.handshakeTimer);
    this.release();
  }

  /** Frees whatever exists so far; called again if `start` creates more after an early stop. */
  private release(): void {
    this.mic?.stop();
    this.mic = null;
    this.player?.stop();
    this.player = null;
    for (const t of this.stream?.getTracks() ?? []) t.stop();
    this.stream = null;
    if (this.ctx && this.ctx.state !== 'closed') void this.ctx.close();
  }
}

/** What this browser lacks for the page to work, in words; null when nothing. */
function missingFeatures(): string | null {
  if (!window.isSecureContext) return 'The browser only allows the microphone on https:// pages or on localhost. Open this page over https or on the server machine.';
  if (!navigator.mediaDevices?.getUserMedia) return 'This browser cannot capture the microphone.';
  if (typeof AudioEncoder === 'undefined' || typeof AudioDecoder === 'undefined') {
    return 'This browser lacks WebCodecs audio (AudioEncoder and AudioDecoder). Use a recent Chrome, Edge or Firefox.';
  }
  if (typeof AudioWorkletNode === 'undefined') return 'This browser lacks AudioWorklet.';
  return null;
}
