import { z } from 'zod';

// What the runner needs to drive the two ONNX graphs without the checkpoint:
// stored in the model directory's manifest next to encoder.onnx/decoder.onnx.

const dim = z.number().int().nonnegative();

export const stateSpecSchema = z.object({
  /** Graph I/O are `state_in.<name>` and `state_out.<name>`. */
  name: z.string().min(1),
  /** Per-session shape (the graph's is [batch, ...shape]). */
  shape: z.array(dim),
  /** Value of a fresh session (0 for conv history, 1 for "first frame" flags). */
  init: z.number(),
});
export type StateSpec = z.infer<typeof stateSpecSchema>;

export const transformerLayoutSchema = z.object({
  layers: dim,
  heads: z.number().int().positive(),
  dimPerHead: z.number().int().positive(),
  /** KV ring capacity: the attention context in steps. */
  context: z.number().int().positive(),
  /** Transformer steps per codec frame (T of each call). */
  steps: z.number().int().positive(),
  /** RoPE max period; null when the transformer has no positional embedding. */
  ropeMaxPeriod: z.number().positive().nullable(),
});
export type TransformerLayout = z.infer<typeof transformerLayoutSchema>;

export const graphLayoutSchema = z.object({
  states: z.array(stateSpecSchema),
  /** null when the config has no transformer layers. */
  transformer: transformerLayoutSchema.nullable(),
});
export type GraphLayout = z.infer<typeof graphLayoutSchema>;

export const mimiLayoutSchema = z.object({
  version: z.literal(1),
  sampleRate: z.number().int().positive(),
  frameRate: z.number().positive(),
  /** PCM samples per frame per session: the encoder's input and the decoder's output. */
  frameSize: z.number().int().positive(),
  /** Codes per frame per session: the encoder's output and the decoder's input. */
  numCodebooks: z.number().int().positive(),
  cardinality: z.number().int().positive(),
  encoder: graphLayoutSchema,
  decoder: graphLayoutSchema,
});
export type MimiLayout = z.infer<typeof mimiLayoutSchema>;

/** Graph I/O names shared by the builders and the runner. */
export const IO = {
  pcmIn: 'pcm',
  codesOut: 'codes',
  codesIn: 'codes',
  pcmOut: 'pcm',
  ropeCos: 'rope_cos',
  ropeSin: 'rope_sin',
  pastBias: 'past_bias',
  pastK: (l: number) => `past_k_${l}`,
  pastV: (l: number) => `past_v_${l}`,
  newK: (l: number) => `new_k_${l}`,
  newV: (l: number) => `new_v_${l}`,
} as const;

export function parseMimiLayout(raw: unknown, source = 'manifest'): MimiLayout {
  const r = mimiLayoutSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`invalid Mimi layout in ${source}:\n${lines.join('\n')}`);
  }
  return r.data;
}
