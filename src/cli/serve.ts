import { existsSync } from 'node:fs';
import pino from 'pino';
import { loadConfig } from '../config/load.js';
import { EngineClient } from '../engine/engine-client.js';
import { resolveModel } from '../model/model-store.js';
import { glibcArenaMax, SERVING_GLIBC_TUNABLES } from '../model/runtime/glibc-tunables.js';
import { hugePageState } from '../model/runtime/huge-pages.js';
import { SentencePieceTokenizer, loadSentencePieceModel } from '../model/tokenizer/index.js';
import { createServer } from '../transport/server.js';

const DRAIN_TIMEOUT_MS = Number(process.env['PARLEY_DRAIN_TIMEOUT_MS'] ?? 30_000);

export async function serve(argv: string[]): Promise<void> {
  const config = loadConfig(argv);
  const logger = pino({ level: config.logLevel, base: { service: 'parley' } });
  const pages = hugePageState();
  if (pages.kernelMode === 'madvise' && !pages.glibcRequests) {
    logger.warn({ thp: pages.kernelMode }, `transparent huge pages are not requested: start with GLIBC_TUNABLES=${SERVING_GLIBC_TUNABLES} (npm start and the Docker images do) for steadier, faster ticks`);
  }
  const arenas = glibcArenaMax();
  if (pages.kernelMode !== null && arenas === null) {
    logger.warn(`malloc arenas are not limited: start with GLIBC_TUNABLES=${SERVING_GLIBC_TUNABLES} (npm start and the Docker images do), or native memory creeps as sessions come and go`);
  }
  const model = resolveModel(config.model, config.modelCacheDir, (m) => logger.info(m));
  const tokFile = model.manifest.files.tokenizer ? model.path(model.manifest.files.tokenizer) : null;
  const tokenizer = tokFile && existsSync(tokFile)
    ? new SentencePieceTokenizer(loadSentencePieceModel(tokFile), {
      padId: model.lm.existing_text_padding_id, endOfPaddingId: model.lm.existing_text_end_padding_id, textStartId: model.lm.text_card,
    })
    : null;
  logger.info({ model: model.manifest.name, dir: model.dir, maxSessions: config.maxSessions, provider: config.provider, hugePages: pages.active, mallocArenaMax: arenas }, 'loading model');
  const engine = await EngineClient.start({
    modelDir: model.dir,
    provider: config.provider,
    lmCaches: config.lmCaches,
    ...(config.codecProvider ? { codecProvider: config.codecProvider } : {}),
    codecOverlap: config.codecOverlap,
    codecShards: config.codecShards,
    threads: config.threads,
    maxSessions: config.maxSessions,
    tickMs: config.tickMs,
    maxQueuedFrames: config.limits.maxQueuedFrames,
    maxSessionSteps: config.limits.maxSessionSteps,
  });
  const server = await createServer({ config, engine, tokenizer, logger, modelName: model.manifest.name });
  await server.app.listen({ host: config.host, port: config.port });
  logger.info({ url: `ws://${config.host}:${config.port}/api/chat`, lmCaches: engine.info?.lmCaches, codecProvider: engine.info?.codecProvider, codecOverlap: engine.info?.codecOverlap }, 'parley is ready');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, drainTimeoutMs: DRAIN_TIMEOUT_MS }, 'draining');
    await server.drain(DRAIN_TIMEOUT_MS);
    await server.app.close();
    await engine.stop();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
