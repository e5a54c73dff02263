import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oggCrc, oggCrcUpdate, oggPageCrc } from '../../../src/audio/ogg/crc.js';
import { OggPageReader, type OggPacket } from '../../../src/audio/ogg/page-reader.js';
import { speechOpus, tempDir } from '../../fixtures-gen/audio.js';

const ascii = (s: string) => new TextEncoder().encode(s);

/** Start offsets and sizes of the pages of a well-formed Ogg file. */
function pageSpans(bytes: Uint8Array): { start: number; size: number }[] {
  const spans: { start: number; size: number }[] = [];
  for (let o = 0; o < bytes.length; ) {
    const segs = bytes[o + 26]!;
    let size = 27 + segs;
    for (let i = 0; i < segs; i++) size += bytes[o + 27 + i]!;
    spans.push({ start: o, size });
    o += size;
  }
  return spans;
}

// Short pages (at most 250 ms) so that a file has several audio pages.
const speech = speechOpus(tempDir(), 'hello world, checking the Ogg checksum', ['--max-delay', '250']);

test('CRC of "123456789" is the unreflected, zero-initialised, unxored CRC-32 (0x89a1897f)', () => {
  // CRC-32/CKSUM has the same polynomial and check value 0x765e7680 with a final XOR of 0xffffffff.
  assert.equal(oggCrc(ascii('123456789')), (0x765e7680 ^ 0xffffffff) >>> 0);
});

test('CRC computed in pieces equals the CRC of the whole buffer', () => {
  const data = ascii('The quick brown fox jumps over the lazy dog');
  assert.equal(oggCrcUpdate(oggCrcUpdate(0, data, 0, 10), data, 10), oggCrc(data));
  assert.equal(oggCrc(new Uint8Array(0)), 0);
});

test('every page written by opusenc carries the CRC computed here', () => {
  const spans = pageSpans(speech.opus);
  assert.ok(spans.length >= 3, 'opusenc wrote head, tags and audio pages');
  const view = new DataView(speech.opus.buffer, speech.opus.byteOffset);
  for (const { start, size } of spans) {
    assert.equal(oggPageCrc(speech.opus, start, start + size), view.getUint32(start + 22, true), `page at ${start}`);
  }
});

test('an opusenc file parses with no errors', () => {
  const reader = new OggPageReader();
  const res = reader.push(speech.opus);
  assert.deepEqual(res.errors, []);
  assert.deepEqual(reader.end().errors, []);
  assert.equal(reader.stats.pages, pageSpans(speech.opus).length);
});

test('one flipped byte is a CRC error, and the reader resyncs to read the pages after it', () => {
  const spans = pageSpans(speech.opus);
  const victim = 3; // an audio page with pages after it
  assert.ok(spans.length > victim + 1);
  const clean = new OggPageReader().push(speech.opus).packets;
  const broken = speech.opus.slice();
  broken[spans[victim]!.start + spans[victim]!.size - 5]! ^= 0x40;

  const res = new OggPageReader().push(broken);
  assert.deepEqual(res.errors.filter((e) => e.kind === 'bad-crc').length, 1);
  assert.ok(res.errors.some((e) => e.kind === 'sequence-gap'), 'the missing page shows as a sequence gap');
  const victimSeq = new DataView(broken.buffer).getUint32(spans[victim]!.start + 18, true);
  const seqOf = (p: OggPacket) => p.pageSequence;
  // Packets ending on later pages (one begun on the lost page excepted) all come out.
  const expectedAfter = clean.filter((p) => seqOf(p) > victimSeq + 1);
  const gotAfter = res.packets.filter((p) => seqOf(p) > victimSeq + 1);
  assert.ok(expectedAfter.length > 0);
  assert.deepEqual(gotAfter, expectedAfter);
  assert.equal(res.packets.filter((p) => seqOf(p) === victimSeq).length, 0);
});
