import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { OggPageReader } from '../../../src/audio/ogg/page-reader.js';
import { OpusPacketDecoder } from '../../../src/audio/opus/decoder.js';
import { concat, rms, run, tempDir, toneFrequency } from '../../fixtures-gen/audio.js';

/** opusenc of a 1 s, 48 kHz stereo file with a 600 Hz tone on the left and silence on the right. */
function stereoPackets(): Uint8Array[] {
  const dir = tempDir();
  const wav = join(dir, 'lr.wav');
  run('sox', ['-n', '-r', '48000', '-c', '2', '-b', '16', wav, 'synth', '1', 'sine', '600', 'sine', '600', 'remix', '1v0.5', '2v0']);
  run('opusenc', ['--quiet', wav, join(dir, 'lr.opus')]);
  return new OggPageReader().push(readFileSync(join(dir, 'lr.opus'))).packets.slice(2).map((p) => p.data);
}

test('stereo packets are decoded at 24 kHz and averaged to mono (half the left level)', async () => {
  const dec = await OpusPacketDecoder.create({ channels: 2 });
  const out = concat(
    stereoPackets().map((p) => {
      const r = dec.decode(p);
      assert.ok(r.ok);
      return r.ok ? r.samples : new Float32Array(0);
    }),
  );
  dec.close();
  assert.ok(Math.abs(out.length - 24000) <= 960, `${out.length} samples`);
  const mid = out.subarray(4000, 20000);
  assert.ok(Math.abs(toneFrequency(mid, 24000) - 600) < 3);
  // left: 0.5 amplitude (rms 0.354); mono average: rms 0.177
  assert.ok(Math.abs(rms(mid) - 0.177) < 0.03, `rms ${rms(mid)}`);
});

test('a malformed packet is an error result, not an exception, and decoding goes on', async () => {
  const dec = await OpusPacketDecoder.create();
  const packets = stereoPackets();
  assert.equal(dec.decode(new Uint8Array(0)).ok, false);
  assert.equal(dec.decode(Uint8Array.from([0xfb, 0, 1])).ok, false); // code 3 with zero frames
  assert.equal(dec.decode(new Uint8Array(20000)).ok, false); // a 19999-byte single frame
  // Structurally valid (48 CELT frames of 200 bytes, 120 ms) but larger than opus-decoder's input buffer.
  const huge = new Uint8Array(2 + 48 * 200);
  huge.set([(16 << 3) | 3, 48]);
  const r0 = dec.decode(huge);
  assert.ok(!r0.ok && /exceeds the decoder/.test(r0.error));
  const r = dec.decode(packets[3]!);
  assert.ok(r.ok && r.samples.length === 480);
  dec.close();
  assert.equal(dec.decode(packets[4]!).ok, false);
});
