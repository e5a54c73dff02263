// Just enough Ogg for a load client: split a byte stream into pages, read
// granule positions, and restamp pages (sequence, granule, CRC) so that a
// clip can be looped as one continuous stream. No BigInt: k6's engine may
// lack it, and granules stay far below 2^53.

const HEADER_BYTES = 27;
const OFF_FLAGS = 5;
const OFF_GRANULE = 6;
const OFF_SEQUENCE = 18;
const OFF_CRC = 22;
const OFF_SEGMENTS = 26;
const FLAG_EOS = 0x04;

export interface OggPage {
  bytes: Uint8Array;
  /** -1 when no packet ends on the page. */
  granule: number;
  sequence: number;
  eos: boolean;
  /** The page body (packet data), for header checks. */
  body: Uint8Array;
}

function u32(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}

function putU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
  b[off + 2] = (v >>> 16) & 0xff;
  b[off + 3] = (v >>> 24) & 0xff;
}

function readGranule(b: Uint8Array, off: number): number {
  const lo = u32(b, off);
  const hi = u32(b, off + 4);
  if (lo === 0xffffffff && hi === 0xffffffff) return -1;
  return hi * 0x100000000 + lo;
}

/** Length of the complete page starting at `off`, or 0 if it is not all there yet. */
function pageLength(b: Uint8Array, off: number): number {
  if (off + HEADER_BYTES > b.length) return 0;
  const segments = b[off + OFF_SEGMENTS]!;
  if (off + HEADER_BYTES + segments > b.length) return 0;
  let body = 0;
  for (let s = 0; s < segments; s++) body += b[off + HEADER_BYTES + s]!;
  const len = HEADER_BYTES + segments + body;
  return off + len <= b.length ? len : 0;
}

function isCapture(b: Uint8Array, off: number): boolean {
  return b[off] === 0x4f && b[off + 1] === 0x67 && b[off + 2] === 0x67 && b[off + 3] === 0x53; // "OggS"
}

function toPage(bytes: Uint8Array): OggPage {
  const segments = bytes[OFF_SEGMENTS]!;
  return {
    bytes,
    granule: readGranule(bytes, OFF_GRANULE),
    sequence: u32(bytes, OFF_SEQUENCE),
    eos: (bytes[OFF_FLAGS]! & FLAG_EOS) !== 0,
    body: bytes.subarray(HEADER_BYTES + segments),
  };
}

/** Splits a whole Ogg file into pages (input we made ourselves: a flaw ends the list). */
export function splitPages(data: Uint8Array): OggPage[] {
  const reader = new OggPageSplitter();
  return reader.push(data);
}

/** Incremental splitter for pages that may arrive cut across messages; skips junk to the next "OggS". */
export class OggPageSplitter {
  private held: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array): OggPage[] {
    let buf = chunk;
    if (this.held.length > 0) {
      buf = new Uint8Array(this.held.length + chunk.length);
      buf.set(this.held, 0);
      buf.set(chunk, this.held.length);
    }
    const pages: OggPage[] = [];
    let off = 0;
    while (off < buf.length) {
      if (!isCapture(buf, off)) {
        if (buf.length - off < 4) break;
        off++;
        continue;
      }
      const len = pageLength(buf, off);
      if (len === 0) break;
      pages.push(toPage(buf.slice(off, off + len)));
      off += len;
    }
    this.held = buf.slice(off);
    return pages;
  }
}

const MAGIC_HEAD = [0x4f, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64]; // "OpusHead"
const MAGIC_TAGS = [0x4f, 0x70, 0x75, 0x73, 0x54, 0x61, 0x67, 0x73]; // "OpusTags"

function startsWith(b: Uint8Array, magic: number[]): boolean {
  if (b.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (b[i] !== magic[i]) return false;
  return true;
}

export const isOpusHead = (p: OggPage): boolean => startsWith(p.body, MAGIC_HEAD);
export const isOpusTags = (p: OggPage): boolean => startsWith(p.body, MAGIC_TAGS);

/** OpusHead pre-skip, in 48 kHz samples (RFC 7845 §5.1). */
export function opusPreSkip(head: OggPage): number {
  if (!isOpusHead(head) || head.body.length < 19) throw new Error('not an OpusHead page');
  return head.body[10]! | (head.body[11]! << 8);
}

const CRC_TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

/** Ogg's CRC-32: polynomial 0x04c11db7, not reflected, initial 0, no final XOR. */
export function oggCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ bytes[i]!) & 0xff]!) >>> 0;
  return crc;
}

/** A copy of `page` with a new sequence number and granule (and EOS cleared), its CRC recomputed. */
export function restampPage(page: OggPage, sequence: number, granule: number): Uint8Array {
  const b = page.bytes.slice();
  b[OFF_FLAGS] = b[OFF_FLAGS]! & ~FLAG_EOS;
  if (granule < 0) {
    putU32(b, OFF_GRANULE, 0xffffffff);
    putU32(b, OFF_GRANULE + 4, 0xffffffff);
  } else {
    putU32(b, OFF_GRANULE, granule % 0x100000000);
    putU32(b, OFF_GRANULE + 4, Math.floor(granule / 0x100000000));
  }
  putU32(b, OFF_SEQUENCE, sequence);
  putU32(b, OFF_CRC, 0);
  putU32(b, OFF_CRC, oggCrc(b));
  return b;
}
