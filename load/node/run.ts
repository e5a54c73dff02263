// npm run load -- <scenario> [--url ws://…] [--vus N] [--duration S] [--out results.json]
// The same scenarios as load/k6/*.js, run from Node with the `ws` client.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { scenarioNames } from '../scenarios/index.js';
import { DEFAULT_URL, runLoad } from './runner.js';
import { ensureSpeechClip } from './speech-clip.js';
import { formatReport, reportJson } from './summary.js';

const USAGE = `usage: npm run load -- <${scenarioNames().join('|')}> [--url ws://host:port/api/chat] [--vus N] [--duration S] [--out results.json] [--audio clip.opus]
       npm run load -- --prepare-audio     (writes load/.cache/speech.opus for the k6 scripts)
environment: PARLEY_URL, PARLEY_VUS, PARLEY_DURATION (as for k6 -e); flags win.`;

function numberOption(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${v}"`);
  return n;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      vus: { type: 'string' },
      duration: { type: 'string' },
      out: { type: 'string' },
      audio: { type: 'string' },
      'prepare-audio': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values['prepare-audio']) {
    console.log(ensureSpeechClip());
    return 0;
  }
  const [scenario, ...extra] = positionals;
  if (!scenario || extra.length > 0 || !scenarioNames().includes(scenario)) {
    console.error(USAGE);
    return 2;
  }
  const env = process.env;
  const result = await runLoad({
    scenario,
    url: values.url ?? env['PARLEY_URL'] ?? DEFAULT_URL,
    vus: numberOption(values.vus ?? env['PARLEY_VUS'], 'vus'),
    durationS: numberOption(values.duration ?? env['PARLEY_DURATION'], 'duration'),
    audio: values.audio ? new Uint8Array(readFileSync(values.audio)) : undefined,
  });
  console.log(formatReport(result));
  if (values.out) {
    writeFileSync(values.out, JSON.stringify(reportJson(result), null, 2) + '\n');
    console.log(`\n  results written to ${values.out}`);
  }
  return result.passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(2);
  },
);
