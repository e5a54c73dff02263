import { z } from 'zod';
import type { PipelineSnapshot } from './model-pipeline.js';
import type { SamplingParams } from './sampling/sampling-params.js';
import type { SamplerSnapshot } from './session-sampler.js';

/** A whole session as of its last step: what a resume rebuilds it from. */
export interface EngineSnapshot {
  version: 1;
  /** The model it ran on (name and build time); a resume on another model is refused. */
  model: string;
  sampling: SamplingParams;
  sampler: SamplerSnapshot;
  pipeline: PipelineSnapshot;
}

// Binary form for stores: u32 header length, a JSON header in which typed
// arrays and bigints are references into the body, then the body.

type Encoded = null | boolean | number | string | Encoded[] | { [k: string]: Encoded };

function encodeValue(v: unknown, chunks: Uint8Array[], offset: { n: number }): Encoded {
  if (v instanceof Float32Array || v instanceof Int32Array) {
    const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    const ref = { $array: v instanceof Float32Array ? 'f32' : 'i32', at: offset.n, length: v.length };
    chunks.push(bytes);
    offset.n += bytes.byteLength;
    return ref;
  }
  if (typeof v === 'bigint') return { $bigint: v.toString() };
  if (Array.isArray(v)) return v.map((x) => encodeValue(x, chunks, offset));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, Encoded> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = encodeValue(x, chunks, offset);
    return out;
  }
  return v as Encoded;
}

export function encodeSnapshot(s: EngineSnapshot): Buffer {
  const chunks: Uint8Array[] = [];
  const header = Buffer.from(JSON.stringify(encodeValue(s, chunks, { n: 0 })));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length);
  return Buffer.concat([len, header, ...chunks]);
}

const arrayRef = z.object({ $array: z.enum(['f32', 'i32']), at: z.number().int().nonnegative(), length: z.number().int().nonnegative() }).strict();
const bigintRef = z.object({ $bigint: z.string().regex(/^-?\d+$/) }).strict();

function decodeValue(v: unknown, body: Buffer): unknown {
  const a = arrayRef.safeParse(v);
  if (a.success) {
    const size = a.data.length * 4;
    if (a.data.at + size > body.length) throw new Error('snapshot body is truncated');
    // Copied out so that the array is aligned and owns its memory.
    const bytes = new Uint8Array(body.subarray(a.data.at, a.data.at + size));
    return a.data.$array === 'f32' ? new Float32Array(bytes.buffer) : new Int32Array(bytes.buffer);
  }
  const b = bigintRef.safeParse(v);
  if (b.success) return BigInt(b.data.$bigint);
  if (Array.isArray(v)) return v.map((x) => decodeValue(x, body));
  if (v !== null && typeof v === 'object') {
    // Built on a null prototype: a key such as __proto__ stays plain data.
    const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const [k, x] of Object.entries(v)) out[k] = decodeValue(x, body);
    return out;
  }
  return v;
}

const snapshotShape = z.object({
  version: z.literal(1),
  model: z.string(),
  sampling: z.object({ textTemperature: z.number(), textTopK: z.number(), audioTemperature: z.number(), audioTopK: z.number() }).loose(),
  sampler: z.object({ textRng: z.array(z.number()).length(4), audioRng: z.array(z.number()).length(4), recentText: z.array(z.number()) }),
  pipeline: z.object({
    steps: z.number().int().nonnegative(),
    history: z.instanceof(Int32Array),
    delay: z.object({ ring: z.instanceof(Int32Array), offset: z.number().int().nonnegative() }),
    codec: z.object({ encoder: z.array(z.instanceof(Float32Array)), decoder: z.array(z.instanceof(Float32Array)) }),
  }),
});

export function decodeSnapshot(buf: Buffer): EngineSnapshot {
  if (buf.length < 4) throw new Error('snapshot is truncated');
  const n = buf.readUInt32LE(0);
  if (4 + n > buf.length) throw new Error('snapshot header is truncated');
  const header: unknown = JSON.parse(buf.subarray(4, 4 + n).toString('utf8'));
  const decoded = decodeValue(header, buf.subarray(4 + n));
  const r = snapshotShape.safeParse(decoded);
  if (!r.success) throw new Error(`not a session snapshot: ${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}`);
  return decoded as EngineSnapshot;
}
