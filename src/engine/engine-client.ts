import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SamplingParams } from './sampling/sampling-params.js';
import type { TickStats } from './scheduler.js';
import type { EngineSnapshot } from './snapshot.js';
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
  /** A restart failed (message, ms until the next try). */
  restartFailed: [string, number];
  ready: [EngineInfo];
}

/** Waits between failed restarts: 0.5 s, doubling, at most 30 s; retried until one succeeds or stop(). */
const RESTART_BACKOFF_MS = { first: 500, max: 30_000 };

const WORKER_URL = new URL('./worker/engine-worker.js', import.meta.url);

/**
 * The main thread's handle on the inference worker. If the worker dies, the
 * sessions it held are told they are lost and a new worker is started; the
 * server stays up.
 */
export class EngineClient extends EventEmitter<EngineEvents> {
  private worker: Worker | null = null;
  private readonly sessionListeners = new Map<string, EngineListener>();
  private readonly pendingOpen = new Map<string, (r: { ok: boolean; error?: string }) => void>();
  private readonly pendingSnapshot = new Map<string, (s: EngineSnapshot | null) => void>();
  private readonly pendingCollect: ((heapUsedBytes: number | null) => void)[] = [];
  private stopping = false;
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | null = null;
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
    return this.options.maxSessions - this.sessionListeners.size - this.pendingOpen.size - this.pendingSnapshot.size;
  }

  get workerRestarts(): number {
    return this.restarts;
  }

  /** The worker's thread id (diagnostics; tests kill it with killWorker()). */
  get workerThreadId(): number | null {
    return this.worker?.threadId ?? null;
  }

  private spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const w = new Worker(fileURLToPath(WORKER_URL), { workerData: this.options });
      let started = false;
      w.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          if (this.stopping) {
            // stop() came while this worker was starting: nobody will use it.
            void w.terminate();
            reject(new Error('engine stopped'));
            return;
          }
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
    for (const [, resolve] of this.pendingOpen) resolve({ ok: false, error: reason });
    this.pendingOpen.clear();
    for (const [, resolve] of this.pendingSnapshot) resolve(null);
    this.pendingSnapshot.clear();
    for (const resolve of this.pendingCollect.splice(0)) resolve(null);
    for (const l of lost) l.onLost(reason);
    this.restarts++;
    this.respawn(0);
  }

  /** Starts a new worker, retrying with backoff: a server that stays up must get its engine back. */
  private respawn(attempt: number): void {
    this.restartTimer = null;
    this.spawn().catch((e: unknown) => {
      if (this.stopping) return;
      const delay = Math.min(RESTART_BACKOFF_MS.max, RESTART_BACKOFF_MS.first * 2 ** attempt);
      this.emit('restartFailed', (e as Error).message, delay);
      this.restartTimer = setTimeout(() => this.respawn(attempt + 1), delay);
    });
  }

  private dispatch(m: FromWorker): void {
    switch (m.type) {
      case 'opened': {
        const r = this.pendingOpen.get(m.id);
        this.pendingOpen.delete(m.id);
        r?.(m);
        break;
      }
      case 'snapshot': {
        const r = this.pendingSnapshot.get(m.id);
        this.pendingSnapshot.delete(m.id);
        r?.(m.snapshot);
        break;
      }
      case 'frame':
        this.sessionListeners.get(m.id)?.onFrame({ inputFrame: m.inputFrame, pcm: m.pcm, tokens: m.tokens });
        break;
      case 'tick':
        this.emit('tick', m.stats);
        break;
      case 'collected':
        this.pendingCollect.shift()?.(m.heapUsedBytes);
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
    return (await this.openWith(id, sampling, listener)).ok;
  }

  /** Opens a session rebuilt from a snapshot (a resume); `error` says why not when it fails. */
  async resume(id: string, snapshot: EngineSnapshot, listener: EngineListener): Promise<{ ok: boolean; error?: string }> {
    return this.openWith(id, snapshot.sampling, listener, snapshot);
  }

  private async openWith(id: string, sampling: SamplingParams, listener: EngineListener, resume?: EngineSnapshot): Promise<{ ok: boolean; error?: string }> {
    if (!this.ready || this.freeSlots <= 0) return { ok: false };
    const r = await new Promise<{ ok: boolean; error?: string }>((resolve) => {
      this.pendingOpen.set(id, resolve);
      this.send(resume ? { type: 'open', id, sampling, resume } : { type: 'open', id, sampling });
    });
    if (r.ok) this.sessionListeners.set(id, listener);
    return r;
  }

  /** Closes a session and returns its state as of its last step (null if it had none). */
  async closeWithSnapshot(id: string): Promise<EngineSnapshot | null> {
    if (!this.sessionListeners.delete(id)) return null;
    return new Promise((resolve) => {
      this.pendingSnapshot.set(id, resolve);
      this.send({ type: 'close', id, snapshot: true });
    });
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

  /**
   * Diagnostics for memory measurements: a full collection of the worker's
   * heap where node runs with --expose-gc (otherwise none), then the bytes its
   * heap holds; null when no worker is running.
   */
  async collectGarbage(): Promise<number | null> {
    if (!this.worker) return null;
    return new Promise((resolve) => {
      this.pendingCollect.push(resolve);
      this.send({ type: 'collect' });
    });
  }

  /**
   * Makes the worker die as a bug would: an uncaught error between model
   * steps (fault tests). Not worker.terminate(): terminating a thread inside
   * an onnxruntime run makes the native binding throw while its env is torn
   * down, which aborts the whole process. Resolves once the worker is gone.
   */
  async killWorker(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    await new Promise<void>((resolve) => {
      w.once('exit', () => resolve());
      w.postMessage({ type: 'crash' } satisfies ToWorker);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
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
    for (const resolve of this.pendingCollect.splice(0)) resolve(null);
  }
}
