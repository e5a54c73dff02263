import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineClient, type EngineFrame } from '../../src/engine/engine-client.js';
import { DEFAULT_SAMPLING_PARAMS } from '../../src/engine/sampling/sampling-params.js';
import { decodeSnapshot, encodeSnapshot } from '../../src/engine/snapshot.js';
import { fixtureModelDir } from '../helpers/server-harness.js';

const FRAMES = 30;
const DROP_AT = 17;
let a: EngineClient;
let b: EngineClient;

function frame(i: number): Float32Array {
  return Float32Array.from({ length: 1920 }, (_, j) => 0.3 * Math.sin((i * 1920 + j) * 0.031) * Math.sin((i * 1920 + j) * 0.0007));
}

async function start(): Promise<EngineClient> {
  return EngineClient.start({ modelDir: fixtureModelDir(), provider: 'cpu', threads: 1, maxSessions: 2, tickMs: 20, maxQueuedFrames: 100, maxSessionSteps: 200 });
}

before(async () => {
  a = await start();
  b = await start();
});
after(async () => {
  await a.stop();
  await b.stop();
});

/** Opens a session, feeds frames [from, to) and resolves with its output tokens by input frame. */
function collector() {
  const out = new Map<number, number[]>();
  let waiting: { n: number; resolve: () => void } | null = null;
  return {
    out,
    listener: {
      onFrame: (f: EngineFrame) => {
        if (f.tokens) out.set(f.inputFrame, [...f.tokens]);
        else out.set(f.inputFrame, []);
        if (waiting && out.size >= waiting.n) waiting.resolve();
      },
      onLost: () => {},
    },
    until: (n: number) => new Promise<void>((resolve) => {
      if (out.size >= n) resolve();
      else waiting = { n, resolve };
    }),
  };
}

const sampling = { ...DEFAULT_SAMPLING_PARAMS, textSeed: 42n, audioSeed: 4242n };

test('a session snapshotted mid-conversation and resumed on another engine continues exactly as one that never dropped', async () => {
  const ref = collector();
  assert.ok(await a.open('ref', sampling, ref.listener));
  for (let i = 0; i < FRAMES; i++) a.pushFrame('ref', frame(i));
  await ref.until(FRAMES);
  a.close('ref');

  const first = collector();
  assert.ok(await a.open('s1', sampling, first.listener));
  for (let i = 0; i < DROP_AT; i++) a.pushFrame('s1', frame(i));
  await first.until(DROP_AT);
  const snap = await a.closeWithSnapshot('s1');
  assert.ok(snap, 'a snapshot came back');
  assert.equal(snap.pipeline.steps, DROP_AT);
  // Through the binary form a store keeps, to the other engine.
  const restored = decodeSnapshot(encodeSnapshot(snap));
  const second = collector();
  const r = await b.resume('s2', restored, second.listener);
  assert.ok(r.ok, r.error);
  for (let i = DROP_AT; i < FRAMES; i++) b.pushFrame('s2', frame(i));
  await second.until(FRAMES - DROP_AT);
  b.close('s2');

  for (let i = 0; i < DROP_AT; i++) assert.deepEqual(first.out.get(i), ref.out.get(i), `frame ${i} before the drop`);
  for (let i = DROP_AT; i < FRAMES; i++) assert.deepEqual(second.out.get(i), ref.out.get(i), `frame ${i} after the resume`);
  assert.ok([...second.out.values()].some((t) => t.length > 0), 'the resumed session produced tokens');
});

test('a snapshot from another model is refused with a reason', async () => {
  const c = collector();
  assert.ok(await a.open('s3', sampling, c.listener));
  a.pushFrame('s3', frame(0));
  await c.until(1);
  const snap = await a.closeWithSnapshot('s3');
  assert.ok(snap);
  const r = await b.resume('s4', { ...snap, model: 'other-model@1970' }, c.listener);
  assert.equal(r.ok, false);
  assert.match(r.error ?? '', /another model/);
});

test('a corrupt snapshot is rejected when decoded', () => {
  assert.throws(() => decodeSnapshot(Buffer.from([1, 2, 3])), /truncated/);
  const bad = Buffer.concat([Buffer.from([2, 0, 0, 0]), Buffer.from('{}')]);
  assert.throws(() => decodeSnapshot(bad), /not a session snapshot/);
});
