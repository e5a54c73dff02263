/** Deterministic token rows for LM runner tests: stream 0 text, the others audio. */
export function tokensAt(seed: number, step: number, streams: number, textCard: number, card: number): number[] {
  return Array.from({ length: streams }, (_, s) => ((seed * 7919 + step * 104729 + s * 31) >>> 0) % (s === 0 ? textCard : card));
}
