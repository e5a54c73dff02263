// Public API of the audio module: 24 kHz mono float PCM in 1920-sample frames,
// carried over the wire as Ogg Opus.

export { OggOpusInput } from './input-stream.js';
export type { AudioInputError, AudioInputErrorKind, AudioInputResult, AudioInputStats, OggOpusInputOptions } from './input-stream.js';
export { OggOpusOutput, DEFAULT_OUTPUT_SERIAL } from './output-stream.js';
export type { AudioOutputStats, OggOpusOutputOptions } from './output-stream.js';

export { oggCrc, oggCrcUpdate, oggPageCrc } from './ogg/crc.js';
export { OggPageReader } from './ogg/page-reader.js';
export type { OggPacket, OggPageReaderOptions, OggReadError, OggReadErrorKind, OggReadResult, OggReaderStats } from './ogg/page-reader.js';
export { buildPage, OggStreamWriter } from './ogg/page-writer.js';
export type { PageSpec } from './ogg/page-writer.js';
export { MAX_PAGE_BYTES, NO_GRANULE } from './ogg/page-format.js';
export type { PageFlags } from './ogg/page-format.js';

export { OpusPacketDecoder, DECODER_SAMPLE_RATE } from './opus/decoder.js';
export type { DecodeResult, OpusPacketDecoderOptions } from './opus/decoder.js';
export { OpusFrameEncoder, ENCODER_SAMPLE_RATE, DEFAULT_OPUS_FRAME } from './opus/encoder.js';
export type { OpusEncoderOptions } from './opus/encoder.js';
export { buildOpusHead, buildOpusTags, isOpusHead, isOpusTags, OpusHeaderError, parseOpusHead, parseOpusTags } from './opus/opus-head.js';
export type { OpusHead, OpusHeadInit, OpusTags } from './opus/opus-head.js';
export { checkOpusPacket } from './opus/packet.js';
export type { OpusPacketCheck } from './opus/packet.js';

export { PcmFramer, MODEL_FRAME_SAMPLES } from './pcm/framer.js';
export { resample } from './resample.js';
export type { ResampleOptions } from './resample.js';
export { encodeWav, parseWav, readWav, writeWav, WavFormatError } from './wav.js';
export type { WavAudio, WavEncoding, WavSampleFormat } from './wav.js';
