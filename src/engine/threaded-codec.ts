import { MessageChannel } from 'node:worker_threads';
import type { MimiLayout } from '../model/mimi/layout.js';
import type { SessionOptions } from '../model/onnx/session.js';
import type { Codec, CodecState } from './codec.js';
import { CodecThread } from './worker/codec-thread.js';

/**
 * One direction of Mimi over `threads.length` threads, each owning a
 * contiguous range of `per` slots: a batch of the first `rows` slots is cut
 * into those ranges and run in parallel. onnxruntime's intra-op threads stop
 * paying off at a few per run (Mimi's convolutions are small), so a second
 * thread with half the rows does more than twice the threads on one.
 */
class ShardedDirection {
  constructor(private readonly threads: CodecThread[], private readonly per: number) {}

  get bytesPerSlot(): number {
    return this.threads[0]!.bytesPerSlot;
  }

  private shard(slot: number): { thread: CodecThread; local: number } {
    return { thread: this.threads[Math.floor(slot / this.per)]!, local: slot % this.per };
  }

  /** data: [rows, inPerRow] -> [rows, outPerRow]; a range with no executing row is not run (its rows come back zero). */
  async run(rows: number, data: Float32Array | BigInt64Array, exec: Uint8Array | undefined, outPerRow: number): Promise<Float32Array | Int32Array> {
    const inPerRow = data.length / rows;
    const parts: Promise<{ lo: number; out: Float32Array | Int32Array }>[] = [];
    for (let k = 0, lo = 0; lo < rows; k++, lo += this.per) {
      const n = Math.min(this.per, rows - lo);
      const flags = exec ? exec.slice(lo, lo + n) : new Uint8Array(n).fill(1);
      if (!flags.some((f) => f)) continue;
      const part = data.slice(lo * inPerRow, (lo + n) * inPerRow);
      const t = this.threads[k]!;
      parts.push(t.request({ type: 'run', rows: n, data: part, exec: flags }, [part.buffer]).then((out) => ({ lo, out: out as Float32Array | Int32Array })));
    }
    const done = await Promise.all(parts);
    // Encode takes PCM and gives codes; decode the other way round.
    const out = data instanceof Float32Array ? new Int32Array(rows * outPerRow) : new Float32Array(rows * outPerRow);
    for (const p of done) out.set(p.out, p.lo * outPerRow);
    return out;
  }

  reset(slot: number): void {
    const s = this.shard(slot);
    s.thread.send({ type: 'reset', slot: s.local });
  }

  move(from: number, to: number): void {
    const a = this.shard(from);
    const b = this.shard(to);
    if (a.thread === b.thread) {
      a.thread.send({ type: 'move', from: a.local, to: b.local });
      return;
    }
    // Thread to thread: the receiver takes nothing else until the state has come.
    const { port1, port2 } = new MessageChannel();
    a.thread.send({ type: 'send', slot: a.local, port: port1 }, [port1]);
    b.thread.send({ type: 'receive', slot: b.local, port: port2 }, [port2]);
  }

  async export(slot: number): Promise<Float32Array[]> {
    const s = this.shard(slot);
    return (await s.thread.request({ type: 'export', slot: s.local })) as Float32Array[];
  }

  async import(slot: number, state: Float32Array[]): Promise<void> {
    const s = this.shard(slot);
    await s.thread.request({ type: 'import', slot: s.local, state });
  }

  async stop(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.stop()));
  }
}

/**
 * Mimi with its encoder and its decoder in threads of their own (`shards`
 * of each, splitting the slots between them). The calling thread is free
 * while they run, so a pipeline can step the LM (on a GPU) while the codec
 * works on the host's cores. Slot operations are posted in call order, so
 * they apply after every run requested before them.
 */
export class ThreadedCodec implements Codec {
  private constructor(readonly layout: MimiLayout, private readonly enc: ShardedDirection, private readonly dec: ShardedDirection) {}

  static async create(
    files: { encoder: string; decoder: string }, layout: MimiLayout, slots: number, session: SessionOptions, shards = 1,
  ): Promise<ThreadedCodec> {
    if (!Number.isInteger(shards) || shards < 1) throw new Error(`codec shards must be a positive integer, got ${shards}`);
    const per = Math.ceil(slots / shards);
    const count = Math.ceil(slots / per);
    const starts: Promise<CodecThread>[] = [];
    for (const direction of ['encoder', 'decoder'] as const) {
      for (let k = 0; k < count; k++) {
        starts.push(CodecThread.start({ direction, model: files[direction], layout, slots: Math.min(per, slots - k * per), session }));
      }
    }
    const started = await Promise.allSettled(starts);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    const threads = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    if (failed) {
      await Promise.all(threads.map((t) => t.stop()));
      throw failed.reason as Error;
    }
    return new ThreadedCodec(layout, new ShardedDirection(threads.slice(0, count), per), new ShardedDirection(threads.slice(count), per));
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
    return (await this.enc.run(rows, pcm, exec, this.numCodebooks)) as Int32Array;
  }

  async decode(rows: number, codes: BigInt64Array, exec?: Uint8Array): Promise<Float32Array> {
    return (await this.dec.run(rows, codes, exec, this.frameSize)) as Float32Array;
  }

  resetSlot(slot: number): void {
    this.enc.reset(slot);
    this.dec.reset(slot);
  }

  moveSlot(from: number, to: number): void {
    this.enc.move(from, to);
    this.dec.move(from, to);
  }

  async exportSlot(slot: number): Promise<CodecState> {
    const [encoder, decoder] = await Promise.all([this.enc.export(slot), this.dec.export(slot)]);
    return { encoder, decoder };
  }

  async importSlot(slot: number, state: CodecState): Promise<void> {
    await Promise.all([this.enc.import(slot, state.encoder), this.dec.import(slot, state.decoder)]);
  }

  async release(): Promise<void> {
    await Promise.all([this.enc.stop(), this.dec.stop()]);
  }
}
