import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '../helpers/server-harness.js';

// The web client's files as the server serves them (dist/web, beside dist/src).
const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));
const built = existsSync(`${WEB_ROOT}index.html`);

let srv: TestServer;

before(async () => {
  srv = await startTestServer({ maxSessions: 1, config: { webClient: true } });
});
after(async () => srv.close());

/** GET with the path exactly as written: fetch() and URL would resolve the dot segments first. */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(srv.base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString('latin1')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the web client is served at /', { skip: built ? false : 'web client not built (npm run build)' }, async () => {
  const r = await rawGet('/');
  assert.equal(r.status, 200);
  assert.equal(r.body, readFileSync(`${WEB_ROOT}index.html`, 'latin1'));
});

test('static file serving refuses path traversal in every spelling', async () => {
  const secrets = [
    readFileSync('package.json', 'latin1').slice(0, 60),
    readFileSync('/etc/passwd', 'latin1').slice(0, 20),
    readFileSync('src/transport/server.ts', 'latin1').slice(0, 60),
  ];
  const paths = [
    '/../package.json', '/../../package.json', '/../../../package.json',
    '/%2e%2e/package.json', '/%2e%2e/%2e%2e/package.json', '/%2E%2E/%2E%2E/package.json',
    '/..%2fpackage.json', '/..%2f..%2fpackage.json', '/%2e%2e%2f%2e%2e%2fpackage.json',
    '/..%5c..%5cpackage.json', '/..\\..\\package.json', '/.%2e/.%2e/package.json',
    '/%252e%252e/%252e%252e/package.json', '/%c0%ae%c0%ae/%c0%ae%c0%ae/package.json',
    '/index.html/../../../package.json', '/ogg/../../../package.json', '/./../../package.json',
    '//etc/passwd', '/%2fetc%2fpasswd', '/../../../../../../../../etc/passwd', '/%2e%2e/'.repeat(12) + 'etc/passwd',
    '/../../src/transport/server.ts', '/..%00/package.json', '/package.json%00.html', '/main.js/..%2f..%2f..%2fpackage.json',
  ];
  for (const p of paths) {
    const r = await rawGet(p);
    assert.ok(r.status === 404 || r.status === 400 || r.status === 403, `${p}: status ${r.status}`);
    for (const s of secrets) assert.ok(!r.body.includes(s), `${p}: leaked a file outside the web root`);
  }
});
