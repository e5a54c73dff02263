import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../helpers/redis.js';
import { connect, startTestServer, type TestClient, type TestServer } from '../helpers/server-harness.js';
import { oggPages, speechWav, type RawPage } from '../helpers/speech.js';

const FRAME = 1920;
const SPLIT_FRAMES = 20;
let redis: Awaited<ReturnType<typeof startRedis>>;
let one: TestServer;
let two: TestServer;
let pagesA: RawPage[];
let pagesB: RawPage[];
let framesB: number;

/** Speech cut at a frame boundary into two Ogg Opus streams, A (before the drop) and B (after). */
function splitSpeech(): void {
  const dir = mkdtempSync(join(tmpdir(), 'parley-resume-'));
  const wav = speechWav('We were talking about the weather, and then the line went quiet for a moment.', dir);
  const pcm = join(dir, 'speech24.wav');
  execFileSync('sox', [wav, '-r', '24000', '-c', '1', '-b', '16', pcm]);
  const total = Number(execFileSync('soxi', ['-s', pcm], { encoding: 'utf8' }).trim());
  const cut = SPLIT_FRAMES * FRAME;
  framesB = Math.floor((total - cut) / FRAME);
  const enc = (name: string, trim: string[]) => {
    const part = join(dir, `${name}.wav`);
    execFileSync('sox', [pcm, part, 'trim', ...trim]);
    const ogg = join(dir, `${name}.opus`);
    execFileSync('opusenc', ['--quiet', '--framesize', '20', '--max-delay', '40', part, ogg]);
    return oggPages(new Uint8Array(readFileSync(ogg)));
  };
  pagesA = enc('a', ['0s', `${cut}s`]);
  pagesB = enc('b', [`${cut}s`, `${framesB * FRAME}s`]);
}

before(async () => {
  splitSpeech();
  redis = await startRedis();
  const config = { resume: { redisUrl: redis.url, gracePeriodMs: 30_000 } };
  one = await startTestServer({ maxSessions: 2, config });
  two = await startTestServer({ maxSessions: 2, config });
});
after(async () => {
  await one.close();
  await two.close();
  await redis.stop();
});

async function stream(c: TestClient, pages: RawPage[]): Promise<void> {
  const t0 = performance.now();
  for (const p of pages) {
    const wait = t0 + Number(p.granule > 0n ? p.granule : 0n) / 48 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    c.send(0x01, p.bytes);
  }
}

const audioFrames = (c: TestClient) => Math.max(0, (c.messages.filter((m) => m.kind === 0x01).length - 2) / 2);
const text = (c: TestClient) => c.messages.filter((m) => m.kind === 0x02).map((m) => m.payload.toString('utf8')).join('');
const meta = (c: TestClient) => JSON.parse(c.messages.find((m) => m.kind === 0x04)!.payload.toString('utf8')) as Record<string, unknown>;
const SEEDS = '?text_seed=5&audio_seed=6';

test('a dropped session resumed on a second server through Redis continues exactly as one that never dropped', async () => {
  // The reference conversation: both streams on one connection (a chained Ogg stream), never dropped.
  const ref = await connect(one.url + SEEDS);
  await ref.waitFor((m) => m.some((x) => x.kind === 0x04), 10_000);
  await stream(ref, pagesA);
  await stream(ref, pagesB);
  await ref.waitFor(() => audioFrames(ref) >= SPLIT_FRAMES + framesB - 1, 20_000);
  ref.ws.close();
  await ref.closed;

  const first = await connect(one.url + SEEDS);
  await first.waitFor((m) => m.some((x) => x.kind === 0x04), 10_000);
  const token = meta(first)['resume_token'];
  assert.equal(typeof token, 'string');
  await stream(first, pagesA);
  await first.waitFor(() => audioFrames(first) >= SPLIT_FRAMES - 1, 20_000);
  first.ws.terminate(); // the connection drops: no close frame

  const second = await connect(`${two.url}?resume=${token as string}`);
  await second.waitFor((m) => m.some((x) => x.kind === 0x04), 10_000);
  const m2 = meta(second);
  assert.equal(m2['resumed'], true);
  assert.equal(m2['input_frames'], SPLIT_FRAMES);
  assert.equal(m2['text_seed'], '5');
  assert.notEqual(m2['resume_token'], token, 'a resumed session gets a new token');
  await stream(second, pagesB);
  await second.waitFor(() => audioFrames(second) >= framesB, 20_000);
  second.ws.close();
  await second.closed;

  assert.ok(text(ref).length > 0);
  assert.equal(text(first) + text(second), text(ref));
  assert.equal(audioFrames(first) + audioFrames(second), audioFrames(ref));
});

test('a used, forged or expired resume token is refused with a clear error', async () => {
  const c = await connect(one.url + SEEDS);
  await c.waitFor((m) => m.some((x) => x.kind === 0x04), 10_000);
  const token = meta(c)['resume_token'] as string;
  await stream(c, pagesA.slice(0, 10));
  await new Promise((r) => setTimeout(r, 500));
  c.ws.terminate();
  const resumed = await connect(`${two.url}?resume=${token}`);
  await resumed.waitFor((m) => m.some((x) => x.kind === 0x04), 10_000);
  resumed.ws.close();
  await resumed.closed;

  for (const t of [token, 'A'.repeat(43), 'not-a-token']) {
    const r = await connect(`${one.url}?resume=${t}`);
    const closed = await r.closed;
    assert.equal(closed.code, 1008, `token ${t}`);
    assert.match(r.messages.find((m) => m.kind === 0x05)?.payload.toString('utf8') ?? '', /invalid, expired or already used resume token/);
  }
});

test('a resume token expires after the grace period', async () => {
  const short = await startTestServer({ maxSessions: 1, config: { resume: { gracePeriodMs: 300 } } });
  try {
    const c = await connect(short.url);
    await c.waitFor((m) => m.some((x) => x.kind === 0x04), 10_000);
    const token = meta(c)['resume_token'] as string;
    await stream(c, pagesA.slice(0, 6));
    await new Promise((r) => setTimeout(r, 300));
    c.ws.terminate();
    await new Promise((r) => setTimeout(r, 3000));
    const r = await connect(`${short.url}?resume=${token}`);
    assert.equal((await r.closed).code, 1008);
    const ready = (await (await fetch(`${short.base}/readyz`)).json()) as { freeSlots: number };
    assert.equal(ready.freeSlots, 1, 'the dropped session does not hold a slot while it waits');
  } finally {
    await short.close();
  }
});
