// A small seeded PRNG (xoshiro128**) whose streams are addressed by (seed, stream, index), so a
// consumer can jump straight to "the randomness of step s" without replaying steps 0..s-1.

/** Murmur3's 32-bit finaliser: spreads every input bit over the whole word. */
function avalanche32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Hashes a list of integers (each taken modulo 2^53, split into two 32-bit halves) to 32 bits. */
export function hashIntegers(values: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const v of values) {
    const low = v >>> 0;
    const high = Math.floor(v / 0x100000000) >>> 0;
    h = avalanche32((h ^ low) + 0x7f4a7c15);
    h = avalanche32((h ^ high) + 0x165667b1);
  }
  return h;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** The generator for one (seed, ...path) address, e.g. new Rng(seed, TRAIN_STREAM, step). */
  constructor(...address: number[]) {
    const base = hashIntegers(address);
    // xoshiro must not start from the all-zero state; distinct hashed words make that impossible
    this.s0 = avalanche32(base ^ 0x243f6a88) | 1;
    this.s1 = avalanche32(base ^ 0x85a308d3);
    this.s2 = avalanche32(base ^ 0x13198a2e);
    this.s3 = avalanche32(base ^ 0x03707344);
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** Uniform integer in [0, n), n <= 2^53, without modulo bias worth mentioning (53-bit float). */
  nextInt(n: number): number {
    if (!(n >= 1)) throw new RangeError(`nextInt needs n >= 1, got ${n}`);
    return Math.floor(this.nextFloat() * n);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
