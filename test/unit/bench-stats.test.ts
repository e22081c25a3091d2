import assert from 'node:assert/strict';
import { arrivalOffsets, gammaSample, seededRandom } from '../../core/bench/arrivals';
import { mean, percentileOfSorted, populationStd, summarize } from '../../core/bench/stats';

const close = (actual: number | null, expected: number, eps = 1e-9) => assert.ok(actual !== null && Math.abs(actual - expected) < eps, `${actual} ≠ ${expected}`);

describe('bench stats (numpy conventions)', () => {
  // Expected values from numpy 2.4: np.mean, np.median, np.std (ddof=0), np.percentile (method 'linear').
  it('matches numpy on [1, 2, 3, 4, 10]', () => {
    const s = summarize([10, 3, 1, 4, 2], [25, 50, 90, 99]);
    close(s.mean, 4);
    close(s.median, 3);
    close(s.std, 3.1622776601683795);
    close(s.percentiles.p25, 2);
    close(s.percentiles.p50, 3);
    close(s.percentiles.p90, 7.6);
    close(s.percentiles.p99, 9.76);
    assert.equal(s.min, 1);
    assert.equal(s.max, 10);
  });

  it('matches numpy on seven unevenly spread values, fractional percentiles included', () => {
    const s = summarize([12.5, 3.25, 7.0, 41.0, 0.5, 19.75, 8.0], [10, 90, 99, 99.9]);
    close(s.mean, 13.142857142857142);
    close(s.median, 8);
    close(s.std, 12.772638964695156);
    close(s.percentiles.p10, 2.15);
    close(s.percentiles.p90, 28.25);
    close(s.percentiles.p99, 39.725);
    close(s.percentiles['p99.9'], 40.8725);
  });

  it('uses the population std (n), not the sample std (n − 1): [2, 4] gives 1, one value gives 0', () => {
    close(populationStd([2, 4]), 1);
    close(populationStd([5]), 0);
    close(percentileOfSorted([2, 4], 90), 3.8);
    close(percentileOfSorted([5], 99), 5);
    close(mean([2, 4]), 3);
  });

  it('reports nulls, not zeros, for nothing measured', () => {
    const s = summarize([], [50, 99]);
    assert.deepEqual(s, { count: 0, mean: null, median: null, std: null, min: null, max: null, percentiles: { p50: null, p99: null } });
  });
});

describe('bench arrivals', () => {
  it('the same seed gives the same schedule; another seed another one', () => {
    const a = arrivalOffsets({ rate: 20, burstiness: 0.5, count: 50, seed: 42 });
    assert.deepEqual(arrivalOffsets({ rate: 20, burstiness: 0.5, count: 50, seed: 42 }), a);
    assert.notDeepEqual(arrivalOffsets({ rate: 20, burstiness: 0.5, count: 50, seed: 43 }), a);
    assert.equal(a[0], 0);
    assert.ok(a.every((t, i) => i === 0 || t >= a[i - 1]));
  });

  for (const burstiness of [1, 0.5, 4]) {
    it(`burstiness ${burstiness}: gaps average 1/rate and their squared coefficient of variation is 1/burstiness (gamma shape = burstiness, scale = 1/(rate·burstiness))`, () => {
      const n = 40_000;
      const offsets = arrivalOffsets({ rate: 10, burstiness, count: n + 1, seed: 7 });
      const gaps = offsets.slice(1).map((t, i) => t - offsets[i]);
      const m = mean(gaps);
      const cv2 = populationStd(gaps) ** 2 / (m * m);
      assert.ok(Math.abs(m - 100) < 3, `mean gap ${m} ms`);
      assert.ok(Math.abs(cv2 - 1 / burstiness) < 0.08 / burstiness, `CV² ${cv2}`);
    });
  }

  it('gamma samples with shape below 1 stay positive and keep mean = shape', () => {
    const random = seededRandom(1);
    const xs = Array.from({ length: 40_000 }, () => gammaSample(0.3, random));
    assert.ok(xs.every((x) => x >= 0 && Number.isFinite(x)));
    assert.ok(Math.abs(mean(xs) - 0.3) < 0.015, `${mean(xs)}`);
  });
});
