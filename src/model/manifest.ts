import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseLmConfig, type LmConfig } from './lm/config.js';
import { mimiLayoutSchema, type MimiLayout } from './mimi/layout.js';

export const MANIFEST_FILE = 'manifest.json';
/**
 * Bumped whenever graphs or their inputs change meaning (2: keys cached by
 * row, not transposed; 3: depformer frame graphs; 4: their sampling inputs
 * changed to float-only ones).
 */
export const MANIFEST_VERSION = 4;

/** A converted model directory's manifest: what the server needs to load it quickly. */
export const manifestSchema = z.object({
  format: z.literal('parley-model'),
  version: z.literal(MANIFEST_VERSION),
  name: z.string().min(1),
  source: z.string(),
  createdAt: z.string(),
  precision: z.enum(['float32']),
  /** The LM config as Kyutai's config.json spells it (re-validated on load). */
  lm: z.record(z.string(), z.unknown()),
  mimi: mimiLayoutSchema,
  files: z.object({
    /** The float32 host-cache LM graphs; absent in a device-only conversion (`convert --device-only`). */
    temporal: z.string().optional(),
    depformer: z.array(z.string()).min(1).optional(),
    /** The depformer's whole frame with sampling in the graph (float32), as served. */
    depformerFrame: z.string().optional(),
    mimiEncoder: z.string(),
    mimiDecoder: z.string(),
    tokenizer: z.string().nullable(),
    /** Device-cache graphs for GPU providers (lm/gpu/), written by `convert --precision`; optional. */
    gpu: z
      .object({
        precision: z.enum(['fp32', 'fp16', 'int4']),
        /** Written by versions whose device cache had a window; unused now (such models must be converted again). */
        window: z.number().int().positive().optional(),
        temporal: z.string(),
        depformer: z.array(z.string()).min(1),
        depformerFrame: z.string(),
      })
      .optional(),
  }).refine((f) => (f.temporal !== undefined && f.depformer !== undefined && f.depformerFrame !== undefined) || (f.temporal === undefined && f.depformer === undefined && f.depformerFrame === undefined && f.gpu !== undefined), {
    message: 'needs the host-cache LM graphs (temporal, depformer, depformerFrame) or, without any of them, the device-cache ones (gpu)',
  }),
  /** Parameter counts and arithmetic per step, counted from the graphs. */
  stats: z.object({
    lmParams: z.number().int().nonnegative(),
    mimiParams: z.number().int().nonnegative(),
  }),
});
export type Manifest = z.infer<typeof manifestSchema>;

export interface LoadedModel {
  dir: string;
  manifest: Manifest;
  lm: LmConfig;
  mimi: MimiLayout;
  path(file: string): string;
}

export function loadModelDir(dir: string): LoadedModel {
  const file = join(dir, MANIFEST_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${dir} is not a converted model directory (${(e as Error).message}); run \`parley convert <checkpoint-dir> ${dir}\``);
  }
  const version = versionOf(raw);
  if (version !== null && version !== MANIFEST_VERSION) {
    throw new Error(`${dir} was converted by another Parley version (model format ${version}; this one reads ${MANIFEST_VERSION}); convert it again with \`parley convert\``);
  }
  const r = manifestSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`${file}: invalid manifest:\n${lines.join('\n')}`);
  }
  const manifest = r.data;
  return { dir, manifest, lm: parseLmConfig(manifest.lm, file), mimi: manifest.mimi, path: (f) => join(dir, f) };
}

function versionOf(raw: unknown): number | null {
  const v = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)['version'] : undefined;
  return typeof v === 'number' ? v : null;
}

/** Whether `dir` holds a model converted in this version's format. */
export function isCurrentModelDir(dir: string): boolean {
  try {
    return versionOf(JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8'))) === MANIFEST_VERSION;
  } catch {
    return false;
  }
}
