// The fixed-point helpers of the reference ops equal their definitions (written here with BigInt,
// the way TFLite and gemmlowp state them) on random and edge-case operands.
import t from 'tap';

import {
  frexp,
  gemmlowp32,
  multiplyByQuantizedMultiplier,
  multiplyByQuantizedMultiplierInt64,
  quantizeMultiplier,
  roundHalfAway,
  roundHalfEven,
  roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
  saturatingRoundingDoublingHighMulShifted,
} from '../../lib/runtime/reference-ops/fixed-point.js';

const INT32_MIN = -2147483648;

function srdhmRef(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return 2147483647;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((ab + nudge) / (1n << 31n)); // BigInt division truncates, like C++
}

function rdpRef(x: number, exponent: number): number {
  const mask = (1n << BigInt(exponent)) - 1n;
  const remainder = BigInt.asUintN(32, BigInt(x)) & mask;
  const threshold = (mask >> 1n) + (x < 0 ? 1n : 0n);
  return Number((BigInt(x) >> BigInt(exponent)) + (remainder > threshold ? 1n : 0n));
}

function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

t.test('SaturatingRoundingDoublingHighMul and RoundingDivideByPOT equal their int64 definitions', async (t) => {
  const r = lcg(7);
  let bad = 0;
  const edges = [INT32_MIN, -2147483647, -1073741824, -65536, -1, 0, 1, 65535, 1073741823, 2147483647];
  const pairs: [number, number][] = edges.flatMap((a) => edges.map((b) => [a, b] as [number, number]));
  for (let i = 0; i < 50000; i++) pairs.push([(r() | 0) >> r() % 31, (r() | 0) >> r() % 8]);
  for (const [a, b] of pairs) if (saturatingRoundingDoublingHighMul(a, b) !== srdhmRef(a, b)) bad++;
  t.equal(bad, 0, `${pairs.length} products`);
  bad = 0;
  for (let i = 0; i < 50000; i++) {
    const x = i < edges.length ? edges[i]! : r() | 0;
    const e = r() % 32;
    if (roundingDivideByPOT(x, e) !== rdpRef(x, e)) bad++;
  }
  t.equal(bad, 0, 'rounding shifts');
  bad = 0;
  for (let i = 0; i < 50000; i++) {
    const v = (r() % 65536) - 32768;
    const leftShift = [7, 15, 20][r() % 3]!;
    const m = (r() >>> 1) | 0x40000000;
    if (Math.abs(v) * 2 ** leftShift >= 2 ** 31) continue;
    if (saturatingRoundingDoublingHighMulShifted(v, 2 ** (31 - leftShift), m) !== srdhmRef(v * 2 ** leftShift, m)) bad++;
  }
  t.equal(bad, 0, 'the shifted-input form');
});

t.test('QuantizeMultiplier and MultiplyByQuantizedMultiplier (int32 and int64 forms)', async (t) => {
  t.same(frexp(0.75), { fraction: 0.75, exponent: 0 });
  t.same(frexp(1), { fraction: 0.5, exponent: 1 });
  t.same(frexp(3e-10).exponent, -31);
  t.same(quantizeMultiplier(0.5), { multiplier: 1 << 30, shift: 0 });
  t.same(quantizeMultiplier(1), { multiplier: 1 << 30, shift: 1 });
  t.same(quantizeMultiplier(0), { multiplier: 0, shift: 0 });
  t.same(quantizeMultiplier(1e-12), { multiplier: 0, shift: 0 }, 'flushed to zero below 2^-31');
  // 0.999999999999 rounds up to 2^31 in Q31: the mantissa is halved and the shift incremented.
  t.same(quantizeMultiplier(0.9999999999999), { multiplier: 1 << 30, shift: 1 });
  const r = lcg(11);
  let bad = 0;
  for (let i = 0; i < 20000; i++) {
    const real = (r() / 4294967296) * 2 ** ((r() % 20) - 14);
    const { multiplier, shift } = quantizeMultiplier(real);
    const x = (r() | 0) >> (r() % 24);
    const left = shift > 0 ? shift : 0;
    const wantShifted = Number(BigInt.asIntN(32, BigInt(x) << BigInt(left)));
    const want = rdpRef(srdhmRef(wantShifted, multiplier), shift > 0 ? 0 : -shift);
    if (multiplyByQuantizedMultiplier(x, multiplier, shift) !== want) bad++;
    // int64 form: 16-bit rounded multiplier, one rounding shift.
    const big = BigInt(x) * BigInt(r() % 1000);
    const reduced = multiplier < 0x7fff0000 ? BigInt((multiplier + 32768) >> 16) : 0x7fffn;
    const total = BigInt(15 - shift);
    if (shift <= 7 && shift >= -31) {
      const want64 = Number(BigInt.asIntN(32, (big * reduced + (1n << (total - 1n))) >> total));
      if (multiplyByQuantizedMultiplierInt64(big, multiplier, shift) !== want64) bad++;
    }
  }
  t.equal(bad, 0);
});

t.test('rounding helpers', async (t) => {
  t.same([2.5, 3.5, -2.5, -3.5, 0.49999999999999994, -0.5].map(roundHalfEven), [2, 4, -2, -4, 0, -0]);
  t.same([2.5, 3.5, -2.5, -3.5, 0.49999999999999994, -0.5].map(roundHalfAway), [3, 4, -3, -4, 0, -1]);
});

t.test('gemmlowp exp, logistic and tanh (int32) approximate the functions they stand for', async (t) => {
  let exp = 0;
  let logistic = 0;
  let tanh = 0;
  for (let i = 0; i <= 2000; i++) {
    const raw = -Math.round((i / 100) * 2 ** 26); // 5 integer bits
    exp = Math.max(exp, Math.abs(gemmlowp32.expOnNegativeValues(raw, 5) / 2 ** 31 - Math.exp(raw / 2 ** 26)));
  }
  for (let i = -3000; i <= 3000; i++) {
    const raw = Math.round((i / 400) * 2 ** 27); // 4 integer bits
    logistic = Math.max(logistic, Math.abs(gemmlowp32.logistic(raw, 4) / 2 ** 31 - 1 / (1 + Math.exp(-raw / 2 ** 27))));
    tanh = Math.max(tanh, Math.abs(gemmlowp32.tanh(raw, 4) / 2 ** 31 - Math.tanh(raw / 2 ** 27)));
  }
  t.ok(exp < 1e-6, `exp_on_negative_values: worst absolute error ${exp.toExponential(2)}`);
  t.ok(logistic < 1e-6, `logistic: ${logistic.toExponential(2)}`);
  t.ok(tanh < 1e-6, `tanh: ${tanh.toExponential(2)}`);
});
