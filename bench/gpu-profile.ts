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
  /** Device-side kernel events when the provider reported them (WebGPU timestamp queries). */
  deviceKernels: { name: string; ms: number; count: number }[];
}

/** Reads and deletes every profile written under `prefix` (a path prefix). */
export function summarizeProfiles(prefix: string, top = 25): ProfileSummary {
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
        const name = (e.name ?? '?').replace(/_\d+$/, '');
        const k = kernels.get(name) ?? { name, ms: 0, count: 0 };
        k.ms += dur;
        k.count++;
        kernels.set(name, k);
      }
    }
    rmSync(f, { force: true });
  }
  const byMs = <T extends { ms: number }>(a: T, b: T) => b.ms - a.ms;
  return {
    files: files.length,
    byOp: [...ops.values()].sort(byMs).slice(0, top).map((o) => ({ ...o, ms: round(o.ms, 3) })),
    cpuOps: [...cpu].sort(),
    deviceKernels: [...kernels.values()].sort(byMs).slice(0, top).map((k) => ({ ...k, ms: round(k.ms, 3) })),
  };
}
