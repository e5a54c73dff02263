// OpusHead and OpusTags (RFC 7845 §5.1, §5.2), mono, channel mapping family 0.

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

export function buildOpusHead(preSkip48k: number, inputSampleRate: number): Uint8Array {
  const head = new Uint8Array(19);
  const v = new DataView(head.buffer);
  head.set(ascii('OpusHead'));
  head[8] = 1; // version
  head[9] = 1; // channels
  v.setUint16(10, preSkip48k, true);
  v.setUint32(12, inputSampleRate, true);
  // output gain 0, mapping family 0
  return head;
}

export function buildOpusTags(vendor: string): Uint8Array {
  const vendorBytes = new TextEncoder().encode(vendor);
  const tags = new Uint8Array(8 + 4 + vendorBytes.length + 4);
  const v = new DataView(tags.buffer);
  tags.set(ascii('OpusTags'));
  v.setUint32(8, vendorBytes.length, true);
  tags.set(vendorBytes, 12);
  // no user comments
  return tags;
}

const startsWith = (p: Uint8Array, magic: string): boolean => p.length >= 8 && ascii(magic).every((c, i) => p[i] === c);

export const isOpusTags = (p: Uint8Array): boolean => startsWith(p, 'OpusTags');

export function parseOpusHead(p: Uint8Array): { channels: number; preSkip48k: number } | null {
  if (!startsWith(p, 'OpusHead') || p.length < 19) return null;
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  return { channels: p[9]!, preSkip48k: v.getUint16(10, true) };
}
