// OpusHead and OpusTags header packets (RFC 7845 §5).

const HEAD_MAGIC = 'OpusHead';
const TAGS_MAGIC = 'OpusTags';
const HEAD_FAMILY0_BYTES = 19;

export class OpusHeaderError extends Error {
  override readonly name = 'OpusHeaderError';
}

export interface OpusHead {
  /** Encapsulation version; only major version 0 (values 0–15) is readable. */
  version: number;
  channels: number;
  /** Samples at 48 kHz to discard from the decoder's output at stream start. */
  preSkip: number;
  /** Sample rate of the encoder's input, informational (0 = unspecified). */
  inputSampleRate: number;
  /** Output gain in dB. */
  outputGainDb: number;
  mappingFamily: number;
  /** Present when mappingFamily != 0. */
  streamCount?: number;
  coupledStreamCount?: number;
  channelMapping?: number[];
}

export interface OpusTags {
  vendor: string;
  /** "KEY=value" comments. */
  comments: string[];
}

function hasMagic(packet: Uint8Array, magic: string): boolean {
  if (packet.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (packet[i] !== magic.charCodeAt(i)) return false;
  return true;
}

export function isOpusHead(packet: Uint8Array): boolean {
  return hasMagic(packet, HEAD_MAGIC);
}

export function isOpusTags(packet: Uint8Array): boolean {
  return hasMagic(packet, TAGS_MAGIC);
}

function viewOf(p: Uint8Array): DataView {
  return new DataView(p.buffer, p.byteOffset, p.byteLength);
}

/** Parses an OpusHead packet; throws OpusHeaderError saying what is wrong. */
export function parseOpusHead(packet: Uint8Array): OpusHead {
  if (!isOpusHead(packet)) throw new OpusHeaderError('not an OpusHead packet (magic "OpusHead" missing)');
  if (packet.length < HEAD_FAMILY0_BYTES) {
    throw new OpusHeaderError(`OpusHead is ${packet.length} bytes; at least ${HEAD_FAMILY0_BYTES} required`);
  }
  const v = viewOf(packet);
  const version = packet[8]!;
  if (version >> 4 !== 0) throw new OpusHeaderError(`unsupported OpusHead version ${version} (major version must be 0)`);
  const channels = packet[9]!;
  if (channels === 0) throw new OpusHeaderError('OpusHead channel count is 0');
  const head: OpusHead = {
    version,
    channels,
    preSkip: v.getUint16(10, true),
    inputSampleRate: v.getUint32(12, true),
    outputGainDb: v.getInt16(16, true) / 256,
    mappingFamily: packet[18]!,
  };
  if (head.mappingFamily === 0) {
    if (channels > 2) throw new OpusHeaderError(`mapping family 0 allows 1 or 2 channels, got ${channels}`);
    return head;
  }
  const tableEnd = HEAD_FAMILY0_BYTES + 2 + channels;
  if (packet.length < tableEnd) {
    throw new OpusHeaderError(`OpusHead with mapping family ${head.mappingFamily} needs ${tableEnd} bytes, got ${packet.length}`);
  }
  const streams = packet[19]!;
  const coupled = packet[20]!;
  if (streams === 0) throw new OpusHeaderError('OpusHead stream count is 0');
  if (coupled > streams) throw new OpusHeaderError(`coupled stream count ${coupled} exceeds stream count ${streams}`);
  if (streams + coupled > 255) throw new OpusHeaderError('stream count plus coupled stream count exceeds 255');
  const mapping = Array.from(packet.subarray(21, tableEnd));
  for (const m of mapping) {
    if (m !== 255 && m >= streams + coupled) throw new OpusHeaderError(`channel mapping value ${m} out of range`);
  }
  head.streamCount = streams;
  head.coupledStreamCount = coupled;
  head.channelMapping = mapping;
  return head;
}

export interface OpusHeadInit {
  channels: number;
  preSkip: number;
  inputSampleRate: number;
  outputGainDb?: number;
}

/** Builds a mapping-family-0 (mono or stereo) OpusHead. */
export function buildOpusHead(init: OpusHeadInit): Uint8Array {
  if (init.channels !== 1 && init.channels !== 2) throw new RangeError('only 1 or 2 channels (mapping family 0) are supported');
  if (!Number.isInteger(init.preSkip) || init.preSkip < 0 || init.preSkip > 0xffff) throw new RangeError('preSkip must fit 16 bits');
  if (!Number.isInteger(init.inputSampleRate) || init.inputSampleRate < 0 || init.inputSampleRate > 0xffffffff) {
    throw new RangeError('inputSampleRate must fit 32 bits');
  }
  const gain = Math.round((init.outputGainDb ?? 0) * 256);
  if (gain < -32768 || gain > 32767) throw new RangeError('outputGainDb out of range');
  const p = new Uint8Array(HEAD_FAMILY0_BYTES);
  const v = viewOf(p);
  for (let i = 0; i < 8; i++) p[i] = HEAD_MAGIC.charCodeAt(i);
  p[8] = 1;
  p[9] = init.channels;
  v.setUint16(10, init.preSkip, true);
  v.setUint32(12, init.inputSampleRate, true);
  v.setInt16(16, gain, true);
  p[18] = 0;
  return p;
}

/** Parses an OpusTags packet; throws OpusHeaderError if a length runs past the end. */
export function parseOpusTags(packet: Uint8Array): OpusTags {
  if (!isOpusTags(packet)) throw new OpusHeaderError('not an OpusTags packet (magic "OpusTags" missing)');
  const v = viewOf(packet);
  const decoder = new TextDecoder();
  let o = 8;
  const readString = (what: string): string => {
    if (o + 4 > packet.length) throw new OpusHeaderError(`OpusTags truncated before the length of ${what}`);
    const n = v.getUint32(o, true);
    o += 4;
    if (n > packet.length - o) throw new OpusHeaderError(`OpusTags ${what} claims ${n} bytes; ${packet.length - o} left`);
    const s = decoder.decode(packet.subarray(o, o + n));
    o += n;
    return s;
  };
  const vendor = readString('vendor string');
  if (o + 4 > packet.length) throw new OpusHeaderError('OpusTags truncated before the comment count');
  const count = v.getUint32(o, true);
  o += 4;
  // Each comment needs at least its 4-byte length, which bounds a lying count.
  if (count > (packet.length - o) / 4) throw new OpusHeaderError(`OpusTags claims ${count} comments; too few bytes left`);
  const comments: string[] = [];
  for (let i = 0; i < count; i++) comments.push(readString(`comment ${i}`));
  return { vendor, comments };
}

export function buildOpusTags(tags: OpusTags): Uint8Array {
  const enc = new TextEncoder();
  const parts = [tags.vendor, ...tags.comments].map((s) => enc.encode(s));
  // magic, comment count, then each string with its 32-bit length
  const size = 8 + 4 + parts.reduce((n, p) => n + 4 + p.length, 0);
  const out = new Uint8Array(size);
  const v = viewOf(out);
  for (let i = 0; i < 8; i++) out[i] = TAGS_MAGIC.charCodeAt(i);
  let o = 8;
  const put = (p: Uint8Array): void => {
    v.setUint32(o, p.length, true);
    out.set(p, o + 4);
    o += 4 + p.length;
  };
  put(parts[0]!);
  v.setUint32(o, tags.comments.length, true);
  o += 4;
  for (const p of parts.slice(1)) put(p);
  return out;
}
