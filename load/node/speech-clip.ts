import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** load/.cache, found from this file whether it runs from load/node or dist/load/node. */
export function loadCacheDir(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const root = here.includes(`${join('dist', 'load', 'node')}`) ? join(here, '..', '..', '..') : join(here, '..', '..');
  return join(root, 'load', '.cache');
}

/** About 25 s of English at espeak-ng's default rate; looped for longer conversations. */
export const SPEECH_TEXT = [
  'Hello there. I would like to book a table for four people tomorrow evening, around seven if possible.',
  'We are celebrating a birthday, so a quiet corner would be lovely.',
  'Also, one of my friends is vegetarian. Do you have a few dishes without meat or fish?',
  'And is there somewhere nearby to park the car? Thank you so much, that sounds perfect.',
].join(' ');

/**
 * Real speech as Moshi's web client sends it: espeak-ng, then opusenc with
 * 20 ms frames and pages of at most 40 ms. Cached under load/.cache (the k6
 * scripts read the same file); built with a rename so that concurrent runs
 * never see half a file.
 */
export function ensureSpeechClip(path = join(loadCacheDir(), 'speech.opus')): string {
  if (existsSync(path)) return path;
  const dir = join(path, '..');
  mkdirSync(dir, { recursive: true });
  const work = mkdtempSync(join(dir, 'build-'));
  try {
    const wav = join(work, 'speech.wav');
    const ogg = join(work, 'speech.opus');
    try {
      execFileSync('espeak-ng', ['-w', wav, SPEECH_TEXT], { stdio: 'pipe' });
      execFileSync('opusenc', ['--quiet', '--framesize', '20', '--max-delay', '40', wav, ogg], { stdio: 'pipe' });
    } catch (e) {
      throw new Error(`could not make the speech clip (needs espeak-ng and opusenc: apt-get install espeak-ng opus-tools): ${(e as Error).message}`);
    }
    renameSync(ogg, path);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return path;
}
