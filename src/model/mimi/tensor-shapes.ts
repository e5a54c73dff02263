import { mimiDims, type MimiConfig } from './config.js';
import { quantizerTensorShapes } from './quantizer-graph.js';
import {
  convTensorShapes, downsampleSpec, seanetDecoderPlan, seanetEncoderPlan, seanetTensorShapes, upsampleSpec,
} from './seanet-plan.js';
import { transformerTensorShapes } from './transformer-graph.js';

/** Every tensor (name -> shape) of a Mimi checkpoint for this config, as Kyutai's MimiModel state_dict names it. */
export function mimiTensorShapes(cfg: MimiConfig): Map<string, number[]> {
  const dims = mimiDims(cfg);
  const out = new Map<string, number[]>();
  seanetTensorShapes(seanetEncoderPlan(cfg), out);
  seanetTensorShapes(seanetDecoderPlan(cfg), out);
  transformerTensorShapes(cfg, 'encoder_transformer', out);
  transformerTensorShapes(cfg, 'decoder_transformer', out);
  if (dims.resampleStride > 1) {
    convTensorShapes(downsampleSpec(dims.dimension, dims.resampleStride), out);
    convTensorShapes(upsampleSpec(dims.dimension, dims.resampleStride), out);
  }
  quantizerTensorShapes(cfg, out);
  return out;
}
