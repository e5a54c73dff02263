import { runParity } from '../parity/run-parity.js';

/** `parley parity <fixture-dir>`: prints the comparison table; exit status 0 only when every check passes. */
export async function parity(argv: string[]): Promise<number> {
  const dir = argv[0];
  if (!dir) {
    console.error('usage: parley parity <fixture-dir>');
    return 2;
  }
  const r = await runParity(dir);
  const w = Math.max(...r.checks.map((c) => c.name.length));
  console.log(`parity against ${dir}/reference.json\n`);
  console.log(`${'check'.padEnd(w)}  ${'value'.padStart(12)}  ${'limit'.padStart(8)}  result`);
  for (const c of r.checks) console.log(`${c.name.padEnd(w)}  ${c.value.padStart(12)}  ${c.limit.padStart(8)}  ${c.pass ? 'ok' : 'FAIL'}`);
  console.log(`\n${r.pass ? 'PASS' : 'FAIL'}`);
  return r.pass ? 0 : 1;
}
