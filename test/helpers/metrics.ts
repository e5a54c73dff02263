/** Fetches the server's Prometheus text. */
export async function scrape(base: string): Promise<string> {
  const res = await fetch(`${base}/metrics`);
  return res.text();
}

/**
 * The value of one sample in Prometheus text, 0 when absent (prom-client
 * leaves out labelled counters that were never incremented).
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = m[3] ? m[3].split(',') : [];
    if (want.length === have.length && want.every((w) => have.includes(w))) return Number(m[4]);
  }
  return 0;
}

/** Sum of a labelled counter over all its label values. */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m && m[1] === name) sum += Number(m[3]);
  }
  return sum;
}
