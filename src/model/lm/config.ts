import { z } from 'zod';

const activation = z.enum(['silu', 'gelu', 'relu', 'sigmoid', 'tanh', 'identity']);
const norm = z.enum(['rms_norm_f32', 'rms_norm', 'layer_norm', 'layer_norm_f32']);

/**
 * The LM part of a Kyutai `config.json`, with Moshi 7B's values as defaults
 * (a checkpoint without config.json is Moshi 7B). Keys the runtime does not
 * support are refused rather than silently ignored.
 */
export const lmConfigSchema = z
  .object({
    dim: z.number().int().positive().default(4096),
    text_card: z.number().int().positive().default(32000),
    existing_text_padding_id: z.number().int().nonnegative().default(3),
    existing_text_end_padding_id: z.number().int().nonnegative().default(0),
    n_q: z.number().int().positive().default(16),
    dep_q: z.number().int().positive().default(8),
    card: z.number().int().positive().default(2048),
    num_heads: z.number().int().positive().default(32),
    num_layers: z.number().int().positive().default(32),
    hidden_scale: z.number().positive().default(4.125),
    causal: z.literal(true).default(true),
    layer_scale: z.number().nullable().default(null),
    context: z.number().int().positive().default(3000),
    max_period: z.number().positive().default(10000),
    gating: activation.default('silu'),
    norm: norm.default('rms_norm_f32'),
    positional_embedding: z.literal('rope').default('rope'),
    kv_repeat: z.literal(1).default(1),
    depformer_dim: z.number().int().positive().default(1024),
    depformer_dim_feedforward: z.number().int().positive().nullable().default(4224),
    depformer_num_heads: z.number().int().positive().default(16),
    depformer_num_layers: z.number().int().positive().default(6),
    depformer_layer_scale: z.number().nullable().default(null),
    depformer_multi_linear: z.boolean().default(true),
    depformer_context: z.number().int().positive().nullable().default(8),
    depformer_max_period: z.number().positive().default(10000),
    depformer_gating: activation.default('silu'),
    depformer_pos_emb: z.literal('none').default('none'),
    depformer_weights_per_step: z.boolean().default(true),
    depformer_weights_per_step_schedule: z.array(z.number().int().nonnegative()).nullable().default(null),
    delays: z.array(z.number().int().nonnegative()).default([0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1]),
    moshi_name: z.string().default('model.safetensors'),
    mimi_name: z.string().default('tokenizer-e351c8d8-checkpoint125.safetensors'),
    tokenizer_name: z.string().default('tokenizer_spm_32k_3.model'),
    mimi_config_name: z.string().nullable().default(null),
    model_type: z.string().default('moshi'),
    // Options of Kyutai's loader that change the architecture and are not supported here.
    demux_second_stream: z.literal(false).optional(),
    depformer_low_rank_embeddings: z.null().optional(),
    norm_emb: z.literal(false).optional(),
    bias_proj: z.literal(false).optional(),
    depformer_norm: z.null().optional(),
  })
  .loose()
  .superRefine((c, ctx) => {
    if (c.delays.length !== c.n_q + 1) {
      ctx.addIssue({ code: 'custom', path: ['delays'], message: `needs n_q + 1 = ${c.n_q + 1} entries, got ${c.delays.length}` });
    }
    if (c.dep_q > c.n_q) ctx.addIssue({ code: 'custom', path: ['dep_q'], message: `must be at most n_q (${c.n_q})` });
    if (c.dim % c.num_heads !== 0) ctx.addIssue({ code: 'custom', path: ['num_heads'], message: `must divide dim (${c.dim})` });
    if ((c.dim / c.num_heads) % 2 !== 0) ctx.addIssue({ code: 'custom', path: ['num_heads'], message: 'dim / num_heads must be even for RoPE' });
    if (c.depformer_dim % c.depformer_num_heads !== 0) {
      ctx.addIssue({ code: 'custom', path: ['depformer_num_heads'], message: `must divide depformer_dim (${c.depformer_dim})` });
    }
    const sched = c.depformer_weights_per_step_schedule;
    if (sched && sched.length !== c.dep_q) {
      ctx.addIssue({ code: 'custom', path: ['depformer_weights_per_step_schedule'], message: `needs dep_q = ${c.dep_q} entries` });
    }
  });

export type LmConfigInput = z.input<typeof lmConfigSchema>;
export type LmConfig = z.output<typeof lmConfigSchema>;

/** Parses a config object, with one readable line per problem. */
export function parseLmConfig(raw: unknown, source = 'config.json'): LmConfig {
  const r = lmConfigSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`invalid LM config in ${source}:\n${lines.join('\n')}`);
  }
  return r.data;
}

/** Sizes derived from the config that the graphs and the engine share. */
export interface LmDims {
  dim: number;
  heads: number;
  dimPerHead: number;
  layers: number;
  ffnHidden: number;
  depDim: number;
  depHeads: number;
  depDimPerHead: number;
  depLayers: number;
  depFfnHidden: number;
  /** Number of distinct per-codebook weight sets in the depformer. */
  depWeightSets: number;
  textCard: number;
  card: number;
  nQ: number;
  depQ: number;
  /** Codebooks in the token stream: text + n_q audio. */
  streams: number;
  maxDelay: number;
}

export function lmDims(c: LmConfig): LmDims {
  const gatedHidden = (dim: number, ff: number) => (ff === 4 * dim ? Math.floor((21 * dim) / 8) : Math.floor((2 * ff) / 3));
  const depFf = c.depformer_dim_feedforward ?? Math.floor(c.hidden_scale * c.depformer_dim);
  const sched = c.depformer_weights_per_step_schedule;
  return {
    dim: c.dim,
    heads: c.num_heads,
    dimPerHead: c.dim / c.num_heads,
    layers: c.num_layers,
    ffnHidden: gatedHidden(c.dim, Math.floor(c.hidden_scale * c.dim)),
    depDim: c.depformer_dim,
    depHeads: c.depformer_num_heads,
    depDimPerHead: c.depformer_dim / c.depformer_num_heads,
    depLayers: c.depformer_num_layers,
    depFfnHidden: gatedHidden(c.depformer_dim, depFf),
    depWeightSets: c.depformer_weights_per_step ? (sched ? Math.max(...sched) + 1 : c.dep_q) : 1,
    textCard: c.text_card,
    card: c.card,
    nQ: c.n_q,
    depQ: c.dep_q,
    streams: c.n_q + 1,
    maxDelay: Math.max(...c.delays),
  };
}

/** Which depformer weight set codebook k uses. */
export function depWeightIndex(c: LmConfig, k: number): number {
  if (!c.depformer_weights_per_step) return 0;
  return c.depformer_weights_per_step_schedule?.[k] ?? k;
}
