import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSentencePieceModel } from '../../../src/model/tokenizer/model-proto.js';
import { SentencePieceTokenizer } from '../../../src/model/tokenizer/sentencepiece-tokenizer.js';
import { FIXTURE_TOKENIZER, fixtureTextCard, loadReferenceText } from './fixture.js';
import { byteIds, byteModel, writeModelProto, type TestModel } from './model-proto-writer.js';

function tokenizer(extra: Partial<TestModel> = {}): SentencePieceTokenizer {
  return new SentencePieceTokenizer(parseSentencePieceModel(writeModelProto(byteModel(extra)), 'test.model'), { textStartId: 266 });
}

test('pieceText of every reference text id equals what the Python server sent', () => {
  const tok = SentencePieceTokenizer.load(FIXTURE_TOKENIZER, { textStartId: fixtureTextCard() });
  const { textIds, pieces } = loadReferenceText();
  assert.equal(textIds.length, pieces.length);
  let nonNull = 0;
  textIds.forEach((id, t) => {
    const got = id === null ? null : tok.pieceText(id);
    if (got !== null) nonNull++;
    assert.equal(got, pieces[t], `step ${t}, text id ${id}`);
  });
  assert.ok(nonNull > 10, 'the reference should exercise real pieces');
});

test('pieceText is null for padding, end-of-padding, text start and ids without a piece', () => {
  const tok = SentencePieceTokenizer.load(FIXTURE_TOKENIZER, { textStartId: 128 });
  assert.equal(tok.pieceCount, 83);
  for (const id of [0, 3, 128, 83, 127, -1, 1.5]) assert.equal(tok.pieceText(id), null, `id ${id}`);
  assert.equal(tok.pieceText(2), '</s>');
  assert.equal(tok.pieceText(4), ' and');
  assert.equal(tok.pieceText(32), ' ');
  assert.equal(tok.idToPiece(3), '▁the');
  assert.throws(() => tok.idToPiece(83), RangeError);
});

test('the special ids are configurable', () => {
  const tok = SentencePieceTokenizer.load(FIXTURE_TOKENIZER, { padId: 4, endOfPaddingId: 5, textStartId: 6 });
  assert.equal(tok.pieceText(3), ' the');
  assert.equal(tok.pieceText(0), '<unk>');
  for (const id of [4, 5, 6]) assert.equal(tok.pieceText(id), null);
});

test('decode turns ▁ into spaces and drops the leading space of the first piece', () => {
  const tok = tokenizer();
  assert.equal(tok.decode([4, 5]), 'hello world');
  assert.equal(tok.decode([4, 6, 5]), 'helloly world');
  assert.equal(tok.decode([9, 9]), 'a b a b');
  assert.equal(tok.decode([]), '');
});

test('decode drops control pieces and shows the unknown piece as its surface', () => {
  const tok = tokenizer();
  assert.equal(tok.decode([1, 4, 2, 5, 2]), 'hello world');
  assert.equal(tok.decode([0, 4]), ' \u2047  hello');
  assert.equal(tokenizer({ unkSurface: '<?>' }).decode([4, 0]), 'hello<?>');
  assert.equal(tok.decode([8, 4]), '<tag> hello');
});

test('decode assembles byte pieces into UTF-8 and maps invalid bytes to U+FFFD', () => {
  const tok = tokenizer();
  assert.equal(tok.decode([4, ...byteIds('€')]), 'hello€');
  assert.equal(tok.decode([...byteIds('é😀'), 5]), 'é😀 world');
  assert.equal(tok.decode(byteIds(' x')), ' x'); // a space spelt in bytes is never stripped
  assert.equal(tok.decode([...byteIds('€').slice(0, 2), 5]), '\uFFFD\uFFFD world');
  assert.equal(tok.decode([10 + 0xe2, 10 + 0x41]), '\uFFFDA');
  assert.equal(tok.decode([10 + 0xc0, 10 + 0x80]), '\uFFFD\uFFFD'); // overlong
  assert.equal(tok.decode([10 + 0xed, 10 + 0xa0, 10 + 0x80]), '\uFFFD\uFFFD\uFFFD'); // surrogate
  assert.equal(tok.decode(byteIds('😀').slice(0, 3)), '\uFFFD\uFFFD\uFFFD');
});

test('decode follows the normalizer flags for leading spaces', () => {
  // remove_extra_whitespaces (default): every leading space piece is stripped.
  assert.equal(tokenizer().decode([7, 4]), 'hello');
  // add_dummy_prefix alone: only the first one.
  assert.equal(tokenizer({ removeExtraWhitespaces: false }).decode([7, 4]), ' hello');
  // neither: nothing is stripped.
  assert.equal(tokenizer({ removeExtraWhitespaces: false, addDummyPrefix: false }).decode([4, 5]), ' hello world');
});

test('decode rejects ids without a piece, as SentencePiece does', () => {
  assert.throws(() => tokenizer().decode([4, 266]), RangeError);
});
