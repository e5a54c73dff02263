// Module hooks that let Node load the k6 entry scripts: each k6 module the
// adapter imports resolves to a small stand-in next to this file.
const SHIMS: Record<string, string> = {
  'k6/experimental/websockets': './websockets.js',
  'k6/websockets': './websockets.js',
  'k6/metrics': './metrics.js',
  'k6/timers': './timers.js',
  'k6/execution': './execution.js',
};

interface Resolved {
  url: string;
  shortCircuit?: boolean;
}

export async function resolve(specifier: string, context: unknown, next: (s: string, c: unknown) => Promise<Resolved>): Promise<Resolved> {
  const shim = SHIMS[specifier];
  if (shim) return { url: new URL(shim, import.meta.url).href, shortCircuit: true };
  return next(specifier, context);
}
