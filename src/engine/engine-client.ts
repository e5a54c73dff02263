import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SamplingParams } from './sampling/sampling-params.js';
import type { TickStats } from './scheduler.js';
import type { EngineInfo, EngineOptions, FromWorker, ToWorker } from './worker/messages.js';

export interface EngineFrame {
  inputFrame: number;
  pcm: Float32Array | null;
  tokens: Int32Array | null;
}

export interface EngineListener {
  onFrame(frame: EngineFrame): void;
  /** The engine lost this session (worker crash): the session must end. */
  onLost(reason: string): void;
}

export interface EngineEvents {
  tick: [TickStats];
  dropped: [string, number];
  crashed: [string];
  ready: [EngineInfo];
}

const WORKER_URL = new URL('./worker/engine-worker.js', import.meta.url);

/**
 * The main thread's handle on the inference worker. If the worker dies, the
 * sessions it held are told they are lost and a new worker is started; the
 * server stays up.
 */
export class EngineClient extends EventEmitter<EngineEvents> {
  private worker: Worker | null = null;
  private readonly sessionListeners = new Map<string, EngineListener>();
  private readonly pendingOpen = new Map<string, (ok: boolean) => void>();
  private stopping = false;
  private restarts = 0;
  info: EngineInfo | null = null;

  private constructor(readonly options: EngineOptions) {
    super();
  }

  static async start(options: EngineOptions): Promise<EngineClient> {
    const c = new EngineClient(options);
    await c.spawn();
    return c;
  }

  get ready(): boolean {
    return this.worker !== null && this.info !== null;
  }

  get liveSessions(): number {
    return this.sessionListeners.size;
  }

  get freeSlots(): number {
    return this.options.maxSessions - this.sessionListeners.size - this.pendingOpen.size;
  }

  get workerRestarts(): number {
    return this.restarts;
  }

  /** The worker's thread id, so tests can kill it. */
  get workerThreadId(): number | null {
    return this.worker?.threadId ?? null;
  }

  private spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const w = new Worker(fileURLToPath(WORKER_URL), { workerData: this.options });
      let started = false;
      w.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          started = true;
          this.info = m.info;
          this.worker = w;
          this.emit('ready', m.info);
          resolve();
        } else if (m.type === 'failed' && !started) {
          reject(new Error(`inference worker failed to start: ${m.message}`));
        } else {
          this.dispatch(m);
        }
      });
      w.on('error', (e) => {
        if (!started) reject(e);
      });
      w.on('exit', (code) => {
        if (this.worker === w) this.worker = null;
        if (started && !this.stopping) this.onCrash(`inference worker exited (code ${code})`);
        else if (!started) reject(new Error(`inference worker exited during start (code ${code})`));
      });
    });
  }

  private onCrash(reason: string): void {
    this.info = null;
    this.emit('crashed', reason);
    const lost = [...this.sessionListeners.values()];
    this.sessionListeners.clear();
    for (const [, resolve] of this.pendingOpen) resolve(false);
    this.pendingOpen.clear();
    for (const l of lost) l.onLost(reason);
    this.restarts++;
    this.spawn().catch((e: unknown) => {
      this.emit('crashed', `restart failed: ${(e as Error).message}`);
    });
  }

  private dispatch(m: FromWorker): void {
    switch (m.type) {
      case 'opened': {
        const r = this.pendingOpen.get(m.id);
        this.pendingOpen.delete(m.id);
        r?.(m.ok);
        break;
      }
      case 'frame':
        this.sessionListeners.get(m.id)?.onFrame({ inputFrame: m.inputFrame, pcm: m.pcm, tokens: m.tokens });
        break;
      case 'tick':
        this.emit('tick', m.stats);
        break;
      case 'dropped':
        this.emit('dropped', m.id, m.frames);
        break;
      default:
        break;
    }
  }

  private send(m: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker?.postMessage(m, transfer);
  }

  /** Opens a session; false when the engine has no free slot or is restarting. */
  async open(id: string, sampling: SamplingParams, listener: EngineListener): Promise<boolean> {
    if (!this.ready || this.freeSlots <= 0) return false;
    const ok = await new Promise<boolean>((resolve) => {
      this.pendingOpen.set(id, resolve);
      this.send({ type: 'open', id, sampling });
    });
    if (ok) this.sessionListeners.set(id, listener);
    return ok;
  }

  pushFrame(id: string, pcm: Float32Array): void {
    if (!this.sessionListeners.has(id)) return;
    const copy = pcm.byteOffset === 0 && pcm.byteLength === pcm.buffer.byteLength ? pcm : pcm.slice();
    this.send({ type: 'frame', id, pcm: copy }, [copy.buffer as ArrayBuffer]);
  }

  restart(id: string): void {
    if (this.sessionListeners.has(id)) this.send({ type: 'restart', id });
  }

  close(id: string): void {
    if (this.sessionListeners.delete(id)) this.send({ type: 'close', id });
  }

  /** Kills the worker as a crash would (for fault tests and operators). */
  async killWorker(): Promise<void> {
    await this.worker?.terminate();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const w = this.worker;
    if (!w) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2000);
      w.on('message', (m: FromWorker) => {
        if (m.type === 'stopped') {
          clearTimeout(t);
          resolve();
        }
      });
      this.send({ type: 'stop' });
    });
    await w.terminate();
    this.worker = null;
  }
}
