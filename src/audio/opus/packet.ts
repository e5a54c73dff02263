// Structural check of an Opus packet (RFC 6716 §3.1–3.4) without decoding it,
// so malformed client data is rejected before it reaches the WASM decoder
// (which logs every failure to the console).

const MAX_FRAME_BYTES = 1275;
/** 120 ms at 48 kHz: the longest packet allowed. */
const MAX_PACKET_SAMPLES_48K = 5760;

export type OpusPacketCheck = { ok: true; samples48k: number; frames: number; stereo: boolean } | { ok: false; reason: string };

/** Samples per frame at 48 kHz for a TOC byte's configuration number. */
function frameSamples48k(config: number): number {
  if (config < 12) return [480, 960, 1920, 2880][config & 3]!;
  if (config < 16) return [480, 960][config & 1]!;
  return [120, 240, 480, 960][config & 3]!;
}

/** Reads a 1- or 2-byte frame length at `o`; returns [length, bytesUsed] or null if cut off. */
function readFrameLength(p: Uint8Array, o: number, end: number): [number, number] | null {
  if (o >= end) return null;
  const b0 = p[o]!;
  if (b0 < 252) return [b0, 1];
  if (o + 1 >= end) return null;
  return [p[o + 1]! * 4 + b0, 2];
}

export function checkOpusPacket(p: Uint8Array): OpusPacketCheck {
  const n = p.length;
  if (n === 0) return { ok: false, reason: 'empty packet' };
  const toc = p[0]!;
  const perFrame = frameSamples48k(toc >> 3);
  const stereo = (toc & 0x04) !== 0;
  const fail = (reason: string): OpusPacketCheck => ({ ok: false, reason });
  const ok = (frames: number): OpusPacketCheck => ({ ok: true, samples48k: frames * perFrame, frames, stereo });

  switch (toc & 3) {
    case 0:
      return n - 1 <= MAX_FRAME_BYTES ? ok(1) : fail('frame longer than 1275 bytes');
    case 1:
      if ((n - 1) % 2 !== 0) return fail('code 1 packet with an odd payload length');
      return (n - 1) / 2 <= MAX_FRAME_BYTES ? ok(2) : fail('frame longer than 1275 bytes');
    case 2: {
      const len = readFrameLength(p, 1, n);
      if (!len) return fail('code 2 packet cut inside its frame length');
      const rest = n - 1 - len[1];
      if (len[0] > rest) return fail('code 2 first frame runs past the packet');
      if (len[0] > MAX_FRAME_BYTES || rest - len[0] > MAX_FRAME_BYTES) return fail('frame longer than 1275 bytes');
      return ok(2);
    }
    default: {
      if (n < 2) return fail('code 3 packet without a frame count byte');
      const vbr = (p[1]! & 0x80) !== 0;
      const padded = (p[1]! & 0x40) !== 0;
      const frames = p[1]! & 0x3f;
      if (frames === 0) return fail('code 3 packet with zero frames');
      if (frames * perFrame > MAX_PACKET_SAMPLES_48K) return fail('packet longer than 120 ms');
      let o = 2;
      let end = n;
      if (padded) {
        for (;;) {
          if (o >= end) return fail('code 3 packet cut inside its padding length');
          const b = p[o++]!;
          end -= b === 255 ? 254 : b;
          if (b !== 255) break;
        }
        if (end < o) return fail('code 3 padding longer than the packet');
      }
      if (!vbr) {
        const rest = end - o;
        if (rest % frames !== 0) return fail('code 3 CBR payload not divisible by the frame count');
        return rest / frames <= MAX_FRAME_BYTES ? ok(frames) : fail('frame longer than 1275 bytes');
      }
      let sum = 0;
      for (let i = 0; i < frames - 1; i++) {
        const len = readFrameLength(p, o, end);
        if (!len) return fail('code 3 packet cut inside its frame lengths');
        if (len[0] > MAX_FRAME_BYTES) return fail('frame longer than 1275 bytes');
        o += len[1];
        sum += len[0];
      }
      const last = end - o - sum;
      if (last < 0) return fail('code 3 frames run past the packet');
      return last <= MAX_FRAME_BYTES ? ok(frames) : fail('frame longer than 1275 bytes');
    }
  }
}
