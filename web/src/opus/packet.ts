/** Duration of an Opus packet in 48 kHz samples, from its TOC byte (RFC 6716 §3.1); 0 if malformed. */
export function opusPacketSamples48k(p: Uint8Array): number {
  if (p.length === 0) return 0;
  const config = p[0]! >> 3;
  const perFrame = config < 12 ? [480, 960, 1920, 2880][config & 3]! : config < 16 ? [480, 960][config & 1]! : [120, 240, 480, 960][config & 3]!;
  switch (p[0]! & 3) {
    case 0:
      return perFrame;
    case 3:
      return p.length > 1 ? (p[1]! & 0x3f) * perFrame : 0;
    default:
      return 2 * perFrame;
  }
}
