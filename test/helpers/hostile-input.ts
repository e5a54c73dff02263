import fc from 'fast-check';
import { buildPage } from '../../src/audio/ogg/page-writer.js';
import type { RawPage } from './speech.js';

/** One thing a hostile client can send: a binary message, a text frame, or a text frame of invalid UTF-8. */
export type HostileMessage =
  | { type: 'binary'; data: Uint8Array; what: string }
  | { type: 'text'; data: string; what: string }
  | { type: 'badUtf8Text'; data: Uint8Array; what: string };

const audio = (page: Uint8Array, what: string): HostileMessage => ({ type: 'binary', data: Uint8Array.from([0x01, ...page]), what });
const binary = (data: Uint8Array, what: string): HostileMessage => ({ type: 'binary', data, what });

/** OpusHead fields a client may get wrong: version, channels, mapping family (with or without its table), length. */
function opusHead(version: number, channels: number, preSkip: number, gain: number, family: number, extra: Uint8Array, cut: number): Uint8Array {
  const p = new Uint8Array(19 + extra.length);
  p.set(new TextEncoder().encode('OpusHead'));
  p[8] = version;
  p[9] = channels;
  new DataView(p.buffer).setUint16(10, preSkip, true);
  new DataView(p.buffer).setUint32(12, 48000, true);
  new DataView(p.buffer).setInt16(16, gain, true);
  p[18] = family;
  p.set(extra, 19);
  return p.subarray(0, Math.min(p.length, cut));
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const granule = fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 2 ** 40 }), fc.constant(Number.MAX_SAFE_INTEGER));

/**
 * Hostile client messages: random kinds and bytes, truncated and
 * bit-flipped real pages (bad CRCs), well-formed pages of garbage Opus,
 * wrong OpusHeads, headers claiming the largest page and then stopping,
 * packets continued past any sane size, text frames, invalid UTF-8.
 */
export function hostileMessage(speech: RawPage[], maxMessageBytes: number): fc.Arbitrary<HostileMessage> {
  const realPage = fc.integer({ min: 0, max: speech.length - 1 }).map((i) => speech[i]!.bytes);
  const survivable = fc.oneof(
    fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 3000 })).map(([k, b]) => binary(Uint8Array.from([k, ...b]), `kind 0x${k.toString(16)}`)),
    fc.tuple(realPage, fc.nat()).map(([p, n]) => audio(p.subarray(0, n % p.length), 'truncated page')),
    fc.tuple(realPage, fc.array(fc.nat(), { minLength: 1, maxLength: 8 })).map(([p, flips]) => {
      const q = Uint8Array.from(p);
      for (const f of flips) q[f % q.length]! ^= 1 << (f % 8);
      return audio(q, 'bit-flipped page');
    }),
    fc.tuple(u32, u32, granule, fc.boolean(), fc.boolean(), fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 6 })).map(
      ([serial, sequence, g, bos, eos, packets]) => audio(buildPage({ serial, sequence, granule: g, flags: { bos, eos }, packets }), 'garbage Opus in a valid page'),
    ),
    fc.tuple(
      fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: -32768, max: 32767 }),
      fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 400 }), u32,
    ).map(([version, channels, preSkip, gain, family, extra, cut, serial]) =>
      audio(buildPage({ serial, sequence: 0, granule: 0, flags: { bos: true }, packets: [opusHead(version, channels, preSkip, gain, family, extra, cut)] }), 'wrong OpusHead')),
    // A header whose lacing values announce 255 × 255 body bytes, sent without the body.
    fc.tuple(u32, fc.integer({ min: 0, max: 255 })).map(([serial, keep]) => {
      const p = buildPage({ serial, sequence: 0, granule: -1, packets: [new Uint8Array(255 * 255)], lastPacketContinues: true });
      return audio(p.subarray(0, 27 + 255 + keep), 'page claiming 64 KiB, body missing');
    }),
    // A packet continued over page after page: its claimed size grows without end.
    fc.tuple(u32, fc.integer({ min: 1, max: 6 })).map(([serial, n]) => {
      const chunk = new Uint8Array(255 * 255 - 255 * 4);
      const pages = Array.from({ length: n }, (_, i) => buildPage({ serial, sequence: i, granule: -1, flags: { continued: i > 0 }, packets: [chunk], lastPacketContinues: true }));
      const all = new Uint8Array(pages.reduce((s, p) => s + p.length, 1));
      all[0] = 0x01;
      let o = 1;
      for (const p of pages) {
        all.set(p, o);
        o += p.length;
      }
      return binary(all.subarray(0, Math.min(all.length, maxMessageBytes)), 'endlessly continued packet');
    }),
    fc.uint8Array({ maxLength: 8 }).map((b) => binary(Uint8Array.from([0x03, ...b]), 'control')),
    fc.constantFrom(
      binary(new Uint8Array(0), 'empty message'),
      binary(Uint8Array.from([0x03, 0x03]), 'restart'),
      binary(Uint8Array.from([0x06]), 'ping kind'),
      binary(Uint8Array.from([0x04, ...new TextEncoder().encode('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}')]), 'polluting metadata'),
    ),
    fc.string({ maxLength: 200 }).map((s): HostileMessage => ({ type: 'text', data: s, what: 'text frame' })),
  );
  // These two end the session at once (1007, 1009), so they come rarely: most sequences get to the audio path.
  const fatal = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 50 }).map((b): HostileMessage => ({ type: 'badUtf8Text', data: Uint8Array.from([0xff, 0xfe, ...b]), what: 'invalid UTF-8 text frame' })),
    fc.constant(binary(new Uint8Array(maxMessageBytes + 1).fill(0x01), 'oversized message')),
  );
  return fc.oneof({ arbitrary: survivable, weight: 40 }, { arbitrary: fatal, weight: 1 });
}
