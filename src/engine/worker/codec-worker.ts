import { parentPort, workerData } from 'node:worker_threads';
import { MimiRunner } from '../../model/mimi/mimi-runner.js';
import type { CodecThreadOptions, FromCodecThread, ToCodecThread } from './codec-messages.js';

// A codec thread: one direction of Mimi (encoder or decoder) with every
// slot's streaming state, beside the inference worker, so that the codec's
// CPU work overlaps the LM's steps on a GPU. Requests are handled strictly
// in arrival order: a slot move posted after a run applies after that run.

const port = parentPort;
if (!port) throw new Error('codec-worker must run in a worker thread');
const post = (m: FromCodecThread, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

async function main(opts: CodecThreadOptions): Promise<void> {
  const runner = await MimiRunner.create({ encoder: opts.model, decoder: opts.model }, opts.layout, opts.slots, opts.session, opts.direction);
  const exportSlot = (slot: number): Float32Array[] => {
    const state = runner.exportSlot(slot);
    return opts.direction === 'encoder' ? state.encoder : state.decoder;
  };
  const importSlot = (slot: number, state: Float32Array[]): void =>
    runner.importSlot(slot, opts.direction === 'encoder' ? { encoder: state, decoder: [] } : { encoder: [], decoder: state });
  const handle = async (m: ToCodecThread): Promise<void> => {
    switch (m.type) {
      case 'run': {
        const out = opts.direction === 'encoder'
          ? await runner.encode(m.rows, m.data as Float32Array, m.exec)
          : await runner.decode(m.rows, m.data as BigInt64Array, m.exec);
        const copy = out.slice();
        post({ type: 'done', id: m.id, out: copy }, [copy.buffer as ArrayBuffer]);
        break;
      }
      case 'reset':
        runner.resetSlot(m.slot);
        break;
      case 'move':
        runner.moveSlot(m.from, m.to);
        break;
      case 'export':
        post({ type: 'done', id: m.id, out: exportSlot(m.slot) });
        break;
      case 'import':
        importSlot(m.slot, m.state);
        post({ type: 'done', id: m.id, out: null });
        break;
      case 'send':
        m.port.postMessage(exportSlot(m.slot));
        m.port.close();
        break;
      case 'receive': {
        const state = await new Promise<Float32Array[]>((resolve, reject) => {
          m.port.once('message', resolve);
          m.port.once('close', () => reject(new Error(`slot ${m.slot}: the state sent from another codec thread never came`)));
        });
        m.port.close();
        importSlot(m.slot, state);
        break;
      }
    }
  };
  let chain: Promise<void> = Promise.resolve();
  port!.on('message', (m: ToCodecThread) => {
    chain = chain.then(() => handle(m)).catch((e: unknown) => {
      post({ type: 'error', id: 'id' in m ? m.id : null, message: e instanceof Error ? e.message : String(e) });
    });
  });
  post({ type: 'ready', bytesPerSlot: runner.bytesPerSlot });
}

main(workerData as CodecThreadOptions).catch((e: unknown) => {
  post({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
  process.exit(1);
});
