import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/schema.js';
import type { EngineClient } from '../engine/engine-client.js';
import { randomSeed } from '../engine/sampling/rng.js';
import { parseSamplingQuery, type SamplingParams } from '../engine/sampling/sampling-params.js';
import type { SentencePieceTokenizer } from '../model/tokenizer/index.js';
import { AccessControl } from './access.js';
import { ChatSession } from './chat-session.js';
import { Metrics } from './metrics.js';
import { CloseCode, errorMessage } from './protocol.js';
import { RedisResumeStore } from './resume/redis-resume-store.js';
import { isWellFormedToken, MemoryResumeStore, type ResumeStore } from './resume/resume-store.js';

export interface ServerDeps {
  config: ServerConfig;
  engine: EngineClient;
  tokenizer: SentencePieceTokenizer | null;
  logger: Logger;
  modelName: string;
}

export interface ParleyServer {
  app: FastifyInstance;
  metrics: Metrics;
  sessions: Set<ChatSession>;
  /** Stops taking sessions, lets running ones finish up to `timeoutMs`, then closes them with 1001. */
  drain(timeoutMs: number): Promise<void>;
}

export async function createServer(deps: ServerDeps): Promise<ParleyServer> {
  const { config, engine } = deps;
  const https = config.tls ? { key: readFileSync(config.tls.keyFile), cert: readFileSync(config.tls.certFile) } : null;
  const app = Fastify({ loggerInstance: deps.logger as FastifyBaseLogger, trustProxy: config.trustProxy, ...(https ? { https } : {}) }) as unknown as FastifyInstance;
  const access = new AccessControl(config);
  const resumeStore: ResumeStore = config.resume.redisUrl
    ? await new RedisResumeStore(config.resume.redisUrl).connect()
    : new MemoryResumeStore();
  app.addHook('onClose', async () => resumeStore.close());
  const metrics = new Metrics();
  const sessions = new Set<ChatSession>();
  let draining = false;

  const refreshGauges = () => {
    metrics.liveSessions.set(sessions.size);
    // A draining server takes no new sessions: it shows no free slots to a balancer.
    metrics.freeSlots.set(engine.ready && !draining ? engine.freeSlots : 0);
  };
  engine.on('tick', (s) => metrics.recordTick(s));
  engine.on('dropped', (_id, n) => metrics.droppedFrames.inc(n));
  engine.on('crashed', (reason) => {
    metrics.workerRestarts.inc();
    deps.logger.error({ reason }, 'inference worker crashed; restarting it');
  });
  engine.on('restartFailed', (reason, retryInMs) => {
    metrics.workerRestartFailures.inc();
    deps.logger.error({ reason, retryInMs }, 'inference worker restart failed; trying again');
  });

  // autoPong off: sessions answer pings themselves, so that a client that pings but never reads is closed with a reason and counted.
  await app.register(fastifyWebsocket, { options: { maxPayload: config.limits.maxMessageBytes, autoPong: false } });
  await app.register(fastifyRateLimit, { global: false });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const free = engine.ready && !draining ? engine.freeSlots : 0;
    const body = { ready: engine.ready && !draining && free > 0, draining, freeSlots: free, liveSessions: sessions.size, model: deps.modelName };
    return reply.code(body.ready ? 200 : 503).send(body);
  });
  app.get('/metrics', async (_req, reply) => {
    refreshGauges();
    return reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  if (config.webClient) await registerWebClient(app, deps.logger);

  app.get('/api/chat', {
    websocket: true,
    config: {
      rateLimit: {
        max: config.connectionsPerMinute,
        timeWindow: 60_000,
        onExceeded: () => metrics.refused.inc({ reason: 'rate_limit' }),
      },
    },
    // Checked before the upgrade: a refused request never gets a socket or a session.
    preValidation: async (request, reply) => {
      const decision = await access.check({ headers: request.headers, query: request.query });
      if (!decision.ok) {
        metrics.refused.inc({ reason: decision.metric });
        await reply.code(decision.status).send({ error: decision.reason });
      }
    },
  }, (socket, request) => {
    const refuse = (code: number, message: string, reason: string) => {
      metrics.refused.inc({ reason });
      socket.send(errorMessage(message));
      socket.close(code, message.slice(0, 120));
    };
    if (draining) {
      refuse(CloseCode.TryAgainLater, 'server is shutting down', 'draining');
      return;
    }
    const sampling = parseSamplingQuery(request.query);
    if (!sampling.ok) {
      refuse(CloseCode.PolicyViolation, sampling.error, 'bad_query');
      return;
    }
    const query = (request.query ?? {}) as Record<string, unknown>;
    const resume = typeof query['resume'] === 'string' ? query['resume'] : undefined;
    if (resume !== undefined && !isWellFormedToken(resume)) {
      refuse(CloseCode.PolicyViolation, 'invalid, expired or already used resume token', 'bad_resume_token');
      return;
    }
    const session = new ChatSession(socket, withSeeds(sampling.params), {
      engine, tokenizer: deps.tokenizer, limits: config.limits, metrics, log: deps.logger, modelName: deps.modelName,
      resumeStore, resumeGraceMs: config.resume.gracePeriodMs,
    });
    sessions.add(session);
    socket.on('close', () => {
      sessions.delete(session);
      refreshGauges();
    });
    session.start(resume).then(refreshGauges, (e: unknown) => {
      deps.logger.error({ err: (e as Error).stack }, 'session start failed');
      session.end(CloseCode.InternalError, 'could not start the session', 'internal_error');
    });
  });

  const drain = async (timeoutMs: number): Promise<void> => {
    draining = true;
    const deadline = Date.now() + timeoutMs;
    while (sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const s of sessions) s.drain();
  };

  return { app, metrics, sessions, drain };
}

/** Fixes the seeds a session will use, so its metadata can report them and a client can replay it. */
function withSeeds(p: SamplingParams): SamplingParams {
  return { ...p, textSeed: p.textSeed ?? randomSeed(), audioSeed: p.audioSeed ?? randomSeed() };
}

/** The built web client: dist/web, beside dist/src (npm run build). */
const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));

/**
 * Serves the web client at `/`. With `wildcard: false` each file found at
 * start-up gets its own route, so no request path is ever joined onto the
 * file system (no traversal, no dotfiles, nothing added later).
 */
async function registerWebClient(app: FastifyInstance, log: Logger): Promise<void> {
  if (!existsSync(join(WEB_ROOT, 'index.html'))) {
    log.warn({ root: WEB_ROOT }, 'web client not built (run npm run build); / is not served');
    return;
  }
  await app.register(fastifyStatic, { root: WEB_ROOT, prefix: '/', wildcard: false, index: 'index.html' });
}
