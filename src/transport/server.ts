import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/schema.js';
import type { EngineClient } from '../engine/engine-client.js';
import { randomSeed } from '../engine/sampling/rng.js';
import { parseSamplingQuery, type SamplingParams } from '../engine/sampling/sampling-params.js';
import type { SentencePieceTokenizer } from '../model/tokenizer/index.js';
import { ChatSession } from './chat-session.js';
import { Metrics } from './metrics.js';
import { CloseCode, errorMessage } from './protocol.js';

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
  const app = Fastify({ loggerInstance: deps.logger as FastifyBaseLogger });
  const metrics = new Metrics();
  const sessions = new Set<ChatSession>();
  let draining = false;

  const refreshGauges = () => {
    metrics.liveSessions.set(sessions.size);
    metrics.freeSlots.set(engine.ready ? engine.freeSlots : 0);
  };
  engine.on('tick', (s) => metrics.recordTick(s));
  engine.on('dropped', (_id, n) => metrics.droppedFrames.inc(n));
  engine.on('crashed', (reason) => {
    metrics.workerRestarts.inc();
    deps.logger.error({ reason }, 'inference worker crashed; restarting it');
  });

  await app.register(fastifyWebsocket, { options: { maxPayload: config.limits.maxMessageBytes } });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const free = engine.ready ? engine.freeSlots : 0;
    const body = { ready: engine.ready && !draining && free > 0, draining, freeSlots: free, liveSessions: sessions.size, model: deps.modelName };
    return reply.code(body.ready ? 200 : 503).send(body);
  });
  app.get('/metrics', async (_req, reply) => {
    refreshGauges();
    return reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.get('/api/chat', { websocket: true }, (socket, request) => {
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
    const session = new ChatSession(socket, withSeeds(sampling.params), {
      engine, tokenizer: deps.tokenizer, limits: config.limits, metrics, log: deps.logger, modelName: deps.modelName,
    });
    sessions.add(session);
    socket.on('close', () => {
      sessions.delete(session);
      refreshGauges();
    });
    session.start().then(refreshGauges, (e: unknown) => {
      deps.logger.error({ err: (e as Error).stack }, 'session start failed');
      session.end(CloseCode.InternalError, 'could not start the session', 'internal_error');
    });
  });

  const drain = async (timeoutMs: number): Promise<void> => {
    draining = true;
    const deadline = Date.now() + timeoutMs;
    while (sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const s of sessions) s.end(CloseCode.GoingAway, 'server is shutting down', 'draining');
  };

  return { app, metrics, sessions, drain };
}

/** Fixes the seeds a session will use, so its metadata can report them and a client can replay it. */
function withSeeds(p: SamplingParams): SamplingParams {
  return { ...p, textSeed: p.textSeed ?? randomSeed(), audioSeed: p.audioSeed ?? randomSeed() };
}
