import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ClipCursor, prepareClip } from '../../load/core/input-clip.js';
import { restampPage, splitPages, OggPageSplitter } from '../../load/core/ogg.js';
import { decodeUtf8, FRAME_SAMPLES } from '../../load/core/protocol.js';
import { chatUrl, k6Options, overrunS } from '../../load/core/scenario.js';
import { buildScenario, scenarioNames } from '../../load/scenarios/index.js';
import { ensureSpeechClip } from '../../load/node/speech-clip.js';
import { OggOpusInput } from '../../src/audio/input-stream.js';

const clipBytes = new Uint8Array(readFileSync(ensureSpeechClip()));

test('restamping a page with its own sequence and granule reproduces opusenc\'s bytes, CRC included', () => {
  const pages = splitPages(clipBytes);
  assert.ok(pages.length > 100);
  for (const p of pages.slice(0, -1)) assert.deepEqual(restampPage(p, p.sequence, p.granule), p.bytes);
});

test('pages cut anywhere across messages are reassembled whole', () => {
  const whole = splitPages(clipBytes).map((p) => p.bytes);
  const splitter = new OggPageSplitter();
  const got: Uint8Array[] = [];
  for (let off = 0, step = 1; off < clipBytes.length; off += step, step = (step * 7) % 997 + 1) {
    got.push(...splitter.push(clipBytes.subarray(off, off + step)).map((p) => p.bytes));
  }
  assert.deepEqual(got, whole);
});

test('a clip looped 2.5 times is one continuous Ogg Opus stream that Parley\'s input decodes without errors, frame for frame', async () => {
  const clip = prepareClip(clipBytes);
  const cursor = new ClipCursor(clip);
  const input = await OggOpusInput.create();
  let frames = 0;
  let last = { samples: 0, dueMs: 0 };
  const total = clip.headers.length + Math.floor(2.5 * clip.audio.length);
  try {
    for (let i = 0; i < total; i++) {
      const page = cursor.next();
      assert.ok(page.samples >= last.samples && page.dueMs >= last.dueMs, 'time only moves forward');
      last = page;
      const out = input.push(page.bytes);
      assert.deepEqual(out.errors, [], `page ${i}`);
      frames += out.frames.length;
    }
  } finally {
    input.close();
  }
  assert.equal(frames, Math.floor(last.samples / FRAME_SAMPLES));
  assert.ok(last.dueMs > 2.4 * (clip.cycleGranule / 48), 'covers 2.5 passes');
});

test('decodeUtf8 agrees with TextDecoder on valid UTF-8 and never throws on junk', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
    assert.equal(decodeUtf8(new TextEncoder().encode(s)), s);
  }));
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
    assert.equal(typeof decodeUtf8(b), 'string');
  }));
  assert.equal(decodeUtf8(Uint8Array.from([0x61, 0xff, 0x62])), 'a\ufffdb');
});

test('chatUrl appends the scenario query, after an existing one if any', () => {
  assert.equal(chatUrl('ws://h/api/chat', {}), 'ws://h/api/chat');
  assert.equal(chatUrl('ws://h/api/chat', { text_topk: '10', a: 'x y' }), 'ws://h/api/chat?text_topk=10&a=x%20y');
  assert.equal(chatUrl('ws://h/api/chat?x=1', { b: '2' }), 'ws://h/api/chat?x=1&b=2');
});

test('every scenario maps to one k6 constant-vus scenario carrying its thresholds, with a grace that covers its overrun', () => {
  assert.deepEqual(scenarioNames(), ['smoke', 'steady', 'churn']);
  for (const name of scenarioNames()) {
    const s = buildScenario(name, { vus: 3, durationS: 20 });
    assert.equal(s.vus, 3);
    assert.equal(s.durationS, 20);
    const o = k6Options(s) as { scenarios: Record<string, Record<string, unknown>>; thresholds: unknown };
    assert.deepEqual(o.scenarios[name], { executor: 'constant-vus', vus: 3, duration: '20s', gracefulStop: `${overrunS(s)}s` });
    assert.equal(o.thresholds, s.thresholds);
    assert.ok(overrunS(s) * 1000 > s.handshakeTimeoutMs + s.drainMs + s.closeTimeoutMs);
  }
  assert.throws(() => buildScenario('nope'), /unknown scenario/);
  assert.throws(() => buildScenario('steady', { vus: 0 }), /vus/);
  assert.throws(() => buildScenario('steady', { durationS: Number.NaN }), /duration/);
});

test('long steady runs chain conversations shorter than Moshi\'s 6-minute session limit', () => {
  assert.deepEqual(buildScenario('steady', { durationS: 30 }).talkS, [30, 30]);
  assert.ok(buildScenario('steady', { durationS: 600 }).talkS[1] < 360);
});

test('the shared core and scenarios import only each other: no Node or k6 module, no Node global', () => {
  for (const dir of ['load/core', 'load/scenarios']) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      const src = readFileSync(join(dir, f), 'utf8');
      for (const m of src.matchAll(/\bfrom\s+'([^']+)'/g)) {
        assert.match(m[1]!, /^\.\.?\/(?:(?:core|scenarios)\/)?[\w-]+\.js$/, `${dir}/${f} imports ${m[1]}`);
      }
      const code = src.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '');
      assert.doesNotMatch(code, /\b(process|Buffer|require|performance|globalThis|__ENV|__VU)\b/, `${dir}/${f}`);
    }
  }
});
