// Summarizes onnxruntime profiles (enableProfiling): time per operator type,
// and which operators ran on the CPU provider (each one a device round trip).
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { round } from './stats.js';

interface TraceEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string; provider?: string };
}

export interface ProfileSummary {
  files: number;
  /** Kernel time by operator type (ms, summed over the profiled steps), largest first. */
  byOp: { op: string; provider: string; ms: number; count: number }[];
  /** Operator types that ran on the CPU provider. */
  cpuOps: string[];
  /** Device-side kernel time by operator type (WebGPU timestamp queries), largest first. */
  deviceKernels: { name: string; ms: number; count: number }[];
  /** Device kernel time per profiled step (ms), and node executions per step. */
  deviceMsPerStep: number;
  nodesPerStep: number;
}

/** Reads and deletes every profile written under `prefix` (a path prefix). */
export function summarizeProfiles(prefix: string, steps: number, top = 25): ProfileSummary {
  const dir = dirname(prefix);
  const files = readdirSync(dir).filter((f) => f.startsWith(basename(prefix)) && f.endsWith('.json')).map((f) => join(dir, f));
  const ops = new Map<string, { op: string; provider: string; ms: number; count: number }>();
  const kernels = new Map<string, { name: string; ms: number; count: number }>();
  const cpu = new Set<string>();
  for (const f of files) {
    let events: TraceEvent[];
    try {
      events = JSON.parse(readFileSync(f, 'utf8')) as TraceEvent[];
    } catch {
      continue;
    }
    for (const e of events) {
      const dur = (e.dur ?? 0) / 1000;
      if (e.cat === 'Node' && e.args?.op_name && e.name?.endsWith('_kernel_time')) {
        const provider = e.args.provider ?? '?';
        const key = `${e.args.op_name}@${provider}`;
        const o = ops.get(key) ?? { op: e.args.op_name, provider, ms: 0, count: 0 };
        o.ms += dur;
        o.count++;
        ops.set(key, o);
        if (provider.startsWith('CPU')) cpu.add(e.args.op_name);
      } else if (e.cat === 'Kernel' || e.cat === 'Api') {
        // Kernel names read '<node>&<op>&<program>': group by op and program.
        const parts = (e.name ?? '?').split('&');
        const name = parts.length >= 3 ? `${parts[1]}/${parts[2]}` : (e.name ?? '?').replace(/_\d+$/, '');
        const k = kernels.get(name) ?? { name, ms: 0, count: 0 };
        k.ms += dur;
        k.count++;
        kernels.set(name, k);
      }
    }
    rmSync(f, { force: true });
  }
  const byMs = <T extends { ms: number }>(a: T, b: T) => b.ms - a.ms;
  const deviceMs = [...kernels.values()].reduce((a, k) => a + k.ms, 0);
  const nodes = [...ops.values()].reduce((a, o) => a + o.count, 0);
  return {
    deviceMsPerStep: round(deviceMs / steps, 2),
    nodesPerStep: Math.round(nodes / steps),
    files: files.length,
    byOp: [...ops.values()].sort(byMs).slice(0, top).map((o) => ({ ...o, ms: round(o.ms, 3) })),
    cpuOps: [...cpu].sort(),
    deviceKernels: [...kernels.values()].sort(byMs).slice(0, top).map((k) => ({ ...k, ms: round(k.ms, 3) })),
  };
}
