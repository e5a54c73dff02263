import type { Codec } from '../engine/codec.js';
import type { Reference } from './reference.js';

export interface MimiParityResult {
  codesMatched: number;
  codesTotal: number;
  pcmRelL2: number;
}

/** Streams the reference audio through the codec one frame at a time (slot 0, fresh state). */
export async function mimiParity(codec: Codec, ref: Reference['mimi']): Promise<MimiParityResult> {
  const F = ref.frame_size;
  const Q = ref.num_codebooks;
  const frames = ref.codes.length;
  codec.resetSlot(0);
  let matched = 0;
  for (let t = 0; t < frames; t++) {
    const codes = await codec.encode(1, Float32Array.from(ref.input_pcm.slice(t * F, (t + 1) * F)));
    for (let q = 0; q < Q; q++) if (Number(codes[q]) === ref.codes[t]![q]) matched++;
  }
  codec.resetSlot(0);
  let num = 0;
  let den = 0;
  for (let t = 0; t < frames; t++) {
    const pcm = await codec.decode(1, BigInt64Array.from(ref.codes[t]!.map((c) => BigInt(c))));
    for (let i = 0; i < F; i++) {
      const r = ref.decoded_pcm[t * F + i]!;
      num += (pcm[i]! - r) ** 2;
      den += r * r;
    }
  }
  return { codesMatched: matched, codesTotal: frames * Q, pcmRelL2: Math.sqrt(num / Math.max(den, 1e-30)) };
}
