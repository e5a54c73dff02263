import { PieceType, type SentencePieceModel } from './model-proto.js';

// SentencePiece's decoding (SentencePieceProcessor::Decode) as a state
// machine fed one id at a time, so that the whole-sequence decode and the
// per-session incremental decode share one implementation:
//  - control pieces (<s>, </s>) are invisible; the unknown piece becomes
//    the model's unk surface (" ⁇ " by default);
//  - runs of byte pieces <0xNN> are assembled into UTF-8, each structurally
//    invalid byte becoming U+FFFD, as SentencePiece does;
//  - '▁' becomes a space, and the first piece's leading '▁' is dropped while
//    nothing has been produced yet (add_dummy_prefix / remove_extra_whitespaces).
// The model's denormalizer (unused by Kyutai's tokenizers) is not applied.

const SPACE_SYMBOL = '\u2581';
const REPLACEMENT = '\uFFFD';

/** Per-id lookups precomputed from a model, shared by every decoder of it. */
export class PieceTable {
  readonly count: number;
  readonly pieces: readonly string[];
  readonly types: Uint8Array;
  /** Byte value of a BYTE piece, -1 for the others. */
  readonly byteValues: Int16Array;
  /** Piece with '▁' → ' '. */
  readonly text: readonly string[];
  /** Same, with a leading '▁' dropped: the form used at the start of the text. */
  readonly textAtStart: readonly string[];
  readonly startsWithSpace: Uint8Array;
  readonly unkSurface: string;
  /** Whether the start-of-text leading space is stripped at all. */
  readonly stripsLeadingSpace: boolean;
  /** remove_extra_whitespaces: every leading space piece is stripped, not only the first. */
  readonly stripsAllLeadingSpace: boolean;

  constructor(model: SentencePieceModel) {
    const n = model.pieces.length;
    this.count = n;
    this.pieces = model.pieces.map((p) => p.piece);
    this.types = new Uint8Array(n);
    this.byteValues = new Int16Array(n).fill(-1);
    this.startsWithSpace = new Uint8Array(n);
    const text: string[] = [];
    const textAtStart: string[] = [];
    model.pieces.forEach((p, id) => {
      this.types[id] = p.type;
      if (p.type === PieceType.Byte) this.byteValues[id] = Number.parseInt(p.piece.slice(3, 5), 16);
      const starts = p.piece.startsWith(SPACE_SYMBOL);
      this.startsWithSpace[id] = starts ? 1 : 0;
      text.push(p.piece.replaceAll(SPACE_SYMBOL, ' '));
      textAtStart.push((starts ? p.piece.slice(SPACE_SYMBOL.length) : p.piece).replaceAll(SPACE_SYMBOL, ' '));
    });
    this.text = text;
    this.textAtStart = textAtStart;
    this.unkSurface = model.unkSurface;
    this.stripsLeadingSpace = model.addDummyPrefix || model.removeExtraWhitespaces;
    this.stripsAllLeadingSpace = model.removeExtraWhitespaces;
  }
}

export class PieceDecoder {
  // Bytes of a UTF-8 character still incomplete (at most 3 held + 1 new).
  private readonly pending = new Uint8Array(4);
  private pendingLen = 0;
  private producedText = false;
  private atStart = true; // SentencePiece's is_bos_ws
  private leadingSpaceSeen = false; // SentencePiece's bos_ws_seen

  constructor(private readonly table: PieceTable) {}

  /** Feeds one id (0 <= id < table.count) and returns the text it completes. */
  push(id: number): string {
    const t = this.table;
    const byte = t.byteValues[id]!;
    if (byte >= 0) {
      this.pending[this.pendingLen++] = byte;
      return this.note(this.drainBytes(false));
    }
    // A non-byte piece ends the current byte run.
    const flushed = this.note(this.drainBytes(true));
    if (this.leadingSpaceSeen || this.producedText) this.atStart = false;
    let piece: string;
    switch (t.types[id]) {
      case PieceType.Control:
        piece = '';
        this.leadingSpaceSeen = false;
        break;
      case PieceType.Unknown:
        piece = t.unkSurface;
        this.leadingSpaceSeen = false;
        break;
      default:
        if (this.atStart && t.stripsLeadingSpace) {
          piece = t.textAtStart[id]!;
          this.leadingSpaceSeen = t.startsWithSpace[id] === 1 && !t.stripsAllLeadingSpace;
        } else {
          piece = t.text[id]!;
          this.leadingSpaceSeen = false;
        }
    }
    return flushed + this.note(piece);
  }

  /** Continues a sequence that already produced text (a resumed session): no leading space is stripped. */
  markContinued(): void {
    this.producedText = true;
    this.atStart = false;
  }

  /** Ends the sequence: bytes of an unfinished character come out as U+FFFD. */
  finish(): string {
    return this.note(this.drainBytes(true));
  }

  reset(): void {
    this.pendingLen = 0;
    this.producedText = false;
    this.atStart = true;
    this.leadingSpaceSeen = false;
  }

  private note(s: string): string {
    if (s.length > 0) this.producedText = true;
    return s;
  }

  /**
   * Decodes the pending bytes as SentencePiece decodes a byte run. Unless the
   * run has ended, a trailing sequence that more bytes could still complete
   * is kept back instead of being turned into U+FFFD.
   */
  private drainBytes(runEnded: boolean): string {
    const buf = this.pending;
    const len = this.pendingLen;
    let out = '';
    let i = 0;
    while (i < len) {
      const b0 = buf[i]!;
      if (b0 < 0x80) {
        out += String.fromCharCode(b0);
        i += 1;
        continue;
      }
      const need = b0 >= 0xc0 && b0 < 0xe0 ? 2 : b0 >= 0xe0 && b0 < 0xf0 ? 3 : b0 >= 0xf0 && b0 < 0xf8 ? 4 : 0;
      if (need > len - i) {
        if (!runEnded && allTrailBytes(buf, i + 1, len)) break;
        out += REPLACEMENT;
        i += 1;
        continue;
      }
      const cp = need === 0 ? -1 : decodeCodePoint(buf, i, need);
      if (cp < 0) {
        out += REPLACEMENT;
        i += 1;
      } else {
        out += String.fromCodePoint(cp);
        i += need;
      }
    }
    buf.copyWithin(0, i, len);
    this.pendingLen = len - i;
    return out;
  }
}

function isTrailByte(b: number): boolean {
  return (b & 0xc0) === 0x80;
}

function allTrailBytes(buf: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isTrailByte(buf[i]!)) return false;
  return true;
}

/** One UTF-8 character of `need` bytes, or -1 if it is not one (SentencePiece's DecodeUTF8 rules). */
function decodeCodePoint(buf: Uint8Array, at: number, need: number): number {
  let cp = buf[at]! & (0xff >> (need + 1));
  for (let k = 1; k < need; k++) {
    const b = buf[at + k]!;
    if (!isTrailByte(b)) return -1;
    cp = (cp << 6) | (b & 0x3f);
  }
  const min = need === 2 ? 0x80 : need === 3 ? 0x800 : 0x10000;
  if (cp < min) return -1; // overlong
  if ((cp >= 0xd800 && cp < 0xe000) || cp > 0x10ffff) return -1;
  return cp;
}
