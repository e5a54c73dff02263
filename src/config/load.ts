import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { serverConfigSchema, type ServerConfig } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Environment variables and the settings they set. */
const ENV: Record<string, string> = {
  HOST: 'host',
  PORT: 'port',
  PARLEY_HOST: 'host',
  PARLEY_PORT: 'port',
  PARLEY_MODEL: 'model',
  PARLEY_MODEL_CACHE_DIR: 'modelCacheDir',
  PARLEY_PROVIDER: 'provider',
  PARLEY_LM_CACHES: 'lmCaches',
  PARLEY_CODEC_PROVIDER: 'codecProvider',
  PARLEY_CODEC_OVERLAP: 'codecOverlap',
  PARLEY_CODEC_SHARDS: 'codecShards',
  PARLEY_THREADS: 'threads',
  PARLEY_MAX_SESSIONS: 'maxSessions',
  PARLEY_TICK_MS: 'tickMs',
  PARLEY_LOG_LEVEL: 'logLevel',
  PARLEY_CONNECTIONS_PER_MINUTE: 'connectionsPerMinute',
};



/** Limits, one variable each, into `limits`. */
const ENV_LIMITS: Record<string, keyof ServerConfig['limits']> = {
  PARLEY_MAX_MESSAGE_BYTES: 'maxMessageBytes',
  PARLEY_MAX_QUEUED_FRAMES: 'maxQueuedFrames',
  PARLEY_MAX_SESSION_STEPS: 'maxSessionSteps',
  PARLEY_IDLE_TIMEOUT_MS: 'idleTimeoutMs',
  PARLEY_MAX_BUFFERED_BYTES: 'maxBufferedBytes',
  PARLEY_MAX_DROPPED_AUDIO_BYTES: 'maxDroppedAudioBytes',
  PARLEY_MAX_INPUT_SPEED: 'maxInputSpeed',
};

/** Settings that hold lists or secrets, read from the environment as JSON or comma lists. */
const ENV_NESTED: Record<string, (v: string, into: Record<string, unknown>) => void> = {
  PARLEY_API_KEYS: (v, into) => {
    into['auth'] = { ...(into['auth'] as object | undefined), apiKeys: v.split(',').map((s) => s.trim()).filter(Boolean) };
  },
  PARLEY_JWT_SECRET: (v, into) => {
    into['auth'] = { ...(into['auth'] as object | undefined), jwtSecret: v };
  },
  PARLEY_TRUST_PROXY: (v, into) => {
    into['trustProxy'] = v === 'true' ? true : v === 'false' ? false : v;
  },
  PARLEY_REDIS_URL: (v, into) => {
    into['resume'] = { ...(into['resume'] as object | undefined), redisUrl: v };
  },
  PARLEY_RESUME_GRACE_MS: (v, into) => {
    into['resume'] = { ...(into['resume'] as object | undefined), gracePeriodMs: v };
  },
  PARLEY_ALLOWED_ORIGINS: (v, into) => {
    into['allowedOrigins'] = v.split(',').map((s) => s.trim()).filter(Boolean);
  },
};

const FLAGS = {
  config: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  model: { type: 'string' },
  'model-cache-dir': { type: 'string' },
  provider: { type: 'string' },
  'lm-caches': { type: 'string' },
  'codec-provider': { type: 'string' },
  'codec-overlap': { type: 'string' },
  'codec-shards': { type: 'string' },
  threads: { type: 'string' },
  'max-sessions': { type: 'string' },
  'tick-ms': { type: 'string' },
  'log-level': { type: 'string' },
  'redis-url': { type: 'string' },
} as const;

const camel = (s: string): string => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Builds the server config: `config/default.json` (or `--config FILE`), then
 * environment variables, then command-line flags. Any bad value is a
 * ConfigError naming the setting and where it came from.
 */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ServerConfig {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false });
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  const flags = parsed.values as Record<string, string | undefined>;
  const file = flags['config'] ?? (existsSync(`${cwd}/config/default.json`) ? `${cwd}/config/default.json` : null);
  let merged: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  if (file) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ConfigError(`${file}: ${(e as Error).message}`);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${file}: must hold a JSON object`);
    merged = { ...(raw as Record<string, unknown>) };
    for (const k of Object.keys(merged)) origin[k] = file;
  }
  for (const [name, key] of Object.entries(ENV)) {
    const v = env[name];
    if (v !== undefined && v !== '') {
      merged[key] = v;
      origin[key] = `environment variable ${name}`;
    }
  }
  for (const [name, apply] of Object.entries(ENV_NESTED)) {
    const v = env[name];
    if (v !== undefined && v !== '') {
      apply(v, merged);
      const key = name === 'PARLEY_ALLOWED_ORIGINS' ? 'allowedOrigins' : name === 'PARLEY_TRUST_PROXY' ? 'trustProxy' : name.startsWith('PARLEY_RE') ? 'resume' : 'auth';
      origin[key] = `environment variable ${name}`;
    }
  }
  for (const [name, key] of Object.entries(ENV_LIMITS)) {
    const v = env[name];
    if (v !== undefined && v !== '') {
      merged['limits'] = { ...(merged['limits'] as object | undefined), [key]: v };
      origin[`limits.${key}`] = `environment variable ${name}`;
    }
  }
  for (const [flag, v] of Object.entries(flags)) {
    if (flag === 'config' || v === undefined) continue;
    if (flag === 'redis-url') {
      merged['resume'] = { ...(merged['resume'] as object | undefined), redisUrl: v };
      origin['resume'] = '--redis-url';
      continue;
    }
    merged[camel(flag)] = v;
    origin[camel(flag)] = `--${flag}`;
  }
  const r = serverConfigSchema.safeParse(merged);
  if (!r.success) {
    const lines = r.error.issues.map((i) => {
      const key = i.path.join('.') || '(root)';
      const from = origin[key] ?? origin[String(i.path[0])];
      return `  ${key}: ${i.message}${from ? ` (from ${from})` : ''}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return r.data;
}
