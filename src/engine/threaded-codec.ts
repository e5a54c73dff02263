import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { MimiLayout } from '../model/mimi/layout.js';
import type { SessionOptions } from '../model/onnx/session.js';
import type { Codec, CodecState } from './codec.js';
import type { CodecThreadOptions, FromCodecThread, ToCodecThread } from './worker/codec-messages.js';

const CODEC_WORKER_URL = new URL('./worker/codec-worker.js', import.meta.url);

type Out = Float32Array | Int32Array | Float32Array[] | null;

/** One Mimi direction in its own thread; requests are answered in order. */
class CodecThread {
  private readonly pending = new Map<number, { resolve: (v: { out: Out; ms: number }) => void; reject: (e: Error) => void }>();
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

  request(m: ToCodecThread & { id: number }, transfer: ArrayBuffer[] = []): Promise<{ out: Out; ms: number }> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.pending.set(m.id, { resolve, reject });
      this.worker.postMessage(m, transfer);
    });
  }

  id(): number {
    return this.nextId++;
  }

  send(m: ToCodecThread): void {
    if (!this.broken) this.worker.postMessage(m);
  }

  private onMessage(m: FromCodecThread): void {
    if (m.type === 'done') {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      p?.resolve({ out: m.out, ms: m.ms });
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

/**
 * Mimi with its encoder and its decoder each in a thread of its own. The
 * calling thread is free while they run, so a pipeline can step the LM
 * (on a GPU) while the codec works on the host's cores. Slot operations are
 * posted in call order, so they apply after every run requested before them.
 */
export class ThreadedCodec implements Codec {
  /** Milliseconds the last encode and decode took inside their threads. */
  lastEncodeMs = 0;
  lastDecodeMs = 0;

  private constructor(readonly layout: MimiLayout, private readonly enc: CodecThread, private readonly dec: CodecThread) {}

  static async create(files: { encoder: string; decoder: string }, layout: MimiLayout, slots: number, session: SessionOptions): Promise<ThreadedCodec> {
    const [enc, dec] = await Promise.allSettled([
      CodecThread.start({ direction: 'encoder', model: files.encoder, layout, slots, session }),
      CodecThread.start({ direction: 'decoder', model: files.decoder, layout, slots, session }),
    ]);
    if (enc.status === 'rejected' || dec.status === 'rejected') {
      if (enc.status === 'fulfilled') await enc.value.stop();
      if (dec.status === 'fulfilled') await dec.value.stop();
      throw (enc.status === 'rejected' ? enc.reason : (dec as PromiseRejectedResult).reason) as Error;
    }
    return new ThreadedCodec(layout, enc.value, dec.value);
  }

  get frameSize(): number {
    return this.layout.frameSize;
  }

  get numCodebooks(): number {
    return this.layout.numCodebooks;
  }

  get bytesPerSlot(): number {
    return this.enc.bytesPerSlot + this.dec.bytesPerSlot;
  }

  async encode(rows: number, pcm: Float32Array, exec?: Uint8Array): Promise<Int32Array> {
    const data = pcm.slice();
    const flags = exec ? exec.slice(0, rows) : new Uint8Array(rows).fill(1);
    const r = await this.enc.request({ type: 'run', id: this.enc.id(), rows, data, exec: flags }, [data.buffer]);
    this.lastEncodeMs = r.ms;
    return r.out as Int32Array;
  }

  async decode(rows: number, codes: BigInt64Array, exec?: Uint8Array): Promise<Float32Array> {
    const data = codes.slice();
    const flags = exec ? exec.slice(0, rows) : new Uint8Array(rows).fill(1);
    const r = await this.dec.request({ type: 'run', id: this.dec.id(), rows, data, exec: flags }, [data.buffer]);
    this.lastDecodeMs = r.ms;
    return r.out as Float32Array;
  }

  resetSlot(slot: number): void {
    this.enc.send({ type: 'reset', slot });
    this.dec.send({ type: 'reset', slot });
  }

  moveSlot(from: number, to: number): void {
    this.enc.send({ type: 'move', from, to });
    this.dec.send({ type: 'move', from, to });
  }

  async exportSlot(slot: number): Promise<CodecState> {
    const [e, d] = await Promise.all([
      this.enc.request({ type: 'export', id: this.enc.id(), slot }),
      this.dec.request({ type: 'export', id: this.dec.id(), slot }),
    ]);
    return { encoder: e.out as Float32Array[], decoder: d.out as Float32Array[] };
  }

  async importSlot(slot: number, state: CodecState): Promise<void> {
    await Promise.all([
      this.enc.request({ type: 'import', id: this.enc.id(), slot, state: state.encoder }),
      this.dec.request({ type: 'import', id: this.dec.id(), slot, state: state.decoder }),
    ]);
  }

  async release(): Promise<void> {
    await Promise.all([this.enc.stop(), this.dec.stop()]);
  }
}
