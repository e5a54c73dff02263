import { isPrecision } from '../model/lm/gpu/precision.js';
import { providerAvailable, type ExecutionProvider } from '../model/onnx/session.js';
import { runParity, type ParityVariant } from '../parity/run-parity.js';

const USAGE = `usage: parley parity <fixture-dir> [--provider cpu|webgpu|cuda] [--precision fp32|fp16|int4] [--round-weights fp16] [--threads N]
  --precision runs the LM with its caches on the device (the graphs \`convert --precision\` writes);
  without it, the host-cache LM in float32.
  --round-weights fp16 rounds the LM's weights to float16 first (float32 arithmetic).`;

/** `parley parity <fixture-dir>`: prints the comparison table; exit status 0 only when every check passes. */
export async function parity(argv: string[]): Promise<number> {
  const args = [...argv];
  const take = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    if (i < 0) return undefined;
    const v = args[i + 1];
    args.splice(i, 2);
    return v;
  };
  const provider = take('--provider') ?? 'cpu';
  const precision = take('--precision');
  const round = take('--round-weights');
  const threads = Number(take('--threads') ?? 1);
  const dir = args[0];
  if (!dir || !['cpu', 'webgpu', 'cuda'].includes(provider) || (precision !== undefined && !isPrecision(precision)) || (round !== undefined && round !== 'fp16') || !(threads >= 1)) {
    console.error(USAGE);
    return 2;
  }
  const ep = provider as ExecutionProvider;
  if (!providerAvailable(ep)) {
    console.error(`execution provider '${ep}' is not available on this machine (see docs/gpu.md)`);
    return 2;
  }
  const variant: ParityVariant = {
    ...(precision !== undefined && isPrecision(precision) ? { precision } : {}),
    ...(round === 'fp16' ? { roundWeights: round } : {}),
  };
  const r = await runParity(dir, { provider: ep, intraOpThreads: threads }, variant);
  const w = Math.max(...r.checks.map((c) => c.name.length));
  const what = `${variant.precision ? `device caches, ${variant.precision}` : 'host caches, fp32'}${variant.roundWeights ? ', weights rounded to fp16' : ''}`;
  console.log(`parity against ${dir}/reference.json (provider ${ep}, ${what})\n`);
  console.log(`${'check'.padEnd(w)}  ${'value'.padStart(12)}  ${'limit'.padStart(8)}  result`);
  for (const c of r.checks) console.log(`${c.name.padEnd(w)}  ${c.value.padStart(12)}  ${c.limit.padStart(8)}  ${c.limit === 'info' ? 'info' : c.pass ? 'ok' : 'FAIL'}`);
  console.log(`\n${r.pass ? 'PASS' : 'FAIL'}`);
  return r.pass ? 0 : 1;
}
