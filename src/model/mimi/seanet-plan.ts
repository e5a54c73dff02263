import type { MimiConfig } from './config.js';

// The SEANet encoder/decoder as a list of layers with checkpoint names, in
// the order of `moshi/modules/seanet.py`'s nn.Sequential, so that the graph
// builders and the checkpoint's tensor list come from one description.

export type PadMode = 'constant' | 'replicate';

export interface ConvSpec {
  kind: 'conv';
  /** Checkpoint prefix of the torch Conv1d, e.g. `encoder.model.0.conv.conv`. */
  name: string;
  inCh: number;
  outCh: number;
  kernel: number;
  stride: number;
  dilation: number;
  groups: number;
  bias: boolean;
  padMode: PadMode;
}

export interface ConvTrSpec {
  kind: 'convtr';
  /** Checkpoint prefix of the torch ConvTranspose1d, e.g. `decoder.model.2.convtr.convtr`. */
  name: string;
  inCh: number;
  outCh: number;
  kernel: number;
  stride: number;
  groups: number;
  bias: boolean;
}

export interface ActSpec {
  kind: 'act';
}

export interface ResSpec {
  kind: 'res';
  block: (ConvSpec | ActSpec)[];
  /** null: identity skip (true_skip). */
  shortcut: ConvSpec | null;
}

export type SeanetLayer = ConvSpec | ConvTrSpec | ActSpec | ResSpec;

function conv(name: string, inCh: number, outCh: number, kernel: number, padMode: PadMode, o: Partial<ConvSpec> = {}): ConvSpec {
  return { kind: 'conv', name: `${name}.conv.conv`, inCh, outCh, kernel, stride: 1, dilation: 1, groups: 1, bias: true, padMode, ...o };
}

function resBlock(c: MimiConfig, prefix: string, dim: number, j: number): ResSpec {
  const s = c.seanet;
  const pad = s.pad_mode as PadMode;
  const hidden = Math.floor(dim / s.compress);
  const kernels = [s.residual_kernel_size, 1];
  const dilations = [s.dilation_base ** j, 1];
  const block: (ConvSpec | ActSpec)[] = [];
  for (let i = 0; i < 2; i++) {
    const inCh = i === 0 ? dim : hidden;
    const outCh = i === 1 ? dim : hidden;
    block.push({ kind: 'act' }, conv(`${prefix}.block.${2 * i + 1}`, inCh, outCh, kernels[i]!, pad, { dilation: dilations[i]! }));
  }
  return { kind: 'res', block, shortcut: s.true_skip ? null : conv(`${prefix}.shortcut`, dim, dim, 1, pad) };
}

export function seanetEncoderPlan(c: MimiConfig): SeanetLayer[] {
  const s = c.seanet;
  const pad = s.pad_mode as PadMode;
  const layers: SeanetLayer[] = [];
  const at = () => `encoder.model.${layers.length}`;
  let mult = 1;
  layers.push(conv(at(), s.channels, s.n_filters, s.kernel_size, pad));
  for (const ratio of [...s.ratios].reverse()) {
    for (let j = 0; j < s.n_residual_layers; j++) layers.push(resBlock(c, at(), mult * s.n_filters, j));
    layers.push({ kind: 'act' });
    layers.push(conv(at(), mult * s.n_filters, mult * s.n_filters * 2, ratio * 2, pad, { stride: ratio }));
    mult *= 2;
  }
  layers.push({ kind: 'act' });
  layers.push(conv(at(), mult * s.n_filters, s.dimension, s.last_kernel_size, pad));
  return layers;
}

export function seanetDecoderPlan(c: MimiConfig): SeanetLayer[] {
  const s = c.seanet;
  const pad = s.pad_mode as PadMode;
  const layers: SeanetLayer[] = [];
  const at = () => `decoder.model.${layers.length}`;
  let mult = 2 ** s.ratios.length;
  layers.push(conv(at(), s.dimension, mult * s.n_filters, s.kernel_size, pad));
  for (const ratio of s.ratios) {
    layers.push({ kind: 'act' });
    const outCh = Math.floor((mult * s.n_filters) / 2);
    layers.push({
      kind: 'convtr', name: `${at()}.convtr.convtr`, inCh: mult * s.n_filters, outCh,
      kernel: ratio * 2, stride: ratio, groups: 1, bias: true,
    });
    for (let j = 0; j < s.n_residual_layers; j++) layers.push(resBlock(c, at(), outCh, j));
    mult = Math.floor(mult / 2);
  }
  layers.push({ kind: 'act' });
  layers.push(conv(at(), s.n_filters, s.channels, s.last_kernel_size, pad));
  return layers;
}

/** MimiModel's learnt downsampling (ConvDownsample1d: full conv, replicate padding, no bias). */
export function downsampleSpec(dimension: number, stride: number): ConvSpec {
  return {
    kind: 'conv', name: 'downsample.conv.conv.conv', inCh: dimension, outCh: dimension,
    kernel: 2 * stride, stride, dilation: 1, groups: 1, bias: false, padMode: 'replicate',
  };
}

/** MimiModel's learnt upsampling (ConvTrUpsample1d, channel-wise as upsample_channel_wise_bug=True). */
export function upsampleSpec(dimension: number, stride: number): ConvTrSpec {
  return {
    kind: 'convtr', name: 'upsample.convtr.convtr.convtr', inCh: dimension, outCh: dimension,
    kernel: 2 * stride, stride, groups: dimension, bias: false,
  };
}

/** Checkpoint tensors of a conv ([out, in/groups, k]) or conv-transpose ([in, out/groups, k]). */
export function convTensorShapes(spec: ConvSpec | ConvTrSpec, out: Map<string, number[]>): void {
  const w = spec.kind === 'conv'
    ? [spec.outCh, spec.inCh / spec.groups, spec.kernel]
    : [spec.inCh, spec.outCh / spec.groups, spec.kernel];
  out.set(`${spec.name}.weight`, w);
  if (spec.bias) out.set(`${spec.name}.bias`, [spec.outCh]);
}

export function seanetTensorShapes(plan: SeanetLayer[], out: Map<string, number[]>): void {
  for (const l of plan) {
    if (l.kind === 'conv' || l.kind === 'convtr') convTensorShapes(l, out);
    else if (l.kind === 'res') {
      for (const b of l.block) if (b.kind === 'conv') convTensorShapes(b, out);
      if (l.shortcut) convTensorShapes(l.shortcut, out);
    }
  }
}
