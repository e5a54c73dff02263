import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { WebSocket, RawData } from 'ws';
import { OggOpusInput } from '../audio/input-stream.js';
import { OggOpusOutput } from '../audio/output-stream.js';
import type { EngineClient, EngineFrame } from '../engine/engine-client.js';
import type { SamplingParams } from '../engine/sampling/sampling-params.js';
import { decodeSnapshot, encodeSnapshot, type EngineSnapshot } from '../engine/snapshot.js';
import { IncrementalDetokenizer, type SentencePieceTokenizer } from '../model/tokenizer/index.js';
import { newResumeToken, tokenKey, type ResumeStore } from './resume/resume-store.js';
import type { ServerConfig } from '../config/schema.js';
import type { Metrics } from './metrics.js';
import { InputBudget } from './input-budget.js';
import { Outbox, type OutboxStats } from './outbox.js';
import {
  audioMessage, CloseCode, errorMessage, handshake, metadataMessage, parseClientMessage, textMessage,
} from './protocol.js';

export interface ChatDeps {
  engine: EngineClient;
  tokenizer: SentencePieceTokenizer | null;
  limits: ServerConfig['limits'];
  metrics: Metrics;
  log: Logger;
  modelName: string;
  resumeStore: ResumeStore;
  resumeGraceMs: number;
}

/** How long a resume waits for a just-dropped session's state to reach the store. */
const RESUME_RETRIES = 10;
const RESUME_RETRY_MS = 200;

/** What a dropped session leaves in the resume store: a flag byte, then the engine snapshot. */
const TEXT_STARTED = 1;

/** Client errors we report back at most this often per session (the rest are counted and logged). */
const MAX_ERROR_REPLIES = 5;
/** A client that does not read cannot take our close frame either: its socket is dropped this long after. */
const STALLED_CLOSE_GRACE_MS = 5_000;
/** Each restart resets model state in the worker, so a client may not ask for one more often than this. */
const MIN_RESTART_INTERVAL_MS = 1_000;
/** Input audio fed to the decoder at a time (a page or two), checking the input budget in between. */
const AUDIO_SLICE_BYTES = 512;
/** Input audio a client may send at once beyond its speed limit: 10 s of 80 ms frames. */
const INPUT_BURST_FRAMES = 125;
/** Endings started by the client, which count as neither a refusal nor a session end before the session opened. */
const CLIENT_ENDINGS = new Set(['client_closed']);

/**
 * One client conversation: socket → Ogg Opus demux/decode → 80 ms frames →
 * engine; engine → Opus/Ogg pages and text → socket. Everything a client
 * sends is parsed defensively; nothing it sends can throw out of here.
 */
export class ChatSession {
  readonly id = randomUUID();
  private readonly log: Logger;
  private input: OggOpusInput | null = null;
  private readonly output = new OggOpusOutput();
  private readonly detok: IncrementalDetokenizer | null;
  private readonly outbox: Outbox;
  private readonly pending: RawData[] = [];
  private pendingBytes = 0;
  /** When each input frame went to the engine, by frame index; only the last few are kept. */
  private readonly sentAt = new Map<number, number>();
  private open = false;
  private ended = false;
  private errorReplies = 0;
  private framesIn = 0;
  /** Model steps taken for this session, restarts included (the duration limit). */
  private steps = 0;
  private lastRestartAt = -Infinity;
  private readonly inputBudget: InputBudget;
  private lastAudioAt = Date.now();
  private idleTimer: NodeJS.Timeout | null = null;
  private resumeToken: string | null = null;
  private textStarted = false;

  constructor(private readonly ws: WebSocket, private sampling: SamplingParams, private readonly deps: ChatDeps) {
    this.log = deps.log.child({ session: this.id });
    this.detok = deps.tokenizer ? new IncrementalDetokenizer(deps.tokenizer) : null;
    this.inputBudget = new InputBudget(INPUT_BURST_FRAMES, deps.limits.maxInputSpeed * (1000 / 80));
    this.outbox = new Outbox(ws, deps.limits,
      (bytes) => deps.metrics.droppedAudioBytes.inc(bytes),
      () => this.stalled('too much audio dropped'));
    // Attached before any await, so that no early message is lost.
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(data, isBinary));
    // A connection that drops (anything but a normal close) leaves the session resumable.
    // Only a connection that drops (1006: no close frame) leaves the session resumable; a client that
    // closes (1000, 1001 leaving the page, 1005 a close without a code) has ended the conversation.
    ws.on('close', (code: number) => this.end(null, 'client closed', 'client_closed', code === CloseCode.Abnormal));
    // Pongs share the outgoing bound: a client that pings but never reads is closed rather than buffered for.
    ws.on('ping', (data: Buffer) => {
      if (ws.bufferedAmount > deps.limits.maxBufferedBytes) this.stalled('pongs piling up');
      else if (!this.ended) ws.pong(data);
    });
    // Only protocol errors come here (socket errors just close); ws has already sent the close code (1009, 1002, 1007).
    ws.on('error', (e: Error & { code?: string }) => {
      const tooBig = e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
      this.log.warn({ err: e.message, code: e.code }, 'WebSocket protocol error');
      this.end(null, e.message, tooBig ? 'message_too_big' : 'protocol_error');
    });
  }

  get hasEnded(): boolean {
    return this.ended;
  }

  /** Outgoing bytes held for this client and audio dropped (for tests and debugging). */
  get outgoing(): OutboxStats {
    return this.outbox.stats;
  }

  private stalled(why: string): void {
    if (this.ended) return;
    this.end(CloseCode.PolicyViolation, `client is not reading: ${why}`, 'stalled_reader');
    const t = setTimeout(() => this.ws.terminate(), STALLED_CLOSE_GRACE_MS);
    this.ws.once('close', () => clearTimeout(t));
  }

  private readonly listener = {
    onFrame: (f: EngineFrame) => this.onEngineFrame(f),
    onLost: (reason: string) => this.end(CloseCode.InternalError, `inference engine failed (${reason}); please reconnect`, 'engine_lost'),
  };

  /** Starts a new conversation, or resumes a dropped one when `resumeToken` is given. */
  async start(resumeToken?: string): Promise<void> {
    const input = await OggOpusInput.create();
    if (this.ended) {
      input.close();
      return;
    }
    this.input = input;
    let resumed: EngineSnapshot | null = null;
    let ok: boolean;
    if (resumeToken !== undefined) {
      const r = await this.resumeFrom(resumeToken);
      if (!r) return;
      resumed = r.snapshot;
      ok = r.ok;
    } else {
      ok = await this.deps.engine.open(this.id, this.sampling, this.listener);
    }
    if (this.ended) {
      if (ok) this.deps.engine.close(this.id);
      return;
    }
    if (!ok) {
      this.end(CloseCode.TryAgainLater, 'server busy', 'busy');
      return;
    }
    if (resumed) {
      this.sampling = resumed.sampling;
      this.framesIn = resumed.pipeline.steps;
      this.steps = resumed.pipeline.steps;
      if (this.textStarted) this.detok?.markContinued();
    }
    this.open = true;
    this.resumeToken = newResumeToken();
    this.deps.metrics.sessionsTotal.inc();
    this.log.info({ sampling: this.sampling, resumed: resumed !== null }, resumed ? 'session resumed' : 'session started');
    this.ws.send(handshake());
    this.ws.send(metadataMessage({
      session_id: this.id,
      model: this.deps.modelName,
      // Secret: reconnect with ?resume=<token> within the grace period to continue this conversation.
      resume_token: this.resumeToken,
      resume_grace_ms: this.deps.resumeGraceMs,
      resumed: resumed !== null,
      // Input frames the session has consumed: a resuming client continues its audio from here.
      input_frames: this.framesIn,
      text_temperature: this.sampling.textTemperature,
      text_topk: this.sampling.textTopK,
      audio_temperature: this.sampling.audioTemperature,
      audio_topk: this.sampling.audioTopK,
      // Seeds are 64-bit; JSON numbers are not, so they go as decimal strings.
      text_seed: String(this.sampling.textSeed),
      audio_seed: String(this.sampling.audioSeed),
      pad_mult: this.sampling.padMult,
      repetition_penalty_context: this.sampling.repetitionPenaltyContext,
      repetition_penalty: this.sampling.repetitionPenalty,
    }));
    this.idleTimer = setInterval(() => {
      if (Date.now() - this.lastAudioAt > this.deps.limits.idleTimeoutMs) {
        this.end(CloseCode.PolicyViolation, `no audio for ${this.deps.limits.idleTimeoutMs} ms`, 'idle');
      }
    }, Math.min(1000, this.deps.limits.idleTimeoutMs));
    this.pendingBytes = 0;
    for (const m of this.pending.splice(0)) this.onMessage(m, true);
  }

  private clientError(kind: string, message: string): void {
    this.deps.metrics.clientErrors.inc({ kind });
    this.log.debug({ kind, message }, 'client error');
    if (this.errorReplies++ < MAX_ERROR_REPLIES) this.outbox.send(errorMessage(message), false);
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.ended) return;
    if (!this.open) {
      // Buffered until the session's state is ready; bounded in count and bytes, the rest dropped.
      const n = byteLength(data);
      if (this.pending.length < this.deps.limits.maxQueuedFrames * 8 && this.pendingBytes + n <= this.deps.limits.maxMessageBytes) {
        this.pending.push(data);
        this.pendingBytes += n;
      }
      return;
    }
    try {
      if (!isBinary) {
        this.clientError('text_frame', 'WebSocket text frames are not part of the protocol; send binary messages');
        return;
      }
      const bytes = toBytes(data);
      const msg = parseClientMessage(bytes);
      switch (msg.kind) {
        case 'audio':
          this.onAudio(msg.payload);
          break;
        case 'control':
          if (msg.action === 'restart') this.restart();
          break;
        case 'text':
        case 'ping':
        case 'metadata':
          break;
        case 'invalid':
          this.clientError('bad_message', msg.reason);
          break;
      }
    } catch (e) {
      // A bug in handling one client's input ends that session only.
      this.log.error({ err: (e as Error).stack }, 'session failed');
      this.end(CloseCode.InternalError, 'internal error while handling your input', 'internal_error');
    }
  }

  private onAudio(payload: Uint8Array): void {
    this.lastAudioAt = Date.now();
    // In slices, so that the input budget stops a message of tiny packets after about a page, not after all of it.
    for (let off = 0; off < payload.length && !this.ended; off += AUDIO_SLICE_BYTES) {
      this.onAudioSlice(payload.subarray(off, off + AUDIO_SLICE_BYTES));
    }
  }

  private onAudioSlice(slice: Uint8Array): void {
    const { frames, errors } = this.input!.push(slice);
    for (const e of errors) this.clientError('bad_audio', `audio: ${e.message}`);
    if (!this.inputBudget.take(frames.length)) {
      this.end(CloseCode.PolicyViolation, `audio arrives faster than ${this.deps.limits.maxInputSpeed}× real time`, 'input_too_fast');
      return;
    }
    // The engine keeps at most maxQueuedFrames per session, so older send times can never be matched.
    const keep = 2 * this.deps.limits.maxQueuedFrames + 8;
    for (const f of frames) {
      this.deps.metrics.framesIn.inc();
      this.sentAt.set(this.framesIn, performance.now());
      this.sentAt.delete(this.framesIn - keep);
      this.framesIn++;
      this.deps.engine.pushFrame(this.id, f);
    }
  }

  /** Takes the dropped session out of the store (single use) and rebuilds it in the engine. */
  private async resumeFrom(token: string): Promise<{ ok: boolean; snapshot: EngineSnapshot } | null> {
    // The old connection's state may still be on its way to the store (the drop was just noticed): wait a little.
    let stored = await this.deps.resumeStore.take(tokenKey(token));
    for (let i = 0; !stored && i < RESUME_RETRIES && !this.ended; i++) {
      await new Promise((r) => setTimeout(r, RESUME_RETRY_MS));
      stored = await this.deps.resumeStore.take(tokenKey(token));
    }
    if (this.ended) {
      if (stored) await this.deps.resumeStore.put(tokenKey(token), stored, this.deps.resumeGraceMs);
      return null;
    }
    if (!stored) {
      this.end(CloseCode.PolicyViolation, 'invalid, expired or already used resume token', 'bad_resume_token');
      return null;
    }
    let snapshot: EngineSnapshot;
    try {
      snapshot = decodeSnapshot(stored.subarray(1));
    } catch (e) {
      this.end(CloseCode.PolicyViolation, `cannot resume: ${(e as Error).message}`, 'bad_resume_token');
      return null;
    }
    const r = await this.deps.engine.resume(this.id, snapshot, this.listener);
    if (!r.ok && r.error) {
      this.end(CloseCode.PolicyViolation, `cannot resume: ${r.error}`, 'bad_resume_token');
      return null;
    }
    // Busy: the session stays in the store, so the same token can try again.
    if (!r.ok) await this.deps.resumeStore.put(tokenKey(token), stored, this.deps.resumeGraceMs);
    if (stored[0]! & TEXT_STARTED) this.textStarted = true;
    return { ok: r.ok, snapshot };
  }

  private keepForResume(token: string): void {
    const { engine, resumeStore, resumeGraceMs } = this.deps;
    engine.closeWithSnapshot(this.id).then(async (snap) => {
      if (!snap) return;
      const flags = Buffer.from([this.textStarted ? TEXT_STARTED : 0]);
      await resumeStore.put(tokenKey(token), Buffer.concat([flags, encodeSnapshot(snap)]), resumeGraceMs);
      this.log.info({ steps: snap.pipeline.steps, graceMs: resumeGraceMs }, 'session kept for resume');
    }).catch((e: unknown) => this.log.error({ err: (e as Error).message }, 'could not keep the session for resume'));
  }

  /** Server shutdown: end the session but keep it resumable (another server can pick it up). */
  drain(): void {
    this.end(CloseCode.GoingAway, 'server is shutting down; reconnect with your resume token', 'draining', true);
  }

  private restart(): void {
    const now = performance.now();
    if (now - this.lastRestartAt < MIN_RESTART_INTERVAL_MS) {
      this.clientError('restart_rate', `restart refused: at most one per ${MIN_RESTART_INTERVAL_MS} ms`);
      return;
    }
    this.lastRestartAt = now;
    this.log.info('restart requested');
    this.deps.engine.restart(this.id);
    this.detok?.reset();
  }

  private onEngineFrame(f: EngineFrame): void {
    if (this.ended) return;
    try {
      const sent = this.sentAt.get(f.inputFrame);
      this.sentAt.delete(f.inputFrame);
      if (f.pcm) {
        for (const page of this.output.push(f.pcm)) this.outbox.send(audioMessage(page), true);
        this.deps.metrics.framesOut.inc();
        if (sent !== undefined) this.deps.metrics.replyLatency.observe((performance.now() - sent) / 1000);
      }
      if (f.tokens && this.detok) {
        const text = this.detok.push(f.tokens[0]!);
        if (text) {
          this.textStarted = true;
          this.outbox.send(textMessage(text), false);
        }
      }
    } catch (e) {
      // Runs inside the engine client's message handler: a throw here would take the whole server down.
      this.log.error({ err: (e as Error).stack }, 'session output failed');
      this.end(CloseCode.InternalError, 'internal error while producing the reply', 'internal_error');
      return;
    }
    // Counted here rather than from the engine's frame index, which a restart sets back to 0.
    if (++this.steps >= this.deps.limits.maxSessionSteps) {
      this.end(CloseCode.Normal, `session reached its limit of ${this.deps.limits.maxSessionSteps} steps`, 'max_steps');
    }
  }

  /**
   * Ends the session once: frees the engine slot and codec memory, closes the
   * socket with a reason. An opened session's end is counted in
   * sessions_ended (so opened − ended = live); one the server ends before it
   * opened is counted as a refusal.
   */
  end(code: number | null, reason: string, metricReason: string, resumable = false): void {
    if (this.ended) return;
    this.ended = true;
    if (this.idleTimer) clearInterval(this.idleTimer);
    // A resumable end keeps the session's state in the resume store for the grace period.
    if (this.open && resumable && this.resumeToken) this.keepForResume(this.resumeToken);
    else if (this.open) this.deps.engine.close(this.id);
    if (this.open) this.deps.metrics.sessionsEnded.inc({ reason: metricReason });
    else if (!CLIENT_ENDINGS.has(metricReason)) this.deps.metrics.refused.inc({ reason: metricReason });
    this.log.info({ reason }, 'session ended');
    if (code !== null && this.ws.readyState === this.ws.OPEN) {
      if (code !== CloseCode.Normal || reason) this.ws.send(errorMessage(reason));
      this.ws.close(code, reason.slice(0, 120));
    }
    this.outbox.dispose();
    this.input?.close();
    this.output.close();
  }
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data.byteLength;
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
