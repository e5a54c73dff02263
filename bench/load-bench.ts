import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { runLoad } from '../load/node/runner.js';
import { reportJson } from '../load/node/summary.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/**
 * Starts the server as `npm start` does (built-in default model, default
 * config) with `sessions` slots, and runs the Node load runner's steady
 * scenario against it with that many virtual users.
 */
export async function benchLoad(sessions: number, seconds = 60): Promise<Record<string, unknown>> {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/src/cli/parley.js', 'serve', '--port', String(port), '--max-sessions', String(sessions), '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error('server did not become ready');
      await new Promise((r) => setTimeout(r, 500));
    }
    const r = await runLoad({ scenario: 'steady', url: `ws://127.0.0.1:${port}/api/chat`, vus: sessions, durationS: seconds, log: () => {} });
    const json = reportJson(r);
    return { server: 'parley serve (npm start defaults)', model: 'demo', sessions, seconds, ...json, replyLatencyP95Ms: json['loadReplyLatencyP95Ms'] };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}
