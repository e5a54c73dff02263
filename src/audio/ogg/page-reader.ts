import { oggPageCrc } from './crc.js';
import {
  CAPTURE_PATTERN,
  FLAG_BOS,
  FLAG_CONTINUED,
  FLAG_EOS,
  MAX_PAGE_BYTES,
  MAX_SEGMENT_BYTES,
  OFF_CRC,
  OFF_FLAGS,
  OFF_GRANULE,
  OFF_SEGMENT_COUNT,
  OFF_SEQUENCE,
  OFF_SERIAL,
  OFF_VERSION,
  PAGE_HEADER_BYTES,
} from './page-format.js';

/** A complete packet, with the header fields of the page on which it ends. */
export interface OggPacket {
  data: Uint8Array;
  serial: number;
  pageSequence: number;
  /** Granule position of the page on which the packet ends (-1: none). */
  granule: number;
  bos: boolean;
  eos: boolean;
  /** No other packet ends after this one on the same page. */
  lastOnPage: boolean;
}

export type OggReadErrorKind =
  | 'garbage' // bytes that are not part of any page
  | 'bad-version'
  | 'bad-header' // reserved flag bits set
  | 'bad-crc'
  | 'page-too-large' // page larger than maxPageBytes
  | 'sequence-gap' // pages of a stream missing or out of order
  | 'lost-continuation' // a page continues a packet whose start was never seen
  | 'truncated-packet' // a packet's continuation never came
  | 'packet-too-large' // packet larger than maxPacketBytes
  | 'too-many-streams'
  | 'truncated-page'; // stream ended inside a page

export interface OggReadError {
  kind: OggReadErrorKind;
  message: string;
  /** Byte offset in the whole input where the problem was found. */
  offset: number;
}

export interface OggReadResult {
  packets: OggPacket[];
  errors: OggReadError[];
}

export interface OggPageReaderOptions {
  /** Largest page accepted, and so the most bytes buffered (default 65307, the format's maximum). */
  maxPageBytes?: number;
  /** Largest packet reassembled across pages (default 256 KiB). */
  maxPacketBytes?: number;
  /** Logical streams tracked at once (default 4). */
  maxStreams?: number;
  /** Errors listed per call; more are only counted in `stats.errors` (default 32). */
  maxErrorsPerPush?: number;
}

export interface OggReaderStats {
  bytes: number;
  pages: number;
  packets: number;
  errors: number;
  discardedBytes: number;
}

interface StreamState {
  nextSequence: number;
  parts: Uint8Array[];
  partBytes: number;
  /** Skipping the rest of a packet that was dropped. */
  dropping: boolean;
}

const DEFAULT_MAX_PACKET_BYTES = 256 * 1024;

function checkOption(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${v}`);
  }
  return v;
}

/**
 * Streaming Ogg demuxer. Bytes may be split anywhere; broken input becomes
 * error entries, after which the reader looks for the next "OggS". Memory is
 * bounded by `maxPageBytes` plus one partial packet per tracked stream.
 */
export class OggPageReader {
  private readonly buf: Uint8Array;
  private head = 0;
  private tail = 0;
  /** Input offset of buf[0]. */
  private base = 0;
  /** After a bad page, bytes skipped until the next good one are not reported again. */
  private resyncing = false;
  private readonly streams = new Map<number, StreamState>();
  private readonly maxPacketBytes: number;
  private readonly maxStreams: number;
  private readonly maxErrors: number;
  private out: OggReadResult = { packets: [], errors: [] };
  private garbageRun: { error: OggReadError; bytes: number; end: number } | null = null;
  readonly stats: OggReaderStats = { bytes: 0, pages: 0, packets: 0, errors: 0, discardedBytes: 0 };

  constructor(options: OggPageReaderOptions = {}) {
    const maxPage = checkOption('maxPageBytes', options.maxPageBytes ?? MAX_PAGE_BYTES, PAGE_HEADER_BYTES + 1, MAX_PAGE_BYTES);
    this.buf = new Uint8Array(maxPage);
    this.maxPacketBytes = checkOption('maxPacketBytes', options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES, 1, 2 ** 31);
    this.maxStreams = checkOption('maxStreams', options.maxStreams ?? 4, 1, 1024);
    this.maxErrors = checkOption('maxErrorsPerPush', options.maxErrorsPerPush ?? 32, 1, 1e6);
  }

  /** Bytes held: unparsed input plus partial packets. */
  get bufferedBytes(): number {
    let n = this.tail - this.head;
    for (const s of this.streams.values()) n += s.partBytes;
    return n;
  }

  push(chunk: Uint8Array): OggReadResult {
    this.out = { packets: [], errors: [] };
    this.garbageRun = null;
    this.stats.bytes += chunk.length;
    let off = 0;
    while (off < chunk.length) {
      if (this.buf.length - this.tail < chunk.length - off && this.head > 0) this.compact();
      const n = Math.min(chunk.length - off, this.buf.length - this.tail);
      this.buf.set(chunk.subarray(off, off + n), this.tail);
      this.tail += n;
      off += n;
      this.parse();
    }
    return this.out;
  }

  /** Declares the input finished: reports what was left incomplete and clears state. */
  end(): OggReadResult {
    this.out = { packets: [], errors: [] };
    this.garbageRun = null;
    const left = this.tail - this.head;
    if (left > 0) {
      const isPage = left >= 4 && this.matchesCapture(this.head);
      if (isPage) this.error('truncated-page', `input ended ${left} bytes into a page`, this.head);
      else if (!this.resyncing) this.error('garbage', `${left} trailing bytes are not an Ogg page`, this.head);
      this.discard(left);
    }
    for (const [serial, s] of this.streams) {
      if (s.partBytes > 0 || s.dropping) {
        this.error('truncated-packet', `stream ${serial} ended inside a packet`, this.head);
      }
    }
    this.streams.clear();
    this.resyncing = false;
    return this.out;
  }

  private compact(): void {
    this.buf.copyWithin(0, this.head, this.tail);
    this.base += this.head;
    this.tail -= this.head;
    this.head = 0;
  }

  private error(kind: OggReadErrorKind, message: string, bufIndex: number): void {
    this.stats.errors++;
    if (this.out.errors.length < this.maxErrors) {
      this.out.errors.push({ kind, message, offset: this.base + bufIndex });
    }
  }

  private discard(n: number): void {
    this.head += n;
    this.stats.discardedBytes += n;
  }

  private discardGarbage(n: number): void {
    if (n <= 0) return;
    if (!this.resyncing) {
      const at = this.base + this.head;
      const run = this.garbageRun;
      // One entry per contiguous run within a call, however the input was cut.
      if (run && run.end === at) {
        run.bytes += n;
        run.error.message = `${run.bytes} bytes before the next "OggS" discarded`;
      } else {
        this.error('garbage', `${n} bytes before the next "OggS" discarded`, this.head);
        const listed = this.out.errors[this.out.errors.length - 1];
        this.garbageRun = listed && listed.kind === 'garbage' && listed.offset === at ? { error: listed, bytes: n, end: at } : null;
      }
      if (this.garbageRun) this.garbageRun.end = at + n;
    }
    this.discard(n);
  }

  private matchesCapture(i: number): boolean {
    const b = this.buf;
    return b[i] === CAPTURE_PATTERN[0] && b[i + 1] === CAPTURE_PATTERN[1] && b[i + 2] === CAPTURE_PATTERN[2] && b[i + 3] === CAPTURE_PATTERN[3];
  }

  /** Index of the next "OggS" in the buffer, or -1. */
  private findCapture(from: number): number {
    for (let i = this.buf.indexOf(CAPTURE_PATTERN[0]!, from); i >= 0 && i + 4 <= this.tail; i = this.buf.indexOf(CAPTURE_PATTERN[0]!, i + 1)) {
      if (this.matchesCapture(i)) return i;
    }
    return -1;
  }

  /** Skips one byte of a rejected page so the search resumes after its "O". */
  private rejectPage(kind: OggReadErrorKind, message: string): void {
    this.error(kind, message, this.head);
    this.discard(1);
    this.resyncing = true;
  }

  private parse(): void {
    const b = this.buf;
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (;;) {
      const avail = this.tail - this.head;
      if (avail < 4) return;
      if (!this.matchesCapture(this.head)) {
        const k = this.findCapture(this.head + 1);
        // Without a match, keep 3 bytes: they may begin a pattern cut by the chunk boundary.
        this.discardGarbage(k >= 0 ? k - this.head : avail - 3);
        if (k < 0) return;
        continue;
      }
      if (avail < PAGE_HEADER_BYTES) return;
      const s = this.head;
      if (b[s + OFF_VERSION] !== 0) {
        this.rejectPage('bad-version', `unsupported Ogg version ${b[s + OFF_VERSION]}`);
        continue;
      }
      const flags = b[s + OFF_FLAGS]!;
      if ((flags & ~(FLAG_CONTINUED | FLAG_BOS | FLAG_EOS)) !== 0) {
        this.rejectPage('bad-header', `reserved header flag bits set (0x${flags.toString(16)})`);
        continue;
      }
      const segments = b[s + OFF_SEGMENT_COUNT]!;
      const headerBytes = PAGE_HEADER_BYTES + segments;
      if (headerBytes > b.length) {
        this.rejectPage('page-too-large', `page header of ${headerBytes} bytes exceeds maxPageBytes ${b.length}`);
        continue;
      }
      if (avail < headerBytes) return;
      let bodyBytes = 0;
      for (let i = s + PAGE_HEADER_BYTES; i < s + headerBytes; i++) bodyBytes += b[i]!;
      const pageBytes = headerBytes + bodyBytes;
      if (pageBytes > b.length) {
        this.rejectPage('page-too-large', `page of ${pageBytes} bytes exceeds maxPageBytes ${b.length}`);
        continue;
      }
      if (avail < pageBytes) return;
      const stored = view.getUint32(s + OFF_CRC, true);
      const computed = oggPageCrc(b, s, s + pageBytes);
      if (stored !== computed) {
        this.rejectPage('bad-crc', `CRC mismatch (stored 0x${stored.toString(16)}, computed 0x${computed.toString(16)})`);
        continue;
      }
      this.resyncing = false;
      this.stats.pages++;
      this.readPage(view, s, segments, flags);
      this.head += pageBytes;
    }
  }

  private streamFor(serial: number, sequence: number, at: number): StreamState {
    let st = this.streams.get(serial);
    if (st) return st;
    if (this.streams.size >= this.maxStreams) {
      const [oldest] = this.streams.keys();
      this.streams.delete(oldest!);
      this.error('too-many-streams', `more than ${this.maxStreams} logical streams; forgot stream ${oldest}`, at);
    }
    st = { nextSequence: sequence, parts: [], partBytes: 0, dropping: false };
    this.streams.set(serial, st);
    return st;
  }

  private dropPartial(st: StreamState): void {
    st.parts = [];
    st.partBytes = 0;
    st.dropping = false;
  }

  private readPage(view: DataView, s: number, segments: number, flags: number): void {
    const b = this.buf;
    const serial = view.getUint32(s + OFF_SERIAL, true);
    const sequence = view.getUint32(s + OFF_SEQUENCE, true);
    const granule = Number(view.getBigInt64(s + OFF_GRANULE, true));
    const bos = (flags & FLAG_BOS) !== 0;
    const eos = (flags & FLAG_EOS) !== 0;
    const continued = (flags & FLAG_CONTINUED) !== 0;

    const st = this.streamFor(serial, sequence, s);
    // An orphan continuation is expected right after a reported gap, so it is not reported twice.
    let skipping = false;
    if (sequence !== st.nextSequence) {
      this.error('sequence-gap', `stream ${serial}: page ${sequence} follows ${(st.nextSequence - 1) >>> 0}`, s);
      this.dropPartial(st);
      skipping = continued;
    } else if (continued && st.partBytes === 0 && !st.dropping) {
      this.error('lost-continuation', `stream ${serial}: page ${sequence} continues a packet that was never seen`, s);
      skipping = true;
    } else if (!continued && (st.partBytes > 0 || st.dropping)) {
      this.error('truncated-packet', `stream ${serial}: page ${sequence} starts a new packet before the previous one ended`, s);
      this.dropPartial(st);
    }
    st.nextSequence = (sequence + 1) >>> 0;

    const firstPacket = this.out.packets.length;
    let body = s + PAGE_HEADER_BYTES + segments;
    let pieceStart = body;
    for (let i = 0; i < segments; i++) {
      const lace = b[s + PAGE_HEADER_BYTES + i]!;
      body += lace;
      if (lace === MAX_SEGMENT_BYTES) continue;
      // A packet (or the tail of one) ends at `body`.
      if (skipping) {
        skipping = false;
      } else if (st.dropping) {
        this.dropPartial(st);
      } else if (st.partBytes + (body - pieceStart) > this.maxPacketBytes) {
        this.error('packet-too-large', `stream ${serial}: packet exceeds ${this.maxPacketBytes} bytes`, s);
        this.dropPartial(st);
      } else {
        this.emit(st, b.subarray(pieceStart, body), { serial, pageSequence: sequence, granule, bos, eos });
      }
      pieceStart = body;
    }
    if (pieceStart < body && !skipping) this.holdPiece(st, b.subarray(pieceStart, body), serial, s);

    const emitted = this.out.packets.length;
    if (emitted > firstPacket) this.out.packets[emitted - 1]!.lastOnPage = true;
    if (eos) {
      if (st.partBytes > 0 || st.dropping) this.error('truncated-packet', `stream ${serial} ended inside a packet`, s);
      this.streams.delete(serial);
    }
  }

  private holdPiece(st: StreamState, piece: Uint8Array, serial: number, at: number): void {
    if (st.dropping) return;
    if (st.partBytes + piece.length > this.maxPacketBytes) {
      this.error('packet-too-large', `stream ${serial}: packet exceeds ${this.maxPacketBytes} bytes`, at);
      this.dropPartial(st);
      st.dropping = true;
      return;
    }
    st.parts.push(piece.slice());
    st.partBytes += piece.length;
  }

  private emit(st: StreamState, tail: Uint8Array, info: Omit<OggPacket, 'data' | 'lastOnPage'>): void {
    let data: Uint8Array;
    if (st.partBytes === 0) {
      data = tail.slice();
    } else {
      data = new Uint8Array(st.partBytes + tail.length);
      let o = 0;
      for (const p of st.parts) {
        data.set(p, o);
        o += p.length;
      }
      data.set(tail, o);
      this.dropPartial(st);
    }
    this.stats.packets++;
    this.out.packets.push({ data, ...info, lastOnPage: false });
  }
}
