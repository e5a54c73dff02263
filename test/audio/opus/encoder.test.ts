import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpusPacketDecoder } from '../../../src/audio/opus/decoder.js';
import { OpusFrameEncoder } from '../../../src/audio/opus/encoder.js';
import { checkOpusPacket } from '../../../src/audio/opus/packet.js';
import { concat, correlation, sine, toneFrequency } from '../../fixtures-gen/audio.js';

/** Encodes then decodes `pcm` packet by packet; returns the decoded audio shifted back by the encoder delay. */
async function roundTrip(enc: OpusFrameEncoder, pcm: Float32Array): Promise<Float32Array> {
  const dec = await OpusPacketDecoder.create();
  const out: Float32Array[] = [];
  for (let o = 0; o + enc.frameSize <= pcm.length; o += enc.frameSize) {
    const r = dec.decode(enc.encode(pcm.subarray(o, o + enc.frameSize)));
    assert.ok(r.ok);
    if (r.ok) out.push(r.samples);
  }
  dec.close();
  return concat(out).subarray(enc.lookahead);
}

test('one 960-sample frame becomes one valid 40 ms mono Opus packet', () => {
  const enc = new OpusFrameEncoder();
  const packet = enc.encode(sine(440, 24000, 0.04));
  const check = checkOpusPacket(packet);
  assert.ok(check.ok && check.samples48k === 1920 && !check.stereo, JSON.stringify(check));
  enc.close();
});

test('the encoder delay is 156 samples at 24 kHz (a 312-sample pre-skip at 48 kHz)', () => {
  const enc = new OpusFrameEncoder();
  assert.equal(enc.lookahead, 156);
  enc.close();
});

test('a 440 Hz tone survives encoding and decoding: same frequency, correlated waveform', async () => {
  const enc = new OpusFrameEncoder();
  const input = sine(440, 24000, 1);
  const output = await roundTrip(enc, input);
  enc.close();
  assert.ok(Math.abs(toneFrequency(output.subarray(2000), 24000) - 440) < 2);
  assert.ok(correlation(input.subarray(2000, output.length), output.subarray(2000)) > 0.95);
});

test('reset() makes the encoder produce what a fresh encoder produces', () => {
  const used = new OpusFrameEncoder();
  for (let i = 0; i < 5; i++) used.encode(sine(300 + i * 50, 24000, 0.04));
  used.reset();
  const fresh = new OpusFrameEncoder();
  const frame = sine(700, 24000, 0.04);
  assert.deepEqual(used.encode(frame), fresh.encode(frame));
  assert.deepEqual(used.encode(frame), fresh.encode(frame));
  used.close();
  fresh.close();
});

test('wrong frame lengths and invalid frame sizes are refused', () => {
  const enc = new OpusFrameEncoder();
  assert.throws(() => enc.encode(new Float32Array(959)), RangeError);
  assert.throws(() => new OpusFrameEncoder({ frameSize: 1000 }), RangeError);
  enc.close();
});

test('close() frees the encoder: a second close is harmless, encode afterwards throws', () => {
  const enc = new OpusFrameEncoder();
  enc.close();
  enc.close();
  assert.throws(() => enc.encode(new Float32Array(960)), /closed/);
});

test('encoders keep working after 300 live encoders have grown the shared WASM heap', async () => {
  const first = new OpusFrameEncoder();
  const many = Array.from({ length: 300 }, () => new OpusFrameEncoder());
  const input = sine(523, 24000, 0.5);
  for (const enc of [first, many[150]!, many[299]!]) {
    const out = await roundTrip(enc, input);
    assert.ok(correlation(input.subarray(1000, out.length), out.subarray(1000)) > 0.9);
  }
  for (const enc of [first, ...many]) enc.close();
});

test('a lower bitrate gives smaller packets', () => {
  const lo = new OpusFrameEncoder({ bitrate: 8000 });
  const hi = new OpusFrameEncoder({ bitrate: 64000 });
  const frames = Array.from({ length: 10 }, (_, i) => sine(200 + 37 * i, 24000, 0.04));
  const size = (e: OpusFrameEncoder) => frames.reduce((n, f) => n + e.encode(f).length, 0);
  assert.ok(size(lo) < size(hi) / 3);
  lo.close();
  hi.close();
});
