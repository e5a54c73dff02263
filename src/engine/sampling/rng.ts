import { randomFillSync } from 'node:crypto';

// Per-session PRNG: xoshiro128** (Blackman & Vigna), 128 bits of state in
// four 32-bit ints, seeded from a 64-bit seed through SplitMix64 as its
// authors recommend. Fast with Math.imul and no BigInt past construction, and
// each session owns its state, so sessions never perturb one another.

export const MAX_SEED = (1n << 64n) - 1n;

/** What the samplers need from a random source. */
export interface Rng {
  /** Uniform in [0, 1), 53 bits. */
  nextFloat(): number;
}

export class SessionRng implements Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** `seed`: an integer in [0, 2^64) (negative or larger numbers are taken modulo 2^64). */
  constructor(readonly seed: bigint) {
    let x = BigInt.asUintN(64, seed);
    const words: number[] = [];
    for (let i = 0; i < 2; i++) {
      // SplitMix64.
      x = BigInt.asUintN(64, x + 0x9e3779b97f4a7c15n);
      let z = x;
      z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
      z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
      z = z ^ (z >> 31n);
      words.push(Number(z & 0xffffffffn) | 0, Number(z >> 32n) | 0);
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
    // The all-zero state is xoshiro's one fixed point; SplitMix64 makes it all but impossible.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** An rng over a raw xoshiro128** state, for checking against the reference test vectors. */
  static fromState(s0: number, s1: number, s2: number, s3: number): SessionRng {
    const r = new SessionRng(0n);
    r.s0 = s0 | 0;
    r.s1 = s1 | 0;
    r.s2 = s2 | 0;
    r.s3 = s3 | 0;
    return r;
  }

  /** The raw state, to carry a session's draws over a resume (see `fromState`). */
  state(): [number, number, number, number] {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  nextUint32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
  }

  nextFloat(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A fresh unpredictable 64-bit seed, for sessions that did not ask for one. */
export function randomSeed(): bigint {
  const b = randomFillSync(new BigUint64Array(1));
  return b[0]!;
}

/** The session's rng: seeded with `seed` when given (e.g. text_seed / audio_seed), else randomly. */
export function createRng(seed?: bigint | number): SessionRng {
  if (seed === undefined) return new SessionRng(randomSeed());
  if (typeof seed === 'number' && !Number.isSafeInteger(seed)) throw new RangeError(`seed ${seed} is not a safe integer`);
  return new SessionRng(BigInt(seed));
}
