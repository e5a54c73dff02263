// Ogg demuxing for the reply stream: bytes in any split → packets, each with
// the granule of the page it ends on. The socket is reliable, so CRCs are not
// checked; a page that does not start with "OggS" is skipped up to the next one.

export interface Packet {
  data: Uint8Array;
  granule: number;
  bos: boolean;
}

const HEADER_BYTES = 27;

export class OggReader {
  private buffer = new Uint8Array(0);
  private partial: Uint8Array[] = [];

  push(bytes: Uint8Array): Packet[] {
    const joined = new Uint8Array(this.buffer.length + bytes.length);
    joined.set(this.buffer);
    joined.set(bytes, this.buffer.length);
    const out: Packet[] = [];
    let at = 0;
    for (;;) {
      at = findCapture(joined, at);
      if (at < 0) {
        // Keep a possible "Ogg" prefix of a capture pattern split across pushes.
        at = Math.max(0, joined.length - 3);
        break;
      }
      if (at + HEADER_BYTES > joined.length) break;
      const segments = joined[at + 26]!;
      const lacingEnd = at + HEADER_BYTES + segments;
      if (lacingEnd > joined.length) break;
      let bodyBytes = 0;
      for (let i = at + HEADER_BYTES; i < lacingEnd; i++) bodyBytes += joined[i]!;
      if (lacingEnd + bodyBytes > joined.length) break;
      this.readPage(joined, at, segments, out);
      at = lacingEnd + bodyBytes;
    }
    this.buffer = joined.slice(at);
    return out;
  }

  private readPage(page: Uint8Array, at: number, segments: number, out: Packet[]): void {
    const flags = page[at + 5]!;
    const granule = Number(new DataView(page.buffer, page.byteOffset + at + 6, 8).getBigInt64(0, true));
    if (!(flags & 0x01)) this.partial = [];
    let body = at + HEADER_BYTES + segments;
    for (let s = 0; s < segments; s++) {
      const len = page[at + HEADER_BYTES + s]!;
      this.partial.push(page.subarray(body, body + len));
      body += len;
      if (len < 255) {
        out.push({ data: concat(this.partial), granule, bos: (flags & 0x02) !== 0 });
        this.partial = [];
      }
    }
  }
}

function findCapture(b: Uint8Array, from: number): number {
  for (let i = from; i + 4 <= b.length; i++) {
    if (b[i] === 0x4f && b[i + 1] === 0x67 && b[i + 2] === 0x67 && b[i + 3] === 0x53) return i;
  }
  return -1;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!.slice();
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
