import { timingSafeEqual } from 'node:crypto';
import { jwtVerify } from 'jose';
import type { ServerConfig } from '../config/schema.js';

export type AccessDecision = { ok: true } | { ok: false; status: 401 | 403; reason: string; metric: string };

export interface AccessRequest {
  headers: Record<string, string | string[] | undefined>;
  query: unknown;
}

function header(req: AccessRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function queryToken(query: unknown): string | undefined {
  if (typeof query !== 'object' || query === null) return undefined;
  const t = (query as Record<string, unknown>)['token'];
  return typeof t === 'string' ? t : undefined;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Decides, before the WebSocket upgrade, whether a chat request may open a
 * session: browser origin allowlist, then API key or signed bearer token.
 */
export class AccessControl {
  private readonly secret: Uint8Array | null;

  constructor(private readonly config: Pick<ServerConfig, 'auth' | 'allowedOrigins'>) {
    this.secret = config.auth.jwtSecret ? new TextEncoder().encode(config.auth.jwtSecret) : null;
  }

  get authRequired(): boolean {
    return this.config.auth.apiKeys.length > 0 || this.secret !== null;
  }

  async check(req: AccessRequest): Promise<AccessDecision> {
    const origin = header(req, 'origin');
    if (origin !== undefined && this.config.allowedOrigins.length > 0 && !this.config.allowedOrigins.includes(origin)) {
      return { ok: false, status: 403, reason: `origin ${origin} is not allowed`, metric: 'origin' };
    }
    if (!this.authRequired) return { ok: true };
    const auth = header(req, 'authorization');
    const token = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : this.config.auth.allowQueryToken ? queryToken(req.query) : undefined;
    if (!token) return { ok: false, status: 401, reason: 'missing credentials: send Authorization: Bearer <token>', metric: 'unauthenticated' };
    if (this.config.auth.apiKeys.some((k) => sameSecret(k, token))) return { ok: true };
    if (this.secret) {
      try {
        await jwtVerify(token, this.secret, { algorithms: ['HS256'], requiredClaims: ['exp'] });
        return { ok: true };
      } catch (e) {
        return { ok: false, status: 401, reason: `invalid token: ${(e as Error).message}`, metric: 'bad_token' };
      }
    }
    return { ok: false, status: 401, reason: 'invalid credentials', metric: 'bad_token' };
  }
}
