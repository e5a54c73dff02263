import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OggPageReader, type OggPacket, type OggReadResult } from '../../../src/audio/ogg/page-reader.js';
import { buildPage, OggStreamWriter } from '../../../src/audio/ogg/page-writer.js';
import { MAX_PAGE_BYTES } from '../../../src/audio/ogg/page-format.js';
import { concatBytes, randomSplit, seededRandom, speechOpus, tempDir } from '../../fixtures-gen/audio.js';

const speech = speechOpus(tempDir(), 'splitting an Ogg stream anywhere must not change its packets', ['--max-delay', '300']);

function readAll(reader: OggPageReader, chunks: Iterable<Uint8Array>): OggReadResult {
  const all: OggReadResult = { packets: [], errors: [] };
  for (const c of chunks) {
    const r = reader.push(c);
    all.packets.push(...r.packets);
    all.errors.push(...r.errors);
  }
  const r = reader.end();
  all.packets.push(...r.packets);
  all.errors.push(...r.errors);
  return all;
}

function bytesOf(n: number, seed: number): Uint8Array {
  const rand = seededRandom(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
}

const whole = readAll(new OggPageReader(), [speech.opus]);

test('an opusenc file read whole gives OpusHead, OpusTags and audio packets with page fields', () => {
  assert.deepEqual(whole.errors, []);
  const [head, tags] = whole.packets;
  assert.equal(new TextDecoder().decode(head!.data.subarray(0, 8)), 'OpusHead');
  assert.equal(head!.bos, true);
  assert.equal(new TextDecoder().decode(tags!.data.subarray(0, 8)), 'OpusTags');
  assert.ok(whole.packets.length > 20);
  const last = whole.packets[whole.packets.length - 1]!;
  assert.equal(last.eos, true);
  assert.equal(last.lastOnPage, true);
  assert.ok(last.granule > 0);
});

test('random chunk sizes, 1-byte chunks included, give the same packets as whole-file parsing', () => {
  for (const [seed, maxChunk] of [[1, 1], [2, 7], [3, 300], [4, 5000]] as const) {
    const got = readAll(new OggPageReader(), randomSplit(speech.opus, seededRandom(seed), maxChunk));
    assert.deepEqual(got.errors, [], `seed ${seed}`);
    assert.deepEqual(got.packets, whole.packets, `seed ${seed}, chunks up to ${maxChunk}`);
  }
});

test('several pages in one chunk and a page split across chunks both come out', () => {
  const w = new OggStreamWriter(7);
  const pages = [1, 2, 3].map((i) => w.writePacket(new Uint8Array(100 * i).fill(i), i * 960)).flat();
  const stream = concatBytes(pages);
  const reader = new OggPageReader();
  const a = reader.push(stream.subarray(0, pages[0]!.length + pages[1]!.length + 10));
  assert.deepEqual(a.packets.map((p) => p.data.length), [100, 200]);
  const b = reader.push(stream.subarray(pages[0]!.length + pages[1]!.length + 10));
  assert.deepEqual(b.packets.map((p) => [p.data.length, p.granule, p.serial]), [[300, 2880, 7]]);
});

test('a packet continued across pages (lacing 255 + continued flag) is reassembled', () => {
  const big = bytesOf(255 * 255 * 2 + 1000, 9);
  const exact = bytesOf(255 * 255, 10); // needs a terminating 0 lacing value on a second page
  const w = new OggStreamWriter(1);
  const pages = [...w.writePacket(new Uint8Array([1, 2, 3]), 0), ...w.writePacket(big, 100), ...w.writePacket(exact, 200)];
  assert.equal(pages.length, 1 + 3 + 2);
  const got = readAll(new OggPageReader(), randomSplit(concatBytes(pages), seededRandom(5), 4000));
  assert.deepEqual(got.errors, []);
  assert.deepEqual(got.packets.map((p) => p.data), [new Uint8Array([1, 2, 3]), big, exact]);
  assert.deepEqual(got.packets.map((p) => p.granule), [0, 100, 200]);
});

test('several packets on one page: only the last is marked lastOnPage, all get the page granule', () => {
  const page = buildPage({ serial: 3, sequence: 0, granule: 1920, flags: { bos: true }, packets: [new Uint8Array(10), new Uint8Array(0), new Uint8Array(300)] });
  const res = new OggPageReader().push(page);
  assert.deepEqual(res.packets.map((p) => [p.data.length, p.lastOnPage, p.granule, p.bos]), [
    [10, false, 1920, true],
    [0, false, 1920, true],
    [300, true, 1920, true],
  ]);
});

test('garbage before "OggS" is discarded with one error and the pages after it are read', () => {
  const junk = bytesOf(5000, 11).map((b) => (b === 0x4f ? 0 : b)); // no "O", so no false capture
  const input = concatBytes([junk, speech.opus]);
  const once = readAll(new OggPageReader(), [input]);
  assert.deepEqual(once.errors.map((e) => [e.kind, e.offset]), [['garbage', 0]]);
  assert.match(once.errors[0]!.message, /^5000 bytes/);
  assert.deepEqual(once.packets, whole.packets);
  const split = readAll(new OggPageReader(), randomSplit(input, seededRandom(12), 700));
  assert.ok(split.errors.every((e) => e.kind === 'garbage'));
  assert.deepEqual(split.packets, whole.packets);
});

test('a megabyte of garbage pushed at once never buffers more than maxPageBytes', () => {
  const reader = new OggPageReader();
  const res = reader.push(bytesOf(1 << 20, 13));
  assert.ok(res.errors.length >= 1);
  assert.ok(reader.bufferedBytes <= MAX_PAGE_BYTES, `${reader.bufferedBytes} bytes buffered`);
  assert.ok(reader.stats.discardedBytes >= (1 << 20) - MAX_PAGE_BYTES);
});

test('a missing page is reported as a sequence gap and its continuation is dropped', () => {
  const w = new OggStreamWriter(5);
  const big = bytesOf(70000, 14);
  const pages = [...w.writePacket(new Uint8Array([1]), 0), ...w.writePacket(big, 10), ...w.writePacket(new Uint8Array([2]), 20)];
  // pages: [1], big part 1, big part 2, [2]; drop big part 1
  const res = readAll(new OggPageReader(), [pages[0]!, pages[2]!, pages[3]!]);
  assert.deepEqual(res.errors.map((e) => e.kind), ['sequence-gap']);
  assert.deepEqual(res.packets.map((p) => Array.from(p.data)), [[1], [2]]);
});

test('a page that continues a packet never seen reports lost-continuation', () => {
  const page = buildPage({ serial: 1, sequence: 4, granule: 5, flags: { continued: true }, packets: [new Uint8Array(20), new Uint8Array([9])] });
  const res = new OggPageReader().push(page);
  assert.deepEqual(res.errors.map((e) => e.kind), ['lost-continuation']);
  assert.deepEqual(res.packets.map((p) => Array.from(p.data)), [[9]]);
});

test('a packet larger than maxPacketBytes is dropped with an error and later packets still come out', () => {
  const w = new OggStreamWriter(2);
  const pages = [...w.writePacket(bytesOf(100000, 15), 1), ...w.writePacket(new Uint8Array([7, 7]), 2)];
  const reader = new OggPageReader({ maxPacketBytes: 50000 });
  const res = readAll(reader, pages);
  assert.deepEqual(res.errors.map((e) => e.kind), ['packet-too-large']);
  assert.deepEqual(res.packets.map((p) => Array.from(p.data)), [[7, 7]]);
});

test('a page larger than maxPageBytes is rejected and the next page still read', () => {
  const w = new OggStreamWriter(2);
  const pages = [...w.writePacket(new Uint8Array(1000), 1), ...w.writePacket(new Uint8Array([4]), 2)];
  const res = readAll(new OggPageReader({ maxPageBytes: 500 }), pages);
  assert.ok(res.errors.some((e) => e.kind === 'page-too-large'));
  assert.deepEqual(res.packets.map((p) => Array.from(p.data)), [[4]]);
});

test('a non-zero version byte is rejected as bad-version', () => {
  const page = buildPage({ serial: 1, sequence: 0, granule: 0, packets: [new Uint8Array(3)] });
  page[4] = 1;
  const res = readAll(new OggPageReader(), [page]);
  assert.ok(res.errors.some((e) => e.kind === 'bad-version'));
  assert.equal(res.packets.length, 0);
});

test('input ending inside a page reports truncated-page from end()', () => {
  const reader = new OggPageReader();
  const r = reader.push(speech.opus.subarray(0, speech.opus.length - 10));
  assert.deepEqual(r.errors, []);
  assert.deepEqual(reader.end().errors.map((e) => e.kind), ['truncated-page']);
  assert.equal(reader.bufferedBytes, 0);
});

test('an empty chunk yields nothing and no error', () => {
  const reader = new OggPageReader();
  assert.deepEqual(reader.push(new Uint8Array(0)), { packets: [], errors: [] });
});

test('errors listed per push are capped while all are counted', () => {
  // "OggS" followed by a bad version, over and over.
  const bad = concatBytes(Array.from({ length: 200 }, () => new Uint8Array([0x4f, 0x67, 0x67, 0x53, 9])));
  const reader = new OggPageReader({ maxErrorsPerPush: 10 });
  const res = reader.push(concatBytes([bad, new Uint8Array(30)]));
  assert.equal(res.errors.length, 10);
  assert.ok(reader.stats.errors >= 200);
});

test('property: arbitrary bytes in arbitrary splits never throw and memory stays under the caps', () => {
  const pageBytes = speech.opus.subarray(0, 4000);
  // Mix random bytes with pieces of real pages so that headers and CRCs get exercised.
  const piece = fc.oneof(
    fc.uint8Array({ maxLength: 400 }),
    fc.tuple(fc.nat(pageBytes.length), fc.nat(600)).map(([s, n]) => pageBytes.subarray(s, s + n)),
    fc.constant(new Uint8Array([0x4f, 0x67, 0x67, 0x53])),
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 30 }), fc.integer({ min: 28, max: 2000 }), fc.integer({ min: 1, max: 3000 }), (pieces, maxPageBytes, maxPacketBytes) => {
      const maxStreams = 2;
      const reader = new OggPageReader({ maxPageBytes, maxPacketBytes, maxStreams });
      const cap = maxPageBytes + maxStreams * maxPacketBytes;
      for (const p of pieces) {
        const r = reader.push(p);
        assert.ok(Array.isArray(r.packets) && Array.isArray(r.errors));
        assert.ok(reader.bufferedBytes <= cap, `${reader.bufferedBytes} > ${cap}`);
        for (const pk of r.packets) assert.ok(pk.data.length <= maxPacketBytes);
      }
      reader.end();
      assert.equal(reader.bufferedBytes, 0);
    }),
    { numRuns: 300 },
  );
});

test('property: a valid stream split anywhere gives the packets of the whole stream', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: speech.opus.length }), { maxLength: 40 }), (cuts) => {
      const points = [0, ...cuts.sort((a, b) => a - b), speech.opus.length];
      const chunks = points.slice(1).map((end, i) => speech.opus.subarray(points[i]!, end));
      const got = readAll(new OggPageReader(), chunks);
      assert.deepEqual(got.errors, []);
      assert.deepEqual(
        got.packets.map((p: OggPacket) => p.data),
        whole.packets.map((p) => p.data),
      );
    }),
    { numRuns: 60 },
  );
});
