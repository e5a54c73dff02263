import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PcmFramer } from '../../../src/audio/pcm/framer.js';
import { concat } from '../../fixtures-gen/audio.js';

const ramp = (n: number, from = 0) => Float32Array.from({ length: n }, (_, i) => from + i);

test('chunks of any sizes come out as exact frames holding the input in order', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 20 }), fc.integer({ min: 1, max: 2000 }), (sizes, frameSize) => {
      const framer = new PcmFramer(frameSize);
      const frames: Float32Array[] = [];
      let total = 0;
      for (const n of sizes) {
        frames.push(...framer.push(ramp(n, total)));
        total += n;
      }
      assert.ok(frames.every((f) => f.length === frameSize));
      assert.equal(frames.length, Math.floor(total / frameSize));
      assert.equal(framer.bufferedSamples, total % frameSize);
      assert.deepEqual(concat(frames), ramp(frames.length * frameSize));
    }),
    { numRuns: 200 },
  );
});

test('the default frame is 1920 samples', () => {
  const framer = new PcmFramer();
  assert.equal(framer.push(new Float32Array(1919)).length, 0);
  const [frame] = framer.push(new Float32Array(1));
  assert.equal(frame!.length, 1920);
});

test('frames are the caller\'s own: changing the input or later pushes leaves them intact', () => {
  const framer = new PcmFramer(4);
  const input = ramp(10);
  const frames = framer.push(input);
  input.fill(-1);
  framer.push(ramp(6, 100));
  assert.deepEqual(frames.map((f) => Array.from(f)), [[0, 1, 2, 3], [4, 5, 6, 7]]);
});

test('flush() zero-pads the held samples into one last frame; with nothing held it returns null', () => {
  const framer = new PcmFramer(4);
  framer.push(ramp(6, 1));
  assert.deepEqual(Array.from(framer.flush()!), [5, 6, 0, 0]);
  assert.equal(framer.flush(), null);
  assert.equal(framer.bufferedSamples, 0);
});

test('clear() drops held samples and a zero or negative frame size is refused', () => {
  const framer = new PcmFramer(4);
  framer.push(ramp(3));
  framer.clear();
  assert.deepEqual(Array.from(framer.push(ramp(4, 10))[0]!), [10, 11, 12, 13]);
  assert.throws(() => new PcmFramer(0), RangeError);
});
