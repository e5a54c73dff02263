import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IncrementalDetokenizer } from '../../../src/model/tokenizer/incremental-detokenizer.js';
import { parseSentencePieceModel } from '../../../src/model/tokenizer/model-proto.js';
import { SentencePieceTokenizer } from '../../../src/model/tokenizer/sentencepiece-tokenizer.js';
import { FIXTURE_TOKENIZER, fixtureTextCard, loadReferenceText } from './fixture.js';
import { byteIds, byteModel, writeModelProto } from './model-proto-writer.js';

// In the byte model, 3 (<pad>) is the padding id, 0 (<unk>) end-of-padding, 266 the text start.
const tok = new SentencePieceTokenizer(parseSentencePieceModel(writeModelProto(byteModel()), 'test.model'), {
  padId: 3,
  endOfPaddingId: 0,
  textStartId: 266,
});

const pushAll = (d: IncrementalDetokenizer, ids: number[]): string[] => ids.map((id) => d.push(id));

test('a multi-byte character split over byte pieces comes out whole, once its last byte arrives', () => {
  const d = new IncrementalDetokenizer(tok);
  assert.deepEqual(pushAll(d, [4, ...byteIds('€'), 5]), ['hello', '', '', '€', ' world']);
  assert.deepEqual(pushAll(d, byteIds('😀é')), ['', '', '', '😀', '', 'é']);
});

test('each push returns only the text its id adds', () => {
  const d = new IncrementalDetokenizer(tok);
  assert.deepEqual(pushAll(d, [4, 6, 5, 1, 5, 8]), ['hello', 'ly', ' world', '', ' world', '<tag>']);
});

test('padding, end-of-padding, text start and unknown ids add nothing and do not disturb the text', () => {
  const d = new IncrementalDetokenizer(tok);
  assert.deepEqual(pushAll(d, [266, 3, 4, 3, 0, 3, 5]), ['', '', 'hello', '', '', '', ' world']);
  // Padding between the bytes of one character does not break it.
  assert.deepEqual(pushAll(d, [10 + 0xe2, 3, 10 + 0x82, 3, 10 + 0xac]), ['', '', '', '', '€']);
  assert.deepEqual(pushAll(d, [999, -1, 5]), ['', '', ' world']);
});

test('a character cut short by another piece comes out as U+FFFD, as decode shows it', () => {
  const d = new IncrementalDetokenizer(tok);
  assert.deepEqual(pushAll(d, [10 + 0xe2, 10 + 0x82, 4]), ['', '', '\uFFFD\uFFFD hello']);
  assert.deepEqual(pushAll(d, [10 + 0xe2, 10 + 0x41]), ['', '\uFFFDA']);
  assert.equal(d.push(10 + 0xf0), '');
  assert.equal(d.flush(), '\uFFFD');
});

test('reset starts a new text: pending bytes are dropped and the leading space is stripped again', () => {
  const d = new IncrementalDetokenizer(tok);
  assert.deepEqual(pushAll(d, [4, 10 + 0xe2]), ['hello', '']);
  d.reset();
  assert.deepEqual(pushAll(d, [5, 4]), ['world', ' hello']);
});

test('the pushed pieces add up to decode() of the non-special ids, for any id sequence', () => {
  const isSpecial = (id: number) => id === 3 || id === 0 || id === 266;
  const ids = fc.array(
    fc.oneof(
      fc.integer({ min: 0, max: 270 }),
      fc.constantFrom(...byteIds('é€😀'), 10 + 0x80, 10 + 0xff, 10 + 0xe2),
    ),
    { maxLength: 40 },
  );
  fc.assert(
    fc.property(ids, (seq) => {
      const d = new IncrementalDetokenizer(tok);
      const streamed = seq.map((id) => d.push(id)).join('') + d.flush();
      const expected = tok.decode(seq.filter((id) => !isSpecial(id) && tok.hasPiece(id)));
      assert.equal(streamed, expected);
    }),
    { numRuns: 300, seed: 42 },
  );
});

test('on the fixture the streamed text equals decode() of the reference text ids', () => {
  const fixtureTok = SentencePieceTokenizer.load(FIXTURE_TOKENIZER, { textStartId: fixtureTextCard() });
  const ids = loadReferenceText().textIds.filter((id): id is number => id !== null);
  const d = new IncrementalDetokenizer(fixtureTok);
  const streamed = ids.map((id) => d.push(id)).join('');
  const kept = ids.filter((id) => fixtureTok.hasPiece(id) && !fixtureTok.isSpecial(id));
  assert.ok(kept.length > 10);
  assert.equal(streamed, fixtureTok.decode(kept));
  assert.ok(!streamed.startsWith(' '));
});
