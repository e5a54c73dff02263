import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Real speech from espeak-ng, as a WAV file path. */
export function speechWav(text: string, dir = mkdtempSync(join(tmpdir(), 'parley-speech-'))): string {
  const wav = join(dir, 'speech.wav');
  execFileSync('espeak-ng', ['-w', wav, text]);
  return wav;
}

/** The speech encoded by opusenc as Moshi's web client sends it: 20 ms frames, pages of about 40 ms. */
export function speechOgg(text: string): { path: string; bytes: Uint8Array } {
  const dir = mkdtempSync(join(tmpdir(), 'parley-speech-'));
  const wav = speechWav(text, dir);
  const ogg = join(dir, 'speech.opus');
  execFileSync('opusenc', ['--quiet', '--framesize', '20', '--max-delay', '40', wav, ogg]);
  return { path: ogg, bytes: new Uint8Array(readFileSync(ogg)) };
}

export interface RawPage {
  bytes: Uint8Array;
  granule: bigint;
}

/** Splits a well-formed Ogg file into its pages (test input only: no validation). */
export function oggPages(data: Uint8Array): RawPage[] {
  const pages: RawPage[] = [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let i = 0;
  while (i + 27 <= data.length) {
    const segments = data[i + 26]!;
    let body = 0;
    for (let s = 0; s < segments; s++) body += data[i + 27 + s]!;
    const len = 27 + segments + body;
    pages.push({ bytes: data.subarray(i, i + len), granule: view.getBigInt64(i + 6, true) });
    i += len;
  }
  return pages;
}

/** Decodes any audio file to 24 kHz mono float samples with ffmpeg. */
export function ffmpegDecode(path: string): Float32Array {
  const out = execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 'f32le', '-ar', '24000', '-ac', '1', '-'], { maxBuffer: 1 << 28 });
  return new Float32Array(out.buffer, out.byteOffset, out.byteLength / 4);
}
