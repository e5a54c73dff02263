import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { OggPageReader, type OggPacket } from '../../src/audio/ogg/page-reader.js';
import { checkOpusPacket } from '../../src/audio/opus/packet.js';
import { connect, startTestServer, type TestServer } from '../helpers/server-harness.js';
import { speechWav } from '../helpers/speech.js';
import { launchWithFakeMic, requireChromium } from './chromium.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ARTIFACTS = join(REPO, 'test-artifacts');

/** What the page exposes on window.parleyStats (web/src/stats.ts). */
interface PageStats {
  state: string;
  handshake: boolean;
  metadata: unknown;
  pagesSent: number;
  audioChunksDecoded: number;
  samplesScheduled: number;
  samplesPlayed: number;
  transcript: string;
  errors: string[];
  closeCode: number | null;
  latencyMs: { last: number | null; p50: number | null; p95: number | null };
}

declare global {
  interface Window {
    parleyStats: PageStats;
  }
}

let srv: TestServer;
let browser: BrowserContext;

before(async () => {
  requireChromium();
  assert.ok(existsSync(join(REPO, 'dist', 'web', 'index.html')), 'the web client is not built: run npm run build');
  // A few seconds of real speech at 48 kHz, 16-bit PCM, as the fake microphone.
  const dir = mkdtempSync(join(tmpdir(), 'parley-browser-'));
  const raw = speechWav('Hello there. Can you hear me? Tell me about the weather today, please.', dir);
  const mic = join(dir, 'mic.wav');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', raw, '-ar', '48000', '-ac', '1', '-c:a', 'pcm_s16le', mic]);
  srv = await startTestServer({ maxSessions: 1 });
  browser = await launchWithFakeMic(mic);
});

after(async () => {
  await browser?.close();
  await srv?.close();
});

const stats = (page: Page): Promise<PageStats> => page.evaluate(() => window.parleyStats);

/** Polls the page's stats until `ok` holds; on timeout the error shows them, so a failure says where it stopped. */
async function waitForStats(page: Page, what: string, ok: (s: PageStats) => boolean, timeoutMs: number): Promise<PageStats> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await stats(page);
    if (ok(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; page stats: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One page at a time: a page left over from a failed test would hold the server's only slot. */
async function closePages(): Promise<void> {
  for (const p of browser.pages()) await p.close();
}

async function openPage(query = ''): Promise<{ page: Page; sent: Buffer[]; pageErrors: string[] }> {
  await closePages();
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const sent: Buffer[] = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => {
    if (typeof f.payload !== 'string') sent.push(f.payload);
  }));
  await page.goto(`${srv.base}/${query}`);
  return { page, sent, pageErrors };
}

test('the page talks to the server from a real browser: handshake, reply audio decoded and scheduled, transcript shown', { timeout: 60_000 }, async () => {
  const { page, sent, pageErrors } = await openPage('?text_seed=7&audio_seed=8');
  assert.equal(await page.inputValue('input[name=text_seed]'), '7', 'settings are taken from the page URL');
  await page.click('#connect');
  try {
    await waitForStats(page, 'the handshake', (s) => s.handshake || s.errors.length > 0, 15_000);
    // Talk for a few seconds: at least 1.5 s of reply scheduled and some text.
    const s = await waitForStats(page, 'reply audio and text', (s) => (s.samplesScheduled >= 36_000 && s.transcript.length > 0) || s.errors.length > 0, 25_000);
    assert.equal(s.state, 'live');
    assert.deepEqual(s.errors, []);
    assert.ok(s.audioChunksDecoded > 10, `decoded ${s.audioChunksDecoded} chunks`);
    assert.ok(s.latencyMs.p50 !== null && s.latencyMs.p50 > 0, 'a reply latency was measured');
    assert.equal(await page.locator('#problem').isHidden(), true, `no problem shown, but: ${await page.textContent('#problem')}`);
    assert.ok(((await page.textContent('#transcript')) ?? '').length > 0, 'the transcript is on the page');
    assert.match((await page.textContent('#meta')) ?? '', /text seed 7/, 'the session metadata is shown');
    await waitForStats(page, 'the worklet to play audio', (s) => s.samplesPlayed > 0, 5_000);
  } finally {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'browser.png'), fullPage: true });
  }

  await page.click('#disconnect');
  await waitForStats(page, 'the disconnect', (s) => s.state === 'closed', 5_000);
  assert.equal(await page.textContent('#status'), 'Disconnected.');
  assert.deepEqual(pageErrors, []);
  await page.close();

  // What went over the wire is what Moshi's web client sends: one Ogg page per message,
  // OpusHead then OpusTags, then pages of two 20 ms Opus packets.
  assert.ok(sent.length > 20, `sent ${sent.length} messages`);
  const reader = new OggPageReader();
  const pages: OggPacket[][] = [];
  for (const m of sent) {
    assert.equal(m[0], 0x01, 'audio messages only');
    const r = reader.push(new Uint8Array(m.subarray(1)));
    assert.deepEqual(r.errors, [], 'valid Ogg pages with correct CRCs');
    assert.ok(r.packets.length > 0 && r.packets.at(-1)!.lastOnPage, 'each message is whole pages');
    pages.push(r.packets);
  }
  assert.equal(new TextDecoder().decode(pages[0]![0]!.data.subarray(0, 8)), 'OpusHead');
  assert.equal(pages[0]![0]!.bos, true);
  assert.equal(new TextDecoder().decode(pages[1]![0]!.data.subarray(0, 8)), 'OpusTags');
  for (const page of pages.slice(2)) {
    assert.equal(page.length, 2, 'two Opus packets per page');
    for (const p of page) {
      const c = checkOpusPacket(p.data);
      assert.ok(c.ok && c.samples48k === 960, '20 ms Opus frames');
    }
  }
});

test('a full server is explained in words: busy, try again later (close code 1013)', { timeout: 60_000 }, async () => {
  // Take the only slot, once the last test's page and session have let go of it.
  await closePages();
  const deadline = Date.now() + 5_000;
  while (srv.server.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const holder = await connect(srv.url);
  await holder.waitFor((m) => m.some((x) => x.kind === 0x00), 10_000);
  try {
    const { page } = await openPage();
    await page.click('#connect');
    const s = await waitForStats(page, 'the refusal', (s) => s.state === 'error', 15_000);
    assert.equal(s.closeCode, 1013);
    assert.equal(s.handshake, false);
    const shown = (await page.textContent('#problem')) ?? '';
    assert.match(shown, /server is busy/i);
    assert.match(shown, /try again/i);
    assert.equal(await page.textContent('#state'), 'error');
    await page.close();
  } finally {
    holder.ws.close();
    await holder.closed;
  }
});

test('close codes and error messages from the server are put in words a person understands', { timeout: 60_000 }, async () => {
  const { page } = await openPage();
  const texts = await page.evaluate(async () => {
    const proto = (await import('/protocol.js' as string)) as { describeClose(code: number, detail: string): { text: string; isError: boolean } };
    return Object.fromEntries([1000, 1001, 1008, 1011, 1013].map((c) => [c, proto.describeClose(c, c === 1008 ? 'text_temperature: must be a number >= 0' : '')]));
  });
  assert.match(texts[1001]!.text, /shutting down or restarting/);
  assert.match(texts[1008]!.text, /would not go on.*text_temperature: must be a number >= 0.*Sampling settings/s);
  assert.match(texts[1011]!.text, /internal error/);
  assert.match(texts[1013]!.text, /busy/);
  assert.equal(texts[1000]!.isError, false);
  for (const c of [1001, 1008, 1011, 1013]) assert.equal(texts[c]!.isError, true);
  await page.close();
});

test('the page parses every message kind of the protocol and ignores unknown ones', { timeout: 60_000 }, async () => {
  const { page } = await openPage();
  const parsed = await page.evaluate(async () => {
    const proto = (await import('/protocol.js' as string)) as { parseServerMessage(d: Uint8Array): { kind: string } & Record<string, unknown> };
    const enc = (kind: number, text = ''): Uint8Array => new Uint8Array([kind, ...new TextEncoder().encode(text)]);
    return [
      proto.parseServerMessage(new Uint8Array([0])),
      proto.parseServerMessage(new Uint8Array(9)),
      proto.parseServerMessage(enc(0x02, 'hi')),
      proto.parseServerMessage(enc(0x04, '{"model":"m"}')),
      proto.parseServerMessage(enc(0x05, 'oops')),
      proto.parseServerMessage(new Uint8Array([0x06])),
      proto.parseServerMessage(new Uint8Array([0x07, 3, 0x68, 0x69])),
      proto.parseServerMessage(new Uint8Array([0x03, 0x01])),
      proto.parseServerMessage(new Uint8Array([0x42, 1, 2])),
      proto.parseServerMessage(new Uint8Array(0)),
    ];
  });
  assert.deepEqual(parsed.map((m) => m.kind), ['handshake', 'handshake', 'text', 'metadata', 'error', 'ping', 'coloredText', 'ignored', 'ignored', 'ignored']);
  assert.equal(parsed[2]!['text'], 'hi');
  assert.deepEqual(parsed[3]!['value'], { model: 'm' });
  assert.equal(parsed[6]!['color'], 3);
  assert.equal(parsed[6]!['text'], 'hi');
  await page.close();
});

test('the web client is served at / with script types a browser accepts, and no path reaches outside it', { timeout: 60_000 }, async () => {
  const get = (url: string) => srv.server.app.inject({ method: 'GET', url });
  const index = await get('/');
  assert.equal(index.statusCode, 200);
  assert.match(index.headers['content-type'] as string, /^text\/html/);
  assert.match(index.body, /<script type="module" src="main.js">/);
  for (const path of ['/main.js', '/worklets/capture.js', '/worklets/player.js']) {
    const r = await get(path);
    assert.equal(r.statusCode, 200, path);
    assert.match(r.headers['content-type'] as string, /javascript/, path);
  }
  for (const path of ['/../package.json', '/%2e%2e/package.json', '/..%2f..%2fpackage.json', '/worklets/..%2f..%2f..%2fpackage.json', '/%2e%2e%2f%2e%2e%2fsrc/cli/parley.js', '/..\\..\\package.json']) {
    const r = await get(path);
    assert.ok(r.statusCode >= 400, `${path}: ${r.statusCode}`);
    assert.doesNotMatch(r.body, /"name": "parley"|#!\/usr\/bin\/env node/, path);
  }
});
