import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { z } from 'zod';

// safetensors: u64 little-endian header length, a JSON header, then raw data.
// Tensors are read one at a time, so a 15 GB file is never held in memory whole.

const DTYPE_BYTES = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 } as const;
export type SafeDType = keyof typeof DTYPE_BYTES;

const tensorEntry = z.object({
  dtype: z.enum(Object.keys(DTYPE_BYTES) as [SafeDType, ...SafeDType[]]),
  shape: z.array(z.number().int().nonnegative()),
  data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
});
export type TensorInfo = z.infer<typeof tensorEntry>;

/** Largest header we accept (the format's own reference implementation caps it at 100 MB). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

export class SafetensorsFile {
  private constructor(
    readonly path: string,
    private fd: number | null,
    private readonly dataStart: number,
    private readonly tensors: Map<string, TensorInfo>,
    readonly metadata: Record<string, string>,
  ) {}

  static open(path: string): SafetensorsFile {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const fail = (msg: string): never => {
        throw new SafetensorsError(`${path}: ${msg}`);
      };
      if (size < 8) fail(`file is ${size} bytes, too short for a safetensors header`);
      const lenBuf = Buffer.alloc(8);
      readSync(fd, lenBuf, 0, 8, 0);
      const headerLen = Number(lenBuf.readBigUInt64LE(0));
      if (headerLen > MAX_HEADER_BYTES) fail(`corrupt header: header length ${headerLen} exceeds ${MAX_HEADER_BYTES} bytes`);
      if (8 + headerLen > size) fail(`corrupt header: header length ${headerLen} runs past the end of the file (${size} bytes)`);
      const headerBuf = Buffer.alloc(headerLen);
      readSync(fd, headerBuf, 0, headerLen, 8);
      let json: unknown;
      try {
        json = JSON.parse(headerBuf.toString('utf8'));
      } catch (e) {
        fail(`corrupt header: not valid JSON (${(e as Error).message})`);
      }
      if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('corrupt header: not a JSON object');
      const dataStart = 8 + headerLen;
      const dataSize = size - dataStart;
      const tensors = new Map<string, TensorInfo>();
      let metadata: Record<string, string> = {};
      for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
        if (name === '__metadata__') {
          const m = z.record(z.string(), z.string()).safeParse(raw);
          if (!m.success) fail('corrupt header: __metadata__ must map strings to strings');
          metadata = m.data ?? {};
          continue;
        }
        const parsed = tensorEntry.safeParse(raw);
        if (!parsed.success) fail(`corrupt header: tensor ${name}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
        const info = parsed.data!;
        const [begin, end] = info.data_offsets;
        const count = info.shape.reduce((a, b) => a * b, 1);
        if (end < begin) fail(`corrupt header: tensor ${name} ends before it begins`);
        if ((end - begin) !== count * DTYPE_BYTES[info.dtype]) {
          fail(`corrupt header: tensor ${name} has ${end - begin} bytes for ${info.dtype} [${info.shape.join(', ')}]`);
        }
        if (end > dataSize) fail(`truncated file: tensor ${name} needs bytes up to ${end} but only ${dataSize} follow the header`);
        tensors.set(name, info);
      }
      return new SafetensorsFile(path, fd, dataStart, tensors, metadata);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new SafetensorsError(`${this.path}: missing tensor ${name}`);
    return t;
  }

  readBytes(name: string): Uint8Array {
    if (this.fd === null) throw new SafetensorsError(`${this.path}: file is closed`);
    const t = this.info(name);
    const [begin, end] = t.data_offsets;
    // 8-byte aligned so that any typed array can view it.
    const buf = new Uint8Array(new ArrayBuffer(Math.ceil((end - begin) / 8) * 8), 0, end - begin);
    let done = 0;
    while (done < buf.length) {
      const n = readSync(this.fd, buf, done, buf.length - done, this.dataStart + begin + done);
      if (n === 0) throw new SafetensorsError(`${this.path}: truncated file while reading ${name}`);
      done += n;
    }
    return buf;
  }

  /**
   * Reads a floating-point tensor as float32, checking its shape. F16 and BF16
   * are widened exactly; a shape mismatch names the tensor and both shapes.
   */
  readF32(name: string, expectedShape?: readonly number[]): Float32Array {
    const t = this.info(name);
    if (expectedShape) checkShape(this.path, name, expectedShape, t.shape);
    const bytes = this.readBytes(name);
    return toFloat32(bytes, t.dtype, `${this.path}: ${name}`);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

export function checkShape(path: string, name: string, expected: readonly number[], found: readonly number[]): void {
  if (expected.length !== found.length || expected.some((d, i) => d !== found[i])) {
    throw new SafetensorsError(`${path}: tensor ${name} has shape [${found.join(', ')}], expected [${expected.join(', ')}]`);
  }
}

export function toFloat32(bytes: Uint8Array, dtype: SafeDType, what: string): Float32Array {
  const n = bytes.byteLength / DTYPE_BYTES[dtype];
  switch (dtype) {
    case 'F32':
      return new Float32Array(bytes.buffer, bytes.byteOffset, n);
    case 'F64': {
      const src = new Float64Array(bytes.buffer, bytes.byteOffset, n);
      return Float32Array.from(src);
    }
    case 'BF16': {
      const src = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
      const out = new Uint32Array(n);
      for (let i = 0; i < n; i++) out[i] = src[i]! << 16;
      return new Float32Array(out.buffer);
    }
    case 'F16': {
      const src = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(src[i]!);
      return out;
    }
    default:
      throw new SafetensorsError(`${what}: dtype ${dtype} is not a floating-point type`);
  }
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
