import { Redis } from 'ioredis';
import type { ResumeStore } from './resume-store.js';

/** Redis-backed store: a session dropped on one server can be resumed on another. */
export class RedisResumeStore implements ResumeStore {
  private readonly redis: Redis;

  constructor(url: string) {
    this.redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true });
  }

  async connect(): Promise<this> {
    await this.redis.connect();
    return this;
  }

  async put(key: string, value: Buffer, ttlMs: number): Promise<void> {
    await this.redis.set(key, value, 'PX', ttlMs);
  }

  async take(key: string): Promise<Buffer | null> {
    return this.redis.getdelBuffer(key);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
