import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { OggOpusInput, type AudioInputResult } from '../../src/audio/input-stream.js';
import { OggOpusOutput } from '../../src/audio/output-stream.js';
import { OggStreamWriter } from '../../src/audio/ogg/page-writer.js';
import { OpusFrameEncoder } from '../../src/audio/opus/encoder.js';
import { buildOpusHead, buildOpusTags } from '../../src/audio/opus/opus-head.js';
import { concat, concatBytes, correlation, randomSplit, rms, run, seededRandom, sine, speechOpus, tempDir } from '../fixtures-gen/audio.js';

const dir = tempDir();
const speech = speechOpus(dir, 'Hello, this is Parley. The quick brown fox jumps over the lazy dog.');

async function decodeAll(chunks: Iterable<Uint8Array>, end = true): Promise<AudioInputResult & { input: OggOpusInput }> {
  const input = await OggOpusInput.create();
  const all: AudioInputResult = { frames: [], errors: [] };
  for (const c of chunks) {
    const r = input.push(c);
    all.frames.push(...r.frames);
    all.errors.push(...r.errors);
  }
  if (end) {
    const r = input.end({ padPartialFrame: false });
    all.frames.push(...r.frames);
    all.errors.push(...r.errors);
  }
  return { ...all, input };
}

/** An Ogg Opus stream of `frames` 960-sample frames, with optional header packets replaced. */
function opusStream(pcm: Float32Array, opts: { serial?: number; head?: Uint8Array | null; tags?: Uint8Array | null; replace?: Map<number, Uint8Array> } = {}): Uint8Array[] {
  const w = new OggStreamWriter(opts.serial ?? 9);
  const enc = new OpusFrameEncoder();
  const pages: Uint8Array[] = [];
  const head = opts.head === undefined ? buildOpusHead({ channels: 1, preSkip: enc.lookahead * 2, inputSampleRate: 24000 }) : opts.head;
  const tags = opts.tags === undefined ? buildOpusTags({ vendor: 'test', comments: [] }) : opts.tags;
  if (head) pages.push(...w.writePacket(head, 0));
  if (tags) pages.push(...w.writePacket(tags, 0));
  for (let i = 0; (i + 1) * 960 <= pcm.length; i++) {
    const packet = opts.replace?.get(i) ?? enc.encode(pcm.subarray(i * 960, (i + 1) * 960));
    pages.push(...w.writePacket(packet, (i + 1) * 1920));
  }
  enc.close();
  return pages;
}

test('opusenc speech gives floor(duration × 24000 / 1920) ± 1 non-silent 1920-sample frames', async () => {
  const { frames, errors, input } = await decodeAll([speech.opus]);
  assert.deepEqual(errors, []);
  const expected = Math.floor((speech.seconds * 24000) / 1920);
  assert.ok(Math.abs(frames.length - expected) <= 1, `${frames.length} frames, expected ${expected}`);
  assert.ok(frames.every((f) => f.length === 1920));
  assert.ok(rms(concat(frames)) > 0.02, `rms ${rms(concat(frames))}`);
  assert.equal(input.head?.preSkip, 312);
  assert.match(input.tags?.vendor ?? '', /libopus/);
  assert.equal(input.stats.frames, frames.length);
  assert.ok(input.stats.packets > 100 && input.stats.pages >= 3 && input.stats.errors === 0);
});

test('the same bytes split at random, down to 1-byte chunks, give identical frames', async () => {
  const whole = await decodeAll([speech.opus]);
  for (const [seed, max] of [[1, 1], [2, 100], [3, 3000]] as const) {
    const split = await decodeAll(randomSplit(speech.opus, seededRandom(seed), max));
    assert.deepEqual(split.errors, []);
    assert.deepEqual(split.frames, whole.frames);
  }
});

test('a browser-recorder-like stream (24 kHz, 20 ms packets, 2 per page, one page per message) decodes', async () => {
  const wav24 = join(dir, 'speech24.wav');
  run('sox', [speech.wavPath, '-r', '24000', wav24]);
  run('opusenc', ['--quiet', '--framesize', '20', '--max-delay', '40', wav24, join(dir, 'rec.opus')]);
  const bytes = readFileSync(join(dir, 'rec.opus'));
  const { frames, errors, input } = await decodeAll([bytes]);
  assert.deepEqual(errors, []);
  assert.ok(input.stats.pages > 40, `${input.stats.pages} pages`);
  assert.ok(Math.abs(frames.length - Math.floor((speech.seconds * 24000) / 1920)) <= 1);
});

test('a stereo stream is downmixed to mono frames', async () => {
  const wav = join(dir, 'stereo.wav');
  run('sox', ['-n', '-r', '48000', '-c', '2', '-b', '16', wav, 'synth', '2', 'sine', '300', 'sine', '500']);
  run('opusenc', ['--quiet', wav, join(dir, 'stereo.opus')]);
  const { frames, errors, input } = await decodeAll([readFileSync(join(dir, 'stereo.opus'))]);
  assert.deepEqual(errors, []);
  assert.equal(input.head?.channels, 2);
  assert.ok(Math.abs(frames.length - 25) <= 1);
  assert.ok(rms(concat(frames)) > 0.1);
});

test('audio from OggOpusOutput comes back time-aligned, with exactly the samples sent', async () => {
  const pcm = sine(330, 24000, 1920 * 10 / 24000, 0.4);
  const out = new OggOpusOutput();
  const pages: Uint8Array[] = [];
  for (let i = 0; i < 10; i++) pages.push(...out.push(pcm.subarray(i * 1920, (i + 1) * 1920)));
  pages.push(...out.finish());
  const { frames, errors, input } = await decodeAll(pages, false);
  assert.deepEqual(errors, []);
  assert.equal(frames.length, 10);
  // End trimming by the EOS granule leaves no partial frame.
  assert.equal(input.bufferedSamples, 0);
  assert.equal(input.bufferedBytes, 0);
  const got = concat(frames);
  assert.ok(correlation(pcm.subarray(1000), got.subarray(1000)) > 0.95);
});

test('a stream whose first packet is not OpusHead reports missing-opus-head once and yields nothing', async () => {
  const pages = opusStream(sine(440, 24000, 0.5)).slice(2);
  const { frames, errors } = await decodeAll(pages);
  assert.deepEqual(errors.map((e) => e.kind), ['missing-opus-head']);
  assert.equal(frames.length, 0);
});

test('a wrong OpusHead magic is a missing OpusHead; a bad version is bad-opus-head', async () => {
  const head = buildOpusHead({ channels: 1, preSkip: 312, inputSampleRate: 24000 });
  const wrongMagic = head.slice();
  wrongMagic[7] = 0x58; // "OpusHeaX"
  const r1 = await decodeAll(opusStream(sine(440, 24000, 0.5), { head: wrongMagic }));
  assert.deepEqual(r1.errors.map((e) => e.kind), ['missing-opus-head']);
  const badVersion = head.slice();
  badVersion[8] = 0x20;
  const r2 = await decodeAll(opusStream(sine(440, 24000, 0.5), { head: badVersion }));
  assert.deepEqual(r2.errors.map((e) => e.kind), ['bad-opus-head']);
  assert.match(r2.errors[0]!.message, /version 32/);
  assert.equal(r1.frames.length + r2.frames.length, 0);
});

test('a stream without OpusTags reports missing-opus-tags and still decodes its audio', async () => {
  const { frames, errors } = await decodeAll(opusStream(sine(440, 24000, 1), { tags: null }));
  assert.deepEqual(errors.map((e) => e.kind), ['missing-opus-tags']);
  assert.ok(frames.length >= 11);
});

test('a corrupt audio packet is one decode error; the frames after it still come', async () => {
  const replace = new Map([[5, Uint8Array.from([0xfb, 0x00])]]);
  const { frames, errors, input } = await decodeAll(opusStream(sine(440, 24000, 1), { replace }));
  assert.deepEqual(errors.map((e) => e.kind), ['decode']);
  assert.equal(input.stats.decodeErrors, 1);
  assert.ok(frames.length >= 11);
});

test('a page with a bad CRC is reported and skipped; decoding resumes on the next page', async () => {
  const pages = opusStream(sine(440, 24000, 1));
  pages[6] = pages[6]!.slice();
  pages[6][pages[6].length - 1]! ^= 0xff;
  const { frames, errors } = await decodeAll([concatBytes(pages)]);
  assert.deepEqual(errors.map((e) => e.kind), ['bad-crc', 'sequence-gap']);
  assert.ok(frames.length >= 11);
});

test('random bytes, empty chunks and a truncated stream give errors, never exceptions', async () => {
  const rand = seededRandom(77);
  const junk = Uint8Array.from({ length: 20000 }, () => Math.floor(rand() * 256));
  const r1 = await decodeAll([new Uint8Array(0), junk, new Uint8Array(0)]);
  assert.ok(r1.errors.length > 0);
  assert.equal(r1.frames.length, 0);
  const truncated = speech.opus.subarray(0, Math.floor(speech.opus.length / 2));
  const r2 = await decodeAll([truncated]);
  assert.ok(r2.errors.some((e) => e.kind === 'truncated-page'));
  assert.ok(r2.frames.length > 5);
});

test('a second stream started with a new OpusHead is decoded; a foreign stream is reported once', async () => {
  const a = opusStream(sine(440, 24000, 0.5), { serial: 1 });
  const b = opusStream(sine(660, 24000, 0.5), { serial: 2 });
  const c = opusStream(sine(880, 24000, 0.5), { serial: 3 });
  // c's pages interleaved into b after b's headers
  const mixed = [...a, b[0]!, b[1]!, ...c.slice(2, 5), ...b.slice(2)];
  const { frames, errors } = await decodeAll(mixed);
  assert.deepEqual(errors.map((e) => e.kind), ['unexpected-stream']);
  assert.ok(frames.length >= 9, `${frames.length} frames`);
});

test('the OpusHead output gain is applied (-6.02 dB halves the level)', async () => {
  const pcm = sine(440, 24000, 1, 0.4);
  const plain = await decodeAll(opusStream(pcm));
  const head = buildOpusHead({ channels: 1, preSkip: 312, inputSampleRate: 24000, outputGainDb: 20 * Math.log10(0.5) });
  const quiet = await decodeAll(opusStream(pcm, { head }));
  assert.ok(Math.abs(rms(concat(quiet.frames)) / rms(concat(plain.frames)) - 0.5) < 0.01);
});

test('push after close() returns a closed error', async () => {
  const input = await OggOpusInput.create();
  input.close();
  assert.deepEqual(input.push(speech.opus).errors.map((e) => e.kind), ['closed']);
});

test('end() returns the last partial frame zero-padded by default', async () => {
  const input = await OggOpusInput.create();
  const pages = opusStream(sine(440, 24000, 0.2)); // 5 packets: 4800 samples minus pre-skip
  const n = pages.reduce((k, p) => k + input.push(p).frames.length, 0);
  const last = input.end().frames;
  assert.equal(n, 2);
  assert.equal(last.length, 1);
  assert.equal(last[0]![1919], 0);
});

test('property: any bytes in any split never throw and buffered bytes stay bounded', async () => {
  const input = await OggOpusInput.create();
  const valid = speech.opus.subarray(0, 6000);
  const piece = fc.oneof(
    fc.uint8Array({ maxLength: 500 }),
    fc.tuple(fc.nat(valid.length), fc.nat(800)).map(([s, n]) => valid.subarray(s, s + n)),
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 25 }), (pieces) => {
      for (const p of pieces) {
        const r = input.push(p);
        assert.ok(r.frames.every((f) => f.length === 1920));
        assert.ok(input.bufferedBytes <= 65307 + 4 * 256 * 1024);
      }
      input.end();
    }),
    { numRuns: 150 },
  );
  input.close();
});
