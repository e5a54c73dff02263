// A minimal protobuf wire-format reader: just what parsing a SentencePiece
// model needs (varints, length-delimited fields, fixed32 floats, skipping).
// Hand-written rather than protobufjs so that every malformed byte ends in a
// ProtobufError with its offset, which the caller turns into a message that
// names the file.

export class ProtobufError extends Error {
  override name = 'ProtobufError';
}

export const WireType = {
  Varint: 0,
  Fixed64: 1,
  LengthDelimited: 2,
  Fixed32: 5,
} as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

export interface FieldTag {
  field: number;
  wireType: number;
}

export class ProtobufReader {
  private pos: number;
  private readonly view: DataView;

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  get offset(): number {
    return this.pos;
  }

  readTag(): FieldTag {
    const at = this.pos;
    const tag = this.readVarint();
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field === 0) throw new ProtobufError(`field number 0 at byte ${at}`);
    return { field, wireType };
  }

  /**
   * Reads a varint of up to 10 bytes. Values above 2^53 lose precision, which
   * is fine here: the fields we keep are enums, bools and small ints, and
   * negative int32s (10-byte varints) only need to be skipped or wrapped.
   */
  readVarint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufError(`varint runs past the end at byte ${this.pos}`);
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new ProtobufError(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  /** Varint as a signed int32 (protobuf encodes negative int32 as a 64-bit two's complement). */
  readInt32(): number {
    return this.readVarint() | 0;
  }

  readFloat32(): number {
    this.need(4);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  readBytes(): Uint8Array {
    const len = this.readVarint();
    this.need(len);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  /** A sub-reader over a length-delimited field (an embedded message). */
  readMessage(): ProtobufReader {
    const len = this.readVarint();
    this.need(len);
    const sub = new ProtobufReader(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return sub;
  }

  readString(): string {
    const bytes = this.readBytes();
    try {
      return utf8Strict.decode(bytes);
    } catch {
      throw new ProtobufError(`string field ending at byte ${this.pos} is not valid UTF-8`);
    }
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WireType.Varint:
        this.readVarint();
        return;
      case WireType.Fixed64:
        this.need(8);
        this.pos += 8;
        return;
      case WireType.LengthDelimited:
        this.readBytes();
        return;
      case WireType.Fixed32:
        this.need(4);
        this.pos += 4;
        return;
      default:
        // Groups are long deprecated and never appear in SentencePiece models.
        throw new ProtobufError(`unsupported wire type ${wireType} at byte ${this.pos}`);
    }
  }

  /** Fails unless the field has the wire type its schema requires. */
  expect(tag: FieldTag, wireType: WireType): void {
    if (tag.wireType !== wireType) {
      throw new ProtobufError(`field ${tag.field} has wire type ${tag.wireType}, expected ${wireType} (before byte ${this.pos})`);
    }
  }

  private need(n: number): void {
    if (this.pos + n > this.end) {
      throw new ProtobufError(`field of ${n} bytes at byte ${this.pos} runs past the end of its message (byte ${this.end})`);
    }
  }
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });
