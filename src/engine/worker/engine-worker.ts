import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { loadModelDir } from '../../model/manifest.js';
import { createLmStepper } from '../../model/lm/lm-stepper.js';
import { servingOptions } from '../../model/onnx/session.js';
import { MimiRunner } from '../../model/mimi/mimi-runner.js';
import { defaultCodecProvider, resolveCodecOverlap } from '../codec.js';
import { ThreadedCodec } from '../threaded-codec.js';
import { ModelPipeline } from '../model-pipeline.js';
import { Scheduler, type FrameOutput } from '../scheduler.js';
import { SessionSampler } from '../session-sampler.js';
import type { EngineOptions, FromWorker, ToWorker } from './messages.js';

// The inference worker: onnxruntime's run() blocks its thread, so the model
// runs here and the main thread stays free for sockets and audio.

const port = parentPort;
if (!port) throw new Error('engine-worker must run in a worker thread');
const post = (m: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

async function main(opts: EngineOptions): Promise<void> {
  const model = loadModelDir(opts.modelDir);
  const { stepper: lm, caches } = await createLmStepper(model, opts.maxSessions, servingOptions(opts.provider, opts.threads), opts.lmCaches);
  const codecProvider = opts.codecProvider ?? defaultCodecProvider(opts.provider);
  const codecOverlap = resolveCodecOverlap(opts.codecOverlap ?? 'auto', opts.provider, codecProvider);
  const mimiFiles = { encoder: model.path(model.manifest.files.mimiEncoder), decoder: model.path(model.manifest.files.mimiDecoder) };
  const codec = codecOverlap !== 'off'
    ? await ThreadedCodec.create(mimiFiles, model.mimi, opts.maxSessions, servingOptions(codecProvider, opts.threads), opts.codecShards ?? 1)
    : await MimiRunner.create(mimiFiles, model.mimi, opts.maxSessions, servingOptions(codecProvider, opts.threads));
  const pipeline = new ModelPipeline(lm, codec, opts.maxSessions, opts.maxSessionSteps, codecOverlap);
  const modelId = `${model.manifest.name}@${model.manifest.createdAt}`;
  const samplers = new Map<string, SessionSampler>();
  const scheduler = new Scheduler(pipeline, opts.maxSessions, { tickMs: opts.tickMs, maxQueuedFrames: opts.maxQueuedFrames });
  scheduler.onTick = (stats) => post({ type: 'tick', stats });
  scheduler.onDropped = (id, frames) => post({ type: 'dropped', id, frames });

  port!.on('message', (m: ToWorker) => {
    switch (m.type) {
      case 'open': {
        const resume = m.resume;
        const sampler = new SessionSampler(resume ? resume.sampling : m.sampling, lm.dims, model.lm);
        const handle = {
          id: m.id,
          sampler,
          onRestart: () => sampler.reset(),
          onFrame: (out: FrameOutput) => {
            const transfer = out.pcm ? [out.pcm.buffer as ArrayBuffer] : [];
            post({ type: 'frame', id: m.id, inputFrame: out.inputFrame, pcm: out.pcm, tokens: out.tokens, queuedAt: out.queuedAt }, transfer);
          },
        };
        if (!resume) {
          void scheduler.openWhenFree(handle).then((ok) => {
            if (ok) samplers.set(m.id, sampler);
            post({ type: 'opened', id: m.id, ok });
          });
          break;
        }
        if (resume.model !== modelId) {
          post({ type: 'opened', id: m.id, ok: false, error: 'that session ran on another model' });
          break;
        }
        sampler.restore(resume.sampler);
        scheduler.openRestored(handle, resume.pipeline).then(
          (ok) => {
            if (ok) samplers.set(m.id, sampler);
            post({ type: 'opened', id: m.id, ok });
          },
          (e: unknown) => post({ type: 'opened', id: m.id, ok: false, error: (e as Error).message }),
        );
        break;
      }
      case 'frame':
        scheduler.pushFrame(m.id, m.pcm);
        break;
      case 'restart':
        scheduler.restart(m.id);
        break;
      case 'close': {
        const sampler = samplers.get(m.id);
        samplers.delete(m.id);
        if (!m.snapshot || !sampler) {
          scheduler.close(m.id);
          break;
        }
        const params = sampler.params;
        scheduler.snapshotAndClose(m.id).then(
          (pipe) => post({
            type: 'snapshot',
            id: m.id,
            snapshot: pipe ? { version: 1, model: modelId, sampling: params, sampler: sampler.snapshot(), pipeline: pipe } : null,
          }),
          () => post({ type: 'snapshot', id: m.id, snapshot: null }),
        );
        break;
      }
      case 'stop':
        void scheduler.stop().then(() => codec.release()).then(() => post({ type: 'stopped' }));
        break;
      case 'collect':
        (globalThis as { gc?: () => void }).gc?.();
        post({ type: 'collected', heapUsedBytes: getHeapStatistics().used_heap_size });
        break;
      case 'crash':
        // Between ticks, like any uncaught error here (terminate() during an onnxruntime run aborts the process).
        throw new Error('crash requested');
    }
  });
  scheduler.start();
  post({
    type: 'ready',
    info: {
      modelName: model.manifest.name,
      modelId,
      maxSessions: opts.maxSessions,
      frameSize: model.mimi.frameSize,
      sampleRate: model.mimi.sampleRate,
      bytesPerSession: lm.bytesPerSlot + codec.bytesPerSlot,
      textCard: model.lm.text_card,
      lmCaches: caches,
      codecProvider,
      codecOverlap,
    },
  });
}

main(workerData as EngineOptions).catch((e: unknown) => {
  post({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
  process.exit(1);
});
