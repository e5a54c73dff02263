import { OggOpusOutput } from '../../audio/output-stream.js';
import { MODEL_FRAME_SAMPLES } from '../../audio/pcm/framer.js';
import { resample } from '../../audio/resample.js';
import { readWav } from '../../audio/wav.js';

export const SAMPLE_RATE = 24000;

export interface InputPage {
  bytes: Uint8Array;
  /** 24 kHz samples the encoder had consumed once this page could exist (0 for header pages): its due time in real-time mode. */
  rawEnd: number;
}

export interface EncodedInput {
  pages: InputPage[];
  /** Model frames the server will cut from this input. */
  frames: number;
  /** Seconds of audio in the file. */
  seconds: number;
  /** OpusHead pre-skip in 24 kHz samples: the server drops this many decoded samples first. */
  preSkip: number;
}

/**
 * Reads a WAV, brings it to 24 kHz mono, and encodes it as one Ogg Opus
 * stream with one Opus packet per page, as a live client would send it.
 * The audio is padded to whole 80 ms frames and the stream ends with an EOS
 * page whose granule trims the encoder's flush, so the server gets exactly
 * `frames` frames and none is left half-filled.
 */
export async function encodeInputWav(path: string, opusFrameSamples: number): Promise<EncodedInput> {
  const wav = await readWav(path);
  const pcm = resample(wav.samples, wav.sampleRate, SAMPLE_RATE);
  const frames = Math.max(1, Math.ceil(pcm.length / MODEL_FRAME_SAMPLES));
  const padded = new Float32Array(frames * MODEL_FRAME_SAMPLES);
  padded.set(pcm);
  const out = new OggOpusOutput({ frameSize: MODEL_FRAME_SAMPLES, opusFrameSize: opusFrameSamples, serial: randomSerial() });
  const pages: InputPage[] = [];
  let raw = 0;
  try {
    for (let f = 0; f < frames; f++) {
      const produced = out.push(padded.subarray(f * MODEL_FRAME_SAMPLES, (f + 1) * MODEL_FRAME_SAMPLES));
      // Header pages (first push only) come before the audio pages, one packet each.
      const audioPages = MODEL_FRAME_SAMPLES / opusFrameSamples;
      produced.forEach((bytes, i) => {
        const audioIndex = i - (produced.length - audioPages);
        if (audioIndex >= 0) raw += opusFrameSamples;
        pages.push({ bytes, rawEnd: audioIndex >= 0 ? raw : 0 });
      });
    }
    raw += opusFrameSamples;
    for (const bytes of out.finish()) pages.push({ bytes, rawEnd: raw });
  } finally {
    out.close();
  }
  return { pages, frames, seconds: wav.samples.length / wav.sampleRate, preSkip: out.preSkip / 2 };
}

function randomSerial(): number {
  return (Math.random() * 0x1_0000_0000) >>> 0;
}
