import type { ModelPipeline, PipelineSnapshot, RowInput, RowSampler } from './model-pipeline.js';
import { SlotTable } from './slot-table.js';
import type { StageTimes } from './stage-timer.js';

export interface FrameOutput {
  /** Index of the input frame this step consumed (0-based, per session). */
  inputFrame: number;
  pcm: Float32Array | null;
  tokens: Int32Array | null;
  /** performance.now() when that input frame was queued. */
  queuedAt: number;
}

export interface SessionHandle {
  readonly id: string;
  sampler: RowSampler;
  onFrame(out: FrameOutput): void;
  /** Called when the session restarts, to restart what it owns (its generators). */
  onRestart?(): void;
}

export interface TickStats {
  /** Rows in the batch (live sessions). */
  batch: number;
  /** Sessions stepped (they had a whole frame). */
  executed: number;
  /** Live sessions without a frame this tick (their audio had not arrived). */
  idle: number;
  /** Frames stepped more than two tick periods after they arrived (they missed a tick). */
  late: number;
  /** Wall time of the tick's model work. */
  ms: number;
  /** How long after its due time the tick started. */
  startDelayMs: number;
  times: StageTimes;
}

export interface SchedulerOptions {
  tickMs: number;
  /** Frames a session may queue before its oldest are dropped. */
  maxQueuedFrames: number;
}

interface SessionState {
  handle: SessionHandle;
  queue: { pcm: Float32Array; at: number }[];
  framesIn: number;
  /** Frames the LM has stepped: the next output's input frame index. */
  stepped: number;
  /** When each frame taken for encoding but not yet stepped by the LM was queued (overlapped: at most one). */
  inFlight: number[];
  /** Bumped by a restart, so that outputs of frames stepped before it are not delivered after it. */
  generation: number;
  closed: boolean;
  restart: boolean;
  /** Being rebuilt from a snapshot: not stepped yet. */
  restoring: boolean;
  dropped: number;
}

/**
 * Batches every live session's work into one pipeline step per tick. A
 * session without a whole frame is left out of that tick (its state is kept).
 * Opening, closing and restarting take effect between ticks, so a tick in
 * flight never sees its rows move.
 */
export class Scheduler {
  private readonly table: SlotTable<SessionState>;
  private readonly byId = new Map<string, SessionState>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  /** Ticks and whole-slot operations (restore, snapshot) run one at a time, in order. */
  private chain: Promise<unknown> = Promise.resolve();
  private busy = false;
  /** Overlapped: frames waiting for their decode, delivered in tick order. */
  private deliveries: Promise<void> = Promise.resolve();
  private deliveriesWaiting = 0;
  private nextTickAt = 0;
  onTick: ((s: TickStats) => void) | null = null;
  onDropped: ((id: string, n: number) => void) | null = null;

  constructor(readonly pipeline: ModelPipeline, readonly maxSessions: number, readonly opts: SchedulerOptions) {
    this.table = new SlotTable(maxSessions);
  }

  get liveSessions(): number {
    return this.byId.size;
  }

  get freeSlots(): number {
    return this.maxSessions - this.byId.size;
  }

  /** Returns false when every slot is taken. */
  open(handle: SessionHandle): boolean {
    if (this.byId.has(handle.id)) throw new Error(`session ${handle.id} already open`);
    const state: SessionState = { handle, queue: [], framesIn: 0, stepped: 0, inFlight: [], generation: 0, closed: false, restart: false, restoring: false, dropped: 0 };
    const slot = this.table.add(state);
    if (slot === null) return false;
    this.pipeline.resetSlot(slot);
    this.byId.set(handle.id, state);
    return true;
  }

  /**
   * Opens a session, waiting for the tick in flight when a closed session's
   * slot is only freed at its end (a client that leaves and one that arrives
   * in the same 80 ms). False when every slot is really taken.
   */
  async openWhenFree(handle: SessionHandle): Promise<boolean> {
    if (this.open(handle)) return true;
    if (!this.table.items().some((s) => s.closed)) return false;
    await this.exclusive(async () => undefined);
    return this.open(handle);
  }

  /**
   * Opens a session rebuilt from a snapshot (a resume). Frames pushed while
   * it is being rebuilt wait in its queue; no tick runs meanwhile.
   */
  async openRestored(handle: SessionHandle, snap: PipelineSnapshot): Promise<boolean> {
    if (!(await this.openWhenFree(handle))) return false;
    const state = this.byId.get(handle.id)!;
    state.restoring = true;
    try {
      await this.exclusive(async () => {
        const slot = this.table.slot(state);
        if (slot !== undefined) await this.pipeline.restore(slot, snap);
      });
    } catch (e) {
      this.close(handle.id);
      throw e;
    }
    if (this.byId.get(handle.id) !== state) return false;
    state.restoring = false;
    state.stepped = snap.steps;
    return true;
  }

  /** Closes a session and returns its state as of its last step, to resume it later. */
  async snapshotAndClose(id: string): Promise<PipelineSnapshot | null> {
    const s = this.byId.get(id);
    if (!s) return null;
    s.queue.length = 0;
    const snap = await this.exclusive(async () => {
      const slot = this.table.slot(s);
      if (slot === undefined || s.restart) return null;
      // Overlapped, a frame already encoded is stepped now, so that the snapshot's codec and LM states agree.
      if (this.pipeline.hasPending(slot)) await this.runTick(undefined, slot);
      return this.pipeline.snapshot(slot);
    });
    this.close(id);
    return snap;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(async () => {
      this.busy = true;
      try {
        return await fn();
      } finally {
        this.busy = false;
        this.applyPending();
      }
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  pushFrame(id: string, pcm: Float32Array): void {
    const s = this.byId.get(id);
    if (!s || s.closed) return;
    s.queue.push({ pcm, at: performance.now() });
    s.framesIn++;
    if (s.queue.length > this.opts.maxQueuedFrames) {
      const n = s.queue.length - this.opts.maxQueuedFrames;
      s.queue.splice(0, n);
      s.dropped += n;
      this.onDropped?.(id, n);
    }
  }

  restart(id: string): void {
    const s = this.byId.get(id);
    if (s) s.restart = true;
    if (!this.busy) this.applyPending();
  }

  close(id: string): void {
    const s = this.byId.get(id);
    if (!s) return;
    s.closed = true;
    this.byId.delete(id);
    if (!this.busy) this.applyPending();
  }

  private applyPending(): void {
    for (const s of [...this.table.items()]) {
      if (s.closed) {
        this.table.remove(s, (from, to) => this.pipeline.moveSlot(from, to));
      } else if (s.restart) {
        s.restart = false;
        s.queue.length = 0;
        s.stepped = 0;
        s.inFlight.length = 0;
        s.generation++;
        this.pipeline.resetSlot(this.table.slot(s)!);
        s.handle.onRestart?.();
      }
    }
  }

  /** Runs one batched step now (also used directly by the benchmark and tests). */
  async tick(dueAt?: number): Promise<TickStats | null> {
    return this.exclusive(() => this.runTick(dueAt));
  }

  /** `flushSlot`: take no new frames and step only that slot's encoded frame (overlapped, before a snapshot). */
  private async runTick(dueAt = performance.now(), flushSlot?: number): Promise<TickStats | null> {
    const sessions = this.table.items().slice();
    if (sessions.length === 0) return null;
    const t0 = performance.now();
    const taken: ({ pcm: Float32Array; at: number } | null)[] = [];
    const inputs: RowInput[] = sessions.map((s) => {
      const frame = flushSlot === undefined && !s.closed && !s.restart && !s.restoring ? s.queue.shift() ?? null : null;
      taken.push(frame);
      const first = frame !== null && s.stepped === 0 && s.inFlight.length === 0;
      if (frame) s.inFlight.push(frame.at);
      return { exec: frame !== null, first, pcm: frame?.pcm ?? null, sampler: s.handle.sampler };
    });
    const executed = taken.filter((f) => f).length;
    if (executed === 0 && !sessions.some((s) => s.inFlight.length > 0)) return null;
    // A frame arriving just after a tick starts waits one period by design; one that waited two missed a tick.
    const late = taken.filter((f) => f && t0 - f.at > 2 * this.opts.tickMs).length;
    const result = await this.pipeline.step(inputs, flushSlot);
    const outputs: { s: SessionState; generation: number; r: number; frame: FrameOutput }[] = [];
    sessions.forEach((s, r) => {
      const out = result.rows[r]!;
      if (!out.stepped) return;
      const queuedAt = s.inFlight.shift() ?? t0;
      outputs.push({ s, generation: s.generation, r, frame: { inputFrame: s.stepped++, pcm: out.pcm, tokens: out.tokens, queuedAt } });
    });
    const deliver = (pcm: (Float32Array | null)[] | null): void => {
      for (const o of outputs) {
        if (o.s.closed || o.s.generation !== o.generation) continue;
        o.s.handle.onFrame(pcm ? { ...o.frame, pcm: pcm[o.r] ?? null } : o.frame);
      }
    };
    // Outputs go out in tick order, also while an earlier tick's decode is still running.
    if (result.pcmLater || this.deliveriesWaiting > 0) {
      const pcmLater = result.pcmLater;
      this.deliveriesWaiting++;
      // A failed decode is kept by the pipeline and thrown by its next step; its frames are not delivered.
      this.deliveries = this.deliveries
        .then(() => pcmLater)
        .then(deliver, () => undefined)
        .finally(() => this.deliveriesWaiting--);
    } else {
      deliver(null);
    }
    const stats: TickStats = {
      batch: sessions.length,
      executed,
      idle: sessions.length - executed,
      late,
      ms: performance.now() - t0,
      startDelayMs: Math.max(0, t0 - dueAt),
      times: result.times,
    };
    this.onTick?.(stats);
    return stats;
  }

  /** True when some session has more than one frame waiting: it fell behind. */
  private get backlogged(): boolean {
    return this.table.items().some((s) => s.queue.length > 1);
  }

  /**
   * Ticks every `tickMs`. When a tick overruns or a session has a backlog
   * (frames that arrived in a burst, or a slow tick), the next tick runs at
   * once, so that queues drain instead of keeping every later frame late.
   */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.nextTickAt = performance.now() + this.opts.tickMs;
    const loop = async (): Promise<void> => {
      if (!this.running) return;
      const catchUp = this.backlogged;
      try {
        await this.tick(catchUp ? performance.now() : this.nextTickAt);
      } finally {
        if (this.running) {
          const now = performance.now();
          if (!catchUp) this.nextTickAt += this.opts.tickMs;
          if (this.nextTickAt < now - this.opts.tickMs) this.nextTickAt = now;
          const wait = this.backlogged ? 0 : Math.max(0, this.nextTickAt - now);
          this.timer = setTimeout(() => void loop(), wait);
        }
      }
    };
    this.timer = setTimeout(() => void loop(), this.opts.tickMs);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.chain;
    await this.pipeline.drain().catch(() => undefined);
    await this.deliveries;
  }
}
