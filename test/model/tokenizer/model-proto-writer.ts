// Test helper: writes a SentencePiece ModelProto with hand-rolled protobuf,
// so the tests can build tiny models with exactly the pieces they need.

export interface TestPiece {
  piece: string;
  /** 1 NORMAL, 2 UNKNOWN, 3 CONTROL, 4 USER_DEFINED, 5 UNUSED, 6 BYTE; omitted = NORMAL. */
  type?: number;
  score?: number;
}

export interface TestModel {
  pieces: TestPiece[];
  unkSurface?: string;
  addDummyPrefix?: boolean;
  removeExtraWhitespaces?: boolean;
}

function varint(out: number[], v: number): void {
  let x = BigInt.asUintN(64, BigInt(v)); // negative int32: 10-byte two's complement
  while (x >= 128n) {
    out.push(Number(x & 127n) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
}

function tag(out: number[], field: number, wireType: number): void {
  varint(out, field * 8 + wireType);
}

function bytesField(out: number[], field: number, bytes: Uint8Array | number[]): void {
  tag(out, field, 2);
  varint(out, bytes.length);
  out.push(...bytes);
}

export function writeModelProto(model: TestModel): Uint8Array {
  const out: number[] = [];
  const utf8 = new TextEncoder();
  for (const p of model.pieces) {
    const msg: number[] = [];
    bytesField(msg, 1, utf8.encode(p.piece));
    tag(msg, 2, 5);
    const f = new DataView(new ArrayBuffer(4));
    f.setFloat32(0, p.score ?? 0, true);
    msg.push(...new Uint8Array(f.buffer));
    if (p.type !== undefined) {
      tag(msg, 3, 0);
      varint(msg, p.type);
    }
    bytesField(out, 1, msg);
  }
  // A trainer spec with a negative int32 (pad_id = -1) and a few other fields to skip;
  // byte_fallback is set when there are byte pieces, as SentencePiece requires.
  const trainer: number[] = [];
  tag(trainer, 3, 0);
  varint(trainer, 1);
  tag(trainer, 43, 0);
  varint(trainer, -1);
  if (model.pieces.some((p) => p.type === 6)) {
    tag(trainer, 35, 0);
    varint(trainer, 1);
  }
  if (model.unkSurface !== undefined) bytesField(trainer, 44, utf8.encode(model.unkSurface));
  bytesField(out, 2, trainer);
  const normalizer: number[] = [];
  bytesField(normalizer, 1, utf8.encode('identity'));
  bytesField(normalizer, 6, utf8.encode('41\t61\n'));
  if (model.addDummyPrefix !== undefined) {
    tag(normalizer, 3, 0);
    varint(normalizer, model.addDummyPrefix ? 1 : 0);
  }
  if (model.removeExtraWhitespaces !== undefined) {
    tag(normalizer, 4, 0);
    varint(normalizer, model.removeExtraWhitespaces ? 1 : 0);
  }
  bytesField(out, 3, normalizer);
  return Uint8Array.from(out);
}

/** A small model: unk, <s>, </s>, a padding piece, words, and all 256 byte pieces (ids 10..265). */
export const BYTE_BASE = 10;
export function byteModel(extra: Partial<TestModel> = {}): TestModel {
  const pieces: TestPiece[] = [
    { piece: '<unk>', type: 2 },
    { piece: '<s>', type: 3 },
    { piece: '</s>', type: 3 },
    { piece: '<pad>', type: 3 },
    { piece: '▁hello' },
    { piece: '▁world' },
    { piece: 'ly' },
    { piece: '▁' },
    { piece: '<tag>', type: 4 },
    { piece: '▁a▁b' },
  ];
  for (let b = 0; b < 256; b++) pieces.push({ piece: `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, type: 6 });
  return { pieces, ...extra };
}

/** The byte piece ids spelling `s` in UTF-8. */
export function byteIds(s: string): number[] {
  return Array.from(new TextEncoder().encode(s), (b) => BYTE_BASE + b);
}
