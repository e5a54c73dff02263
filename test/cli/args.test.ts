import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseClientArgs } from '../../src/cli/client/args.js';
import { percentile, FrameLatency } from '../../src/cli/client/latency.js';
import { describeClose, parseServerMessage } from '../../src/cli/client/messages.js';

const base = ['--in', 'a.wav', '--out', 'b.wav'];

test('client arguments: defaults, query settings merged into the URL, 20/40 ms frames', () => {
  const r = parseClientArgs([...base, '--url=ws://h:1/api/chat?x=1', '--query', 'text_seed=3&audio_topk=10', '--opus-frame-ms', '40']);
  assert.ok(r.ok && !r.help);
  assert.equal(r.options.url, 'ws://h:1/api/chat?x=1&text_seed=3&audio_topk=10');
  assert.equal(r.options.pace, 'realtime');
  assert.equal(r.options.opusFrameSamples, 960);
  const d = parseClientArgs(base);
  assert.ok(d.ok && !d.help);
  assert.equal(d.options.url, 'ws://127.0.0.1:8998/api/chat');
  assert.equal(d.options.opusFrameSamples, 480);
  assert.equal(d.options.transcript, null);
});

test('client arguments are refused with a reason: wrong scheme, both paces, odd frame size, unknown or repeated flags', () => {
  const why = (argv: string[]): string => {
    const r = parseClientArgs(argv);
    assert.equal(r.ok, false, argv.join(' '));
    return r.ok ? '' : r.error;
  };
  assert.match(why([...base, '--url', 'http://h/api/chat']), /ws:\/\/ or wss:\/\//);
  assert.match(why([...base, '--fast', '--realtime']), /exclude each other/);
  assert.match(why([...base, '--opus-frame-ms', '30']), /20 or 40/);
  assert.match(why([...base, '--loud']), /unknown option --loud/);
  assert.match(why([...base, '--in', 'c.wav']), /given twice/);
  assert.match(why([...base, '--url']), /needs a value/);
  assert.match(why(['--out', 'b.wav']), /--in FILE is required/);
  assert.match(why([...base, 'stray']), /unexpected argument/);
});

test('server messages: both handshake sizes, every kind, unknown kinds ignored', () => {
  assert.deepEqual(parseServerMessage(new Uint8Array([0])), { kind: 'handshake', protocolVersion: null, modelVersion: null });
  assert.deepEqual(parseServerMessage(new Uint8Array([0, 1, 0, 0, 0, 2, 0, 0, 0])), { kind: 'handshake', protocolVersion: 1, modelVersion: 2 });
  assert.deepEqual(parseServerMessage(new Uint8Array([2, 0x68, 0x69])), { kind: 'text', text: 'hi' });
  assert.deepEqual(parseServerMessage(new Uint8Array([7, 4, 0x68])), { kind: 'coloredText', color: 4, text: 'h' });
  assert.deepEqual(parseServerMessage(new Uint8Array([4, ...new TextEncoder().encode('{"a":1}')])), { kind: 'metadata', value: { a: 1 } });
  assert.deepEqual(parseServerMessage(new Uint8Array([5, 0x78])), { kind: 'error', message: 'x' });
  assert.deepEqual(parseServerMessage(new Uint8Array([6])), { kind: 'ping' });
  assert.equal(parseServerMessage(new Uint8Array([0x42, 1])).kind, 'ignored');
  assert.equal(parseServerMessage(new Uint8Array(0)).kind, 'ignored');
  assert.match(describeClose(1013, 'server busy'), /busy.*try again later \(1013: server busy\)/);
});

test('frame latency pairs input frame n (after the pre-skip) with reply frame n', () => {
  const l = new FrameLatency(156);
  l.sent(1920, 0); // not a whole frame yet: 156 samples are pre-skip
  assert.equal(l.framesSent, 0);
  l.sent(1920 + 156, 10);
  l.sent(2 * 1920 + 156, 90);
  l.received(1920, 110);
  l.received(2 * 1920, 250);
  assert.deepEqual(l.samples, [100, 160]);
  assert.equal(percentile([5, 1, 4, 2, 3], 50), 3);
  assert.equal(percentile([5, 1, 4, 2, 3], 95), 5);
  assert.equal(percentile([], 50), null);
});
