import { createHash, randomBytes } from 'node:crypto';

/**
 * Where dropped sessions wait to be resumed. Keys are hashes of the resume
 * tokens (a leaked store reveals no usable token); `take` is atomic, so a
 * token works once; entries expire after the grace period.
 */
export interface ResumeStore {
  put(key: string, value: Buffer, ttlMs: number): Promise<void>;
  /** Gets and deletes in one step; null when absent or expired. */
  take(key: string): Promise<Buffer | null>;
  close(): Promise<void>;
}

export function newResumeToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Tokens are 32 random bytes in base64url; anything else is refused before a store lookup. */
export function isWellFormedToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(token);
}

export function tokenKey(token: string): string {
  return `parley:resume:${createHash('sha256').update(token).digest('hex')}`;
}

/** In-process store, the default: resumes work on this server only. */
export class MemoryResumeStore implements ResumeStore {
  private readonly entries = new Map<string, { value: Buffer; timer: NodeJS.Timeout }>();

  constructor(private readonly maxEntries = 1024) {}

  async put(key: string, value: Buffer, ttlMs: number): Promise<void> {
    const old = this.entries.get(key);
    if (old) clearTimeout(old.timer);
    if (!old && this.entries.size >= this.maxEntries) {
      // Oldest first: Map keeps insertion order.
      const [first] = this.entries.keys();
      if (first !== undefined) await this.take(first);
    }
    const timer = setTimeout(() => this.entries.delete(key), ttlMs);
    timer.unref();
    this.entries.set(key, { value, timer });
  }

  async take(key: string): Promise<Buffer | null> {
    const e = this.entries.get(key);
    if (!e) return null;
    clearTimeout(e.timer);
    this.entries.delete(key);
    return e.value;
  }

  get size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    for (const e of this.entries.values()) clearTimeout(e.timer);
    this.entries.clear();
  }
}
