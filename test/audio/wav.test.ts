import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeWav, parseWav, readWav, WavFormatError, writeWav } from '../../src/audio/wav.js';
import { ffmpegDecode24k, run, sine, tempDir, toneFrequency } from '../fixtures-gen/audio.js';
import { maxAbsDiff } from '../helpers/arrays.js';

const dir = tempDir();

test('16-bit PCM round trip keeps samples within one quantisation step', async () => {
  const pcm = sine(440, 24000, 0.5, 0.8);
  const path = join(dir, 'rt16.wav');
  await writeWav(path, pcm, 24000);
  const back = await readWav(path);
  assert.deepEqual([back.sampleRate, back.channels, back.bitsPerSample, back.format], [24000, 1, 16, 'pcm']);
  assert.ok(maxAbsDiff(back.samples, pcm) <= 1 / 32768);
});

test('float32 round trip is exact', () => {
  const pcm = Float32Array.from([0, 0.1, -0.7, 1.5, -2]);
  const back = parseWav(encodeWav(pcm, 16000, 'float32'));
  assert.deepEqual([back.sampleRate, back.bitsPerSample, back.format], [16000, 32, 'float']);
  assert.deepEqual(back.samples, pcm);
});

test('16-bit writing clips out-of-range samples instead of wrapping', () => {
  const back = parseWav(encodeWav(Float32Array.from([2, -2]), 8000)).samples;
  assert.deepEqual(Array.from(back), [32767 / 32768, -1]);
});

test('files we write are read by ffmpeg with the same content', () => {
  const pcm = sine(1000, 24000, 0.25, 0.5);
  const path = join(dir, 'for-ffmpeg.wav');
  writeFileSync(path, encodeWav(pcm, 24000, 'float32'));
  assert.ok(maxAbsDiff(ffmpegDecode24k(path), pcm) < 1e-6);
});

test('sox-made 24-bit, 32-bit int, 8-bit and float stereo files are read and averaged to mono', () => {
  // Left channel a 0.5 sine, right channel silent: mono is a 0.25 sine.
  const read = (args: readonly string[], name: string) => {
    const path = join(dir, name);
    run('sox', ['-n', '-r', '16000', '-c', '2', ...args, path, 'synth', '0.1', 'sine', '440', 'sine', '440', 'remix', '1v0.5', '2v0']);
    return parseWav(readFileSync(path));
  };
  const ref = read(['-b', '32', '-e', 'floating-point'], 'st-float.wav');
  assert.deepEqual([ref.sampleRate, ref.channels, ref.bitsPerSample, ref.format], [16000, 2, 32, 'float']);
  assert.ok(Math.abs(Math.max(...ref.samples) - 0.25) < 0.002);
  assert.ok(Math.abs(toneFrequency(ref.samples, 16000) - 440) < 1);
  for (const [args, bits, tolerance] of [
    [['-b', '24', '-e', 'signed-integer'], 24, 1e-5],
    [['-b', '32', '-e', 'signed-integer'], 32, 1e-5],
    [['-b', '8', '-e', 'unsigned-integer'], 8, 1.5 / 128],
  ] as const) {
    const wav = read(args, `st-${bits}.wav`);
    assert.deepEqual([wav.channels, wav.bitsPerSample, wav.format], [2, bits, 'pcm']);
    assert.ok(maxAbsDiff(wav.samples, ref.samples) < tolerance, `${bits}-bit: ${maxAbsDiff(wav.samples, ref.samples)}`);
  }
});

test('a data chunk claiming more bytes than the file has (piped WAV) is cut to the whole frames present', () => {
  const bytes = encodeWav(Float32Array.from([0.5, -0.5, 0.25]), 8000);
  new DataView(bytes.buffer).setUint32(40, 0xffffffff, true);
  assert.deepEqual(Array.from(parseWav(bytes.subarray(0, bytes.length - 1)).samples), [0.5, -0.5]);
});

test('unknown chunks before data are skipped, odd sizes padded', () => {
  const plain = encodeWav(Float32Array.from([0.5]), 8000);
  const extra = Uint8Array.from([...new TextEncoder().encode('LIST'), 3, 0, 0, 0, 1, 2, 3, 0]);
  const bytes = Uint8Array.from([...plain.subarray(0, 36), ...extra, ...plain.subarray(36)]);
  assert.deepEqual(Array.from(parseWav(bytes).samples), [0.5]);
});

test('malformed headers give clear WavFormatErrors', () => {
  const good = encodeWav(Float32Array.from([0.1, 0.2]), 8000);
  const edit = (f: (v: DataView, b: Uint8Array) => void) => {
    const b = good.slice();
    f(new DataView(b.buffer), b);
    return b;
  };
  const cases: [Uint8Array, RegExp][] = [
    [good.subarray(0, 8), /too short/],
    [edit((_, b) => b.set(new TextEncoder().encode('RIFX'), 0)), /not a RIFF file/],
    [edit((_, b) => b.set(new TextEncoder().encode('AVI '), 8)), /not WAVE/],
    [edit((v) => v.setUint16(20, 0x55, true)), /unsupported WAV format tag 0x55/],
    [edit((v) => v.setUint16(34, 12, true)), /unsupported PCM sample size 12/],
    [edit((v) => v.setUint16(22, 0, true)), /0 channels/],
    [edit((v) => v.setUint16(32, 3, true)), /block align 3/],
    [edit((_, b) => b.set(new TextEncoder().encode('junk'), 12)), /data chunk comes before any fmt chunk/],
    [good.subarray(0, 12), /no fmt chunk/],
    [good.subarray(0, 36), /no data chunk/],
  ];
  for (const [bytes, message] of cases) {
    assert.throws(() => parseWav(bytes), (err: unknown) => err instanceof WavFormatError && message.test(err.message), String(message));
  }
});
