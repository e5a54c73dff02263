import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface LoadedDoc {
  /** `file#index` for messages. */
  where: string;
  doc: K8sObject;
}

/** Every YAML document of the given files; YAML syntax errors and non-objects throw. */
export function loadYamlDocs(dir: string, files: string[]): LoadedDoc[] {
  const out: LoadedDoc[] = [];
  for (const f of files) {
    parseAllDocuments(readFileSync(join(dir, f), 'utf8')).forEach((d, i) => {
      if (d.errors.length > 0) throw new Error(`${f}#${i}: ${d.errors.map((e) => e.message).join('; ')}`);
      const doc: unknown = d.toJS();
      if (doc === null) return;
      if (typeof doc !== 'object' || Array.isArray(doc) || typeof (doc as K8sObject).apiVersion !== 'string' || typeof (doc as K8sObject).kind !== 'string') {
        throw new Error(`${f}#${i}: not a Kubernetes object (apiVersion and kind)`);
      }
      out.push({ where: `${f}#${i}`, doc: doc as K8sObject });
    });
  }
  return out;
}

/** The kubernetes-models module of an apiVersion and kind, e.g. `kubernetes-models/apps/v1/Deployment`. */
export function modelModule(doc: K8sObject): string {
  return `kubernetes-models/${doc.apiVersion}/${doc.kind}`;
}

type ModelClass = new (data: object) => { validate(): void };

/**
 * Validates against the Kubernetes OpenAPI schema as kubernetes-models
 * compiles it (types, enums, required fields, formats). Returns the problems.
 */
export async function schemaProblems(doc: K8sObject): Promise<string[]> {
  let Model: ModelClass | undefined;
  try {
    Model = ((await import(modelModule(doc))) as Record<string, ModelClass | undefined>)[doc.kind];
  } catch {
    Model = undefined;
  }
  if (!Model) return [`no schema for ${doc.apiVersion} ${doc.kind}`];
  try {
    new Model(doc).validate();
    return [];
  } catch (e) {
    return [(e as Error).message];
  }
}

/**
 * The OpenAPI validators accept fields they do not know, as the API server's
 * lenient decoding does; `kubectl apply --validate=strict` does not. So each
 * document is also type-checked against kubernetes-models' TypeScript
 * interfaces, whose excess-property check rejects a misspelt field at any
 * depth. Returns `where: message` for each problem.
 */
export function strictFieldProblems(docs: LoadedDoc[], repo: string): string[] {
  const file = join(repo, 'test/deploy/__manifests_typecheck__.ts');
  const lines: string[] = [];
  docs.forEach(({ doc }, i) => {
    lines.push(`import type { I${doc.kind} as T${i} } from '${modelModule(doc)}';`);
  });
  const firstDocLine = lines.length;
  docs.forEach(({ doc }, i) => lines.push(`export const m${i}: T${i} = ${JSON.stringify(doc)};`));
  const source = lines.join('\n');
  const options: ts.CompilerOptions = {
    strict: true, noEmit: true, skipLibCheck: true, types: [],
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) => (name === file ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (name === file ? source : readFile(name));
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const msg = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    if (d.file?.fileName !== file || d.start === undefined) return `typecheck: ${msg}`;
    const line = d.file.getLineAndCharacterOfPosition(d.start).line;
    const where = line >= firstDocLine ? docs[line - firstDocLine]!.where : `import line ${line + 1}`;
    return `${where}: ${msg}`;
  });
}
