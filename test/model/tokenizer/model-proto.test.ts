import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSentencePieceModel, parseSentencePieceModel, PieceType, TokenizerModelError } from '../../../src/model/tokenizer/model-proto.js';
import { FIXTURE_TOKENIZER } from './fixture.js';
import { byteModel, writeModelProto } from './model-proto-writer.js';

test('parses the fixture tokenizer: 83 pieces, ids 0 unk, 1 bos, 2 eos', () => {
  const m = loadSentencePieceModel(FIXTURE_TOKENIZER);
  assert.equal(m.pieces.length, 83);
  assert.deepEqual(
    m.pieces.slice(0, 3).map((p) => [p.piece, p.type]),
    [
      ['<unk>', PieceType.Unknown],
      ['<s>', PieceType.Control],
      ['</s>', PieceType.Control],
    ],
  );
  assert.equal(m.pieces[3]!.piece, '▁the');
  assert.equal(m.pieces[3]!.type, PieceType.Normal);
  assert.ok(m.pieces[3]!.score < 0);
});

test('reads piece types, unk surface and normalizer flags, and skips unknown fields and negative int32s', () => {
  const m = parseSentencePieceModel(
    writeModelProto(byteModel({ unkSurface: '<?>', addDummyPrefix: false, removeExtraWhitespaces: false })),
    'test.model',
  );
  assert.equal(m.pieces.length, 266);
  assert.equal(m.pieces[8]!.type, PieceType.UserDefined);
  assert.equal(m.pieces[10]!.piece, '<0x00>');
  assert.equal(m.pieces[10]!.type, PieceType.Byte);
  assert.equal(m.unkSurface, '<?>');
  assert.equal(m.addDummyPrefix, false);
  assert.equal(m.removeExtraWhitespaces, false);
});

test('absent normalizer flags and unk surface take the proto defaults', () => {
  const m = parseSentencePieceModel(writeModelProto(byteModel()), 'test.model');
  assert.equal(m.unkSurface, ' \u2047 ');
  assert.equal(m.addDummyPrefix, true);
  assert.equal(m.removeExtraWhitespaces, true);
});

function assertRejected(bytes: Uint8Array, why: RegExp): void {
  assert.throws(
    () => parseSentencePieceModel(bytes, '/models/broken.model'),
    (e: unknown) => e instanceof TokenizerModelError && e.message.startsWith('/models/broken.model: ') && why.test(e.message),
  );
}

test('a truncated model file is rejected with an error naming the file', () => {
  const good = readFileSync(FIXTURE_TOKENIZER);
  assertRejected(good.subarray(0, 1000), /runs past the end/);
});

test('random bytes are rejected as not a SentencePiece model', () => {
  const junk = new Uint8Array(512);
  let x = 12345;
  for (let i = 0; i < junk.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    junk[i] = x >>> 24;
  }
  assertRejected(junk, /not a valid SentencePiece model/);
});

test('a model without pieces, with a bad piece type or a misspelt byte piece is rejected', () => {
  assertRejected(writeModelProto({ pieces: [] }), /no pieces/);
  assertRejected(writeModelProto({ pieces: [{ piece: '<unk>', type: 2 }, { piece: 'x', type: 9 }] }), /type must be one of/);
  assertRejected(writeModelProto({ pieces: [{ piece: '<unk>', type: 2 }, { piece: '<0xZZ>', type: 6 }] }), /<0xNN>/);
  assertRejected(writeModelProto({ pieces: [{ piece: 'a' }] }), /exactly one unknown piece/);
});

test('a missing model file is reported with its path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-tok-'));
  try {
    const path = join(dir, 'absent.model');
    assert.throws(() => loadSentencePieceModel(path), (e: unknown) => e instanceof TokenizerModelError && e.message.includes(path));
    const bad = join(dir, 'bad.model');
    writeFileSync(bad, 'not a model at all');
    assert.throws(() => loadSentencePieceModel(bad), (e: unknown) => e instanceof TokenizerModelError && e.message.startsWith(`${bad}: `));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
