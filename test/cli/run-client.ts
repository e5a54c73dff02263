import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PARLEY = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'parley.js');

export interface ClientRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `parley client ...` as a child process (asynchronously: the test server shares this event loop). */
export function runClient(args: string[], timeoutMs = 40_000): Promise<ClientRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [PARLEY, 'client', ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A `name: 12.3 ms` figure from the client's report. */
export function figure(stdout: string, pattern: RegExp): number {
  const m = pattern.exec(stdout);
  if (!m?.[1]) throw new Error(`no ${pattern} in:\n${stdout}`);
  return Number(m[1]);
}
