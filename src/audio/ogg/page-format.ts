// Layout of an Ogg page header (RFC 3533 §6).

/** "OggS" */
export const CAPTURE_PATTERN = new Uint8Array([0x4f, 0x67, 0x67, 0x53]);

/** Bytes before the segment table. */
export const PAGE_HEADER_BYTES = 27;

export const MAX_SEGMENTS = 255;
export const MAX_SEGMENT_BYTES = 255;

/** 27-byte header + 255 lacing values + 255 × 255 body bytes. */
export const MAX_PAGE_BYTES = PAGE_HEADER_BYTES + MAX_SEGMENTS + MAX_SEGMENTS * MAX_SEGMENT_BYTES;

/** Header-type flag bits. */
export const FLAG_CONTINUED = 0x01;
export const FLAG_BOS = 0x02;
export const FLAG_EOS = 0x04;

/** Granule position meaning "no packet finishes on this page". */
export const NO_GRANULE = -1;

// Field offsets inside the header.
export const OFF_VERSION = 4;
export const OFF_FLAGS = 5;
export const OFF_GRANULE = 6;
export const OFF_SERIAL = 14;
export const OFF_SEQUENCE = 18;
export const OFF_CRC = 22;
export const OFF_SEGMENT_COUNT = 26;

export interface PageFlags {
  /** First page of a logical stream. */
  bos: boolean;
  /** Last page of a logical stream. */
  eos: boolean;
  /** The page starts with the rest of a packet begun on an earlier page. */
  continued: boolean;
}
