import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resample } from '../../src/audio/resample.js';
import { rms, sine, toneFrequency } from '../fixtures-gen/audio.js';

/** Error of `got` against the ideal tone at the output rate, away from the edges, in dB relative to the tone. */
function errorDb(got: Float32Array, freq: number, rate: number, amp: number): number {
  const ideal = sine(freq, rate, got.length / rate, amp);
  const edge = Math.round(rate * 0.01);
  const diff = new Float32Array(got.length - 2 * edge);
  for (let i = 0; i < diff.length; i++) diff[i] = got[i + edge]! - ideal[i + edge]!;
  return 20 * Math.log10(rms(diff) / (amp / Math.SQRT2));
}

test('a 1 kHz sine at 48 kHz resampled to 24 kHz keeps its frequency and half its length', () => {
  const input = sine(1000, 48000, 1);
  const out = resample(input, 48000, 24000);
  assert.equal(out.length, 24000);
  assert.ok(Math.abs(toneFrequency(out, 24000) - 1000) < 0.5, `${toneFrequency(out, 24000)} Hz`);
});

test('16, 22.05, 44.1 and 48 kHz → 24 kHz: length scales by the ratio and the error is below -60 dB', () => {
  for (const from of [16000, 22050, 44100, 48000]) {
    const input = sine(1234, from, 0.5, 0.5);
    const out = resample(input, from, 24000);
    assert.equal(out.length, Math.round((input.length * 24000) / from));
    const db = errorDb(out, 1234, 24000, 0.5);
    assert.ok(db < -60, `${from} Hz: ${db.toFixed(1)} dB`);
  }
});

test('upsampling 24 kHz → 48 kHz is accurate too', () => {
  const out = resample(sine(3000, 24000, 0.5, 0.5), 24000, 48000);
  assert.equal(out.length, 24000);
  assert.ok(errorDb(out, 3000, 48000, 0.5) < -60);
});

test('a 15 kHz tone at 48 kHz, above the new 12 kHz Nyquist, is removed rather than aliased', () => {
  const out = resample(sine(15000, 48000, 0.5, 0.5), 48000, 24000);
  const inner = out.subarray(500, out.length - 500);
  assert.ok(rms(inner) < 0.5 * 1e-3, `rms ${rms(inner)}`); // below -60 dB (linear interpolation would alias it at 9 kHz)
});

test('equal rates return a copy; non-positive rates are refused', () => {
  const input = Float32Array.from([1, 2, 3]);
  const out = resample(input, 24000, 24000);
  assert.deepEqual(out, input);
  assert.notEqual(out, input);
  assert.throws(() => resample(input, 0, 24000), RangeError);
  assert.throws(() => resample(input, 24000, Number.NaN), RangeError);
});
