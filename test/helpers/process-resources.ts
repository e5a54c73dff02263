import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// global.gc without --expose-gc: the flag may be set at run time, and a new
// context then sees gc (V8 only installs it in contexts created afterwards).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export interface ResourceSnapshot {
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  rss: number;
  handles: number;
  handleKinds: Record<string, number>;
}

/** Heap and handle counts after full collections (several, so finalizers and weak refs settle). */
export async function settledResources(): Promise<ResourceSnapshot> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
  const m = process.memoryUsage();
  const kinds = process.getActiveResourcesInfo();
  const handleKinds: Record<string, number> = {};
  for (const k of kinds) handleKinds[k] = (handleKinds[k] ?? 0) + 1;
  return { heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss, handles: kinds.length, handleKinds };
}

export const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;
