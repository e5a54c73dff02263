import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OggPageReader } from '../../../src/audio/ogg/page-reader.js';
import { buildOpusHead, buildOpusTags, isOpusHead, OpusHeaderError, parseOpusHead, parseOpusTags } from '../../../src/audio/opus/opus-head.js';
import { speechOpus, tempDir } from '../../fixtures-gen/audio.js';

const speech = speechOpus(tempDir(), 'header test');
const [headPacket, tagsPacket] = new OggPageReader().push(speech.opus).packets;

test('OpusHead written by opusenc parses: version 1, mono, pre-skip 312, input rate of the WAV', () => {
  const head = parseOpusHead(headPacket!.data);
  assert.deepEqual(head, { version: 1, channels: 1, preSkip: 312, inputSampleRate: 22050, outputGainDb: 0, mappingFamily: 0 });
});

test('OpusTags written by opusenc parses with its vendor string and ENCODER comment', () => {
  const tags = parseOpusTags(tagsPacket!.data);
  assert.match(tags.vendor, /libopus/);
  assert.ok(tags.comments.some((c) => c.startsWith('ENCODER=')));
});

test('a built OpusHead parses back to the same fields and is 19 bytes', () => {
  const p = buildOpusHead({ channels: 2, preSkip: 312, inputSampleRate: 24000, outputGainDb: -1.5 });
  assert.equal(p.length, 19);
  assert.deepEqual(parseOpusHead(p), { version: 1, channels: 2, preSkip: 312, inputSampleRate: 24000, outputGainDb: -1.5, mappingFamily: 0 });
});

test('built OpusTags parse back, including UTF-8 comments, with no trailing bytes', () => {
  const tags = { vendor: 'parley', comments: ['TITLE=héllo', 'X='] };
  const packet = buildOpusTags(tags);
  assert.deepEqual(parseOpusTags(packet), tags);
  assert.equal(packet.length, 8 + 4 + 6 + 4 + 4 + 12 + 4 + 2);
});

test('wrong magic, short packets, version 16, zero channels and 3 channels in family 0 are rejected with clear errors', () => {
  const good = buildOpusHead({ channels: 1, preSkip: 0, inputSampleRate: 0 });
  const mutate = (f: (p: Uint8Array) => void) => {
    const p = good.slice();
    f(p);
    return p;
  };
  const cases: [Uint8Array, RegExp][] = [
    [mutate((p) => (p[4] = 0x54)), /magic/],
    [good.subarray(0, 18), /at least 19/],
    [mutate((p) => (p[8] = 16)), /version 16/],
    [mutate((p) => (p[9] = 0)), /channel count is 0/],
    [mutate((p) => (p[9] = 3)), /family 0 allows 1 or 2/],
  ];
  for (const [packet, message] of cases) {
    assert.throws(() => parseOpusHead(packet), (err: unknown) => err instanceof OpusHeaderError && message.test(err.message));
  }
  assert.equal(isOpusHead(cases[0]![0]), false);
});

test('mapping family 1 needs its stream counts and a mapping table in range', () => {
  const base = [...new TextEncoder().encode('OpusHead'), 1, 3, 0, 0, 0x80, 0xbb, 0, 0, 0, 0, 1];
  const ok = parseOpusHead(Uint8Array.from([...base, 2, 1, 0, 1, 2]));
  assert.deepEqual([ok.streamCount, ok.coupledStreamCount, ok.channelMapping], [2, 1, [0, 1, 2]]);
  assert.throws(() => parseOpusHead(Uint8Array.from([...base, 2, 1, 0, 1])), /needs 24 bytes/);
  assert.throws(() => parseOpusHead(Uint8Array.from([...base, 1, 2, 0, 1, 2])), /coupled stream count 2 exceeds/);
  assert.throws(() => parseOpusHead(Uint8Array.from([...base, 2, 1, 0, 1, 3])), /mapping value 3 out of range/);
});

test('OpusTags whose lengths run past the packet are rejected', () => {
  const tags = buildOpusTags({ vendor: 'v', comments: ['a=b'] });
  assert.throws(() => parseOpusTags(tags.subarray(0, tags.length - 1)), /comment 0 claims 3 bytes/);
  const lying = tags.slice();
  new DataView(lying.buffer).setUint32(8, 1000, true);
  assert.throws(() => parseOpusTags(lying), /vendor string claims 1000 bytes/);
  const manyComments = tags.slice();
  new DataView(manyComments.buffer).setUint32(13, 0xffffffff, true);
  assert.throws(() => parseOpusTags(manyComments), /too few bytes/);
  assert.throws(() => parseOpusTags(new TextEncoder().encode('OpusHead')), /magic "OpusTags" missing/);
});
