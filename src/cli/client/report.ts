import type { SessionResult, Progress } from './session.js';

const ms = (v: number | null): string => (v === null ? 'n/a' : `${v.toFixed(1)} ms`);

/** The figures printed at the end of a run, one per line, `name: value`. */
export function formatReport(r: SessionResult, inputSeconds: number, replySeconds: number, files: { out: string; transcript: string | null }): string {
  const lines = [
    `handshake: ${ms(r.handshakeMs)}`,
    `first audio: ${ms(r.firstAudioMs)} (from the first input sent to the first reply audio)`,
    `reply latency: p50 ${ms(r.latency.percentile(50))}, p95 ${ms(r.latency.percentile(95))} (input frame n sent to reply frame n received, ${r.latency.samples.length} frames)`,
    `frames: ${r.latency.framesSent} sent, ${r.latency.framesReceived} received of ${r.framesExpected}`,
    `input: ${inputSeconds.toFixed(2)} s`,
    `reply: ${replySeconds.toFixed(2)} s -> ${files.out}`,
  ];
  if (r.metadata !== null) lines.push(`session: ${JSON.stringify(r.metadata)}`);
  if (files.transcript !== null) lines.push(`transcript: ${JSON.stringify(r.transcript)} -> ${files.transcript}`);
  else lines.push(`transcript: ${JSON.stringify(r.transcript)}`);
  return lines.join('\n');
}

/** Writes a progress line; on a terminal it overwrites itself, elsewhere each update is its own line. */
export function progressPrinter(stream: NodeJS.WriteStream): { update(p: Progress): void; done(): void } {
  const tty = stream.isTTY === true;
  let shown = false;
  return {
    update(p) {
      const line = `sent ${p.sentSeconds.toFixed(1)}/${p.totalSeconds.toFixed(1)} s, received ${p.receivedSeconds.toFixed(1)} s, reply latency p50 ${ms(p.p50Ms)}`;
      stream.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
      shown = true;
    },
    done() {
      if (tty && shown) stream.write('\n');
    },
  };
}
