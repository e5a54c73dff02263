import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { convertModel } from './convert.js';
import { loadModelDir, MANIFEST_FILE, type LoadedModel } from './manifest.js';
import { isPreset, presetSource } from './presets/presets.js';

/**
 * Resolves the `model` setting: a converted model directory, or a built-in
 * preset name, built into `cacheDir/<name>` on first use.
 */
export function resolveModel(model: string, cacheDir: string, log: (msg: string) => void = () => {}): LoadedModel {
  if (isPreset(model) && !existsSync(join(model, MANIFEST_FILE))) {
    const dir = resolve(cacheDir, model);
    if (!existsSync(join(dir, MANIFEST_FILE))) {
      log(`building the built-in '${model}' model into ${dir} (first start only)`);
      convertModel(presetSource(model), dir, log);
    }
    return loadModelDir(dir);
  }
  return loadModelDir(resolve(model));
}
