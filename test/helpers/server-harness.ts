import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import WebSocket from 'ws';
import { serverConfigSchema } from '../../src/config/schema.js';
import { EngineClient } from '../../src/engine/engine-client.js';
import { checkpointSource, convertModel } from '../../src/model/convert.js';
import { loadModelDir } from '../../src/model/manifest.js';
import { SentencePieceTokenizer, loadSentencePieceModel } from '../../src/model/tokenizer/index.js';
import { createServer, type ParleyServer } from '../../src/transport/server.js';
import { FIXTURE } from './fixture.js';

let fixtureModel: string | null = null;

/** The fixture checkpoint converted once per test process. */
export function fixtureModelDir(): string {
  if (!fixtureModel) {
    fixtureModel = mkdtempSync(join(tmpdir(), 'parley-fixture-model-'));
    convertModel(checkpointSource(FIXTURE), fixtureModel);
  }
  return fixtureModel;
}

export interface TestServer {
  url: string;
  base: string;
  server: ParleyServer;
  engine: EngineClient;
  close(): Promise<void>;
}

export async function startTestServer(opts: { modelDir?: string; maxSessions?: number; config?: Record<string, unknown> } = {}): Promise<TestServer> {
  const modelDir = opts.modelDir ?? fixtureModelDir();
  const config = serverConfigSchema.parse({ port: 0, maxSessions: opts.maxSessions ?? 2, threads: 1, ...opts.config });
  const model = loadModelDir(modelDir);
  const tokenizer = model.manifest.files.tokenizer
    ? new SentencePieceTokenizer(loadSentencePieceModel(model.path(model.manifest.files.tokenizer)), {
      padId: model.lm.existing_text_padding_id, endOfPaddingId: model.lm.existing_text_end_padding_id, textStartId: model.lm.text_card,
    })
    : null;
  const engine = await EngineClient.start({
    modelDir, provider: 'cpu', threads: 1, maxSessions: config.maxSessions, tickMs: config.tickMs, maxQueuedFrames: config.limits.maxQueuedFrames,
    maxSessionSteps: config.limits.maxSessionSteps,
  });
  const server = await createServer({ config, engine, tokenizer, logger: pino({ level: 'silent' }), modelName: model.manifest.name });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const addr = server.app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `ws://127.0.0.1:${port}/api/chat`,
    base: `http://127.0.0.1:${port}`,
    server,
    engine,
    close: async () => {
      await server.app.close();
      await engine.stop();
    },
  };
}

export interface ReceivedMessage {
  kind: number;
  payload: Buffer;
  at: number;
}

export interface TestClient {
  ws: WebSocket;
  messages: ReceivedMessage[];
  closed: Promise<{ code: number; reason: string }>;
  waitFor(pred: (m: ReceivedMessage[]) => boolean, timeoutMs: number): Promise<void>;
  send(kind: number, payload?: Uint8Array): void;
}

export function connect(url: string): Promise<TestClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const messages: ReceivedMessage[] = [];
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
    ws.on('message', (data: Buffer) => messages.push({ kind: data[0]!, payload: data.subarray(1), at: performance.now() }));
    ws.on('error', reject);
    ws.on('open', () => resolve({
      ws,
      messages,
      closed,
      send: (kind, payload = new Uint8Array(0)) => ws.send(Buffer.concat([Buffer.from([kind]), payload])),
      waitFor: (pred, timeoutMs) => new Promise<void>((res, rej) => {
        const t0 = Date.now();
        const poll = () => {
          if (pred(messages)) res();
          else if (Date.now() - t0 > timeoutMs) rej(new Error(`timed out; got kinds ${messages.map((m) => m.kind).join(',')}`));
          else setTimeout(poll, 20);
        };
        poll();
      }),
    }));
  });
}
