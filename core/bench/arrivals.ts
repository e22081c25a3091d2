/**
 * When the requests of an open-loop run start. As in vLLM's serving benchmark, the gaps between
 * arrivals are gamma distributed with shape = burstiness and scale = 1 / (rate · burstiness), so the
 * mean rate stays `rate` whatever the burstiness: 1 is a Poisson process (exponential gaps), below 1
 * is burstier, above 1 more regular. A seed fixes the whole schedule.
 */

/** Deterministic numbers in [0, 1) from a 32-bit seed (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function standardNormal(random: () => number): number {
  // Box–Muller; 1 − u keeps the logarithm's argument above 0.
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A gamma(shape, 1) sample by Marsaglia and Tsang's method; shape < 1 through the boost gamma(shape + 1) · U^(1/shape). */
export function gammaSample(shape: number, random: () => number): number {
  if (shape < 1) return gammaSample(shape + 1, random) * Math.pow(1 - random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = standardNormal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

export interface ArrivalOptions {
  /** Requests per second, above 0. */
  rate: number;
  /** Gamma shape; 1 = Poisson. */
  burstiness: number;
  count: number;
  seed: number;
}

/** Start offsets in ms from the start of the run: the first request at 0, each next one a gap later. */
export function arrivalOffsets({ rate, burstiness, count, seed }: ArrivalOptions): number[] {
  const random = seededRandom(seed);
  const scaleMs = 1000 / (rate * burstiness);
  const offsets: number[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    offsets.push(at);
    const gap = burstiness === 1 ? -Math.log(1 - random()) : gammaSample(burstiness, random);
    at += gap * scaleMs;
  }
  return offsets;
}
