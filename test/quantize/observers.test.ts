// Calibration observers on synthetic data with known answers: min/max, the moving average, the
// one-pass growing histogram, and the clipping methods (percentile, entropy, mse) that must cut
// outliers where min/max keeps them.
import t from 'tap';

import { minMax } from '../../lib/native/tensor-utils.js';
import {
  createObserver,
  entropyRange,
  GrowingHistogram,
  mseRange,
  percentileRange,
  type GridBits,
  type Observer,
  type ObserverSettings,
} from '../../lib/quantize/observers.js';
import type { CalibrationMethod } from '../../lib/quantize/types.js';

/** A seeded uniform generator in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function uniform(n: number, lo: number, hi: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

function gaussian(n: number, seed: number, sigma = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = sigma * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return out;
}

/** N(0, 1) samples with a few far outliers on both sides (how a bad activation tensor looks). */
function gaussianWithOutliers(n: number, seed: number): Float32Array {
  const x = gaussian(n, seed);
  x[10] = 50;
  x[20] = -50;
  x[30] = 40;
  return x;
}

const SETTINGS: Omit<ObserverSettings, 'method'> = { bins: 2048, percentile: 99.99, emaDecay: 0.9, bits: 8 };

function observe(method: CalibrationMethod, samples: readonly Float32Array[], extra: Partial<ObserverSettings> = {}): Observer {
  const o = createObserver({ ...SETTINGS, method, ...extra });
  for (const s of samples) {
    const mm = minMax(s);
    o.add(s, mm.min, mm.max);
    o.endSample();
  }
  return o;
}

function histogramOf(samples: readonly Float32Array[], bins = 2048, countZeros = false): GrowingHistogram {
  const h = new GrowingHistogram(bins, { countZeros });
  for (const s of samples) {
    const mm = minMax(s);
    h.add(s, mm.min, mm.max);
  }
  return h;
}

/** Mean squared error of quantizing x on the int8 asymmetric grid of [min, max]. */
function quantizationMse(x: Float32Array, min: number, max: number): number {
  const scale = (max - min) / 255;
  const zeroPoint = Math.round(-128 - min / scale);
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    const q = Math.min(127, Math.max(-128, Math.round(v / scale) + zeroPoint));
    sum += (v - (q - zeroPoint) * scale) ** 2;
  }
  return sum / x.length;
}

function split(x: Float32Array, parts: number): Float32Array[] {
  const n = Math.ceil(x.length / parts);
  return Array.from({ length: parts }, (_, i) => x.subarray(i * n, Math.min(x.length, (i + 1) * n)));
}

t.test('minmax: the global extremes, widened to contain 0', async (t) => {
  t.same(observe('minmax', [Float32Array.of(2, 3), Float32Array.of(5, 4)]).range(), { min: 0, max: 5 });
  t.same(observe('minmax', [Float32Array.of(-2, -3), Float32Array.of(-5, -4)]).range(), { min: -5, max: 0 });
  t.same(observe('minmax', [gaussianWithOutliers(10000, 1)]).range(), { min: -50, max: 50 }, 'keeps the outliers');
  t.same(createObserver({ ...SETTINGS, method: 'minmax' }).range(), { min: 0, max: 0 }, 'nothing observed');
  t.same(observe('minmax', [new Float32Array(10)]).range(), { min: 0, max: 0 }, 'all zeros');
});

t.test('ema: the first sample initialises, then running = decay * running + (1 - decay) * sample', async (t) => {
  const o = observe('ema', [Float32Array.of(-1, 1), Float32Array.of(-3, 5)], { emaDecay: 0.5 });
  t.same(o.range(), { min: -2, max: 3 });
  // A sample arriving in slices (a batch run row by row) is one sample: its own min/max.
  const sliced = createObserver({ ...SETTINGS, method: 'ema', emaDecay: 0.5 });
  sliced.add(Float32Array.of(-1, 1), -1, 1);
  sliced.endSample();
  sliced.add(Float32Array.of(-3), -3, -3);
  sliced.add(Float32Array.of(5), 5, 5);
  sliced.endSample();
  t.same(sliced.range(), { min: -2, max: 3 });
  t.same(observe('ema', [Float32Array.of(2, 4)]).range(), { min: 0, max: 4 }, 'contains 0');

  // Drift: the moving average follows the recent samples, min/max remembers the largest.
  const small = Array.from({ length: 50 }, (_, i) => uniform(100, -1, 1, i));
  const large = Array.from({ length: 50 }, (_, i) => uniform(100, -10, 10, 100 + i));
  const growing = observe('ema', [...small, ...large]).range();
  t.ok(growing.max > 9 && growing.max <= 10, `follows a growing range (max ${growing.max})`);
  const shrinking = observe('ema', [...large, ...small]).range();
  t.ok(shrinking.max < 1.1 && shrinking.min > -1.1, `follows a shrinking range ([${shrinking.min}, ${shrinking.max}])`);
  t.same(observe('minmax', [...large, ...small]).range().max > 9.9, true, 'min/max does not');
});

t.test('growing histogram: one pass, exact merges, bounded memory', async (t) => {
  // Samples whose range grows (x10 each time) and moves: counts are never lost.
  const samples = [uniform(5000, 0, 1, 1), uniform(5000, -3, 8, 2), uniform(5000, -100, 20, 3), uniform(5000, 0, 1000, 4)];
  const h = histogramOf(samples, 256);
  const view = h.view();
  const total = view.counts.reduce((a, b) => a + b, 0);
  t.equal(total, 20000, 'every value counted once');
  t.equal(h.capacity, 512);
  t.equal(Math.log2(view.width) % 1, 0, 'the width is a power of two');
  const spanBins = (view.max - view.min) / view.width;
  t.ok(spanBins >= 256 && spanBins <= 512, `the observed range spans between bins and 2 x bins bins (${spanBins})`);
  t.ok(view.start <= 0 && view.start + view.counts.length >= 1, 'bin 0 ([0, width)) is in the view');
  t.equal(view.min, Math.min(...samples.map((s) => minMax(s).min)), 'observed min');
  t.equal(view.max, Math.max(...samples.map((s) => minMax(s).max)), 'observed max');

  // Growth gives the same statistics as a histogram built at the final width: the percentiles
  // of the data are found within a bin or two.
  const all = new Float32Array(20000);
  samples.forEach((s, i) => all.set(s, i * 5000));
  const sorted = Float64Array.from(all).sort();
  const positives = sorted.filter((v) => v >= 0);
  const negatives = sorted.filter((v) => v < 0).map((v) => -v).sort();
  for (const p of [60, 90, 99]) {
    const r = percentileRange(view, p);
    const exactHi = positives[Math.ceil((positives.length * p) / 100) - 1]!;
    const exactLo = -negatives[Math.ceil((negatives.length * p) / 100) - 1]!;
    t.ok(Math.abs(r.max - exactHi) <= 2 * view.width, `p${p} max ${r.max} vs exact ${exactHi} (bin width ${view.width})`);
    t.ok(Math.abs(r.min - exactLo) <= 2 * view.width, `p${p} min ${r.min} vs exact ${exactLo}`);
  }

  // Zeros: pending until the first non-zero value, then in bin 0, and counted separately.
  const z = histogramOf([new Float32Array(7), Float32Array.of(0, 0, 1, 2, -1)], 128, true);
  const zv = z.view();
  t.equal(zv.zeros, 9);
  t.equal(zv.counts[-zv.start], 9, 'bin [0, width) holds the zeros');
  t.equal(zv.counts.reduce((a, b) => a + b, 0), 12);
  const allZero = histogramOf([new Float32Array(5)], 128, true).view();
  t.same([allZero.width, [...allZero.counts], allZero.zeros], [0, [5], 5], 'all zeros: no width yet');
  t.same(percentileRange(allZero, 99), { min: 0, max: 0 });
  t.same(entropyRange(allZero, 8), { min: 0, max: 0 });
  t.same(mseRange(allZero, 8), { min: 0, max: 0 });

  // Extreme jumps: tiny values then huge ones, negative only.
  const jump = histogramOf([uniform(1000, -1e-6, 0, 5), uniform(1000, -1e6, 0, 6)], 128).view();
  t.equal(jump.counts.reduce((a, b) => a + b, 0), 2000);
  t.ok(percentileRange(jump, 100).min === jump.min && percentileRange(jump, 100).max === 0);
});

t.test('percentile: each side of zero, percentile 100 = min/max', async (t) => {
  const u = percentileRange(histogramOf([uniform(100000, 0, 1, 7)]).view(), 99);
  t.equal(u.min, 0);
  t.ok(Math.abs(u.max - 0.99) < 0.003, `U(0,1) p99 = ${u.max}`);
  const s = percentileRange(histogramOf([uniform(100000, -1, 1, 8)]).view(), 99);
  t.ok(Math.abs(s.max - 0.99) < 0.003 && Math.abs(s.min + 0.99) < 0.003, `U(-1,1) p99 = [${s.min}, ${s.max}]`);
  // Skewed: each tail is cut by its own percentile.
  const skew = percentileRange(histogramOf([uniform(50000, -1, 0, 9), uniform(50000, 0, 10, 10)]).view(), 90);
  t.ok(Math.abs(skew.min + 0.9) < 0.02 && Math.abs(skew.max - 9) < 0.05, `skewed p90 = [${skew.min}, ${skew.max}]`);

  const x = gaussianWithOutliers(200000, 11);
  const r = observe('percentile', split(x, 10)).range();
  // The 99.99th percentile of |N(0,1)| is 3.89.
  t.ok(r.max > 3.3 && r.max < 4.5 && r.min < -3.3 && r.min > -4.5, `gaussian + outliers p99.99 = [${r.min}, ${r.max}]: outliers clipped`);
  const full = observe('percentile', [x], { percentile: 100 }).range();
  t.same(full, { min: -50, max: 50 }, 'p100 keeps everything');
  t.same(observe('percentile', [Float32Array.of(1, 2, 3)]).range().min, 0, 'contains 0');
});

t.test('entropy: KL-optimal thresholds clip outliers, keep a uniform range', async (t) => {
  const x = gaussianWithOutliers(200000, 12);
  const r = observe('entropy', split(x, 10)).range();
  t.ok(r.max > 2 && r.max < 6 && r.min < -2 && r.min > -6, `gaussian + outliers: [${r.min}, ${r.max}]`);
  t.equal(r.max, -r.min, 'symmetric data: a symmetric threshold');
  const u = observe('entropy', [uniform(100000, -1, 1, 13)]).range();
  t.ok(u.max > 0.9 && u.min < -0.9, `U(-1,1): [${u.min}, ${u.max}]`);
  // One-sided (a ReLU output: half exact zeros, which every grid represents exactly).
  const relu = gaussianWithOutliers(200000, 14).map((v) => Math.max(v, 0));
  const rr = observe('entropy', [relu]).range();
  t.ok(rr.min === 0 && rr.max > 2 && rr.max < 6, `ReLU of gaussian + outliers: [${rr.min}, ${rr.max}]`);
  // The int16 grid has 32767 levels per side: no reason to clip.
  const r16 = observe('entropy', [x], { bits: 16 as GridBits }).range();
  t.ok(r16.max > 45 && r16.min < -45, `int16: [${r16.min}, ${r16.max}]`);
});

t.test('mse: the range with the least expected quantization error', async (t) => {
  // Clipping pays when the rounding error saved on every value outweighs the outliers' clipping
  // error: with 3 outliers (50, 40, -50) in a million values the optimum cuts them partly (the
  // squared error of clipping 50 to 4 is large), keeping the body of the distribution.
  const x = gaussianWithOutliers(1_000_000, 15);
  const r = observe('mse', split(x, 10)).range();
  t.ok(r.max < 40 && r.min > -50 && r.max > 3 && r.min < -3, `gaussian + outliers: [${r.min}, ${r.max}]: outliers clipped`);
  const chosen = quantizationMse(x, r.min, r.max);
  const minmax = quantizationMse(x, -50, 50);
  t.ok(chosen < minmax / 2, `below min/max's error (${chosen} vs ${minmax})`);
  // Within a few percent of the best symmetric clipping found by brute force on the raw data.
  let bestSym = Infinity;
  for (let c = 2.5; c <= 7; c += 0.25) bestSym = Math.min(bestSym, quantizationMse(x, -c, c));
  t.ok(chosen <= bestSym * 1.05, `${chosen} vs brute-force best ${bestSym}`);
  // With fewer values the outliers are kept (partly): still never worse than min/max.
  const few = gaussianWithOutliers(100_000, 18);
  const rf = observe('mse', [few]).range();
  t.ok(quantizationMse(few, rf.min, rf.max) <= quantizationMse(few, -50, 50), `100k values: [${rf.min}, ${rf.max}]`);

  const u = observe('mse', [uniform(100000, -1, 1, 16)]).range();
  t.ok(u.max > 0.97 && u.min < -0.97, `U(-1,1): [${u.min}, ${u.max}]`);
  // Asymmetric: a skewed distribution gets an asymmetric range.
  const skewed = gaussian(100000, 17).map((v) => (v < 0 ? v * 0.1 : v * 3));
  const rs = observe('mse', [skewed]).range();
  t.ok(rs.max > 6 && rs.min > -0.6 && rs.min < 0, `skewed: [${rs.min}, ${rs.max}]`);
  t.ok(quantizationMse(skewed, rs.min, rs.max) <= quantizationMse(skewed, Math.min(...skewed), Math.max(...skewed)));
  // int16 (symmetric, 32767 levels): keeps almost everything.
  const r16 = observe('mse', [x], { bits: 16 as GridBits }).range();
  t.ok(r16.max > 30 && r16.min < -30, `int16: [${r16.min}, ${r16.max}]`);
});

t.test('every method: ranges contain 0 and stay inside the observed extremes', async (t) => {
  const data = [uniform(3000, 1, 4, 20), uniform(3000, 2, 9, 21)];
  for (const method of ['minmax', 'ema', 'percentile', 'entropy', 'mse'] as const) {
    const r = observe(method, data).range();
    t.ok(r.min === 0 && r.max > 0 && r.max <= 9, `${method}: [${r.min}, ${r.max}]`);
  }
});
