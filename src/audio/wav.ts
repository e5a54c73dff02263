import { readFile, writeFile } from 'node:fs/promises';

export class WavFormatError extends Error {
  override readonly name = 'WavFormatError';
}

export type WavSampleFormat = 'pcm' | 'float';

export interface WavAudio {
  sampleRate: number;
  /** Channels in the file; `samples` is always their mono average. */
  channels: number;
  bitsPerSample: number;
  format: WavSampleFormat;
  samples: Float32Array;
}

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

function fourcc(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}

interface FmtChunk {
  format: WavSampleFormat;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  blockAlign: number;
}

function parseFmt(v: DataView, at: number, size: number): FmtChunk {
  if (size < 16) throw new WavFormatError(`fmt chunk is ${size} bytes; at least 16 required`);
  let tag = v.getUint16(at, true);
  const channels = v.getUint16(at + 2, true);
  const sampleRate = v.getUint32(at + 4, true);
  const blockAlign = v.getUint16(at + 12, true);
  const bitsPerSample = v.getUint16(at + 14, true);
  if (tag === WAVE_FORMAT_EXTENSIBLE) {
    if (size < 40) throw new WavFormatError(`WAVE_FORMAT_EXTENSIBLE fmt chunk is ${size} bytes; 40 required`);
    // The sub-format GUID starts with the plain format tag.
    tag = v.getUint16(at + 24, true);
  }
  let format: WavSampleFormat;
  if (tag === WAVE_FORMAT_PCM) {
    if (![8, 16, 24, 32].includes(bitsPerSample)) throw new WavFormatError(`unsupported PCM sample size ${bitsPerSample} bits`);
    format = 'pcm';
  } else if (tag === WAVE_FORMAT_IEEE_FLOAT) {
    if (bitsPerSample !== 32 && bitsPerSample !== 64) throw new WavFormatError(`unsupported float sample size ${bitsPerSample} bits`);
    format = 'float';
  } else {
    throw new WavFormatError(`unsupported WAV format tag 0x${tag.toString(16)} (only PCM and IEEE float)`);
  }
  if (channels === 0) throw new WavFormatError('fmt chunk declares 0 channels');
  if (sampleRate === 0) throw new WavFormatError('fmt chunk declares a sample rate of 0');
  if (blockAlign !== channels * (bitsPerSample / 8)) {
    throw new WavFormatError(`block align ${blockAlign} does not match ${channels} channels of ${bitsPerSample} bits`);
  }
  return { format, channels, sampleRate, bitsPerSample, blockAlign };
}

function sampleReader(v: DataView, fmt: FmtChunk): (at: number) => number {
  if (fmt.format === 'float') return fmt.bitsPerSample === 32 ? (at) => v.getFloat32(at, true) : (at) => v.getFloat64(at, true);
  switch (fmt.bitsPerSample) {
    case 8:
      return (at) => (v.getUint8(at) - 128) / 128;
    case 16:
      return (at) => v.getInt16(at, true) / 32768;
    case 24:
      return (at) => ((v.getInt8(at + 2) << 16) | v.getUint16(at, true)) / 8388608;
    default:
      return (at) => v.getInt32(at, true) / 2147483648;
  }
}

/**
 * Decodes a RIFF/WAVE file to mono float samples. A data chunk whose size
 * runs past the end (as written by tools piping to stdout) is cut to the
 * whole frames present.
 */
export function parseWav(bytes: Uint8Array): WavAudio {
  if (bytes.length < 12) throw new WavFormatError(`file is ${bytes.length} bytes; too short for a RIFF header`);
  if (fourcc(bytes, 0) !== 'RIFF') throw new WavFormatError(`not a RIFF file (starts with "${fourcc(bytes, 0)}")`);
  if (fourcc(bytes, 8) !== 'WAVE') throw new WavFormatError(`RIFF file of type "${fourcc(bytes, 8)}", not WAVE`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fmt: FmtChunk | null = null;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = fourcc(bytes, at);
    const size = v.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (body + size > bytes.length) throw new WavFormatError('fmt chunk runs past the end of the file');
      fmt = parseFmt(v, body, size);
    } else if (id === 'data') {
      if (!fmt) throw new WavFormatError('data chunk comes before any fmt chunk');
      const available = Math.min(size, bytes.length - body);
      const frames = Math.floor(available / fmt.blockAlign);
      return { sampleRate: fmt.sampleRate, channels: fmt.channels, bitsPerSample: fmt.bitsPerSample, format: fmt.format, samples: toMono(v, body, frames, fmt) };
    }
    // Chunks are padded to an even size.
    at = body + size + (size & 1);
  }
  throw new WavFormatError(fmt ? 'no data chunk' : 'no fmt chunk');
}

function toMono(v: DataView, start: number, frames: number, fmt: FmtChunk): Float32Array {
  const read = sampleReader(v, fmt);
  const step = fmt.bitsPerSample / 8;
  const out = new Float32Array(frames);
  const scale = 1 / fmt.channels;
  for (let f = 0, at = start; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < fmt.channels; c++, at += step) sum += read(at);
    out[f] = sum * scale;
  }
  return out;
}

export type WavEncoding = 'pcm16' | 'float32';

/** Encodes mono samples as a 16-bit PCM (default, clipped to [-1, 1)) or 32-bit float WAV. */
export function encodeWav(samples: Float32Array, sampleRate: number, encoding: WavEncoding = 'pcm16'): Uint8Array {
  if (!Number.isInteger(sampleRate) || sampleRate <= 0 || sampleRate > 0xffffffff) throw new RangeError(`bad sample rate ${sampleRate}`);
  const bytesPerSample = encoding === 'pcm16' ? 2 : 4;
  const dataBytes = samples.length * bytesPerSample;
  if (36 + dataBytes > 0xffffffff) throw new RangeError('too many samples for a WAV file');
  const out = new Uint8Array(44 + dataBytes);
  const v = new DataView(out.buffer);
  const put = (at: number, s: string): void => {
    for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i);
  };
  put(0, 'RIFF');
  v.setUint32(4, 36 + dataBytes, true);
  put(8, 'WAVE');
  put(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, encoding === 'pcm16' ? WAVE_FORMAT_PCM : WAVE_FORMAT_IEEE_FLOAT, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * bytesPerSample, true);
  v.setUint16(32, bytesPerSample, true);
  v.setUint16(34, bytesPerSample * 8, true);
  put(36, 'data');
  v.setUint32(40, dataBytes, true);
  if (encoding === 'float32') {
    for (let i = 0; i < samples.length; i++) v.setFloat32(44 + 4 * i, samples[i]!, true);
  } else {
    for (let i = 0; i < samples.length; i++) {
      const s = Math.round(samples[i]! * 32768);
      v.setInt16(44 + 2 * i, s > 32767 ? 32767 : s < -32768 ? -32768 : s, true);
    }
  }
  return out;
}

export async function readWav(path: string): Promise<WavAudio> {
  return parseWav(await readFile(path));
}

export async function writeWav(path: string, samples: Float32Array, sampleRate: number, encoding: WavEncoding = 'pcm16'): Promise<void> {
  await writeFile(path, encodeWav(samples, sampleRate, encoding));
}
