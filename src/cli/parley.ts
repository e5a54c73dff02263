#!/usr/bin/env node
import { ConfigError } from '../config/load.js';

const USAGE = `usage: parley <command> [options]

commands:
  serve [--port N] [--host H] [--model DIR|demo] [--max-sessions N] [--provider cpu|webgpu|cuda] [--threads N] [--config FILE]
  convert <checkpoint-dir> <model-dir>        convert a Kyutai checkpoint
  convert --preset <demo|bench|moshi-7b-shaped> <model-dir>
  parity <fixture-dir>                        compare against a reference.json
  client --url ws://host:8998/api/chat --in speech.wav --out reply.wav [--transcript F] [--realtime|--fast]`;

async function main(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  switch (cmd) {
    case 'serve':
      return (await import('./serve.js')).serve(rest);
    case 'convert':
      return (await import('./convert.js')).convert(rest);
    case 'parity':
      process.exitCode = await (await import('./parity.js')).parity(rest);
      return;
    case 'client':
      process.exitCode = await (await import('./client.js')).client(rest);
      return;
    case undefined:
    case '--help':
    case '-h':
      console.log(USAGE);
      return;
    default:
      console.error(`unknown command ${cmd}\n${USAGE}`);
      process.exitCode = 2;
  }
}

main().catch((e: unknown) => {
  if (e instanceof ConfigError) console.error(e.message);
  else console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
