// The Dockerfile, proven without a Docker engine: its build-stage RUN lines run
// here, in order, on a copy of exactly the build context; its runtime stage's
// setup runs too; then its ENTRYPOINT + CMD start the server from the staged
// output, with the image's ENV, as the image's USER (not root).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { FIXTURE } from '../helpers/fixture.js';
import { copyBuildContext } from './context.js';
import { env, execForm, flags, ofKind, parseDockerfile, single, stage, words, type ParsedDockerfile, type Stage } from './dockerfile.js';

const REPO = process.cwd();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Runs a build step like `docker build` does: fails loudly with the step's output. */
function step(argv: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { ...opts, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n').slice(-40).join('\n');
    throw new Error(`step failed (${r.status ?? r.signal}): ${argv.join(' ')}\n${tail}`);
  }
}

/** The build host's environment, less what npm or a caller set that a docker build would not have. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(npm_|ONNXRUNTIME_NODE_INSTALL|NODE_OPTIONS$|NODE_ENV$|PARLEY_|HOST$|PORT$)/.test(k)) e[k] = v;
  }
  return { ...e, ...extra };
}

/** ARG name=default lines of a stage, as a RUN step sees them. */
function stageArgs(s: Stage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const ins of ofKind(s, 'ARG')) {
    const [w = ''] = words(ins);
    const eq = w.indexOf('=');
    if (eq > 0) out[w.slice(0, eq)] = w.slice(eq + 1);
  }
  return out;
}

const strip = (p: string) => p.replace(/\/+$/, '');

// Root is needed to create the image's user and switch to it, as docker build and run do (CI runs as root).
const notRoot = process.getuid?.() !== 0 ? 'needs root to create the image user and run as it' : false;

describe('the Dockerfile, built and started here without Docker', { timeout: 300_000, skip: notRoot }, () => {
  let df: ParsedDockerfile;
  let build: Stage;
  let runtime: Stage;
  let tmp = '';
  let src = '';
  let app = '';
  let models = '';
  let imageOut = '';
  let uid = 0;
  let gid = 0;
  let server: ChildProcess | null = null;
  let serverLog = '';
  let exited: Promise<number | null> = Promise.resolve(null);
  let base = '';
  let runEnv: NodeJS.ProcessEnv = {};
  let entrypoint: string[] = [];
  let cmd: string[] = [];

  /** argv run as the image USER (setpriv switches uid and gid and drops supplementary groups, as docker run does). */
  const asUser = (argv: string[]) => ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', ...argv];

  before(() => {
    df = parseDockerfile(join(REPO, 'Dockerfile'));
    build = stage(df, 'build');
    runtime = stage(df, 'runtime');
    tmp = mkdtempSync(join(tmpdir(), 'parley-image-'));
    chmodSync(tmp, 0o755); // the non-root user must reach the staged app and the models volume
    src = join(tmp, 'context');
    app = join(tmp, 'app');
    models = join(tmp, 'models');
    copyBuildContext(REPO, src);

    // Build stage: every RUN line, in order, with the stage's ARGs in the environment.
    const buildEnv = cleanEnv(stageArgs(build));
    for (const run of ofKind(build, 'RUN')) {
      const argv = words(run);
      if (argv[0] !== 'sh' || argv[1] !== 'docker/build.sh') throw new Error(`build RUN outside docker/build.sh: ${argv.join(' ')}`);
      if (argv[2] === 'app') {
        imageOut = argv[3] ?? '';
        argv[3] = app;
      }
      step(argv, { cwd: src, env: buildEnv });
    }

    // Runtime stage: the setup script that the stage COPYs in and RUNs, with the models volume here.
    for (const run of ofKind(runtime, 'RUN')) {
      const [sh, script = '', ...args] = words(run);
      const copy = ofKind(runtime, 'COPY').find((c) => words(c).at(-1) === script && !flags(c)['from']);
      if (sh !== 'sh' || !copy) throw new Error(`runtime RUN is not a script COPYd into the stage: ${words(run).join(' ')}`);
      step(['sh', join(src, words(copy)[0]!), ...args], { cwd: src, env: cleanEnv({ ...stageArgs(runtime), PARLEY_MODELS_DIR: models }) });
    }
    [uid, gid] = single(runtime, 'USER').split(':').map(Number) as [number, number];
    entrypoint = execForm(ofKind(runtime, 'ENTRYPOINT')[0]!);
    cmd = execForm(ofKind(runtime, 'CMD')[0]!);
    // The image's node is on PATH; here it is this node.
    if (entrypoint[0] !== 'node') throw new Error(`ENTRYPOINT should start with node: ${entrypoint.join(' ')}`);
    entrypoint[0] = process.execPath;
  });

  after(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGKILL');
      await exited;
    }
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('the build stage runs docker/build.sh deps then app, nothing else, and the GPU Dockerfile runs the same phases', () => {
    const phases = (s: Stage) => ofKind(s, 'RUN').map((r) => words(r).slice(0, 3).join(' '));
    assert.deepEqual(phases(build), ['sh docker/build.sh deps', 'sh docker/build.sh app']);
    const gpu = parseDockerfile(join(REPO, 'docker/Dockerfile.gpu'));
    assert.deepEqual(phases(stage(gpu, 'build')), ['sh docker/build.sh deps', 'sh docker/build.sh app']);
    const gpuRuntime = stage(gpu, 'runtime');
    assert.deepEqual(ofKind(gpuRuntime, 'RUN').map((r) => words(r).slice(0, 2).join(' ')), ofKind(runtime, 'RUN').map((r) => words(r).slice(0, 2).join(' ')));
    for (const k of ['USER', 'WORKDIR', 'STOPSIGNAL', 'VOLUME', 'EXPOSE']) assert.equal(single(gpuRuntime, k), single(runtime, k), k);
    assert.deepEqual(df.problems, [], 'dockerfile-utils finds no problem in Dockerfile');
    assert.deepEqual(gpu.problems, [], 'dockerfile-utils finds no problem in docker/Dockerfile.gpu');
  });

  test('the runtime stage copies exactly what the build staged into its WORKDIR', () => {
    const fromBuild = ofKind(runtime, 'COPY').filter((c) => flags(c)['from'] === 'build');
    assert.equal(fromBuild.length, 1, 'one COPY --from=build');
    const [from, to] = words(fromBuild[0]!);
    assert.equal(strip(from!), strip(imageOut), 'COPY --from=build takes the folder that build.sh app wrote');
    assert.equal(strip(to!), strip(single(runtime, 'WORKDIR')));
  });

  test('the staged tree has the compiled server and production dependencies only, with this platform\'s onnxruntime binaries, and no models or tests', () => {
    assert.ok(existsSync(join(app, 'dist/src/cli/parley.js')));
    assert.ok(existsSync(join(app, 'dist/web/index.html')), 'the web client is built');
    assert.ok(existsSync(join(app, 'config/default.json')));
    assert.equal(JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')).type, 'module');
    assert.ok(existsSync(join(app, 'node_modules/fastify')), 'production dependency present');
    for (const dev of ['typescript', 'fast-check', 'playwright-core', 'dockerfile-ast']) assert.ok(!existsSync(join(app, 'node_modules', dev)), `dev dependency ${dev} pruned`);
    assert.ok(!existsSync(join(app, 'dist/test')), 'no compiled tests');
    assert.ok(!existsSync(join(app, 'models')), 'no model baked in');
    const bins = join(app, 'node_modules/onnxruntime-node/bin/napi-v6');
    const platforms = readdirSync(bins).flatMap((os) => readdirSync(join(bins, os)).map((arch) => `${os}/${arch}`));
    assert.deepEqual(platforms, [`${process.platform}/${process.arch}`]);
  });

  test('the runtime setup makes a non-root user who owns the models volume', () => {
    assert.notEqual(uid, 0, 'USER is not root');
    assert.match(single(runtime, 'USER'), /^\d+:\d+$/, 'numeric USER, so Kubernetes runAsNonRoot can check it');
    assert.equal(statSync(models).uid, uid);
    const imageEnv = env(runtime);
    assert.equal(strip(imageEnv['PARLEY_MODEL_CACHE_DIR'] ?? ''), strip(JSON.parse(single(runtime, 'VOLUME'))[0] as string), 'built-in models are built on the volume');
    const touch = asUser(['touch', join(app, 'dist/written-by-parley')]);
    const probe = spawnSync(touch[0]!, touch.slice(1));
    assert.notEqual(probe.status, 0, 'the app files are read-only to the runtime user');
  });

  test('the entrypoint converts a Kyutai checkpoint onto the models volume as the runtime user', () => {
    const checkpoint = join(tmp, 'checkpoint');
    cpSync(FIXTURE, checkpoint, { recursive: true });
    const imageEnv = env(runtime);
    const argv = asUser([...entrypoint, 'convert', checkpoint, join(models, 'fixture')]);
    step(argv, { cwd: app, env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, ...imageEnv } });
    assert.equal(statSync(join(models, 'fixture/manifest.json')).uid, uid);
  });

  test('ENTRYPOINT + CMD with the image ENV serve as the runtime user; HEALTHCHECK fails before and passes after', async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    runEnv = {
      PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
      ...env(runtime),
      // What an operator sets per deployment; everything else is the image's.
      HOST: '127.0.0.1',
      PORT: String(port),
      PARLEY_MODEL: join(models, 'fixture'),
      PARLEY_MODEL_CACHE_DIR: models,
      PARLEY_MAX_SESSIONS: '1',
      PARLEY_THREADS: '1',
      PARLEY_DRAIN_TIMEOUT_MS: '1500',
    };
    const health = ofKind(runtime, 'HEALTHCHECK')[0]!;
    const healthArgv = asUser(execForm(health).map((w, i) => (i === 0 && w === 'node' ? process.execPath : w)));
    const healthcheck = () => spawnSync(healthArgv[0]!, healthArgv.slice(1), { cwd: app, env: runEnv, timeout: 10_000 }).status;
    assert.notEqual(healthcheck(), 0, 'HEALTHCHECK fails while nothing listens');

    const argv = asUser([...entrypoint, ...cmd]);
    const proc = spawn(argv[0]!, argv.slice(1), { cwd: app, env: runEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    server = proc;
    proc.stdout!.on('data', (d: Buffer) => (serverLog += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (serverLog += d.toString()));
    exited = new Promise((r) => proc.on('exit', (code) => r(code)));
    const t0 = Date.now();
    for (;;) {
      if (proc.exitCode !== null) assert.fail(`server exited with ${proc.exitCode}:\n${serverLog}`);
      const ok = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() - t0 > 60_000) assert.fail(`no /healthz within 60 s:\n${serverLog}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
    assert.match(status, new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s+${uid}\\s+${uid}$`, 'm'), 'the server runs as the image USER');
    assert.equal(healthcheck(), 0, 'HEALTHCHECK passes');
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { freeSlots: number }).freeSlots, 1);
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200, 'the image serves the web client');
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  });

  /** Opens a chat session and resolves once the server's handshake (0x00) says it holds a slot. */
  const openSession = (): Promise<{ ws: WebSocket; closed: Promise<number> }> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/api/chat`);
      const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
      ws.on('error', reject);
      ws.on('message', (d: Buffer) => {
        if (d[0] === 0x00) resolve({ ws, closed });
      });
      void closed.then((code) => reject(new Error(`closed with ${code} before the handshake`)));
    });

  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`${base}/metrics`)).text();
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    assert.ok(m, `${name} in /metrics`);
    return Number(m[1]);
  };

  test('a full server says so on /readyz (503, freeSlots 0) and /metrics, refuses more with 1013, and is ready again once a slot frees', async () => {
    assert.ok(base, 'server started');
    const a = await openSession();
    const full = await fetch(`${base}/readyz`);
    assert.equal(full.status, 503);
    const body = (await full.json()) as Record<string, unknown>;
    assert.deepEqual([body['ready'], body['draining'], body['freeSlots'], body['liveSessions']], [false, false, 0, 1]);
    assert.equal(await metric('parley_session_slots_free'), 0);
    assert.equal(await metric('parley_sessions_live'), 1);
    const b = new WebSocket(`${base.replace('http', 'ws')}/api/chat`);
    const refused = await new Promise<number>((r) => b.on('close', (code) => r(code)));
    assert.equal(refused, 1013);
    a.ws.close();
    await a.closed;
    const t0 = Date.now();
    let again = await fetch(`${base}/readyz`);
    while (again.status !== 200 && Date.now() - t0 < 5_000) {
      await new Promise((r) => setTimeout(r, 100));
      again = await fetch(`${base}/readyz`);
    }
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { freeSlots: number }).freeSlots, 1);
    assert.equal(await metric('parley_session_slots_free'), 1);
  });

  test('STOPSIGNAL drains: /readyz turns 503 draining, the open session closes with 1001 after the drain timeout, and the process exits 0', async () => {
    assert.ok(server && base, 'server started');
    const s = await openSession();
    const signal = single(runtime, 'STOPSIGNAL') as NodeJS.Signals;
    const t0 = Date.now();
    server.kill(signal);
    let body: { draining?: boolean } = {};
    for (let i = 0; i < 20 && !body.draining; i++) {
      const r = await fetch(`${base}/readyz`).catch(() => null);
      if (r) {
        assert.equal(r.status, 503);
        body = (await r.json()) as { draining?: boolean };
      }
      if (!body.draining) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(body.draining, true, '/readyz reports draining');
    assert.equal(await s.closed, 1001);
    assert.ok(Date.now() - t0 >= 1_000, 'the session was given the drain timeout to finish');
    assert.equal(await exited, 0, `clean exit:\n${serverLog}`);
  });
});
