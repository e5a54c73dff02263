export { IncrementalDetokenizer } from './incremental-detokenizer.js';
export { loadSentencePieceModel, parseSentencePieceModel, PieceType, TokenizerModelError } from './model-proto.js';
export type { ModelPiece, SentencePieceModel } from './model-proto.js';
export { MOSHI_TEXT_SPECIAL_IDS, SentencePieceTokenizer } from './sentencepiece-tokenizer.js';
export type { TextSpecialIds } from './sentencepiece-tokenizer.js';
