// Moshi's WebSocket protocol as a client sees it (shared/PROTOCOL.md): every
// binary message starts with a kind byte.

export const Kind = {
  Handshake: 0x00,
  Audio: 0x01,
  Text: 0x02,
  Control: 0x03,
  Metadata: 0x04,
  Error: 0x05,
  Ping: 0x06,
  ColoredText: 0x07,
} as const;

/** 24 kHz samples in one 80 ms model frame. */
export const FRAME_SAMPLES = 1920;
/** The same frame in Ogg granule units (48 kHz, whatever the coding rate). */
export const FRAME_GRANULE = 2 * FRAME_SAMPLES;
/** Model frames between an input frame and the reply frame it is paired with (Moshi's acoustic delay). */
export const REPLY_LAG_FRAMES = 1;

export function withKind(kind: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 1);
  out[0] = kind;
  out.set(payload, 1);
  return out;
}

/**
 * UTF-8 → string. Written out because k6's JS engine has no TextDecoder;
 * malformed sequences become U+FFFD.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let cp = 0xfffd;
    let len = 1;
    if (b < 0x80) {
      cp = b;
    } else if (b >= 0xc2 && b < 0xe0) {
      len = 2;
    } else if (b >= 0xe0 && b < 0xf0) {
      len = 3;
    } else if (b >= 0xf0 && b < 0xf5) {
      len = 4;
    }
    if (len > 1) {
      let v = b & (0x7f >> len);
      let ok = i + len <= bytes.length;
      for (let k = 1; ok && k < len; k++) {
        const c = bytes[i + k]!;
        if ((c & 0xc0) !== 0x80) ok = false;
        else v = (v << 6) | (c & 0x3f);
      }
      const min = len === 2 ? 0x80 : len === 3 ? 0x800 : 0x10000;
      if (ok && v >= min && v <= 0x10ffff && !(v >= 0xd800 && v <= 0xdfff)) cp = v;
      else len = 1;
    }
    out += String.fromCodePoint(cp);
    i += len;
  }
  return out;
}
