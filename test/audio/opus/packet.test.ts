import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OggPageReader } from '../../../src/audio/ogg/page-reader.js';
import { checkOpusPacket } from '../../../src/audio/opus/packet.js';
import { speechOpus, tempDir } from '../../fixtures-gen/audio.js';

test('audio packets written by opusenc (20 ms default, 60 ms with --framesize 60) pass with their duration', () => {
  const dir = tempDir();
  for (const [args, samples] of [[[], 960], [['--framesize', '60'], 2880]] as const) {
    const packets = new OggPageReader().push(speechOpus(dir, 'packet check', [...args]).opus).packets.slice(2);
    assert.ok(packets.length > 10);
    // opusenc may end the stream with a shorter packet.
    packets.forEach((p, i) => {
      const r = checkOpusPacket(p.data);
      assert.ok(r.ok && !r.stereo, JSON.stringify(r));
      if (i < packets.length - 1) assert.equal(r.samples48k, samples);
      else assert.ok(r.samples48k <= samples);
    });
  }
});

test('TOC codes 0–3 give the frame count times the configured frame duration', () => {
  // config 31 = CELT 20 ms; config 0 = SILK NB 10 ms; config 13 = hybrid 20 ms.
  assert.deepEqual(checkOpusPacket(Uint8Array.from([31 << 3, 1, 2])), { ok: true, samples48k: 960, frames: 1, stereo: false });
  assert.deepEqual(checkOpusPacket(Uint8Array.from([(0 << 3) | 1 | 4, 1, 2])), { ok: true, samples48k: 960, frames: 2, stereo: true });
  assert.deepEqual(checkOpusPacket(Uint8Array.from([(13 << 3) | 2, 1, 9, 8])), { ok: true, samples48k: 1920, frames: 2, stereo: false });
  // code 3, CBR, 3 frames of 2 bytes
  assert.deepEqual(checkOpusPacket(Uint8Array.from([(31 << 3) | 3, 3, 1, 1, 2, 2, 3, 3])), { ok: true, samples48k: 2880, frames: 3, stereo: false });
  // code 3, VBR with padding: lengths 1 and (rest) 2, then 2 padding bytes
  assert.deepEqual(checkOpusPacket(Uint8Array.from([(31 << 3) | 3, 0x80 | 0x40 | 2, 2, 1, 7, 8, 8, 0, 0])), { ok: true, samples48k: 1920, frames: 2, stereo: false });
});

test('malformed packets are refused with a reason', () => {
  const bad: [number[], RegExp][] = [
    [[], /empty/],
    [[(31 << 3) | 1, 1, 2, 3], /odd payload/],
    [[(31 << 3) | 2, 5, 1], /first frame runs past/],
    [[(31 << 3) | 2], /cut inside/],
    [[(31 << 3) | 3], /frame count byte/],
    [[(31 << 3) | 3, 0], /zero frames/],
    [[(3 << 3) | 3, 3, 0], /longer than 120 ms/], // 3 × 60 ms
    [[(31 << 3) | 3, 2, 1, 2, 3], /not divisible/],
    [[(31 << 3) | 3, 0x80 | 2, 9, 1], /run past/],
    [[(31 << 3) | 3, 0x40 | 1, 200], /padding longer/],
  ];
  for (const [bytes, reason] of bad) {
    const r = checkOpusPacket(Uint8Array.from(bytes));
    assert.equal(r.ok, false, `${bytes}`);
    if (!r.ok) assert.match(r.reason, reason);
  }
  const long = new Uint8Array(1 + 1276);
  long[0] = 31 << 3;
  assert.equal(checkOpusPacket(long).ok, false);
});
