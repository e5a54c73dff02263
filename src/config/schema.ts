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
    /**
     * Where the LM's KV caches live: 'device' keeps them on the GPU (needs a
     * model converted with --precision), 'host' in process memory, 'auto'
     * picks device for a GPU provider when the model has device graphs.
     */
    lmCaches: z.enum(['auto', 'host', 'device']).default('auto'),
    /**
     * Where the Mimi codec runs. Absent: on the host cores when provider is
     * webgpu (Mimi's many small kernels are far slower there), else on provider.
     */
    codecProvider: z.enum(['cpu', 'webgpu', 'cuda']).optional(),
    /**
     * How Mimi overlaps the LM (engine/codec.ts): 'off' (one after the
     * other), 'decode' (codec threads, decode runs into the next tick, same
     * latency), 'full' (also encodes while the LM steps the previous frames:
     * more sessions, one tick more latency). 'auto': 'full' when the LM runs
     * on a GPU and the codec on the host cores, else 'off'.
     */
    codecOverlap: z.enum(['auto', 'off', 'decode', 'full']).default('auto'),
    /** With the codec overlapped: threads per direction, each serving its share of the session slots. */
    codecShards: positiveInt.max(16).default(1),
    /** onnxruntime intra-op threads for the inference worker. */
    threads: positiveInt.max(256).default(2),
    maxSessions: positiveInt.max(1024).default(8),
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
        /** Input audio a session may send, in multiples of real time after a 10 s burst; faster clients are closed. */
        maxInputSpeed: positiveInt.max(1000).default(10),
      })
      .strict()
      .default({
        maxMessageBytes: 1 << 20,
        maxQueuedFrames: 25,
        maxSessionSteps: 4500,
        idleTimeoutMs: 30_000,
        maxBufferedBytes: 512 * 1024,
        maxDroppedAudioBytes: 2 * 1024 * 1024,
        maxInputSpeed: 10,
      }),
    /** Serve the web client at `/`. */
    webClient: z.boolean().default(true),
    auth: z
      .object({
        /** Accepted API keys (`Authorization: Bearer <key>`, or `?token=<key>` for browsers). Empty: no keys. */
        apiKeys: z.array(z.string().min(16, 'API keys must be at least 16 characters')).default([]),
        /** HS256 secret for signed bearer tokens (JWT with `exp`); null: no signed tokens. */
        jwtSecret: z.string().min(32, 'the JWT secret must be at least 32 characters').nullable().default(null),
        /** Accept the credential as the `token` query parameter (browsers cannot set WebSocket headers). */
        allowQueryToken: z.boolean().default(true),
      })
      .strict()
      .default({ apiKeys: [], jwtSecret: null, allowQueryToken: true }),
    /** Origins allowed to open a chat from a browser (exact match, e.g. https://app.example.com); empty: any. */
    allowedOrigins: z.array(z.string().url()).default([]),
    /** Behind a reverse proxy: trust its X-Forwarded-For for client addresses (rate limits, logs). */
    trustProxy: z.union([z.boolean(), z.string().min(1)]).default(false),
    /** New chat connections per client IP per minute. */
    connectionsPerMinute: positiveInt.default(60),
    resume: z
      .object({
        /** How long a dropped session waits for its client to come back with its resume token. */
        gracePeriodMs: positiveInt.max(3_600_000).default(60_000),
        /** Keep dropped sessions in Redis (e.g. redis://host:6379) so any server can resume them; null: in memory. */
        redisUrl: z.string().url().nullable().default(null),
      })
      .strict()
      .default({ gracePeriodMs: 60_000, redisUrl: null }),
    /** TLS: serve https/wss directly (else put a reverse proxy in front). */
    tls: z.object({ keyFile: z.string(), certFile: z.string() }).strict().nullable().default(null),
  })
  .strict();

export type ServerConfig = z.output<typeof serverConfigSchema>;
