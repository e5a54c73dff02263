// Ogg's CRC-32: polynomial 0x04c11db7, MSB-first (not reflected), initial
// value 0, no final XOR. Generic CRC-32 packages (reflected, 0xffffffff init)
// give different values, so Ogg needs its own table.

const POLY = 0x04c11db7;

const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let bit = 0; bit < 8; bit++) {
      r = r & 0x80000000 ? (r << 1) ^ POLY : r << 1;
    }
    table[i] = r >>> 0;
  }
  return table;
})();

/** Continues a CRC over `data[start, end)`; returns the unsigned 32-bit value. */
export function oggCrcUpdate(crc: number, data: Uint8Array, start = 0, end = data.length): number {
  let c = crc >>> 0;
  for (let i = start; i < end; i++) {
    c = ((c << 8) ^ TABLE[((c >>> 24) ^ data[i]!) & 0xff]!) >>> 0;
  }
  return c;
}

/** CRC of a whole buffer. */
export function oggCrc(data: Uint8Array): number {
  return oggCrcUpdate(0, data);
}

const ZERO4 = new Uint8Array(4);

/** Offset of the CRC field inside a page header. */
export const CRC_OFFSET = 22;

/**
 * CRC of the page `data[start, end)` computed with its CRC field taken as zero,
 * without modifying the buffer.
 */
export function oggPageCrc(data: Uint8Array, start: number, end: number): number {
  let c = oggCrcUpdate(0, data, start, start + CRC_OFFSET);
  c = oggCrcUpdate(c, ZERO4);
  return oggCrcUpdate(c, data, start + CRC_OFFSET + 4, end);
}
