// The int8 GEMM wrapper: results equal a plain-JS reference of both requantization rules on
// every supported path and thread count, raw accumulation and column sums, and bad arguments
// (from the wrapper and straight at the addon) give InvalidArgumentError.
import t from 'tap';

import { InvalidArgumentError } from '../../lib/errors.js';
import { packQs8Gemm, requantizationScale } from '../../lib/native/gemm.js';
import type { Qs8GemmOptions, Requantization } from '../../lib/native/gemm.js';
import { callNative, capabilities, selectIsa } from '../../lib/native/index.js';

// ---- The rules written out in plain JS ----

function roundHalfEven(y: number): number {
  const r = Math.round(y); // half up
  return r - y === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function requantizeFp32(acc: number, scale: number, zp: number, qmin: number, qmax: number): number {
  let y = Math.fround(Math.fround(acc) * Math.fround(scale));
  y = Math.min(Math.max(y, qmin - zp), qmax - zp);
  return roundHalfEven(y) + zp;
}

/** TFLite's QuantizeMultiplier: frexp, mantissa rounded to Q31. */
function quantizeMultiplier(real: number): [number, number] {
  if (real === 0) return [0, 0];
  let shift = Math.floor(Math.log2(real)) + 1;
  while (real / 2 ** shift >= 1) shift++;
  while (real / 2 ** shift < 0.5) shift--;
  let q = Math.round((real / 2 ** shift) * 2 ** 31);
  if (q === 2 ** 31) {
    q /= 2;
    shift++;
  }
  if (shift < -31) return [0, 0];
  return [q, shift];
}

function multiplyByQuantizedMultiplier(x: number, multiplier: number, shift: number): number {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  const shifted = BigInt((x << left) | 0);
  const ab = shifted * BigInt(multiplier);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  const high = Number((ab + nudge) / (1n << 31n)); // BigInt division truncates, as C++
  const mask = 2 ** right - 1;
  const remainder = high & mask;
  const threshold = (mask >> 1) + (high < 0 ? 1 : 0);
  return (high >> right) + (remainder > threshold ? 1 : 0);
}

function requantizeFixed(acc: number, scale: number, zp: number, qmin: number, qmax: number): number {
  const [m, s] = quantizeMultiplier(scale);
  return Math.min(Math.max(multiplyByQuantizedMultiplier(acc, m, s) + zp, qmin), qmax);
}

interface Case {
  m: number;
  options: Qs8GemmOptions;
  a: Int8Array;
}

function reference(c: Case, requantization: Requantization): Int8Array {
  const { m, a } = c;
  const { n, k, weights, bias } = c.options;
  const zpIn = c.options.inputZeroPoint ?? 0;
  const zpOut = c.options.outputZeroPoint ?? 0;
  const qmin = c.options.qmin ?? -128;
  const qmax = c.options.qmax ?? 127;
  const scales = typeof c.options.scale === 'number' ? [c.options.scale] : Array.from(c.options.scale);
  const out = new Int8Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = bias?.[j] ?? 0;
      for (let p = 0; p < k; p++) acc += ((a[i * k + p] ?? 0) - zpIn) * (weights[j * k + p] ?? 0);
      const s = scales[scales.length === 1 ? 0 : j] ?? 1;
      out[i * n + j] =
        requantization === 'fp32'
          ? requantizeFp32(acc | 0, s, zpOut, qmin, qmax)
          : requantizeFixed(acc | 0, s, zpOut, qmin, qmax);
    }
  }
  return out;
}

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomInt8(n: number, next: () => number, lo = -128): Int8Array {
  return Int8Array.from({ length: n }, () => lo + Math.floor(next() * (128 - lo)));
}

function makeCase(m: number, n: number, k: number, seed: number, requantization: Requantization): Case {
  const next = random(seed);
  const zpIn = [-128, 0, 127][seed % 3] ?? 0;
  const typical = 64 / (Math.sqrt(Math.max(k, 1)) * 10000);
  const scale = Array.from({ length: seed % 2 ? n : 1 }, (_, j) =>
    j % 5 === 3 ? 1e-6 : j % 5 === 4 ? 10 : typical * 2 ** (next() * 6 - 3),
  );
  return {
    m,
    a: randomInt8(m * k, next),
    options: {
      weights: randomInt8(n * k, next, seed % 4 < 2 ? -127 : -128),
      n,
      k,
      bias: Int32Array.from({ length: n }, () => Math.floor(next() * 200001) - 100000),
      inputZeroPoint: zpIn,
      requantization,
      scale: requantization === 'fp32' ? scale.map((s) => Math.fround(s)) : scale,
      outputZeroPoint: [0, -128, 127, 5][seed % 4] ?? 0,
      qmin: seed % 5 === 0 ? -100 : -128,
      qmax: seed % 7 === 0 ? 60 : 127,
    },
  };
}

const shapes: [number, number, number][] = [
  [1, 1, 1],
  [1, 7, 33],
  [2, 16, 16],
  [3, 17, 5],
  [5, 33, 67],
  [7, 64, 1],
  [9, 13, 129],
  [16, 31, 256],
  [17, 5, 1024],
];

t.test('the reference rules on hand-checked values', async (t) => {
  t.same([1, 3, 5, -1, -3].map((acc) => requantizeFp32(acc, 0.5, 0, -128, 127)), [0, 2, 2, 0, -2]);
  t.same(quantizeMultiplier(0.25), [2 ** 30, -1]);
  t.same(quantizeMultiplier(1 / 3), [1431655765, -1]);
  t.same([1, -1, 6, -6].map((x) => multiplyByQuantizedMultiplier(x, 2 ** 30, -1)), [1, 0, 2, -2]);
  t.equal(requantizationScale(0.5, 0.25, 2), 0.0625);
  t.equal(requantizationScale(0.1, 0.2, 0.3), Math.fround(Math.fround(Math.fround(0.1) * Math.fround(0.2)) / Math.fround(0.3)));
  t.equal(requantizationScale(0.1, 0.2, 0.3, 'fixed-point'), (Math.fround(0.1) * Math.fround(0.2)) / Math.fround(0.3));
});

t.test('every supported path equals the plain-JS reference, both requantization rules', async (t) => {
  const original = capabilities().selected;
  for (const isa of capabilities().isa) {
    selectIsa(isa);
    let seed = 1;
    for (const requantization of ['fp32', 'fixed-point'] as const) {
      for (const [m, n, k] of shapes) {
        const c = makeCase(m, n, k, seed++, requantization);
        const gemm = packQs8Gemm(c.options);
        // Paths without their own qs8 GEMM kernels use their fallback (isa.h).
        const expectedPath = isa === 'avx512' ? 'avx2' : isa === 'amx' ? 'avx512vnni' : isa;
        t.equal(gemm.path, expectedPath, `${isa}: packed for the selected path`);
        t.same(Array.from(gemm.run(c.a)), Array.from(reference(c, requantization)),
          `${isa} ${gemm.kernel} ${requantization} M=${m} N=${n} K=${k}`);
      }
    }
  }
  selectIsa(original);
});

t.test('thread counts 1, 2, 3 and 0 give identical results', async (t) => {
  const c = makeCase(70, 100, 300, 3, 'fp32');
  const want = Array.from(reference(c, 'fp32'));
  for (const threads of [1, 2, 3, 0]) {
    const gemm = packQs8Gemm({ ...c.options, threads });
    t.same(Array.from(gemm.run(c.a)), want, `threads=${threads}`);
  }
});

t.test('caller-provided output, explicit m, and K == 0', async (t) => {
  const c = makeCase(4, 9, 20, 8, 'fixed-point');
  const gemm = packQs8Gemm(c.options);
  const out = new Int8Array(4 * 9).fill(99);
  t.equal(gemm.run(c.a, 4, out), out);
  t.same(Array.from(out), Array.from(reference(c, 'fixed-point')));
  t.equal(gemm.run(new Int8Array(0)).length, 0, 'm = 0');
  const empty = packQs8Gemm({ weights: new Int8Array(0), n: 3, k: 0, bias: Int32Array.of(10, -20, 300), scale: 0.5 });
  t.same(Array.from(empty.run(new Int8Array(0), 2)), [5, -10, 127, 5, -10, 127]);
});

t.test('raw accumulation and column sums', async (t) => {
  const c = makeCase(6, 11, 37, 4, 'fp32');
  const gemm = packQs8Gemm(c.options);
  const { weights } = c.options;
  const want: number[] = [];
  for (let i = 0; i < 6; i++) {
    for (let j = 0; j < 11; j++) {
      let acc = 0;
      for (let p = 0; p < 37; p++) acc += (c.a[i * 37 + p] ?? 0) * (weights[j * 37 + p] ?? 0);
      want.push(acc);
    }
  }
  t.same(Array.from(gemm.accumulate(c.a)), want);
  const sums = Array.from({ length: 11 }, (_, j) => weights.subarray(j * 37, j * 37 + 37).reduce((s, w) => s + w, 0));
  t.same(Array.from(gemm.columnSums()), sums);
});

t.test('bad arguments give InvalidArgumentError naming the problem', async (t) => {
  const ok: Qs8GemmOptions = { weights: new Int8Array(6), n: 2, k: 3, scale: 0.5 };
  const gemm = packQs8Gemm(ok);
  // A raw handle for the same shape (n = 2, k = 3), for the addon's own checks.
  const raw = callNative((b) => b.qs8GemmPack(new Int8Array(6), 2, 3, null, 0, 0, Float64Array.of(0.5), 0, -128, 127));
  const cases: [string, () => unknown, RegExp][] = [
    ['weights not Int8Array', () => packQs8Gemm({ ...ok, weights: new Uint8Array(6) as never }), /Int8Array for weights/],
    ['weights length', () => packQs8Gemm({ ...ok, k: 4 }), /n \* k = 8 elements for weights/],
    ['n zero', () => packQs8Gemm({ ...ok, n: 0, weights: new Int8Array(0) }), /for n but/],
    ['fractional k', () => packQs8Gemm({ ...ok, k: 1.5 }), /for k but/],
    ['bias length', () => packQs8Gemm({ ...ok, bias: new Int32Array(3) }), /bias/],
    ['bias type', () => packQs8Gemm({ ...ok, bias: new Float32Array(2) as never }), /bias/],
    ['input zero point', () => packQs8Gemm({ ...ok, inputZeroPoint: 128 }), /inputZeroPoint/],
    ['requantization', () => packQs8Gemm({ ...ok, requantization: 'double' as never }), /requantization/],
    ['zero scale', () => packQs8Gemm({ ...ok, scale: 0 }), /scale\[0\]/],
    ['NaN scale', () => packQs8Gemm({ ...ok, scale: [1, NaN] }), /scale\[1\]/],
    ['scale count', () => packQs8Gemm({ ...ok, scale: [1, 2, 3] }), /1 or 2 scales/],
    ['huge fixed-point scale', () => packQs8Gemm({ ...ok, requantization: 'fixed-point', scale: 2 ** 32 }), /scale\[0\]/],
    ['qmax below qmin', () => packQs8Gemm({ ...ok, qmin: 10, qmax: 9 }), /qmax/],
    ['output zero point', () => packQs8Gemm({ ...ok, outputZeroPoint: -129 }), /outputZeroPoint/],
    ['threads', () => packQs8Gemm({ ...ok, threads: 257 }), /threads/],
    ['a not Int8Array', () => gemm.run(new Int16Array(3) as never), /Int8Array for a/],
    ['a length', () => gemm.run(new Int8Array(4)), /multiple of k = 3/],
    ['m mismatch', () => gemm.run(new Int8Array(6), 3), /m \* k/],
    ['output length', () => gemm.run(new Int8Array(6), 2, new Int8Array(3)), /output/],
    ['accumulate output type', () => gemm.accumulate(new Int8Array(3), 1, new Int8Array(2) as never), /Int32Array/],
    // Straight at the addon: its own checks hold even without the wrapper.
    ['native: not a handle', () => callNative((b) => b.qs8GemmRun({} as never, new Int8Array(3), 1, new Int8Array(2), 1)), /handle/],
    ['native: null handle', () => callNative((b) => b.qs8GemmRun(null as never, new Int8Array(3), 1, new Int8Array(2), 1)), /handle/],
    ['native: a too short', () => callNative((b) => b.qs8GemmRun(raw, new Int8Array(2), 1, new Int8Array(2), 1)), /length 3 for a/],
    ['native: c too long', () => callNative((b) => b.qs8GemmRun(raw, new Int8Array(3), 1, new Int8Array(9), 1)), /length 2 for c/],
    ['native: m negative', () => callNative((b) => b.qs8GemmRun(raw, new Int8Array(3), -1, new Int8Array(2), 1)), /for m/],
    ['native: threads', () => callNative((b) => b.qs8GemmRun(raw, new Int8Array(3), 1, new Int8Array(2), 1000)), /for threads/],
    ['native: arg count', () => callNative((b) => (b.qs8GemmRun as (...x: unknown[]) => void)(raw)), /5 arguments/],
    ['native: pack NaN scale', () => callNative((b) => b.qs8GemmPack(new Int8Array(2), 1, 2, null, 0, 0, Float64Array.of(NaN), 0, -128, 127)), /scales/],
    ['native: pack bias length', () => callNative((b) => b.qs8GemmPack(new Int8Array(2), 1, 2, new Int32Array(2), 0, 0, Float64Array.of(1), 0, -128, 127)), /bias/],
    ['native: pack qmax', () => callNative((b) => b.qs8GemmPack(new Int8Array(2), 1, 2, null, 0, 0, Float64Array.of(1), 0, 5, 4)), /qmax/],
    ['native: pack weights length', () => callNative((b) => b.qs8GemmPack(new Int8Array(3), 1, 2, null, 0, 1, Float64Array.of(1), 0, -128, 127)), /weights/],
  ];
  for (const [name, fn, message] of cases) {
    t.throws(fn, { code: 'ERR_LITEQUANT_INVALID_ARGUMENT', message }, name);
    try {
      fn();
    } catch (error) {
      t.ok(error instanceof InvalidArgumentError, `${name}: typed`);
    }
  }
});

t.test('the hot call is cheap (measured, not asserted)', async (t) => {
  const gemm = packQs8Gemm({ weights: new Int8Array(16 * 8).fill(3), n: 8, k: 16, scale: 0.01 });
  const a = new Int8Array(16).fill(1);
  const out = new Int8Array(8);
  for (let i = 0; i < 20000; i++) gemm.run(a, 1, out);
  const reps = 200000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) gemm.run(a, 1, out);
  const perCall = Number(process.hrtime.bigint() - start) / reps;
  t.comment(`qs8 GEMM 1x16x8 from JS: ${perCall.toFixed(0)} ns per call (${gemm.kernel})`);
  t.ok(perCall > 0);
});
