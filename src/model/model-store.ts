import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { convertModel } from './convert.js';
import { isCurrentModelDir, loadModelDir, MANIFEST_FILE, type LoadedModel } from './manifest.js';
import { isPreset, presetSource } from './presets/presets.js';

/**
 * Resolves the `model` setting: a converted model directory, or a built-in
 * preset name, built into `cacheDir/<name>` on first use (and again when a
 * newer Parley changed the model format).
 */
export function resolveModel(model: string, cacheDir: string, log: (msg: string) => void = () => {}): LoadedModel {
  if (isPreset(model) && !existsSync(join(model, MANIFEST_FILE))) {
    const dir = resolve(cacheDir, model);
    if (!isCurrentModelDir(dir)) {
      log(`building the built-in '${model}' model into ${dir} (first start, or the model format changed)`);
      convertModel(presetSource(model), dir, log);
    }
    return loadModelDir(dir);
  }
  return loadModelDir(resolve(model));
}
