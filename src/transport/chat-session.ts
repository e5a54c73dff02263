import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { WebSocket, RawData } from 'ws';
import { OggOpusInput } from '../audio/input-stream.js';
import { OggOpusOutput } from '../audio/output-stream.js';
import type { EngineClient, EngineFrame } from '../engine/engine-client.js';
import type { SamplingParams } from '../engine/sampling/sampling-params.js';
import { IncrementalDetokenizer, type SentencePieceTokenizer } from '../model/tokenizer/index.js';
import type { ServerConfig } from '../config/schema.js';
import type { Metrics } from './metrics.js';
import { Outbox } from './outbox.js';
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
}

/** Client errors we report back at most this often per session (the rest are counted and logged). */
const MAX_ERROR_REPLIES = 5;

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
  private readonly sentAt: number[] = [];
  private open = false;
  private ended = false;
  private errorReplies = 0;
  private framesIn = 0;
  private lastAudioAt = Date.now();
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(private readonly ws: WebSocket, private readonly sampling: SamplingParams, private readonly deps: ChatDeps) {
    this.log = deps.log.child({ session: this.id });
    this.detok = deps.tokenizer ? new IncrementalDetokenizer(deps.tokenizer) : null;
    this.outbox = new Outbox(ws, deps.limits,
      (bytes) => deps.metrics.droppedAudioBytes.inc(bytes),
      () => this.end(CloseCode.PolicyViolation, 'client is not reading: too much audio dropped', 'stalled_reader'));
    // Attached before any await, so that no early message is lost.
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('close', () => this.end(null, 'client closed', 'client_closed'));
    ws.on('error', (e) => {
      this.log.warn({ err: e.message }, 'socket error');
      this.end(null, 'socket error', 'socket_error');
    });
  }

  async start(): Promise<void> {
    const input = await OggOpusInput.create();
    if (this.ended) {
      input.close();
      return;
    }
    this.input = input;
    const ok = await this.deps.engine.open(this.id, this.sampling, {
      onFrame: (f) => this.onEngineFrame(f),
      onLost: (reason) => this.end(CloseCode.InternalError, `inference engine failed (${reason}); please reconnect`, 'engine_lost'),
    });
    if (this.ended) {
      if (ok) this.deps.engine.close(this.id);
      return;
    }
    if (!ok) {
      this.deps.metrics.refused.inc({ reason: 'busy' });
      this.end(CloseCode.TryAgainLater, 'server busy', 'busy', false);
      return;
    }
    this.open = true;
    this.deps.metrics.sessionsTotal.inc();
    this.log.info({ sampling: this.sampling }, 'session started');
    this.ws.send(handshake());
    this.ws.send(metadataMessage({
      session_id: this.id,
      model: this.deps.modelName,
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
      // Buffered until the session's state is ready; bounded by the queue limit.
      if (this.pending.length < this.deps.limits.maxQueuedFrames * 8) this.pending.push(data);
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
    const { frames, errors } = this.input!.push(payload);
    for (const e of errors) this.clientError('bad_audio', `audio: ${e.message}`);
    for (const f of frames) {
      this.deps.metrics.framesIn.inc();
      this.sentAt[this.framesIn++] = performance.now();
      this.deps.engine.pushFrame(this.id, f);
    }
  }

  private restart(): void {
    this.log.info('restart requested');
    this.deps.engine.restart(this.id);
    this.detok?.reset();
  }

  private onEngineFrame(f: EngineFrame): void {
    if (this.ended) return;
    const sent = this.sentAt[f.inputFrame];
    delete this.sentAt[f.inputFrame];
    if (f.pcm) {
      for (const page of this.output.push(f.pcm)) this.outbox.send(audioMessage(page), true);
      this.deps.metrics.framesOut.inc();
      if (sent !== undefined) this.deps.metrics.replyLatency.observe((performance.now() - sent) / 1000);
    }
    if (f.tokens && this.detok) {
      const text = this.detok.push(f.tokens[0]!);
      if (text) this.outbox.send(textMessage(text), false);
    }
    if (f.inputFrame + 1 >= this.deps.limits.maxSessionSteps) {
      this.end(CloseCode.Normal, `session reached its limit of ${this.deps.limits.maxSessionSteps} steps`, 'max_steps');
    }
  }

  /** Ends the session once: frees the engine slot and codec memory, closes the socket with a reason. */
  end(code: number | null, reason: string, metricReason: string, counted = true): void {
    if (this.ended) return;
    this.ended = true;
    if (this.idleTimer) clearInterval(this.idleTimer);
    if (this.open) this.deps.engine.close(this.id);
    if (counted) this.deps.metrics.sessionsEnded.inc({ reason: metricReason });
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

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
