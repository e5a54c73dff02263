import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveCodecOverlap, type CodecOverlap } from '../../src/engine/codec.js';
import { EngineClient, type EngineFrame } from '../../src/engine/engine-client.js';
import { DEFAULT_SAMPLING_PARAMS } from '../../src/engine/sampling/sampling-params.js';
import { ModelPipeline } from '../../src/engine/model-pipeline.js';
import { Scheduler, type FrameOutput } from '../../src/engine/scheduler.js';
import { SessionSampler } from '../../src/engine/session-sampler.js';
import { ThreadedCodec } from '../../src/engine/threaded-codec.js';
import { createLmStepper } from '../../src/model/lm/lm-stepper.js';
import { MimiRunner } from '../../src/model/mimi/mimi-runner.js';
import type { EngineOptions } from '../../src/engine/worker/messages.js';
import { loadModelDir } from '../../src/model/manifest.js';
import { fixtureModelDir } from '../helpers/server-harness.js';

const FRAMES = 24;
const frame = (seed: number, i: number) =>
  Float32Array.from({ length: 1920 }, (_, j) => 0.25 * Math.sin((i * 1920 + j) * (0.013 + 0.004 * seed)) + 0.04 * Math.sin(j * (0.5 + 0.1 * seed)));
const sampling = (seed: number) => ({ ...DEFAULT_SAMPLING_PARAMS, textSeed: BigInt(100 + seed), audioSeed: BigInt(200 + seed) });

const options = (codecOverlap: CodecOverlap, codecShards = 1): EngineOptions => ({
  modelDir: fixtureModelDir(), provider: 'cpu', threads: 1, maxSessions: 3, tickMs: 20, maxQueuedFrames: 100, maxSessionSteps: 200, codecOverlap, codecShards,
});

interface Served {
  tokens: Map<number, number[]>;
  pcm: Map<number, Float32Array | null>;
}

/** Opens a session, feeds frames [from, to) and waits for their outputs. */
async function serve(engine: EngineClient, id: string, seed: number, from: number, to: number, served: Served = { tokens: new Map(), pcm: new Map() }): Promise<Served> {
  await new Promise<void>((resolve, reject) => {
    const onFrame = (f: EngineFrame) => {
      served.tokens.set(f.inputFrame, f.tokens ? [...f.tokens] : []);
      served.pcm.set(f.inputFrame, f.pcm ? Float32Array.from(f.pcm) : null);
      if (served.tokens.size === to) resolve();
    };
    engine.open(id, sampling(seed), { onFrame, onLost: () => reject(new Error('lost')) }).then((ok) => {
      assert.ok(ok);
      for (let i = from; i < to; i++) engine.pushFrame(id, frame(seed, i));
    }, reject);
  });
  return served;
}

function assertSame(a: Served, b: Served, what: string): void {
  assert.equal(a.tokens.size, b.tokens.size, `${what}: frame count`);
  let audio = 0;
  for (const [i, t] of b.tokens) {
    assert.deepEqual(a.tokens.get(i), t, `${what}: tokens of frame ${i}`);
    const x = a.pcm.get(i);
    const y = b.pcm.get(i);
    assert.equal(x === null, y === null, `${what}: audio present at frame ${i}`);
    if (x && y) {
      audio++;
      assert.deepEqual(x, y, `${what}: audio of frame ${i}`);
    }
  }
  assert.ok(audio > 0, `${what}: some frames carried audio`);
}

test('with the codec overlapped in its own threads (decode, full, full over two threads per direction), concurrent sessions get exactly the tokens and audio of the serial engine', async () => {
  const results: Served[][] = [];
  const modes = [['off', 1], ['decode', 1], ['full', 1], ['full', 2]] as const;
  for (const [mode, shards] of modes) {
    const engine = await EngineClient.start(options(mode, shards));
    assert.equal(engine.info?.codecOverlap, mode);
    // Two sessions at once, then a third joining while they run.
    const a = serve(engine, 'a', 1, 0, FRAMES);
    const b = serve(engine, 'b', 2, 0, FRAMES);
    await new Promise((r) => setTimeout(r, 150));
    const c = serve(engine, 'c', 3, 0, 10);
    results.push(await Promise.all([a, b, c]));
    await engine.stop();
  }
  for (let m = 1; m < modes.length; m++) {
    for (let s = 0; s < 3; s++) assertSame(results[m]![s]!, results[0]![s]!, `${modes[m]!.join(' × ')}: session ${'abc'[s]}`);
  }
});

/** A scheduler over the fixture, ticked by hand: serial (Mimi in this thread) or overlapped (Mimi in its threads). */
async function handScheduler(overlap: CodecOverlap) {
  const model = loadModelDir(fixtureModelDir());
  const opts = { provider: 'cpu' as const, intraOpThreads: 1 };
  const { stepper: lm } = await createLmStepper(model, 2, opts, 'host');
  const files = { encoder: model.path(model.manifest.files.mimiEncoder), decoder: model.path(model.manifest.files.mimiDecoder) };
  const codec = overlap !== 'off' ? await ThreadedCodec.create(files, model.mimi, 2, opts) : await MimiRunner.create(files, model.mimi, 2, opts);
  const pipeline = new ModelPipeline(lm, codec, 2, 4500, overlap);
  const scheduler = new Scheduler(pipeline, 2, { tickMs: 80, maxQueuedFrames: 100 });
  const served: Served = { tokens: new Map(), pcm: new Map() };
  const handle = (id: string, sampler = new SessionSampler(sampling(4), lm.dims, model.lm)) => ({
    id,
    sampler,
    onRestart: () => sampler.reset(),
    onFrame: (f: FrameOutput) => {
      served.tokens.set(f.inputFrame, f.tokens ? [...f.tokens] : []);
      served.pcm.set(f.inputFrame, f.pcm ? Float32Array.from(f.pcm) : null);
    },
  });
  const settle = async () => {
    await pipeline.drain();
    await new Promise((r) => setImmediate(r));
  };
  /** Pushes frames [from, to), one per tick, and waits for the decodes in flight. */
  const feed = async (id: string, from: number, to: number) => {
    for (let i = from; i < to; i++) {
      scheduler.pushFrame(id, frame(4, i));
      await scheduler.tick();
    }
    await settle();
  };
  const close = async () => {
    await scheduler.stop();
    await lm.release();
    await codec.release();
  };
  return { scheduler, pipeline, served, handle, feed, settle, close };
}

test('a session snapshotted from an overlapped pipeline with a frame encoded but not yet stepped resumes on a serial one as if it never dropped', async () => {
  const ref = await handScheduler('off');
  assert.ok(ref.scheduler.open(ref.handle('ref')));
  await ref.feed('ref', 0, FRAMES);
  await ref.close();
  assert.equal(ref.served.tokens.size, FRAMES);

  const DROP_AT = 13;
  const over = await handScheduler('full');
  const s1 = over.handle('s1');
  assert.ok(over.scheduler.open(s1));
  await over.feed('s1', 0, DROP_AT + 1);
  // The last tick encoded frame DROP_AT while the LM stepped frame DROP_AT - 1.
  assert.equal(over.served.tokens.size, DROP_AT);
  assert.ok(over.pipeline.hasPending(0));
  let snap;
  try {
    snap = await over.scheduler.snapshotAndClose('s1');
    await over.settle();
  } finally {
    await over.close();
  }
  assert.ok(snap);
  assert.equal(snap.steps, DROP_AT + 1, 'the frame already encoded was stepped before the snapshot');
  assert.equal(over.served.tokens.size, DROP_AT + 1, 'and its output was delivered');

  // The same sampler object carries its generators over, as the engine's snapshot does.
  const resumed = await handScheduler('off');
  assert.ok(await resumed.scheduler.openRestored(resumed.handle('s2', s1.sampler), snap));
  await resumed.feed('s2', DROP_AT + 1, FRAMES);
  await resumed.close();
  for (let i = 0; i <= DROP_AT; i++) {
    assert.deepEqual(over.served.tokens.get(i), ref.served.tokens.get(i), `tokens of frame ${i} before the snapshot`);
    assert.deepEqual(over.served.pcm.get(i), ref.served.pcm.get(i), `audio of frame ${i} before the snapshot`);
  }
  for (let i = DROP_AT + 1; i < FRAMES; i++) {
    assert.deepEqual(resumed.served.tokens.get(i), ref.served.tokens.get(i), `tokens of frame ${i} after the resume`);
    assert.deepEqual(resumed.served.pcm.get(i), ref.served.pcm.get(i), `audio of frame ${i} after the resume`);
  }
  assert.ok([...resumed.served.pcm.values()].some((p) => p), 'the resumed session produced audio');
});

test('a restart while a frame waits encoded and the last output is still decoding delivers nothing of the old conversation after it', async () => {
  const over = await handScheduler('full');
  const ref = await handScheduler('off');
  assert.ok(over.scheduler.open(over.handle('s')));
  assert.ok(ref.scheduler.open(ref.handle('s')));
  await over.feed('s', 0, 15);
  over.scheduler.pushFrame('s', frame(4, 15));
  await over.scheduler.tick();
  // Frame 14's output may still be decoding and frame 15 waits encoded: restart now.
  over.scheduler.restart('s');
  over.served.tokens.clear();
  over.served.pcm.clear();
  await over.settle();
  assert.equal(over.served.tokens.size, 0, 'no output of the old conversation came after the restart');
  assert.equal(over.pipeline.hasPending(0), false);
  // The restarted session starts from scratch: it gives what a fresh serial one gives.
  await over.feed('s', 0, 10);
  // Overlapped, the last frame is stepped one tick after it was encoded.
  await over.scheduler.tick();
  await over.settle();
  await ref.feed('s', 0, 10);
  await over.close();
  await ref.close();
  for (let i = 0; i < 10; i++) {
    assert.deepEqual(over.served.tokens.get(i), ref.served.tokens.get(i), `tokens of frame ${i} after the restart`);
    assert.deepEqual(over.served.pcm.get(i), ref.served.pcm.get(i), `audio of frame ${i} after the restart`);
  }
});

test('overlap is on by default only where the LM is on a GPU and Mimi on the host cores', () => {
  assert.equal(resolveCodecOverlap('auto', 'webgpu', 'cpu'), 'full');
  assert.equal(resolveCodecOverlap('auto', 'cuda', 'cpu'), 'full');
  assert.equal(resolveCodecOverlap('auto', 'webgpu', 'webgpu'), 'off');
  assert.equal(resolveCodecOverlap('auto', 'cpu', 'cpu'), 'off');
  assert.equal(resolveCodecOverlap('decode', 'cpu', 'cpu'), 'decode');
  assert.equal(resolveCodecOverlap('off', 'webgpu', 'cpu'), 'off');
});

test('a codec thread that cannot load its model fails the start, naming the direction', async () => {
  const model = loadModelDir(fixtureModelDir());
  await assert.rejects(
    ThreadedCodec.create({ encoder: model.path(model.manifest.files.mimiEncoder), decoder: '/nonexistent/mimi-decoder.onnx' }, model.mimi, 1, { provider: 'cpu', intraOpThreads: 1 }),
    /Mimi decoder thread failed to start/,
  );
});

test('a threaded codec turns a bad request into an error for that call and keeps serving', async () => {
  const model = loadModelDir(fixtureModelDir());
  const codec = await ThreadedCodec.create({ encoder: model.path(model.manifest.files.mimiEncoder), decoder: model.path(model.manifest.files.mimiDecoder) }, model.mimi, 2, { provider: 'cpu', intraOpThreads: 1 });
  try {
    await assert.rejects(codec.decode(1, BigInt64Array.from({ length: codec.numCodebooks }, () => -5n)), /Mimi decoder: .*outside/);
    const pcm = await codec.decode(2, new BigInt64Array(2 * codec.numCodebooks));
    assert.equal(pcm.length, 2 * codec.frameSize);
    const codes = await codec.encode(1, new Float32Array(codec.frameSize));
    assert.equal(codes.length, codec.numCodebooks);
  } finally {
    await codec.release();
  }
});
