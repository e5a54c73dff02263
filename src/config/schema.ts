import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

/** Every server setting, from config files, environment and flags (in that order of precedence, lowest first). */
export const serverConfigSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: port.default(8998),
    /** A converted model directory, or the name of a built-in preset (`demo`). */
    model: z.string().min(1).default('demo'),
    /** Where built-in presets are built on first use. */
    modelCacheDir: z.string().min(1).default('models'),
    provider: z.enum(['cpu', 'webgpu', 'cuda']).default('cpu'),
    /** onnxruntime intra-op threads for the inference worker. */
    threads: positiveInt.max(256).default(2),
    maxSessions: positiveInt.max(1024).default(4),
    tickMs: positiveInt.max(1000).default(80),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    limits: z
      .object({
        /** Largest WebSocket message accepted (bytes); larger ones close with 1009. */
        maxMessageBytes: positiveInt.default(1 << 20),
        /** Frames a session may queue (80 ms each) before the oldest are dropped. */
        maxQueuedFrames: positiveInt.default(25),
        /** Model steps after which a session ends (Moshi stops at 4500, 6 minutes). */
        maxSessionSteps: positiveInt.default(4500),
        /** A client that sends no audio for this long is closed. */
        idleTimeoutMs: positiveInt.default(30_000),
        /** Outgoing bytes buffered for a slow reader before its oldest audio is dropped. */
        maxBufferedBytes: positiveInt.default(512 * 1024),
        /** Audio dropped for one slow reader before the session is closed. */
        maxDroppedAudioBytes: positiveInt.default(2 * 1024 * 1024),
      })
      .strict()
      .default({
        maxMessageBytes: 1 << 20,
        maxQueuedFrames: 25,
        maxSessionSteps: 4500,
        idleTimeoutMs: 30_000,
        maxBufferedBytes: 512 * 1024,
        maxDroppedAudioBytes: 2 * 1024 * 1024,
      }),
    /** Serve the web client at `/`. */
    webClient: z.boolean().default(true),
  })
  .strict();

export type ServerConfig = z.output<typeof serverConfigSchema>;
