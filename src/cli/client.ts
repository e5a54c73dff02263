// `parley client`: talks to a chat server the way a live client does and
// reports how fast the replies come back.
import { writeFile } from 'node:fs/promises';
import { WavFormatError, writeWav } from '../audio/wav.js';
import { CLIENT_USAGE, parseClientArgs } from './client/args.js';
import { encodeInputWav, SAMPLE_RATE, type EncodedInput } from './client/input-audio.js';
import { formatReport, progressPrinter } from './client/report.js';
import { ClientError, runSession } from './client/session.js';

/** Exit codes: 0 done, 1 the server refused, failed or reported errors, 2 bad arguments or input file. */
export async function client(argv: string[]): Promise<number> {
  const args = parseClientArgs(argv);
  if (!args.ok) {
    console.error(`parley client: ${args.error}\n${CLIENT_USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(CLIENT_USAGE);
    return 0;
  }
  const o = args.options;

  let input: EncodedInput;
  try {
    input = await encodeInputWav(o.input, o.opusFrameSamples);
  } catch (e) {
    const why = e instanceof WavFormatError ? `not a WAV file we can read: ${e.message}` : (e as Error).message;
    console.error(`parley client: ${o.input}: ${why}`);
    return 2;
  }

  const showProgress = o.progress || process.stderr.isTTY === true;
  const printer = progressPrinter(process.stderr);
  try {
    const result = await runSession({ url: o.url, pace: o.pace, timeoutMs: o.timeoutMs }, input, showProgress ? (p) => printer.update(p) : undefined);
    printer.done();
    await writeWav(o.output, result.reply, SAMPLE_RATE);
    if (o.transcript !== null) await writeFile(o.transcript, result.transcript + '\n');
    console.log(formatReport(result, input.seconds, result.reply.length / SAMPLE_RATE, { out: o.output, transcript: o.transcript }));
    for (const w of result.warnings) console.error(`warning: ${w}`);
    for (const e of result.serverErrors) console.error(`server error: ${e}`);
    return result.serverErrors.length > 0 ? 1 : 0;
  } catch (e) {
    printer.done();
    if (e instanceof ClientError) {
      console.error(`parley client: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
