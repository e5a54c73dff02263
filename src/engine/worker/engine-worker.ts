import { parentPort, workerData } from 'node:worker_threads';
import { loadModelDir } from '../../model/manifest.js';
import { LmRunner } from '../../model/lm/lm-runner.js';
import { MimiRunner } from '../../model/mimi/mimi-runner.js';
import { ModelPipeline } from '../model-pipeline.js';
import { Scheduler } from '../scheduler.js';
import { SessionSampler } from '../session-sampler.js';
import type { EngineOptions, FromWorker, ToWorker } from './messages.js';

// The inference worker: onnxruntime's run() blocks its thread, so the model
// runs here and the main thread stays free for sockets and audio.

const port = parentPort;
if (!port) throw new Error('engine-worker must run in a worker thread');
const post = (m: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

async function main(opts: EngineOptions): Promise<void> {
  const model = loadModelDir(opts.modelDir);
  const sessionOpts = { provider: opts.provider, intraOpThreads: opts.threads };
  const lm = await LmRunner.create(model.lm, {
    temporal: model.path(model.manifest.files.temporal),
    depformer: model.manifest.files.depformer.map((f) => model.path(f)),
  }, opts.maxSessions, sessionOpts);
  const codec = await MimiRunner.create({ encoder: model.path(model.manifest.files.mimiEncoder), decoder: model.path(model.manifest.files.mimiDecoder) }, model.mimi, opts.maxSessions, sessionOpts);
  const pipeline = new ModelPipeline(lm, codec, opts.maxSessions);
  const scheduler = new Scheduler(pipeline, opts.maxSessions, { tickMs: opts.tickMs, maxQueuedFrames: opts.maxQueuedFrames });
  scheduler.onTick = (stats) => post({ type: 'tick', stats });
  scheduler.onDropped = (id, frames) => post({ type: 'dropped', id, frames });

  port!.on('message', (m: ToWorker) => {
    switch (m.type) {
      case 'open': {
        const sampler = new SessionSampler(m.sampling, lm.dims, model.lm);
        const ok = scheduler.open({
          id: m.id,
          sampler,
          onRestart: () => sampler.reset(),
          onFrame: (out) => {
            const transfer = out.pcm ? [out.pcm.buffer as ArrayBuffer] : [];
            post({ type: 'frame', id: m.id, inputFrame: out.inputFrame, pcm: out.pcm, tokens: out.tokens, queuedAt: out.queuedAt }, transfer);
          },
        });
        post({ type: 'opened', id: m.id, ok });
        break;
      }
      case 'frame':
        scheduler.pushFrame(m.id, m.pcm);
        break;
      case 'restart':
        scheduler.restart(m.id);
        break;
      case 'close':
        scheduler.close(m.id);
        break;
      case 'stop':
        void scheduler.stop().then(() => post({ type: 'stopped' }));
        break;
    }
  });
  scheduler.start();
  post({
    type: 'ready',
    info: {
      modelName: model.manifest.name,
      maxSessions: opts.maxSessions,
      frameSize: model.mimi.frameSize,
      sampleRate: model.mimi.sampleRate,
      bytesPerSession: lm.bytesPerSlot + codec.bytesPerSlot,
      textCard: model.lm.text_card,
    },
  });
}

main(workerData as EngineOptions).catch((e: unknown) => {
  post({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
  process.exit(1);
});
