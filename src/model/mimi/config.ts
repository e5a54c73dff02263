import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';

// Kyutai's loader passes each section of mimi_config.json as keyword arguments
// (SEANetEncoder/Decoder, SplitResidualVectorQuantizer, ProjectedTransformer),
// so a missing key takes that constructor's default and an unknown key is an
// error there; the schema does the same. Defaults that cannot stream (reflect
// padding, non-causal, no context) are refused with the field named.

const int = () => z.number().int();

const seanetSchema = z
  .object({
    channels: int().positive().default(1),
    dimension: int().positive().default(128),
    causal: z.boolean().default(false),
    n_filters: int().positive().default(32),
    n_residual_layers: int().nonnegative().default(3),
    ratios: z.array(int().positive()).min(1).default([8, 5, 4, 2]),
    activation: z.enum(['ELU', 'ReLU', 'GELU', 'SiLU', 'Tanh']).default('ELU'),
    activation_params: z.object({ alpha: z.number().default(1) }).strict().default({ alpha: 1 }),
    norm: z.enum(['none', 'weight_norm']).default('none'),
    norm_params: z.object({}).loose().default({}),
    kernel_size: int().positive().default(7),
    last_kernel_size: int().positive().default(7),
    residual_kernel_size: int().positive().default(3),
    dilation_base: int().positive().default(2),
    pad_mode: z.enum(['constant', 'replicate', 'reflect']).default('reflect'),
    true_skip: z.boolean().default(true),
    compress: int().positive().default(2),
    disable_norm_outer_blocks: int().nonnegative().default(0),
  })
  .strict();

const quantizerSchema = z
  .object({
    dimension: int().positive().default(128),
    n_q: int().positive().default(8),
    n_q_semantic: int().positive().default(1),
    bins: int().positive().default(1024),
    input_dimension: int().positive().nullable().default(null),
    output_dimension: int().positive().nullable().default(null),
    // Training-only options: accepted, without effect at inference.
    decay: z.number().optional(),
    threshold_usage_ratio: z.number().optional(),
    replaced_usage_ratio: z.number().optional(),
    q_dropout: z.boolean().optional(),
    no_quantization_rate: z.number().optional(),
  })
  .strict();

const transformerSchema = z
  .object({
    d_model: int().positive(),
    num_heads: int().positive(),
    num_layers: int().nonnegative(),
    input_dimension: int().positive(),
    output_dimensions: z.array(int().positive()).min(1),
    conv_layout: z.boolean().default(false),
    causal: z.boolean().default(false),
    context: int().positive().nullable().default(null),
    layer_scale: z.number().nullable().default(null),
    max_period: z.number().positive().default(10000),
    gating: z.enum(['none']).default('none'),
    norm: z.enum(['layer_norm', 'layer_norm_f32', 'rms_norm', 'rms_norm_f32']).default('layer_norm'),
    positional_embedding: z.enum(['rope', 'none', 'sin', 'sin_rope', 'rope_concat']).default('sin'),
    dim_feedforward: int().positive().default(2048),
    kv_repeat: z.literal(1).optional(),
    positional_scale: z.number().optional(),
    checkpointing: z.boolean().optional(),
  })
  .strict();

export const mimiConfigSchema = z
  .object({
    sample_rate: int().positive(),
    channels: int().positive(),
    frame_rate: z.number().positive(),
    seanet: seanetSchema,
    quantizer: quantizerSchema,
    transformer: transformerSchema,
  })
  .loose()
  .superRefine((c, ctx) => {
    const bad = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const s = c.seanet;
    const t = c.transformer;
    const q = c.quantizer;
    if (!s.causal) bad(['seanet', 'causal'], 'must be true: only the causal (streaming) Mimi is supported');
    if (s.pad_mode === 'reflect') bad(['seanet', 'pad_mode'], "must be 'constant' or 'replicate' for streaming convolutions");
    if (s.channels !== 1 || c.channels !== 1) bad(['channels'], 'only mono Mimi (channels = 1) is supported');
    if (!t.causal) bad(['transformer', 'causal'], 'must be true: only the causal (streaming) Mimi is supported');
    if (t.context === null) bad(['transformer', 'context'], 'is required: streaming attention needs a finite context');
    if (!t.conv_layout) bad(['transformer', 'conv_layout'], 'must be true, as MimiModel feeds [B, C, T] latents');
    if (t.positional_embedding !== 'rope' && t.positional_embedding !== 'none') {
      bad(['transformer', 'positional_embedding'], `'${t.positional_embedding}' is not supported (use 'rope' or 'none')`);
    }
    if (t.d_model % t.num_heads !== 0) bad(['transformer', 'num_heads'], `must divide d_model (${t.d_model})`);
    else if ((t.d_model / t.num_heads) % 2 !== 0) bad(['transformer', 'num_heads'], 'd_model / num_heads must be even for RoPE');
    if (t.input_dimension !== s.dimension) bad(['transformer', 'input_dimension'], `must equal seanet.dimension (${s.dimension})`);
    if (t.output_dimensions[0] !== s.dimension) bad(['transformer', 'output_dimensions'], `first entry must equal seanet.dimension (${s.dimension})`);
    if ((q.input_dimension ?? q.dimension) !== s.dimension) bad(['quantizer', 'input_dimension'], `must equal seanet.dimension (${s.dimension})`);
    if ((q.output_dimension ?? q.dimension) !== s.dimension) bad(['quantizer', 'output_dimension'], `must equal seanet.dimension (${s.dimension})`);
    if (q.n_q <= q.n_q_semantic) bad(['quantizer', 'n_q'], `must be larger than n_q_semantic (${q.n_q_semantic})`);
    const hop = s.ratios.reduce((a, b) => a * b, 1);
    const frameSize = Math.trunc(c.sample_rate / c.frame_rate);
    if (frameSize % hop !== 0) bad(['frame_rate'], `frame size ${frameSize} is not a multiple of the SEANet hop ${hop}`);
    const stride = c.sample_rate / hop / c.frame_rate;
    if (stride !== Math.trunc(stride)) bad(['frame_rate'], `encoder frame rate ${c.sample_rate / hop} is not an integer multiple of it`);
    if (t.context !== null && stride > t.context) bad(['transformer', 'context'], `must hold at least one frame (${stride} steps)`);
  });

export type MimiConfigInput = z.input<typeof mimiConfigSchema>;
export type MimiConfig = z.output<typeof mimiConfigSchema>;

/** Kyutai's Mimi as `moshi/models/loaders.py` builds it when no mimi_config.json is given. */
export const defaultMimiConfigInput: MimiConfigInput = {
  sample_rate: 24000,
  channels: 1,
  frame_rate: 12.5,
  seanet: {
    channels: 1,
    dimension: 512,
    causal: true,
    n_filters: 64,
    n_residual_layers: 1,
    activation: 'ELU',
    compress: 2,
    dilation_base: 2,
    disable_norm_outer_blocks: 0,
    kernel_size: 7,
    residual_kernel_size: 3,
    last_kernel_size: 3,
    norm: 'none',
    pad_mode: 'constant',
    ratios: [8, 6, 5, 4],
    true_skip: true,
  },
  quantizer: { dimension: 256, n_q: 32, bins: 2048, input_dimension: 512, output_dimension: 512 },
  transformer: {
    d_model: 512,
    num_heads: 8,
    num_layers: 8,
    causal: true,
    layer_scale: 0.01,
    context: 250,
    conv_layout: true,
    max_period: 10000,
    gating: 'none',
    norm: 'layer_norm',
    positional_embedding: 'rope',
    dim_feedforward: 2048,
    input_dimension: 512,
    output_dimensions: [512],
  },
};

export const defaultMimiConfig: MimiConfig = parseMimiConfig(defaultMimiConfigInput, 'defaultMimiConfig');

/** Parses a mimi_config.json object, with one readable line per problem, each naming its field. */
export function parseMimiConfig(raw: unknown, source = 'mimi_config.json'): MimiConfig {
  const r = mimiConfigSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`invalid Mimi config in ${source}:\n${lines.join('\n')}`);
  }
  return r.data;
}

/** Reads mimi_config.json, or returns Kyutai's default Mimi when `path` is absent or missing. */
export function loadMimiConfig(path?: string | null): MimiConfig {
  if (!path || !existsSync(path)) return defaultMimiConfig;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`invalid Mimi config in ${path}: not valid JSON (${(e as Error).message})`);
  }
  return parseMimiConfig(raw, path);
}

/** Sizes derived from the config that the graphs and the runner share. */
export interface MimiDims {
  /** PCM samples per codec frame (1920 at 24 kHz, 12.5 Hz). */
  frameSize: number;
  /** Samples per SEANet latent step (960). */
  hop: number;
  /** SEANet latent steps per codec frame, i.e. transformer steps per frame (2). */
  steps: number;
  /** Stride of the learnt down/upsampling between the two rates (2; 1 = none). */
  resampleStride: number;
  /** Latent channels (seanet.dimension). */
  dimension: number;
  codebookDim: number;
  cardinality: number;
  totalCodebooks: number;
  semanticCodebooks: number;
  dModel: number;
  heads: number;
  dimPerHead: number;
  layers: number;
  context: number;
}

export function mimiDims(c: MimiConfig): MimiDims {
  const hop = c.seanet.ratios.reduce((a, b) => a * b, 1);
  const frameSize = Math.trunc(c.sample_rate / c.frame_rate);
  const t = c.transformer;
  return {
    frameSize,
    hop,
    steps: frameSize / hop,
    resampleStride: c.sample_rate / hop / c.frame_rate,
    dimension: c.seanet.dimension,
    codebookDim: c.quantizer.dimension,
    cardinality: c.quantizer.bins,
    totalCodebooks: c.quantizer.n_q,
    semanticCodebooks: c.quantizer.n_q_semantic,
    dModel: t.d_model,
    heads: t.num_heads,
    dimPerHead: t.d_model / t.num_heads,
    layers: t.num_layers,
    context: t.context ?? 0,
  };
}
