import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { OggOpusInput } from '../../src/audio/input-stream.js';
import { OggPageReader, type OggPacket } from '../../src/audio/ogg/page-reader.js';
import { checkOpusPacket } from '../../src/audio/opus/packet.js';
import { OggOpusOutput } from '../../src/audio/output-stream.js';
import { parseWav, writeWav } from '../../src/audio/wav.js';
import { runClient } from './run-client.js';

// A stand-in for Moshi's Python server: 1-byte handshake, metadata after it,
// one message per 80 ms frame holding whole pages (the header pages in the
// first), colored text, pings and kinds the client has never heard of.

const FRAME = 1920;
let wss: WebSocketServer;
let url: string;
let dir: string;
/** Ogg packets of each message the client sent, per connection. */
const received: OggPacket[][][] = [];

function serve(ws: WebSocket): void {
  const messages: OggPacket[][] = [];
  received.push(messages);
  const reader = new OggPageReader();
  const out = new OggOpusOutput();
  let input: OggOpusInput | null = null;
  let frames = 0;
  const tone = new Float32Array(FRAME).map((_, i) => 0.2 * Math.sin((2 * Math.PI * 440 * i) / 24000));
  void OggOpusInput.create().then((i) => {
    input = i;
    ws.send(Buffer.from([0x00]));
    ws.send(Buffer.concat([Buffer.from([0x04]), Buffer.from('{"text_temperature":0.7}')]));
    ws.send(Buffer.from([0x42, 1, 2, 3]));
    ws.send(Buffer.from([0x06]));
  });
  ws.on('message', (data: Buffer) => {
    if (data[0] !== 0x01 || !input) return;
    const bytes = new Uint8Array(data.subarray(1));
    messages.push(reader.push(bytes).packets);
    const complete = input.push(bytes).frames.length;
    for (let k = 0; k < complete; k++) {
      ws.send(Buffer.concat([Buffer.from([0x01]), ...out.push(tone)]));
      ws.send(frames % 2 === 0 ? Buffer.from([0x02, 0x61]) : Buffer.from([0x07, 0x01, 0x62]));
      frames++;
    }
  });
  ws.on('close', () => {
    input?.close();
    out.close();
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-compat-'));
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', serve);
  await new Promise((r) => wss.once('listening', r));
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/api/chat`;
});
after(() => new Promise<void>((r) => wss.close(() => r())));

test('the client works with a Python-style server (1-byte handshake, pages batched per frame, colored text, unknown kinds) and sends Moshi-style pages', { timeout: 60_000 }, async () => {
  // 1.0 s of noise at 16 kHz: 12.5 model frames, padded to 13.
  const noise = new Float32Array(16000).map(() => (Math.random() - 0.5) * 0.2);
  const inWav = join(dir, 'in.wav');
  await writeWav(inWav, noise, 16000);
  const out = join(dir, 'out.wav');
  const txt = join(dir, 'out.txt');
  const r = await runClient(['--url', url, '--in', inWav, '--out', out, '--transcript', txt, '--fast']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^frames: 13 sent, 13 received of 13$/m);
  // Every frame came back, so the reply is the input padded to whole frames, less the reply's pre-skip.
  const reply = parseWav(new Uint8Array(readFileSync(out)));
  const preSkip = new OggOpusOutput();
  assert.equal(reply.samples.length, 13 * FRAME - preSkip.preSkip / 2);
  preSkip.close();
  assert.equal(readFileSync(txt, 'utf8'), 'ab'.repeat(6) + 'a\n', 'text and colored text both make the transcript');

  // One page per message: OpusHead (alone, BOS), OpusTags, then one 20 ms packet per page.
  const sent = received.at(-1)!;
  for (const packets of sent) assert.equal(packets.length, 1, 'each message is one page with one packet');
  assert.equal(new TextDecoder().decode(sent[0]![0]!.data.subarray(0, 8)), 'OpusHead');
  assert.equal(sent[0]![0]!.bos, true);
  assert.equal(new TextDecoder().decode(sent[1]![0]!.data.subarray(0, 8)), 'OpusTags');
  const audio = sent.slice(2).map((p) => p[0]!);
  for (const p of audio) {
    const c = checkOpusPacket(p.data);
    assert.ok(c.ok && c.samples48k === 960, '20 ms packets');
  }
  assert.equal(audio.at(-1)!.eos, true, 'the stream ends with an EOS page');
});
