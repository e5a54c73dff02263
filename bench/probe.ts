// Quick stage timing probe (not the benchmark): in-process pipeline, B sessions.
import { loadModelDir } from '../src/model/manifest.js';
import { LmRunner } from '../src/model/lm/lm-runner.js';
import { MimiRunner } from '../src/model/mimi/mimi-runner.js';
import { ModelPipeline, type RowInput } from '../src/engine/model-pipeline.js';
import { SessionSampler } from '../src/engine/session-sampler.js';
import { DEFAULT_SAMPLING_PARAMS } from '../src/engine/sampling/sampling-params.js';

const dir = process.argv[2]!;
const threads = Number(process.argv[3] ?? 2);
const sizes = (process.argv[4] ?? '1,4,16').split(',').map(Number);
const model = loadModelDir(dir);
const opts = { provider: 'cpu' as const, intraOpThreads: threads };
const maxB = Math.max(...sizes);
const lm = await LmRunner.create(model.lm, { temporal: model.path(model.manifest.files.temporal), depformer: model.manifest.files.depformer.map((f) => model.path(f)) }, maxB, opts);
const codec = await MimiRunner.create({ encoder: model.path(model.manifest.files.mimiEncoder), decoder: model.path(model.manifest.files.mimiDecoder) }, model.mimi, maxB, opts);
const pipe = new ModelPipeline(lm, codec, maxB);
for (const B of sizes) {
  for (let s = 0; s < B; s++) pipe.resetSlot(s);
  const inputs: RowInput[] = Array.from({ length: B }, (_, i) => ({
    exec: true, first: false, pcm: Float32Array.from({ length: 1920 }, (_, j) => Math.sin((j + i) * 0.05) * 0.1),
    sampler: new SessionSampler({ ...DEFAULT_SAMPLING_PARAMS, textSeed: BigInt(i), audioSeed: BigInt(i) }, lm.dims, model.lm),
  }));
  const tot: Record<string, number> = {};
  const N = 6;
  let wall = 0;
  for (let k = 0; k < N + 2; k++) {
    const t0 = performance.now();
    const r = await pipe.step(inputs);
    if (k >= 2) {
      wall += performance.now() - t0;
      for (const [s, v] of Object.entries(r.times)) tot[s] = (tot[s] ?? 0) + v / N;
    }
  }
  console.log(`B=${B} tick=${(wall / N).toFixed(1)}ms`, Object.entries(tot).map(([s, v]) => `${s}=${v.toFixed(1)}`).join(' '));
}
await lm.release(); await codec.release();
