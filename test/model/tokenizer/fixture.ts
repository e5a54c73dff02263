import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

// The shared moshi-tiny-a fixture (see shared/fixtures/README.md).
export const FIXTURE = join(process.cwd(), '..', 'shared', 'fixtures', 'moshi-tiny-a');
export const FIXTURE_TOKENIZER = join(FIXTURE, 'tokenizer.model');

const referenceText = z.object({
  lm: z.object({
    outputs: z.array(z.array(z.number().int()).min(1).nullable()),
    text_pieces: z.array(z.string().nullable()),
  }),
});

/** The text id of every LM step (null where the step output nothing) and what the Python server sent for it. */
export function loadReferenceText(): { textIds: (number | null)[]; pieces: (string | null)[] } {
  const ref = referenceText.parse(JSON.parse(readFileSync(join(FIXTURE, 'reference.json'), 'utf8')));
  return { textIds: ref.lm.outputs.map((o) => (o === null ? null : o[0]!)), pieces: ref.lm.text_pieces };
}

/** The fixture's text_card: the text start id. */
export function fixtureTextCard(): number {
  const cfg = z.object({ text_card: z.number().int() }).parse(JSON.parse(readFileSync(join(FIXTURE, 'config.json'), 'utf8')));
  return cfg.text_card;
}
