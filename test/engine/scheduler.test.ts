import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelPipeline, RowInput, StepResult } from '../../src/engine/model-pipeline.js';
import { Scheduler, type FrameOutput } from '../../src/engine/scheduler.js';
import { emptyStageTimes } from '../../src/engine/stage-timer.js';

/** A pipeline stand-in that records which rows stepped and echoes their first sample. */
class RecordingPipeline {
  readonly steps: boolean[][] = [];
  readonly moves: [number, number][] = [];
  readonly resets: number[] = [];
  async step(inputs: RowInput[]): Promise<StepResult> {
    this.steps.push(inputs.map((r) => r.exec));
    await new Promise((r) => setTimeout(r, 1));
    return { rows: inputs.map((r) => ({ stepped: r.exec, pcm: r.pcm ? Float32Array.of(r.pcm[0]!) : null, tokens: null })), times: emptyStageTimes(), pcmLater: null };
  }
  hasPending(): boolean {
    return false;
  }
  async drain(): Promise<void> {}
  resetSlot(slot: number): void {
    this.resets.push(slot);
  }
  moveSlot(from: number, to: number): void {
    this.moves.push([from, to]);
  }
}

function handle(id: string, got: FrameOutput[]) {
  return { id, sampler: { sampleText: () => 0, audioDraw: () => ({ greedy: true, temperature: 0, topK: 1 }) }, onFrame: (f: FrameOutput) => got.push(f) };
}

test('a session without a whole frame is left out of the tick and keeps its place', async () => {
  const p = new RecordingPipeline();
  const s = new Scheduler(p as unknown as ModelPipeline, 3, { tickMs: 80, maxQueuedFrames: 10 });
  const a: FrameOutput[] = [];
  const b: FrameOutput[] = [];
  assert.ok(s.open(handle('a', a)));
  assert.ok(s.open(handle('b', b)));
  s.pushFrame('a', Float32Array.of(1));
  await s.tick();
  s.pushFrame('a', Float32Array.of(2));
  s.pushFrame('b', Float32Array.of(3));
  await s.tick();
  assert.deepEqual(p.steps, [[true, false], [true, true]]);
  assert.deepEqual(a.map((f) => [f.inputFrame, f.pcm![0]]), [[0, 1], [1, 2]]);
  assert.deepEqual(b.map((f) => [f.inputFrame, f.pcm![0]]), [[0, 3]]);
});

test('capacity is enforced and a closed session frees its slot by moving the last one in', async () => {
  const p = new RecordingPipeline();
  const s = new Scheduler(p as unknown as ModelPipeline, 2, { tickMs: 80, maxQueuedFrames: 10 });
  const out: FrameOutput[] = [];
  assert.ok(s.open(handle('a', out)));
  assert.ok(s.open(handle('b', out)));
  assert.equal(s.open(handle('c', out)), false);
  s.close('a');
  assert.deepEqual(p.moves, [[1, 0]]);
  assert.ok(s.open(handle('c', out)));
  assert.equal(s.freeSlots, 0);
});

test('a backlog drains: catch-up ticks run back to back instead of one frame per period', async () => {
  const p = new RecordingPipeline();
  const s = new Scheduler(p as unknown as ModelPipeline, 1, { tickMs: 80, maxQueuedFrames: 50 });
  const out: FrameOutput[] = [];
  s.open(handle('a', out));
  for (let i = 0; i < 10; i++) s.pushFrame('a', Float32Array.of(i));
  const t0 = performance.now();
  s.start();
  while (out.length < 10 && performance.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 5));
  await s.stop();
  assert.equal(out.length, 10);
  // Ten frames at one per 80 ms period would take 800 ms; catching up takes about one period.
  assert.ok(performance.now() - t0 < 500, `took ${performance.now() - t0} ms`);
});

test('frames beyond the queue bound are dropped oldest first and reported', async () => {
  const p = new RecordingPipeline();
  const s = new Scheduler(p as unknown as ModelPipeline, 1, { tickMs: 80, maxQueuedFrames: 3 });
  const out: FrameOutput[] = [];
  let dropped = 0;
  s.onDropped = (_id, n) => (dropped += n);
  s.open(handle('a', out));
  for (let i = 0; i < 5; i++) s.pushFrame('a', Float32Array.of(i));
  await s.tick();
  assert.equal(dropped, 2);
  assert.equal(out[0]!.pcm![0], 2);
});

test('a session closed during a tick frees its slot for one opened right after it', async () => {
  const p = new RecordingPipeline();
  const s = new Scheduler(p as unknown as ModelPipeline, 1, { tickMs: 80, maxQueuedFrames: 10 });
  const out: FrameOutput[] = [];
  s.open(handle('a', out));
  s.pushFrame('a', Float32Array.of(1));
  const ticking = s.tick();
  await new Promise((r) => setImmediate(r)); // the tick is now inside the pipeline step
  s.close('a');
  assert.equal(s.open(handle('b', out)), false, 'the slot is still in use by the tick');
  assert.equal(await s.openWhenFree(handle('b', out)), true);
  await ticking;
  assert.equal(await s.openWhenFree(handle('c', out)), false, 'a really full server still refuses');
});
