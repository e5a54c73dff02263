export { createRng, MAX_SEED, randomSeed, SessionRng } from './rng.js';
export type { Rng } from './rng.js';
export { argmax, sampleToken, TokenSampler } from './sampler.js';
export { TopKSelector } from './top-k.js';
export type { EntryBias, SampleOptions } from './sampler.js';
export { DEFAULT_SAMPLING_PARAMS, formatSamplingError, parseSamplingQuery, samplingQuerySchema } from './sampling-params.js';
export type { SamplingParams, SamplingQueryResult } from './sampling-params.js';
export { TextTokenSampler } from './text-sampler.js';
export type { TextSamplerOptions } from './text-sampler.js';
