import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';

/** A real redis-server (Debian's) on a loopback port, for the test's lifetime. */
export async function startRedis(port = 20000 + Math.floor(Math.random() * 20000)): Promise<{ url: string; stop(): Promise<void> }> {
  let proc: ChildProcess;
  try {
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  } catch (e) {
    throw new Error(`redis-server is needed for this test (apt-get install redis-server): ${(e as Error).message}`);
  }
  const failed = new Promise<never>((_, reject) => proc.once('error', (e) => reject(new Error(`redis-server is needed for this test (apt-get install redis-server): ${e.message}`))));
  const ready = (async () => {
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((resolve) => {
        const c = createConnection({ host: '127.0.0.1', port }, () => {
          c.end();
          resolve(true);
        });
        c.on('error', () => resolve(false));
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('redis-server did not start');
  })();
  await Promise.race([ready, failed]);
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    },
  };
}
