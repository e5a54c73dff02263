import type { TestClient } from './server-harness.js';
import type { RawPage } from './speech.js';

const FRAME = 1920;

/** OpusHead pre-skip (48 kHz samples) from the first page of an Ogg Opus stream. */
export function preSkipOf(pages: RawPage[]): number {
  const first = pages[0]!.bytes;
  const body = 27 + first[26]!;
  return first[body + 10]! | (first[body + 11]! << 8);
}

/**
 * For each 80 ms input frame, the index of the page whose arrival completes
 * it: the page's granule (48 kHz, after pre-skip) reaches the frame's end.
 */
export function frameCompletingPages(pages: RawPage[]): number[] {
  const preSkip = preSkipOf(pages);
  const out: number[] = [];
  pages.forEach((p, j) => {
    const samples = Math.floor((Number(p.granule) - preSkip) / 2);
    while (p.granule > 0n && (out.length + 1) * FRAME <= samples) out.push(j);
  });
  return out;
}

/** Sends pages at real-time pace (by granule), one per message; returns when each was sent. */
export async function streamRealtime(c: TestClient, pages: RawPage[], stop: () => boolean = () => false): Promise<number[]> {
  const sentAt: number[] = [];
  const t0 = performance.now();
  for (const p of pages) {
    if (stop() || c.ws.readyState !== c.ws.OPEN) break;
    const wait = t0 + Number(p.granule > 0n ? p.granule : 0n) / 48 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    sentAt.push(performance.now());
    c.send(0x01, p.bytes);
  }
  return sentAt;
}

/**
 * Per-frame reply latency: from sending the page that completed input frame
 * k to receiving the reply audio of the model step that consumed it. Reply
 * audio messages are OpusHead, OpusTags, then two pages per step; the first
 * step yields no audio (codec delay), so step k ≥ 1 is audio pair k − 1.
 */
export function replyLatencies(c: TestClient, pages: RawPage[], sentAt: number[]): number[] {
  const audio = c.messages.filter((m) => m.kind === 0x01);
  const completing = frameCompletingPages(pages);
  const out: number[] = [];
  for (let k = 1; k < completing.length; k++) {
    const sent = sentAt[completing[k]!];
    const reply = audio[2 + 2 * (k - 1)];
    if (sent === undefined || reply === undefined) break;
    out.push(reply.at - sent);
  }
  return out;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
