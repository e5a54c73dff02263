import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OggOpusOutput } from '../../src/audio/output-stream.js';
import { OggPageReader } from '../../src/audio/ogg/page-reader.js';
import { parseOpusHead, parseOpusTags } from '../../src/audio/opus/opus-head.js';
import { resample } from '../../src/audio/resample.js';
import { readWav } from '../../src/audio/wav.js';
import { concatBytes, correlation, ffmpegDecode24k, rms, runStatus, sine, speechWav, tempDir } from '../fixtures-gen/audio.js';

const dir = tempDir();

/** Encodes whole 1920-sample frames of `pcm` (the tail is dropped) and ends the stream. */
function encode(pcm: Float32Array, out = new OggOpusOutput()): { pages: Uint8Array[]; sent: Float32Array } {
  const frames = Math.floor(pcm.length / 1920);
  const pages: Uint8Array[] = [];
  for (let i = 0; i < frames; i++) pages.push(...out.push(pcm.subarray(i * 1920, (i + 1) * 1920)));
  pages.push(...out.finish());
  return { pages, sent: pcm.subarray(0, frames * 1920) };
}

function writeOpus(name: string, pages: Uint8Array[]): string {
  const path = join(dir, name);
  writeFileSync(path, concatBytes(pages));
  return path;
}

function pageHeaders(pages: Uint8Array[]) {
  return pages.map((p) => {
    const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
    return { flags: p[5]!, granule: Number(v.getBigInt64(6, true)), serial: v.getUint32(14, true), sequence: v.getUint32(18, true), packets: p[26] };
  });
}

test('2 s of sine: opusinfo accepts the file and ffmpeg decodes the same number of samples, correlated with the input', () => {
  const { pages, sent } = encode(sine(440, 24000, 2, 0.5));
  const path = writeOpus('sine.opus', pages);
  const info = runStatus('opusinfo', [path]);
  assert.equal(info.status, 0, info.output);
  const decoded = ffmpegDecode24k(path);
  assert.ok(Math.abs(decoded.length - sent.length) <= 960, `${decoded.length} vs ${sent.length}`);
  assert.ok(correlation(sent.subarray(480), decoded.subarray(480)) > 0.95);
  assert.ok(Math.abs(rms(decoded) / rms(sent) - 1) < 0.1);
});

test('espeak speech: opusinfo accepts it and the decoded speech matches the input level and waveform', async () => {
  const wav = await readWav(speechWav(dir, 'Parley speaks Ogg Opus to every Moshi client.'));
  const speech = resample(wav.samples, wav.sampleRate, 24000);
  const { pages, sent } = encode(speech);
  const path = writeOpus('speech.opus', pages);
  const info = runStatus('opusinfo', [path]);
  assert.equal(info.status, 0, info.output);
  const decoded = ffmpegDecode24k(path);
  assert.ok(Math.abs(decoded.length - sent.length) <= 960);
  assert.ok(correlation(sent, decoded) > 0.8, `correlation ${correlation(sent, decoded)}`);
  assert.ok(Math.abs(rms(decoded) / rms(sent) - 1) < 0.2);
});

test('the first push returns OpusHead (BOS) and OpusTags pages, then one page per 40 ms packet', () => {
  const out = new OggOpusOutput();
  const first = out.push(sine(200, 24000, 0.08));
  const second = out.push(sine(200, 24000, 0.08));
  const last = out.finish();
  const hs = pageHeaders([...first, ...second, ...last]);
  assert.equal(first.length, 4);
  assert.equal(second.length, 2);
  assert.equal(last.length, 1);
  assert.deepEqual(hs.map((h) => h.sequence), [0, 1, 2, 3, 4, 5, 6]);
  assert.ok(hs.every((h) => h.serial === 42));
  assert.deepEqual(hs.map((h) => h.flags), [0x02, 0, 0, 0, 0, 0, 0x04]);
  // 48 kHz granules: 1920 per packet; the EOS page trims to pre-skip + samples sent.
  assert.deepEqual(hs.map((h) => h.granule), [0, 0, 1920, 3840, 5760, 7680, out.preSkip + 2 * 3840]);
  const packets = new OggPageReader().push(concatBytes([...first, ...second, ...last])).packets;
  assert.deepEqual(packets.map((p) => p.pageSequence), [0, 1, 2, 3, 4, 5, 6]); // one packet per page
  assert.deepEqual(parseOpusHead(packets[0]!.data), { version: 1, channels: 1, preSkip: 312, inputSampleRate: 24000, outputGainDb: 0, mappingFamily: 0 });
  assert.equal(parseOpusTags(packets[1]!.data).vendor, 'parley');
});

test('the serial number is configurable', () => {
  const out = new OggOpusOutput({ serial: 0x12345678 });
  assert.ok(pageHeaders(out.push(new Float32Array(1920))).every((h) => h.serial === 0x12345678));
  out.close();
});

test('reset() mid-stream keeps one valid stream that opusinfo accepts', () => {
  const out = new OggOpusOutput();
  const pcm = sine(500, 24000, 1.2);
  const pages: Uint8Array[] = [];
  for (let i = 0; i < 15; i++) {
    if (i === 1) out.reset();
    pages.push(...out.push(pcm.subarray(i * 1920, (i + 1) * 1920)));
  }
  pages.push(...out.finish());
  const info = runStatus('opusinfo', [writeOpus('reset.opus', pages)]);
  assert.equal(info.status, 0, info.output);
});

test('finish() with no audio still gives a valid stream: headers and an empty EOS page', () => {
  const out = new OggOpusOutput();
  const pages = out.finish();
  assert.equal(pages.length, 3);
  assert.deepEqual(out.finish(), []);
  const info = runStatus('opusinfo', [writeOpus('empty.opus', pages)]);
  assert.equal(info.status, 0, info.output);
});

test('frames of the wrong length, pushes after finish() and bad frame sizes throw', () => {
  const out = new OggOpusOutput();
  assert.throws(() => out.push(new Float32Array(960)), RangeError);
  out.finish();
  assert.throws(() => out.push(new Float32Array(1920)), /after finish/);
  assert.throws(() => new OggOpusOutput({ frameSize: 1000 }), RangeError);
});

test('stats count frames, packets, pages and bytes', () => {
  const out = new OggOpusOutput();
  const pages = [...out.push(new Float32Array(1920)), ...out.push(new Float32Array(1920)), ...out.finish()];
  const s = out.stats;
  assert.deepEqual([s.frames, s.packets, s.pages], [2, 5, 7]);
  assert.equal(s.bytes, pages.reduce((n, p) => n + p.length, 0));
});
