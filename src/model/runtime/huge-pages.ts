import { readFileSync } from 'node:fs';
import { glibcTunable } from './glibc-tunables.js';

/**
 * Whether large allocations (weights, KV caches, onnxruntime's buffers) get
 * transparent huge pages. On Linux they do only when the kernel's THP mode is
 * `always`, or `madvise` with glibc told to ask for them
 * (GLIBC_TUNABLES=glibc.malloc.hugetlb=1, read at process start). Measured on
 * the benchmark VM: without them, ticks run 4-5x slower every 0.5 s (the
 * host's page-access sampling flushes 4 KiB mappings) and a 16-session
 * temporal step 5x slower; see docs/deployment.md (Huge pages).
 */
export interface HugePageState {
  /** The kernel's mode: always, madvise, never, or null off Linux. */
  kernelMode: string | null;
  /** glibc.malloc.hugetlb=1 (or 2) in GLIBC_TUNABLES. */
  glibcRequests: boolean;
  active: boolean;
}

export function hugePageState(env: NodeJS.ProcessEnv = process.env, modeFile = '/sys/kernel/mm/transparent_hugepage/enabled'): HugePageState {
  let kernelMode: string | null = null;
  try {
    kernelMode = /\[(\w+)\]/.exec(readFileSync(modeFile, 'utf8'))?.[1] ?? null;
  } catch {
    kernelMode = null;
  }
  const glibcRequests = ['1', '2'].includes(glibcTunable(env, 'glibc.malloc.hugetlb') ?? '');
  return { kernelMode, glibcRequests, active: kernelMode === 'always' || (kernelMode === 'madvise' && glibcRequests) };
}
