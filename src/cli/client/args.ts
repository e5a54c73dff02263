import { z } from 'zod';

export const CLIENT_USAGE = `usage: parley client --in speech.wav --out reply.wav [options]

  --url URL             server chat endpoint (default ws://127.0.0.1:8998/api/chat)
  --in FILE             input WAV (any sample rate and channel count; mixed to 24 kHz mono)
  --out FILE            reply audio, written as a 24 kHz mono 16-bit WAV
  --transcript FILE     reply text
  --realtime            send audio at the pace it would be spoken (default)
  --fast                send as fast as the server takes it (a bounded number of frames ahead of the replies)
  --query "k=v&..."     sampling settings added to the URL (text_seed=1&text_temperature=0.7...)
  --opus-frame-ms 20|40 Opus frame length; each frame goes out as its own Ogg page (default 20)
  --timeout-ms N        how long to wait for the handshake, and for a reply that has not started once the input ends (default 15000)
  --progress            print a progress line to stderr even when it is not a terminal
  --help`;

const BOOLEAN_FLAGS = new Set(['realtime', 'fast', 'progress', 'help']);
const VALUE_FLAGS = new Set(['url', 'in', 'out', 'transcript', 'query', 'opus-frame-ms', 'timeout-ms']);

const queryString = z
  .string()
  .transform((s) => new URLSearchParams(s.startsWith('?') ? s.slice(1) : s))
  .refine((q) => [...q.keys()].every((k) => k.length > 0), 'query has an empty parameter name');

const schema = z
  .object({
    url: z.url({ protocol: /^wss?$/, error: 'url must be a ws:// or wss:// URL' }).default('ws://127.0.0.1:8998/api/chat'),
    in: z.string({ error: '--in FILE is required' }).min(1),
    out: z.string({ error: '--out FILE is required' }).min(1),
    transcript: z.string().min(1).optional(),
    realtime: z.boolean().default(false),
    fast: z.boolean().default(false),
    query: queryString.optional(),
    'opus-frame-ms': z.coerce.number().pipe(z.union([z.literal(20), z.literal(40)], { error: '--opus-frame-ms must be 20 or 40' })).default(20),
    'timeout-ms': z.coerce.number().int().min(100).max(600_000).default(15_000),
    progress: z.boolean().default(false),
  })
  .strict()
  .refine((a) => !(a.realtime && a.fast), '--realtime and --fast exclude each other');

export interface ClientOptions {
  /** Full chat URL, query included. */
  url: string;
  input: string;
  output: string;
  transcript: string | null;
  pace: 'realtime' | 'fast';
  opusFrameSamples: number;
  timeoutMs: number;
  progress: boolean;
}

export type ParsedArgs = { ok: true; help: true } | { ok: true; help: false; options: ClientOptions } | { ok: false; error: string };

/** `--flag value`, `--flag=value` and bare boolean flags into a record; unknown flags are left for zod to name. */
function tokenize(argv: string[]): { values: Record<string, string | boolean>; error: string | null } {
  const values: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) return { values, error: `unexpected argument "${arg}"` };
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (name in values) return { values, error: `--${name} given twice` };
    if (BOOLEAN_FLAGS.has(name)) {
      if (eq > 0) return { values, error: `--${name} takes no value` };
      values[name] = true;
    } else if (VALUE_FLAGS.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) return { values, error: `--${name} needs a value` };
      values[name] = value;
    } else {
      return { values, error: `unknown option --${name}` };
    }
  }
  return { values, error: null };
}

export function parseClientArgs(argv: string[]): ParsedArgs {
  const { values, error } = tokenize(argv);
  if (error) return { ok: false, error };
  if (values['help'] === true) return { ok: true, help: true };
  const r = schema.safeParse(values);
  if (!r.success) return { ok: false, error: r.error.issues.map((i) => i.message).join('; ') };
  const a = r.data;
  const url = new URL(a.url);
  for (const [k, v] of a.query ?? []) url.searchParams.set(k, v);
  return {
    ok: true,
    help: false,
    options: {
      url: url.toString(),
      input: a.in,
      output: a.out,
      transcript: a.transcript ?? null,
      pace: a.fast ? 'fast' : 'realtime',
      // 24 kHz samples per Opus frame.
      opusFrameSamples: a['opus-frame-ms'] * 24,
      timeoutMs: a['timeout-ms'],
      progress: a.progress,
    },
  };
}
