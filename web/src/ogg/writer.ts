import { oggCrc } from './crc.js';

const HEADER_BYTES = 27;

export interface PageInit {
  serial: number;
  sequence: number;
  /** Granule position after the last packet on the page (48 kHz samples for Opus). */
  granule: number;
  bos?: boolean;
  eos?: boolean;
  /** Whole packets, each under 255 × 255 bytes (Opus packets are at most 1275). */
  packets: readonly Uint8Array[];
}

/** One Ogg page holding whole packets, CRC filled in. */
export function buildPage(p: PageInit): Uint8Array {
  const lacing: number[] = [];
  for (const packet of p.packets) {
    for (let n = packet.length; ; n -= 255) {
      lacing.push(Math.min(n, 255));
      if (n < 255) break;
    }
  }
  if (lacing.length > 255) throw new RangeError('too many packets for one page');
  const body = p.packets.reduce((n, x) => n + x.length, 0);
  const page = new Uint8Array(HEADER_BYTES + lacing.length + body);
  const view = new DataView(page.buffer);
  page.set([0x4f, 0x67, 0x67, 0x53]); // "OggS", version 0
  page[5] = (p.bos ? 0x02 : 0) | (p.eos ? 0x04 : 0);
  view.setBigInt64(6, BigInt(p.granule), true);
  view.setUint32(14, p.serial, true);
  view.setUint32(18, p.sequence, true);
  page[26] = lacing.length;
  page.set(lacing, HEADER_BYTES);
  let at = HEADER_BYTES + lacing.length;
  for (const packet of p.packets) {
    page.set(packet, at);
    at += packet.length;
  }
  view.setUint32(22, oggCrc(page), true);
  return page;
}
