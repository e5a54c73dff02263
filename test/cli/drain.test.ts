import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { connect, fixtureModelDir } from '../helpers/server-harness.js';
import { metricValue } from '../helpers/metrics.js';
import { errorsOf, until } from '../helpers/sockets.js';
import { oggPages, speechOgg } from '../helpers/speech.js';

const DRAIN_TIMEOUT_MS = 3000;

/** A port that was free a moment ago (the server must be told its port up front). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function status(url: string): Promise<number> {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0;
  }
}

test('SIGTERM drains the real server: /readyz 503, new sessions refused with 1013, running ones closed with 1001 at the drain timeout, exit 0', async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['dist/src/cli/parley.js', 'serve', '--model', fixtureModelDir(), '--port', String(port), '--host', '127.0.0.1',
    '--max-sessions', '2', '--threads', '1'], {
    env: { ...process.env, PARLEY_DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS), PARLEY_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    await until(async () => (await status(`${base}/readyz`)) === 200, 60_000, `the server to be ready; output:\n${output}`);
    const pages = oggPages(speechOgg('A session that is still talking when the server is told to stop.').bytes);
    const running = await connect(`ws://127.0.0.1:${port}/api/chat`);
    const leaving = await connect(`ws://127.0.0.1:${port}/api/chat`);
    await running.waitFor((m) => m.some((x) => x.kind === 0x00), 10_000);
    await leaving.waitFor((m) => m.some((x) => x.kind === 0x00), 10_000);
    for (const p of pages.slice(0, 10)) running.send(0x01, p.bytes);
    await running.waitFor((m) => m.filter((x) => x.kind === 0x01).length >= 4, 10_000);

    const t0 = Date.now();
    child.kill('SIGTERM');
    await until(async () => (await status(`${base}/readyz`)) === 503, 5_000, '/readyz to turn 503');
    const ready = (await (await fetch(`${base}/readyz`)).json()) as { draining: boolean };
    assert.equal(ready.draining, true);

    const late = await connect(`ws://127.0.0.1:${port}/api/chat`);
    const refused = await late.closed;
    assert.equal(refused.code, 1013, `a new session is refused with 1013, got ${refused.code}`);
    assert.match(errorsOf(late).join(), /shutting down/);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.equal(metricValue(metrics, 'parley_refusals_total', { reason: 'draining' }), 1, 'the refusal is counted');

    // A session that finishes during the drain just ends; one still running is closed at the timeout.
    leaving.ws.close();
    assert.equal((await leaving.closed).code, 1005);
    const closed = await running.closed;
    const closedAfter = Date.now() - t0;
    assert.equal(closed.code, 1001, `running session closed with ${closed.code} ${closed.reason}`);
    assert.match(errorsOf(running).join(), /shutting down/);
    assert.ok(closedAfter >= DRAIN_TIMEOUT_MS - 500, `the running session was given the drain timeout (closed after ${closedAfter} ms)`);
    assert.ok(closedAfter <= DRAIN_TIMEOUT_MS + 5000, `closed ${closedAfter} ms after SIGTERM (drain timeout ${DRAIN_TIMEOUT_MS} ms)`);
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000))]);
    console.log(`drain: running session closed ${closedAfter} ms after SIGTERM, process exit code ${code} after ${Date.now() - t0} ms`);
    assert.equal(code, 0, `exit code; output:\n${output}`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
