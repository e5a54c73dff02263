import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** The fixture's reference.json (see shared/fixtures/README.md). */
export const referenceSchema = z.object({
  mimi: z.object({
    frame_size: z.number().int().positive(),
    num_codebooks: z.number().int().positive(),
    input_pcm: z.array(z.number()),
    codes: z.array(z.array(z.number().int())),
    decoded_pcm: z.array(z.number()),
  }),
  lm: z.object({
    steps: z.number().int().positive(),
    user_audio_tokens: z.array(z.array(z.number().int())),
    outputs: z.array(z.array(z.number().int()).nullable()),
    text_pieces: z.array(z.string().nullable()),
    text_logits: z.array(z.array(z.number())),
    depformer_logits: z.array(z.array(z.array(z.number()))),
  }),
});
export type Reference = z.infer<typeof referenceSchema>;

export function loadReference(path: string): Reference {
  const r = referenceSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!r.success) throw new Error(`${path}: not a reference file: ${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}`);
  return r.data;
}
