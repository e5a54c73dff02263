import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { startTestServer, type TestServer } from '../helpers/server-harness.js';

const KEY = 'k'.repeat(24);
const SECRET = 's'.repeat(40);
let srv: TestServer;

before(async () => {
  srv = await startTestServer({
    maxSessions: 2,
    config: { auth: { apiKeys: [KEY], jwtSecret: SECRET }, allowedOrigins: ['https://app.example.com'], connectionsPerMinute: 30 },
  });
});
after(async () => srv.close());

/** Tries a WebSocket upgrade and returns the HTTP status of a refusal, or 101. */
async function upgradeStatus(query = '', headers: Record<string, string> = {}): Promise<number> {
  const { default: WebSocket } = await import('ws');
  return new Promise((resolve) => {
    const ws = new WebSocket(srv.url + query, { headers });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', () => {});
  });
}

test('without credentials the upgrade is refused with 401 and no session starts', async () => {
  assert.equal(await upgradeStatus(), 401);
  assert.equal(await upgradeStatus('', { authorization: 'Bearer wrong-key-wrong-key-wrong' }), 401);
  assert.equal(srv.server.sessions.size, 0);
});

test('an API key is accepted as a bearer header or as the token query parameter', async () => {
  assert.equal(await upgradeStatus('', { authorization: `Bearer ${KEY}` }), 101);
  assert.equal(await upgradeStatus(`?token=${KEY}`), 101);
});

test('a signed token is accepted until it expires, and a forged one is refused', async () => {
  const now = Math.floor(Date.now() / 1000);
  const good = await new SignJWT({ sub: 'u1' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now + 60).sign(new TextEncoder().encode(SECRET));
  const expired = await new SignJWT({ sub: 'u1' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now - 60).sign(new TextEncoder().encode(SECRET));
  const forged = await new SignJWT({ sub: 'u1' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now + 60).sign(new TextEncoder().encode('x'.repeat(40)));
  assert.equal(await upgradeStatus(`?token=${good}`), 101);
  assert.equal(await upgradeStatus(`?token=${expired}`), 401);
  assert.equal(await upgradeStatus(`?token=${forged}`), 401);
});

test('a browser origin outside the allowlist gets 403', async () => {
  assert.equal(await upgradeStatus(`?token=${KEY}`, { origin: 'https://evil.example.net' }), 403);
  assert.equal(await upgradeStatus(`?token=${KEY}`, { origin: 'https://app.example.com' }), 101);
});

test('refusals are counted in /metrics by reason', async () => {
  const m = await (await fetch(`${srv.base}/metrics`)).text();
  assert.match(m, /parley_refusals_total\{reason="unauthenticated"\} [1-9]/);
  assert.match(m, /parley_refusals_total\{reason="bad_token"\} [1-9]/);
  assert.match(m, /parley_refusals_total\{reason="origin"\} [1-9]/);
});

test('connections past the per-IP rate are refused with 429', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 32; i++) statuses.push(await upgradeStatus(`?token=${KEY}`));
  assert.ok(statuses.includes(429), `statuses: ${statuses.join(',')}`);
  const m = await (await fetch(`${srv.base}/metrics`)).text();
  assert.match(m, /parley_refusals_total\{reason="rate_limit"\} [1-9]/);
});
