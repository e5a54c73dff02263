import { Worker, type Transferable } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { CodecThreadOptions, CodecThreadRequest, FromCodecThread, ToCodecThread } from './codec-messages.js';

const CODEC_WORKER_URL = new URL('./codec-worker.js', import.meta.url);

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export type CodecThreadOut = Float32Array | Int32Array | Float32Array[] | null;

/** One Mimi direction in its own thread; requests are answered in order. */
export class CodecThread {
  private readonly pending = new Map<number, { resolve: (out: CodecThreadOut) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  /** Set once the thread failed or a fire-and-forget request did: its state can no longer be trusted. */
  private broken: Error | null = null;

  private constructor(private readonly worker: Worker, readonly direction: string, readonly bytesPerSlot: number) {
    worker.on('message', (m: FromCodecThread) => this.onMessage(m));
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => this.fail(new Error(`Mimi ${direction} thread exited (code ${code})`)));
  }

  static start(opts: CodecThreadOptions): Promise<CodecThread> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(fileURLToPath(CODEC_WORKER_URL), { workerData: opts });
      const onMessage = (m: FromCodecThread): void => {
        if (m.type === 'ready') {
          worker.off('message', onMessage);
          worker.off('exit', onExit);
          resolve(new CodecThread(worker, opts.direction, m.bytesPerSlot));
        } else if (m.type === 'failed') {
          reject(new Error(`Mimi ${opts.direction} thread failed to start: ${m.message}`));
        }
      };
      const onExit = (code: number): void => reject(new Error(`Mimi ${opts.direction} thread exited at start (code ${code})`));
      worker.on('message', onMessage);
      worker.on('exit', onExit);
      worker.on('error', reject);
    });
  }

  /** Posts a request under a fresh id and resolves with its answer. */
  request(m: WithoutId<CodecThreadRequest>, transfer: ArrayBuffer[] = []): Promise<CodecThreadOut> {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...m, id }, transfer);
    });
  }

  send(m: ToCodecThread, transfer: Transferable[] = []): void {
    if (!this.broken) this.worker.postMessage(m, transfer);
  }

  private onMessage(m: FromCodecThread): void {
    if (m.type === 'done') {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      p?.resolve(m.out);
    } else if (m.type === 'error') {
      const e = new Error(`Mimi ${this.direction}: ${m.message}`);
      if (m.id === null) this.fail(e);
      else {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        p?.reject(e);
      }
    }
  }

  private fail(e: Error): void {
    this.broken ??= e;
    for (const p of this.pending.values()) p.reject(this.broken);
    this.pending.clear();
  }

  async stop(): Promise<void> {
    this.broken ??= new Error(`Mimi ${this.direction} thread stopped`);
    await this.worker.terminate();
  }
}
