/**
 * The glibc malloc settings Parley serves with (the npm scripts and both
 * images set GLIBC_TUNABLES to this; glibc reads it at process start):
 *
 * - `hugetlb=1`: transparent huge pages for large allocations where the
 *   kernel's mode is `madvise` (see huge-pages.ts).
 * - `arena_max=2`: at most two malloc arenas. By default glibc gives threads
 *   up to 8 per core, and the inference worker, onnxruntime's pool threads
 *   and V8's helpers each fill and fragment their own, so native memory kept
 *   creeping as sessions joined and left. Measured on the bench preset (2
 *   sessions, each living 3-8 s, 5.5 minutes, docs/deployment.md): +23 MB of
 *   anonymous memory with the default arenas, +5.7 MB with two, flat after
 *   the first 40 s; tick times unchanged.
 */
export const SERVING_GLIBC_TUNABLES = 'glibc.malloc.hugetlb=1:glibc.malloc.arena_max=2';

/** A glibc tunable's value in a GLIBC_TUNABLES string (colon-separated name=value), or null. */
export function glibcTunable(env: NodeJS.ProcessEnv, name: string): string | null {
  for (const item of (env['GLIBC_TUNABLES'] ?? '').split(':')) {
    const eq = item.indexOf('=');
    if (eq > 0 && item.slice(0, eq) === name) return item.slice(eq + 1);
  }
  return null;
}

/** The malloc arena limit asked for, or null for glibc's default. */
export function glibcArenaMax(env: NodeJS.ProcessEnv = process.env): number | null {
  const v = Number(glibcTunable(env, 'glibc.malloc.arena_max'));
  return Number.isInteger(v) && v > 0 ? v : null;
}
