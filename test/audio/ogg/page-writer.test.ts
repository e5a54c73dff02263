import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oggPageCrc } from '../../../src/audio/ogg/crc.js';
import { OggPageReader } from '../../../src/audio/ogg/page-reader.js';
import { buildPage, OggStreamWriter } from '../../../src/audio/ogg/page-writer.js';
import { concatBytes } from '../../fixtures-gen/audio.js';

function header(page: Uint8Array) {
  const v = new DataView(page.buffer, page.byteOffset);
  const segments = page[26]!;
  return {
    capture: new TextDecoder().decode(page.subarray(0, 4)),
    version: page[4],
    flags: page[5],
    granule: v.getBigInt64(6, true),
    serial: v.getUint32(14, true),
    sequence: v.getUint32(18, true),
    crc: v.getUint32(22, true),
    lacing: Array.from(page.subarray(27, 27 + segments)),
  };
}

test('lacing values: 255 per full segment, then the remainder (0 when the length is a multiple of 255)', () => {
  const page = buildPage({ serial: 1, sequence: 0, granule: 0, packets: [new Uint8Array(0), new Uint8Array(254), new Uint8Array(255), new Uint8Array(600)] });
  assert.deepEqual(header(page).lacing, [0, 254, 255, 0, 255, 255, 90]);
  assert.equal(page.length, 27 + 7 + 0 + 254 + 255 + 600);
});

test('header fields are written little-endian and the CRC matches the page', () => {
  const page = buildPage({ serial: 0xdeadbeef, sequence: 77, granule: 123456789012, flags: { bos: true, eos: true }, packets: [new Uint8Array([1, 2, 3])] });
  const h = header(page);
  assert.deepEqual(
    { capture: h.capture, version: h.version, flags: h.flags, granule: h.granule, serial: h.serial, sequence: h.sequence },
    { capture: 'OggS', version: 0, flags: 0x06, granule: 123456789012n, serial: 0xdeadbeef, sequence: 77 },
  );
  assert.equal(h.crc, oggPageCrc(page, 0, page.length));
});

test('granule -1 is written as all ones, meaning no packet ends on the page', () => {
  const page = buildPage({ serial: 1, sequence: 1, granule: -1, flags: { continued: true }, packets: [new Uint8Array(255)], lastPacketContinues: true });
  const h = header(page);
  assert.equal(h.granule, -1n);
  assert.equal(h.flags, 0x01);
  assert.deepEqual(h.lacing, [255]);
});

test('more than 255 lacing values, bad serials and badly sized continued packets are refused', () => {
  assert.throws(() => buildPage({ serial: 1, sequence: 0, granule: 0, packets: [new Uint8Array(255 * 255)] }), RangeError);
  assert.throws(() => buildPage({ serial: -1, sequence: 0, granule: 0, packets: [] }), RangeError);
  assert.throws(() => buildPage({ serial: 1, sequence: 2 ** 32, granule: 0, packets: [] }), RangeError);
  assert.throws(() => buildPage({ serial: 1, sequence: 0, granule: -2, packets: [] }), RangeError);
  assert.throws(() => buildPage({ serial: 1, sequence: 0, granule: 0, packets: [new Uint8Array(10)], lastPacketContinues: true }), RangeError);
});

test('OggStreamWriter: BOS on the first page only, consecutive sequence numbers, EOS when asked', () => {
  const w = new OggStreamWriter(42, 5);
  const pages = [...w.writePacket(new Uint8Array(10), 0), ...w.writePacket(new Uint8Array(70000), 960), ...w.writePacket(new Uint8Array(3), 1920, { eos: true })];
  const hs = pages.map(header);
  assert.deepEqual(hs.map((h) => h.sequence), [5, 6, 7, 8]);
  assert.deepEqual(hs.map((h) => h.flags), [0x02, 0x00, 0x01, 0x04]);
  assert.deepEqual(hs.map((h) => h.granule), [0n, -1n, 960n, 1920n]);
  assert.ok(hs.every((h) => h.serial === 42));
  assert.throws(() => w.writePacket(new Uint8Array(1), 2000), /EOS/);
  const res = new OggPageReader().push(concatBytes(pages));
  assert.deepEqual(res.errors, []);
  assert.deepEqual(res.packets.map((p) => p.data.length), [10, 70000, 3]);
});
