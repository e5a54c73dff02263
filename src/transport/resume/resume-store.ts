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
  private bytes = 0;

  /** Bounded in count and bytes: past either bound the oldest waiting sessions are given up first. */
  constructor(private readonly maxEntries = 1024, private readonly maxBytes = 512 * 2 ** 20) {}

  async put(key: string, value: Buffer, ttlMs: number): Promise<void> {
    const old = this.entries.get(key);
    if (old) {
      clearTimeout(old.timer);
      this.entries.delete(key);
      this.bytes -= old.value.length;
    }
    // Oldest first: Map keeps insertion order.
    while (this.entries.size > 0 && (this.entries.size >= this.maxEntries || this.bytes + value.length > this.maxBytes)) {
      const [first] = this.entries.keys();
      await this.take(first!);
    }
    const timer = setTimeout(() => void this.take(key), ttlMs);
    timer.unref();
    this.entries.set(key, { value, timer });
    this.bytes += value.length;
  }

  async take(key: string): Promise<Buffer | null> {
    const e = this.entries.get(key);
    if (!e) return null;
    clearTimeout(e.timer);
    this.entries.delete(key);
    this.bytes -= e.value.length;
    return e.value;
  }

  get heldBytes(): number {
    return this.bytes;
  }

  get size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    for (const e of this.entries.values()) clearTimeout(e.timer);
    this.entries.clear();
    this.bytes = 0;
  }
}
