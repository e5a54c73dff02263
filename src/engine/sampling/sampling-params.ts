import { z } from 'zod';
import { MAX_SEED } from './rng.js';

/** One session's sampling settings. */
export interface SamplingParams {
  textTemperature: number;
  textTopK: number;
  audioTemperature: number;
  audioTopK: number;
  /** Seeds of the text / audio draws; absent: a random one per session. */
  textSeed?: bigint;
  audioSeed?: bigint;
  /** Log-probability bias of the text padding token (Rust server's pad_mult); 0 for none. */
  padMult: number;
  /** How many recent non-padding text tokens the repetition penalty covers. */
  repetitionPenaltyContext: number;
  /** Divides positive / multiplies negative logits of recent text tokens; 1 for none. */
  repetitionPenalty: number;
}

/**
 * Moshi's defaults (the Python server's). The repetition-penalty context of
 * 32 is the Rust server's (it logs (32, 1.0) when none is asked for), so that
 * giving only repetition_penalty works; the Rust server would then apply
 * none, as it needs both parameters.
 */
export const DEFAULT_SAMPLING_PARAMS: Readonly<SamplingParams> = Object.freeze({
  textTemperature: 0.7,
  textTopK: 25,
  audioTemperature: 0.8,
  audioTopK: 250,
  padMult: 0,
  repetitionPenaltyContext: 32,
  repetitionPenalty: 1,
});

// Bounds past which a value is a mistake rather than a choice.
const MAX_TEMPERATURE = 10;
const MAX_TOPK = 100_000;
const MAX_ABS_PAD_MULT = 10;
const MAX_REPETITION_PENALTY = 10;
const MAX_REPETITION_CONTEXT = 4096;

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^\+?\d+$/;

type Ctx = z.core.$RefinementCtx<unknown>;

/** The raw query value as text, or an issue if it is repeated or not text. */
function single(v: unknown, ctx: Ctx): string | undefined {
  if (Array.isArray(v)) {
    ctx.addIssue({ code: 'custom', message: 'must be given once' });
    return undefined;
  }
  if (typeof v === 'number') return String(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v !== 'string') {
    ctx.addIssue({ code: 'custom', message: 'must be a string' });
    return undefined;
  }
  return v.trim();
}

function decimal(min: number, max: number, what: string, minExclusive = false) {
  return z.unknown().transform((v, ctx): number | undefined => {
    if (v === undefined) return undefined;
    const s = single(v, ctx);
    if (s === undefined) return z.NEVER;
    const x = DECIMAL.test(s) ? Number(s) : Number.NaN;
    if (!Number.isFinite(x) || (minExclusive ? x <= min : x < min)) {
      ctx.addIssue({ code: 'custom', message: `must be ${what}` });
      return z.NEVER;
    }
    if (x > max) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${max} (got ${s})` });
      return z.NEVER;
    }
    return x;
  });
}

function integer(min: number, max: number) {
  return z.unknown().transform((v, ctx): number | undefined => {
    if (v === undefined) return undefined;
    const s = single(v, ctx);
    if (s === undefined) return z.NEVER;
    const x = INTEGER.test(s) ? Number(s) : Number.NaN;
    if (!Number.isInteger(x) || x < min) {
      ctx.addIssue({ code: 'custom', message: `must be an integer >= ${min}` });
      return z.NEVER;
    }
    if (x > max) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${max} (got ${s})` });
      return z.NEVER;
    }
    return x;
  });
}

const seed = z.unknown().transform((v, ctx): bigint | undefined => {
  if (v === undefined) return undefined;
  const s = single(v, ctx);
  if (s === undefined) return z.NEVER;
  const x = INTEGER.test(s) ? BigInt(s) : -1n;
  if (x < 0n || x > MAX_SEED) {
    ctx.addIssue({ code: 'custom', message: `must be an integer between 0 and ${MAX_SEED}` });
    return z.NEVER;
  }
  return x;
});

/**
 * The sampling parameters of a WebSocket query (strings, as Moshi's web
 * client sends them), with defaults for the absent ones. Unknown parameters
 * (worker_auth_id, email, ...) are ignored.
 */
export const samplingQuerySchema = z
  .object({
    text_temperature: decimal(0, MAX_TEMPERATURE, 'a number >= 0').optional(),
    text_topk: integer(1, MAX_TOPK).optional(),
    audio_temperature: decimal(0, MAX_TEMPERATURE, 'a number >= 0').optional(),
    audio_topk: integer(1, MAX_TOPK).optional(),
    text_seed: seed.optional(),
    audio_seed: seed.optional(),
    pad_mult: decimal(-MAX_ABS_PAD_MULT, MAX_ABS_PAD_MULT, `a number between ${-MAX_ABS_PAD_MULT} and ${MAX_ABS_PAD_MULT}`).optional(),
    repetition_penalty_context: integer(0, MAX_REPETITION_CONTEXT).optional(),
    repetition_penalty: decimal(0, MAX_REPETITION_PENALTY, 'a number > 0', true).optional(),
  })
  .transform((q): SamplingParams => {
    const d = DEFAULT_SAMPLING_PARAMS;
    const p: SamplingParams = {
      textTemperature: q.text_temperature ?? d.textTemperature,
      textTopK: q.text_topk ?? d.textTopK,
      audioTemperature: q.audio_temperature ?? d.audioTemperature,
      audioTopK: q.audio_topk ?? d.audioTopK,
      padMult: q.pad_mult ?? d.padMult,
      repetitionPenaltyContext: q.repetition_penalty_context ?? d.repetitionPenaltyContext,
      repetitionPenalty: q.repetition_penalty ?? d.repetitionPenalty,
    };
    if (q.text_seed !== undefined) p.textSeed = q.text_seed;
    if (q.audio_seed !== undefined) p.audioSeed = q.audio_seed;
    return p;
  });

/** One line naming each bad parameter and why, e.g. "text_temperature: must be a number >= 0". */
export function formatSamplingError(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length > 0 ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ');
}

export type SamplingQueryResult = { ok: true; params: SamplingParams } | { ok: false; error: string };

/** Parses a query object (e.g. Fastify's request.query) or URLSearchParams. */
export function parseSamplingQuery(query: unknown): SamplingQueryResult {
  const input = query instanceof URLSearchParams ? searchParamsToObject(query) : query ?? {};
  const r = samplingQuerySchema.safeParse(input);
  return r.success ? { ok: true, params: r.data } : { ok: false, error: formatSamplingError(r.error) };
}

function searchParamsToObject(q: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(q.keys())) {
    const all = q.getAll(key);
    out[key] = all.length === 1 ? all[0]! : all;
  }
  return out;
}
