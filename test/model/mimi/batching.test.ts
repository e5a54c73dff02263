import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MimiConfig } from '../../../src/model/mimi/config.js';
import type { MimiRunner } from '../../../src/model/mimi/mimi-runner.js';
import { readMimiReference } from '../../../src/model/mimi/parity.js';
import { buildModels, createRunner, FIXTURE_DIR, fixtureConfig, fixtureWeights } from './fixture.js';

// The fixture's weights with a 3-step attention context, so that the KV rings
// wrap within a few frames and rows at different positions disagree on it.
const base = fixtureConfig();
const cfg: MimiConfig = { ...base, transformer: { ...base.transformer, context: 3 } };
const built = buildModels(cfg, fixtureWeights());
const F = built.layout.frameSize;
const Q = built.layout.numCodebooks;
const FRAMES = 8;
const ref = readMimiReference(FIXTURE_DIR);

const pcm0 = Float32Array.from(ref.input_pcm.slice(0, FRAMES * F));
const audio = [pcm0, pcm0.slice().reverse(), pcm0.map((v) => 0.5 * v + 0.01)];
const codeStreams = [
  ref.codes.slice(0, FRAMES),
  ref.codes.slice(0, FRAMES).reverse(),
  ref.codes.slice(0, FRAMES).map((f) => f.map((c) => (c + 7) % built.layout.cardinality)),
].map((frames) => frames.map((f) => Int32Array.from(f)));
const frame = (a: Float32Array, t: number) => a.subarray(t * F, (t + 1) * F);
const noise = Float32Array.from({ length: F }, (_, i) => Math.sin(i * 12.9898) * 0.8);

interface Outputs {
  codes: Int32Array[];
  pcm: Float32Array[];
}

/** What each stream gives alone, from a fresh single-session runner. */
async function alone(): Promise<Outputs[]> {
  const r = await createRunner(built, 1);
  const outs: Outputs[] = [];
  try {
    for (let s = 0; s < 3; s++) {
      r.resetSlot(0);
      const o: Outputs = { codes: [], pcm: [] };
      for (let t = 0; t < FRAMES; t++) o.codes.push(await r.encode(1, frame(audio[s]!, t)));
      for (let t = 0; t < FRAMES; t++) o.pcm.push(await r.decode(1, codeStreams[s]![t]!));
      outs.push(o);
    }
  } finally {
    await r.release();
  }
  return outs;
}
const expected = await alone();

/** One batched call: row r codes frame frames[r] of stream streams[r] (-1: junk input). */
async function step(r: MimiRunner, streams: number[], frames: number[], exec?: Uint8Array): Promise<{ codes: Int32Array; pcm: Float32Array }> {
  const rows = streams.length;
  const pcm = new Float32Array(rows * F);
  const codes = new Int32Array(rows * Q);
  for (let i = 0; i < rows; i++) {
    const s = streams[i]!;
    const t = frames[i]!;
    pcm.set(t < 0 ? noise : frame(audio[s]!, t), i * F);
    codes.set(t < 0 ? new Int32Array(Q).fill(3) : codeStreams[s]![t]!, i * Q);
  }
  return { codes: await r.encode(rows, pcm, exec), pcm: await r.decode(rows, codes, exec) };
}

function checkRow(got: { codes: Int32Array; pcm: Float32Array }, row: number, stream: number, t: number, what: string): void {
  assert.deepEqual(got.codes.subarray(row * Q, (row + 1) * Q), expected[stream]!.codes[t], `${what}: codes of stream ${stream} frame ${t}`);
  assert.deepEqual(got.pcm.subarray(row * F, (row + 1) * F), expected[stream]!.pcm[t], `${what}: pcm of stream ${stream} frame ${t}`);
}

test('three sessions in one batch each get exactly what they get alone', async () => {
  // Different inputs must give different outputs, or this test proves nothing.
  assert.notDeepEqual(expected[0]!.codes, expected[1]!.codes);
  assert.notDeepEqual(expected[0]!.pcm[3], expected[2]!.pcm[3]);
  const r = await createRunner(built, 3);
  try {
    for (let t = 0; t < FRAMES; t++) {
      const got = await step(r, [0, 1, 2], [t, t, t]);
      for (let row = 0; row < 3; row++) checkRow(got, row, row, t, 'batched');
    }
  } finally {
    await r.release();
  }
});

test('a row with exec = 0 keeps its state, as if the skipped call never happened', async () => {
  const r = await createRunner(built, 3);
  try {
    let next = 0;
    for (let call = 0; call < FRAMES + 2; call++) {
      const skip = call === 2 || call === 5;
      const exec = Uint8Array.from([1, skip ? 0 : 1, 1]);
      const t0 = Math.min(call, FRAMES - 1);
      const got = await step(r, [0, 1, 2], [t0, skip ? -1 : next, t0], exec);
      if (call < FRAMES) {
        checkRow(got, 0, 0, call, 'exec row 0');
        checkRow(got, 2, 2, call, 'exec row 2');
      }
      if (!skip) checkRow(got, 1, 1, next++, 'late row 1');
    }
    assert.equal(next, FRAMES);
  } finally {
    await r.release();
  }
});

test('resetSlot makes a slot behave like a fresh codec without touching the others', async () => {
  const r = await createRunner(built, 3);
  try {
    for (let t = 0; t < 4; t++) await step(r, [0, 0, 2], [t, t, t]);
    r.resetSlot(1);
    for (let t = 4; t < FRAMES; t++) {
      const got = await step(r, [0, 1, 2], [t, t - 4, t]);
      checkRow(got, 0, 0, t, 'untouched row 0');
      checkRow(got, 1, 1, t - 4, 'reset row 1');
      checkRow(got, 2, 2, t, 'untouched row 2');
    }
  } finally {
    await r.release();
  }
});

test('moveSlot carries a session to another slot', async () => {
  const r = await createRunner(built, 3);
  try {
    for (let t = 0; t < 4; t++) await step(r, [0, 1, 2], [t, t, t]);
    // Session 0 ends; session 2 moves into slot 0 and a batch of 2 continues.
    r.moveSlot(2, 0);
    for (let t = 4; t < FRAMES; t++) {
      const got = await step(r, [2, 1], [t, t]);
      checkRow(got, 0, 2, t, 'moved session');
      checkRow(got, 1, 1, t, 'staying session');
    }
  } finally {
    await r.release();
  }
});

test('state bytes per slot count every conv history and both KV rings', async () => {
  const r = await createRunner(built, 2);
  try {
    let expectedBytes = 0;
    for (const g of [built.layout.encoder, built.layout.decoder]) {
      for (const s of g.states) expectedBytes += 4 * s.shape.reduce((a, b) => a * b, 1);
      const t = g.transformer!;
      expectedBytes += t.layers * 2 * t.heads * t.dimPerHead * t.context * 4;
    }
    assert.equal(r.bytesPerSlot, expectedBytes);
    assert.ok(built.layout.encoder.states.some((s) => s.init === 1), 'the replicate-padded downsampling has a first-frame flag');
  } finally {
    await r.release();
  }
});

test('bad call shapes and out-of-range codes are refused with a clear message', async () => {
  const r = await createRunner(built, 2);
  try {
    await assert.rejects(r.encode(3, new Float32Array(3 * F)), /rows must be in \[1, 2\]/);
    await assert.rejects(r.encode(1, new Float32Array(F - 1)), /expected 1 × 1920 samples/);
    await assert.rejects(r.decode(1, new Int32Array(Q).fill(64)), /code 64 .* outside \[0, 64\)/);
    assert.throws(() => r.resetSlot(2), /slot 2 is outside/);
  } finally {
    await r.release();
  }
});

test('a slot exported and imported elsewhere resumes exactly where it left off', async () => {
  const r = await createRunner(built, 3);
  try {
    for (let t = 0; t < 4; t++) await step(r, [0, 1, 2], [t, t, t]);
    const snap = r.exportSlot(1);
    // Slot 1 is then reused by another session; the snapshot goes to slot 0.
    r.resetSlot(1);
    await step(r, [0, 0], [0, 0]);
    r.importSlot(0, snap);
    for (let t = 4; t < FRAMES; t++) {
      const got = await step(r, [1], [t]);
      checkRow(got, 0, 1, t, 'imported session');
    }
  } finally {
    await r.release();
  }
});
