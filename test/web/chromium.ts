import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's chromium; the tests never download a browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** Fails (never skips) when the browser is missing, so CI without it goes red. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: the browser tests need Debian's chromium (apt-get install -y chromium; .ci/run installs it)`);
  }
}

/** Headless chromium with a fresh profile and a fake microphone that plays `micWav` (16-bit PCM WAV) once. */
export async function launchWithFakeMic(micWav: string): Promise<BrowserContext> {
  requireChromium();
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'parley-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1000, height: 900 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${micWav}%noloop`,
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}
