import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseLmConfig, type LmConfig } from '../lm/config.js';

/** The files of a Kyutai checkpoint directory, as named by its config.json. */
export interface CheckpointDir {
  dir: string;
  lm: LmConfig;
  lmWeights: string;
  mimiWeights: string;
  /** Raw mimi_config.json contents, or null for Kyutai's default Mimi. */
  mimiConfig: unknown | null;
  tokenizer: string | null;
}

export function readCheckpointDir(dir: string): CheckpointDir {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`checkpoint directory not found: ${dir}`);
  const cfgPath = join(dir, 'config.json');
  let raw: unknown = {};
  if (existsSync(cfgPath)) {
    try {
      raw = JSON.parse(readFileSync(cfgPath, 'utf8'));
    } catch (e) {
      throw new Error(`${cfgPath}: not valid JSON (${(e as Error).message})`);
    }
  }
  const lm = parseLmConfig(raw, cfgPath);
  const need = (name: string, what: string): string => {
    const p = join(dir, name);
    if (!existsSync(p)) throw new Error(`${dir}: ${what} file ${name} not found`);
    return p;
  };
  let mimiConfig: unknown | null = null;
  if (lm.mimi_config_name) {
    const p = need(lm.mimi_config_name, 'Mimi config');
    try {
      mimiConfig = JSON.parse(readFileSync(p, 'utf8'));
    } catch (e) {
      throw new Error(`${p}: not valid JSON (${(e as Error).message})`);
    }
  }
  const tok = join(dir, lm.tokenizer_name);
  return {
    dir,
    lm,
    lmWeights: need(lm.moshi_name, 'LM weights'),
    mimiWeights: need(lm.mimi_name, 'Mimi weights'),
    mimiConfig,
    tokenizer: existsSync(tok) ? tok : null,
  };
}
