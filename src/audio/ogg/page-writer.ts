import { oggCrc } from './crc.js';
import {
  CAPTURE_PATTERN,
  FLAG_BOS,
  FLAG_CONTINUED,
  FLAG_EOS,
  MAX_SEGMENTS,
  MAX_SEGMENT_BYTES,
  NO_GRANULE,
  OFF_CRC,
  OFF_FLAGS,
  OFF_GRANULE,
  OFF_SEGMENT_COUNT,
  OFF_SEQUENCE,
  OFF_SERIAL,
  PAGE_HEADER_BYTES,
  type PageFlags,
} from './page-format.js';

export interface PageSpec {
  serial: number;
  sequence: number;
  /** Granule position after the last packet finishing on this page; -1 if none finishes. */
  granule: number;
  flags?: Partial<PageFlags>;
  /** Packet data in order; the first is a continuation if `flags.continued`. */
  packets: readonly Uint8Array[];
  /**
   * The last packet goes on in the next page: it gets no terminating lacing
   * value, so its length here must be a multiple of 255.
   */
  lastPacketContinues?: boolean;
}

function checkU32(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new RangeError(`${name} must be an integer in [0, 2^32), got ${v}`);
  }
}

function lacingCount(length: number, terminated: boolean): number {
  return terminated ? Math.floor(length / MAX_SEGMENT_BYTES) + 1 : length / MAX_SEGMENT_BYTES;
}

/** Serialises one Ogg page (header, lacing values, body) with its CRC. */
export function buildPage(spec: PageSpec): Uint8Array {
  checkU32('serial', spec.serial);
  checkU32('sequence', spec.sequence);
  if (!Number.isSafeInteger(spec.granule) || spec.granule < NO_GRANULE) {
    throw new RangeError(`granule must be an integer >= -1, got ${spec.granule}`);
  }
  const n = spec.packets.length;
  let segments = 0;
  let bodyBytes = 0;
  spec.packets.forEach((p, i) => {
    const terminated = !(spec.lastPacketContinues && i === n - 1);
    if (!terminated && p.length % MAX_SEGMENT_BYTES !== 0) {
      throw new RangeError('a packet continued on the next page must fill whole 255-byte segments here');
    }
    segments += lacingCount(p.length, terminated);
    bodyBytes += p.length;
  });
  if (segments > MAX_SEGMENTS) {
    throw new RangeError(`packets need ${segments} lacing values; a page holds at most ${MAX_SEGMENTS}`);
  }

  const page = new Uint8Array(PAGE_HEADER_BYTES + segments + bodyBytes);
  const view = new DataView(page.buffer);
  page.set(CAPTURE_PATTERN, 0);
  // version stays 0
  const flags = spec.flags ?? {};
  page[OFF_FLAGS] = (flags.continued ? FLAG_CONTINUED : 0) | (flags.bos ? FLAG_BOS : 0) | (flags.eos ? FLAG_EOS : 0);
  view.setBigInt64(OFF_GRANULE, BigInt(spec.granule), true);
  view.setUint32(OFF_SERIAL, spec.serial, true);
  view.setUint32(OFF_SEQUENCE, spec.sequence, true);
  page[OFF_SEGMENT_COUNT] = segments;

  let lace = PAGE_HEADER_BYTES;
  let body = PAGE_HEADER_BYTES + segments;
  spec.packets.forEach((p, i) => {
    const terminated = !(spec.lastPacketContinues && i === n - 1);
    const full = Math.floor(p.length / MAX_SEGMENT_BYTES);
    page.fill(MAX_SEGMENT_BYTES, lace, lace + full);
    lace += full;
    if (terminated) page[lace++] = p.length % MAX_SEGMENT_BYTES;
    page.set(p, body);
    body += p.length;
  });

  view.setUint32(OFF_CRC, oggCrc(page), true);
  return page;
}

/**
 * Writes one logical stream packet by packet, keeping the page sequence.
 * Each packet starts a new page; one larger than a page spills onto
 * continuation pages.
 */
export class OggStreamWriter {
  readonly serial: number;
  private sequence: number;
  private started = false;
  private ended = false;

  constructor(serial: number, firstSequence = 0) {
    checkU32('serial', serial);
    checkU32('firstSequence', firstSequence);
    this.serial = serial;
    this.sequence = firstSequence;
  }

  /** Sequence number the next page will carry. */
  get nextSequence(): number {
    return this.sequence;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Pages holding `packet`; the last one carries `granule` (and EOS if asked). */
  writePacket(packet: Uint8Array, granule: number, opts: { eos?: boolean } = {}): Uint8Array[] {
    if (this.ended) throw new Error('Ogg stream already ended with an EOS page');
    const perPage = MAX_SEGMENTS * MAX_SEGMENT_BYTES;
    const pages: Uint8Array[] = [];
    let offset = 0;
    for (;;) {
      const rest = packet.length - offset;
      // A remainder of exactly 255 × 255 bytes still needs a terminating 0 lacing value.
      const last = rest < perPage;
      const piece = packet.subarray(offset, offset + (last ? rest : perPage));
      pages.push(
        buildPage({
          serial: this.serial,
          sequence: this.sequence,
          granule: last ? granule : NO_GRANULE,
          flags: { bos: !this.started, continued: offset > 0, eos: last && opts.eos === true },
          packets: [piece],
          lastPacketContinues: !last,
        }),
      );
      this.started = true;
      this.sequence = (this.sequence + 1) >>> 0;
      offset += piece.length;
      if (last) break;
    }
    if (opts.eos) this.ended = true;
    return pages;
  }
}
