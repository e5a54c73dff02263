import { loadSentencePieceModel, type SentencePieceModel } from './model-proto.js';
import { PieceDecoder, PieceTable } from './piece-decoder.js';

/** Moshi's special text ids; none of them is ever shown as text. */
export interface TextSpecialIds {
  /** Text padding (Moshi: 3, `existing_text_padding_id`). */
  padId: number;
  /** End of padding (Moshi: 0, `existing_text_end_padding_id`). */
  endOfPaddingId: number;
  /** The initial text token fed to the LM, = text_card (Moshi 7B: 32000). */
  textStartId: number;
}

export const MOSHI_TEXT_SPECIAL_IDS: Readonly<TextSpecialIds> = { padId: 3, endOfPaddingId: 0, textStartId: 32000 };

export class SentencePieceTokenizer {
  readonly pieceCount: number;
  readonly special: Readonly<TextSpecialIds>;
  /** @internal shared with IncrementalDetokenizer. */
  readonly table: PieceTable;

  constructor(model: SentencePieceModel, special: Partial<TextSpecialIds> = {}) {
    this.table = new PieceTable(model);
    this.pieceCount = this.table.count;
    this.special = { ...MOSHI_TEXT_SPECIAL_IDS, ...special };
  }

  static load(path: string, special: Partial<TextSpecialIds> = {}): SentencePieceTokenizer {
    return new SentencePieceTokenizer(loadSentencePieceModel(path), special);
  }

  hasPiece(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < this.pieceCount;
  }

  /** Whether `id` is padding, end-of-padding or the text start token. */
  isSpecial(id: number): boolean {
    const s = this.special;
    return id === s.padId || id === s.endOfPaddingId || id === s.textStartId;
  }

  /** The raw piece (as SentencePiece's id_to_piece); throws RangeError for an id without one. */
  idToPiece(id: number): string {
    if (!this.hasPiece(id)) throw new RangeError(`text id ${id} has no piece (the tokenizer has ${this.pieceCount})`);
    return this.table.pieces[id]!;
  }

  /**
   * What Moshi's Python server sends for one text token: null for padding,
   * end-of-padding, the text start id and ids without a piece; otherwise the
   * piece itself with '▁' turned into a space (control pieces such as </s>
   * and byte pieces such as <0xE2> come out literally, as they do there).
   */
  pieceText(id: number): string | null {
    if (this.isSpecial(id) || !this.hasPiece(id)) return null;
    return this.table.text[id]!;
  }

  /** SentencePiece's DecodeIds; throws RangeError for an id without a piece, as it does. */
  decode(ids: readonly number[]): string {
    const decoder = new PieceDecoder(this.table);
    let out = '';
    for (const id of ids) {
      if (!this.hasPiece(id)) throw new RangeError(`cannot decode text id ${id} (the tokenizer has ${this.pieceCount} pieces)`);
      out += decoder.push(id);
    }
    return out + decoder.finish();
  }
}
