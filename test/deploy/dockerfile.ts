import { readFileSync } from 'node:fs';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';

/** One build stage of a Dockerfile, with its ARGs already expanded by dockerfile-ast. */
export interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  stages: Stage[];
  /** dockerfile-utils' lint errors and warnings, as `line: message`. */
  problems: string[];
}

export function parseDockerfile(path: string): ParsedDockerfile {
  const text = readFileSync(path, 'utf8');
  const stages: Stage[] = [];
  for (const ins of DockerfileParser.parse(text).getInstructions()) {
    if (ins.getKeyword() === 'FROM') {
      const [base = '', as, name] = words(ins);
      stages.push({ name: as?.toUpperCase() === 'AS' && name ? name : String(stages.length), base, instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push(ins);
    }
  }
  const problems = validate(text).map((d) => `${d.range.start.line + 1}: ${d.message}`);
  return { stages, problems };
}

export function stage(df: ParsedDockerfile, name: string): Stage {
  const s = df.stages.find((x) => x.name === name);
  if (!s) throw new Error(`no stage named ${name}; stages: ${df.stages.map((x) => x.name).join(', ')}`);
  return s;
}

export function ofKind(s: Stage, keyword: string): Instruction[] {
  return s.instructions.filter((i) => i.getKeyword() === keyword);
}

/** The instruction's arguments after ARG expansion, split on whitespace (shell form). */
export function words(ins: Instruction): string[] {
  return ins.getExpandedArguments().map((a) => a.getValue());
}

/** An exec-form (JSON array) argument list, e.g. of CMD, ENTRYPOINT or HEALTHCHECK CMD. */
export function execForm(ins: Instruction): string[] {
  const raw = ins.getArgumentsContent() ?? '';
  const json = ins.getKeyword() === 'HEALTHCHECK' ? raw.slice(raw.indexOf('CMD') + 3) : raw;
  const parsed: unknown = JSON.parse(json.replace(/\\\r?\n/g, ' '));
  if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) throw new Error(`not an exec-form array: ${raw}`);
  return parsed as string[];
}

/** `--name=value` flags of an instruction (COPY --from, HEALTHCHECK --interval, ...). */
export function flags(ins: Instruction): Record<string, string> {
  const out: Record<string, string> = {};
  const withFlags = ins as Instruction & { getFlags?: () => { getName(): string; getValue(): string | null }[] };
  for (const f of withFlags.getFlags?.() ?? []) out[f.getName()] = f.getValue() ?? '';
  return out;
}

/** Every ENV of a stage, in order, as one map. */
export function env(s: Stage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const ins of ofKind(s, 'ENV')) {
    for (const w of words(ins)) {
      const eq = w.indexOf('=');
      if (eq <= 0) throw new Error(`ENV without key=value form: ${w}`);
      out[w.slice(0, eq)] = w.slice(eq + 1);
    }
  }
  return out;
}

/** The single value of a one-argument instruction (WORKDIR, USER, STOPSIGNAL, ...); throws unless exactly one. */
export function single(s: Stage, keyword: string): string {
  const all = ofKind(s, keyword);
  if (all.length !== 1) throw new Error(`stage ${s.name} has ${all.length} ${keyword} instructions, expected 1`);
  const w = words(all[0]!);
  if (w.length !== 1) throw new Error(`${keyword} should have one argument, has: ${w.join(' ')}`);
  return w[0]!;
}
