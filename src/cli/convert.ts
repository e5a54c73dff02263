import { checkpointSource, convertModel, type ConvertOptions } from '../model/convert.js';
import { isPrecision } from '../model/lm/gpu/precision.js';
import { isPreset, presetSource } from '../model/presets/presets.js';

/** `parley convert <checkpoint-dir | --preset NAME> <model-dir> [--precision fp32|fp16|int4 [--device-only]]` */
export async function convert(argv: string[]): Promise<void> {
  const args = [...argv];
  const opts: ConvertOptions = {};
  const pr = args.indexOf('--precision');
  if (pr >= 0) {
    const p = args[pr + 1] ?? '';
    if (!isPrecision(p)) throw new Error('--precision needs fp32, fp16 or int4 (device-cache graphs for GPU providers, see docs/gpu.md)');
    opts.gpuPrecision = p;
    args.splice(pr, 2);
  }
  const d = args.indexOf('--device-only');
  if (d >= 0) {
    opts.deviceOnly = true;
    args.splice(d, 1);
  }
  let src;
  const p = args.indexOf('--preset');
  if (p >= 0) {
    const name = args[p + 1];
    args.splice(p, 2);
    if (!name || !isPreset(name)) throw new Error(`--preset needs one of the built-in presets`);
    src = presetSource(name);
  } else {
    const dir = args.shift();
    if (!dir) throw new Error('usage: parley convert <checkpoint-dir> <model-dir>  |  parley convert --preset <name> <model-dir>');
    src = checkpointSource(dir);
  }
  const out = args.shift();
  if (!out) throw new Error('missing output model directory');
  const t0 = performance.now();
  const manifest = convertModel(src, out, (m) => console.error(m), opts);
  console.error(`wrote ${out} (${manifest.name}; LM ${(manifest.stats.lmParams / 1e6).toFixed(1)} M params, Mimi ${(manifest.stats.mimiParams / 1e6).toFixed(1)} M) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
