// Times the real Kyutai Mimi shape (default config, random weights) on this
// CPU: `node dist/src/model/mimi/bench.js [sessions] [threads...]`
// (MIMI_BENCH_PROVIDER=webgpu times it on the GPU instead).
import { loadavg } from 'node:os';
import { encodeModel } from '../onnx/serialize.js';
import { defaultMimiConfig, mimiDims } from './config.js';
import { buildMimiGraphs } from './graphs.js';
import { MimiRunner } from './mimi-runner.js';
import { randomMimiWeights } from './random-weights.js';
import { servingOptions, type ExecutionProvider } from '../onnx/session.js';

async function main(): Promise<void> {
  const sessions = Number(process.argv[2] ?? 2);
  const threadList = process.argv.length > 3 ? process.argv.slice(3).map(Number) : [1, 2];
  const iters = Number(process.env['MIMI_BENCH_ITERS'] ?? 20);
  const provider = (process.env['MIMI_BENCH_PROVIDER'] ?? 'cpu') as ExecutionProvider;
  const cfg = defaultMimiConfig;
  const dims = mimiDims(cfg);
  let t0 = performance.now();
  const graphs = buildMimiGraphs(cfg, randomMimiWeights(cfg, 1), 8);
  const models = { encoder: encodeModel(graphs.encoder), decoder: encodeModel(graphs.decoder) };
  console.log(`build+serialize: ${(performance.now() - t0).toFixed(0)} ms (encoder ${(models.encoder.length / 1e6).toFixed(1)} MB, decoder ${(models.decoder.length / 1e6).toFixed(1)} MB)`);
  const pcm = new Float32Array(sessions * dims.frameSize);
  for (let i = 0; i < pcm.length; i++) pcm[i] = 0.3 * Math.sin(i * 0.05) + 0.05 * Math.sin(i * 1.3);
  for (const threads of threadList) {
    t0 = performance.now();
    const runner = await MimiRunner.create(models, graphs.layout, sessions, servingOptions(provider, threads));
    console.log(`threads=${threads}: sessions created in ${(performance.now() - t0).toFixed(0)} ms; state ${runner.bytesPerSlot} bytes/slot`);
    let codes = await runner.encode(sessions, pcm);
    await runner.decode(sessions, codes);
    let enc = 0;
    let dec = 0;
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < iters; i++) {
      let t = performance.now();
      codes = await runner.encode(sessions, pcm);
      enc += performance.now() - t;
      t = performance.now();
      await runner.decode(sessions, codes);
      dec += performance.now() - t;
    }
    const cpu = process.cpuUsage(cpu0);
    const per = (ms: number) => (ms / iters / sessions).toFixed(2);
    console.log(
      `${provider} threads=${threads} batch=${sessions}: encode ${(enc / iters).toFixed(2)} ms/frame (${per(enc)} per session), ` +
        `decode ${(dec / iters).toFixed(2)} ms/frame (${per(dec)} per session), frame = ${(1000 * dims.frameSize / cfg.sample_rate).toFixed(0)} ms of audio; ` +
        `process CPU ${((cpu.user + cpu.system) / 1000 / iters / sessions).toFixed(2)} ms per session-frame (encode+decode), load ${loadavg()[0]!.toFixed(2)}`,
    );
    await runner.release();
  }
}

await main();
