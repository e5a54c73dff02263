import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ProtobufError, ProtobufReader, WireType } from './protobuf-reader.js';

// The parts of SentencePiece's `ModelProto` (sentencepiece_model.proto) that
// decoding needs. Field numbers are the proto's; everything else (trainer
// options, the precompiled normalizer charsmap, self-test data) is skipped.

/** `ModelProto.SentencePiece.Type`. */
export const PieceType = {
  Normal: 1,
  Unknown: 2,
  Control: 3,
  UserDefined: 4,
  Unused: 5,
  Byte: 6,
} as const;
export type PieceType = (typeof PieceType)[keyof typeof PieceType];

export interface ModelPiece {
  piece: string;
  score: number;
  type: PieceType;
}

export interface SentencePieceModel {
  pieces: ModelPiece[];
  /** What an unknown piece decodes to (`TrainerSpec.unk_surface`, default " ⁇ "). */
  unkSurface: string;
  /** `NormalizerSpec.add_dummy_prefix`: decoding strips the first piece's leading space. */
  addDummyPrefix: boolean;
  /** `NormalizerSpec.remove_extra_whitespaces`: decoding strips all leading spaces. */
  removeExtraWhitespaces: boolean;
}

export class TokenizerModelError extends Error {
  override name = 'TokenizerModelError';
}

const DEFAULT_UNK_SURFACE = ' \u2047 ';
const BYTE_PIECE = /^<0x[0-9A-Fa-f]{2}>$/;

// Proto field numbers.
const MODEL_PIECES = 1;
const MODEL_TRAINER_SPEC = 2;
const MODEL_NORMALIZER_SPEC = 3;
const PIECE_PIECE = 1;
const PIECE_SCORE = 2;
const PIECE_TYPE = 3;
const TRAINER_UNK_SURFACE = 44;
const NORMALIZER_ADD_DUMMY_PREFIX = 3;
const NORMALIZER_REMOVE_EXTRA_WHITESPACES = 4;

// The decoded message is still untrusted: check what SentencePiece itself
// checks when loading (non-empty pieces, known types, exactly one unknown
// piece, byte pieces spelled <0xNN>).
const pieceSchema = z
  .object({
    piece: z.string().min(1, 'piece must not be empty'),
    // Scores only matter for encoding; any float32 (even NaN) is kept as is.
    score: z.custom<number>((v) => typeof v === 'number'),
    type: z.literal([1, 2, 3, 4, 5, 6], {
      error: 'type must be one of NORMAL(1) UNKNOWN(2) CONTROL(3) USER_DEFINED(4) UNUSED(5) BYTE(6)',
    }),
  })
  .refine((p) => p.type !== PieceType.Byte || BYTE_PIECE.test(p.piece), { error: 'byte piece must be spelled <0xNN>' });

const modelSchema = z
  .object({
    pieces: z.array(pieceSchema).min(1, 'model has no pieces'),
    unkSurface: z.string(),
    addDummyPrefix: z.boolean(),
    removeExtraWhitespaces: z.boolean(),
  })
  .refine((m) => m.pieces.filter((p) => p.type === PieceType.Unknown).length === 1, {
    error: 'model must define exactly one unknown piece',
  });

/** Parses a SentencePiece `.model` file; `source` names it in error messages. */
export function parseSentencePieceModel(bytes: Uint8Array, source: string): SentencePieceModel {
  let raw: SentencePieceModel;
  try {
    raw = readModelProto(new ProtobufReader(bytes));
  } catch (e) {
    if (e instanceof ProtobufError) throw new TokenizerModelError(`${source}: not a valid SentencePiece model (${e.message})`);
    throw e;
  }
  const checked = modelSchema.safeParse(raw);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw new TokenizerModelError(`${source}: not a valid SentencePiece model (${where}${issue.message})`);
  }
  return checked.data as SentencePieceModel;
}

export function loadSentencePieceModel(path: string): SentencePieceModel {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new TokenizerModelError(`${path}: cannot read tokenizer model (${(e as Error).message})`);
  }
  return parseSentencePieceModel(bytes, path);
}

function readModelProto(r: ProtobufReader): SentencePieceModel {
  const model: SentencePieceModel = {
    pieces: [],
    unkSurface: DEFAULT_UNK_SURFACE,
    addDummyPrefix: true,
    removeExtraWhitespaces: true,
  };
  while (!r.done) {
    const tag = r.readTag();
    switch (tag.field) {
      case MODEL_PIECES:
        r.expect(tag, WireType.LengthDelimited);
        model.pieces.push(readPiece(r.readMessage()));
        break;
      case MODEL_TRAINER_SPEC: {
        r.expect(tag, WireType.LengthDelimited);
        const surface = readTrainerUnkSurface(r.readMessage());
        if (surface !== undefined) model.unkSurface = surface;
        break;
      }
      case MODEL_NORMALIZER_SPEC:
        r.expect(tag, WireType.LengthDelimited);
        readNormalizerSpec(r.readMessage(), model);
        break;
      default:
        r.skip(tag.wireType);
    }
  }
  return model;
}

function readPiece(r: ProtobufReader): ModelPiece {
  // Proto2 defaults: an absent type is NORMAL, an absent score 0.
  const p = { piece: '', score: 0, type: PieceType.Normal as number };
  while (!r.done) {
    const tag = r.readTag();
    switch (tag.field) {
      case PIECE_PIECE:
        r.expect(tag, WireType.LengthDelimited);
        p.piece = r.readString();
        break;
      case PIECE_SCORE:
        r.expect(tag, WireType.Fixed32);
        p.score = r.readFloat32();
        break;
      case PIECE_TYPE:
        r.expect(tag, WireType.Varint);
        p.type = r.readInt32();
        break;
      default:
        r.skip(tag.wireType);
    }
  }
  // The type is checked by the schema afterwards.
  return p as ModelPiece;
}

function readTrainerUnkSurface(r: ProtobufReader): string | undefined {
  let surface: string | undefined;
  while (!r.done) {
    const tag = r.readTag();
    if (tag.field === TRAINER_UNK_SURFACE) {
      r.expect(tag, WireType.LengthDelimited);
      surface = r.readString();
    } else {
      r.skip(tag.wireType);
    }
  }
  return surface;
}

function readNormalizerSpec(r: ProtobufReader, model: SentencePieceModel): void {
  while (!r.done) {
    const tag = r.readTag();
    if (tag.field === NORMALIZER_ADD_DUMMY_PREFIX) {
      r.expect(tag, WireType.Varint);
      model.addDummyPrefix = r.readVarint() !== 0;
    } else if (tag.field === NORMALIZER_REMOVE_EXTRA_WHITESPACES) {
      r.expect(tag, WireType.Varint);
      model.removeExtraWhitespaces = r.readVarint() !== 0;
    } else {
      r.skip(tag.wireType);
    }
  }
}
