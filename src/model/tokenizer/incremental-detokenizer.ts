import { PieceDecoder } from './piece-decoder.js';
import type { SentencePieceTokenizer } from './sentencepiece-tokenizer.js';

/**
 * Per-session streaming text: push(id) returns just the text that id adds,
 * i.e. decode(history + id) minus decode(history) as Moshi's Rust server
 * computes it, where the history leaves out padding, end-of-padding and text
 * start ids. Unlike the Rust server (which only looks one token back), a
 * character split over several byte pieces comes out whole once its last
 * byte arrives ('' until then), and the leading space is only dropped for
 * the first piece of the session.
 *
 * Memory is bounded: instead of the id history it keeps SentencePiece's
 * decoding state, i.e. at most 3 bytes of an unfinished character and two flags.
 */
export class IncrementalDetokenizer {
  private readonly decoder: PieceDecoder;

  constructor(private readonly tokenizer: SentencePieceTokenizer) {
    this.decoder = new PieceDecoder(tokenizer.table);
  }

  /** Text added by `id`; '' for special ids, ids without a piece, and incomplete characters. */
  push(id: number): string {
    if (this.tokenizer.isSpecial(id) || !this.tokenizer.hasPiece(id)) return '';
    return this.decoder.push(id);
  }

  /** At the end of a session: the bytes of an unfinished character, as U+FFFD (as decode() would). */
  flush(): string {
    return this.decoder.finish();
  }

  reset(): void {
    this.decoder.reset();
  }

  /** For a resumed session whose text had already begun: its next piece keeps its leading space. */
  markContinued(): void {
    this.decoder.markContinued();
  }
}
