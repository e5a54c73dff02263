// Test audio made on the fly with the Debian tools CI installs (espeak-ng,
// opusenc, ffmpeg, sox), always under os.tmpdir().

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh folder under os.tmpdir(), removed when the test process exits. */
export function tempDir(prefix = 'parley-audio-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs a tool and returns its stdout; throws with its stderr if it fails. */
export function run(cmd: string, args: string[]): Buffer {
  return execFileSync(cmd, args, { maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Exit status and output of a tool that may legitimately fail (e.g. opusinfo). */
export function runStatus(cmd: string, args: string[]): { status: number; output: string } {
  try {
    const out = execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: 0, output: out.toString() };
  } catch (err) {
    const e = err as { status?: number | null; stdout?: Buffer; stderr?: Buffer };
    return { status: e.status ?? -1, output: `${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}` };
  }
}

/** espeak-ng speech as a WAV (22050 Hz mono 16-bit); returns its path. */
export function speechWav(dir: string, text: string, name = 'speech.wav'): string {
  const path = join(dir, name);
  run('espeak-ng', ['-w', path, text]);
  return path;
}

/** Encodes a WAV with opusenc; returns the .opus path. */
export function opusenc(wavPath: string, extraArgs: string[] = []): string {
  const out = wavPath.replace(/\.wav$/, '') + '.opus';
  run('opusenc', ['--quiet', ...extraArgs, wavPath, out]);
  return out;
}

/** Speech encoded by opusenc, with its duration in seconds (from the WAV). */
export function speechOpus(dir: string, text: string, extraArgs: string[] = []): { opus: Uint8Array; seconds: number; wavPath: string } {
  const wavPath = speechWav(dir, text);
  const opusPath = opusenc(wavPath, extraArgs);
  const seconds = Number(run('soxi', ['-D', wavPath]).toString().trim());
  return { opus: readFileSync(opusPath), seconds, wavPath };
}

/** Decodes any file ffmpeg reads to 24 kHz mono float samples. */
export function ffmpegDecode24k(path: string): Float32Array {
  const raw = run('ffmpeg', ['-v', 'error', '-i', path, '-f', 'f32le', '-ar', '24000', '-ac', '1', '-']);
  return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}

export function sine(freq: number, rate: number, seconds: number, amp = 0.5): Float32Array {
  const n = Math.round(rate * seconds);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = amp * Math.sin((2 * Math.PI * freq * i) / rate);
  return out;
}

export function rms(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return x.length ? Math.sqrt(s / x.length) : 0;
}

/** Pearson correlation over the common length. */
export function correlation(a: Float32Array, b: Float32Array): number {
  const n = Math.min(a.length, b.length);
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i]! - ma;
    const y = b[i]! - mb;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Frequency of a clean tone from its rising zero crossings, with sub-sample interpolation. */
export function toneFrequency(x: Float32Array, rate: number): number {
  const crossings: number[] = [];
  for (let i = 1; i < x.length; i++) {
    if (x[i - 1]! < 0 && x[i]! >= 0) crossings.push(i - 1 + x[i - 1]! / (x[i - 1]! - x[i]!));
  }
  if (crossings.length < 2) return 0;
  return ((crossings.length - 1) * rate) / (crossings[crossings.length - 1]! - crossings[0]!);
}

export function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Deterministic PRNG (mulberry32) so failures can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cuts bytes into chunks of random sizes in [1, maxChunk]. */
export function randomSplit(bytes: Uint8Array, rand: () => number, maxChunk: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let o = 0; o < bytes.length; ) {
    const n = 1 + Math.floor(rand() * maxChunk);
    chunks.push(bytes.subarray(o, o + n));
    o += n;
  }
  return chunks;
}
