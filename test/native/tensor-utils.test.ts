// Min/max, histogram and float16 conversion: each rule written independently in plain JS, every
// supported path giving exactly the same answer, and argument checks.
import t from 'tap';

import { InvalidArgumentError } from '../../lib/errors.js';
import { capabilities, callNative, native, selectIsa } from '../../lib/native/index.js';
import { float16ToFloat32, float32ToFloat16, histogram, minMax } from '../../lib/native/tensor-utils.js';

const f = Math.fround;

function random(n: number, seed: number, scale = 1): Float32Array {
  let s = seed;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = ((s / 2147483648) * 2 - 1) * scale;
  }
  return out;
}

function onEveryPath(fn: (isa: string) => void): void {
  const original = capabilities().selected;
  try {
    for (const isa of capabilities().isa) {
      selectIsa(isa);
      fn(isa);
    }
  } finally {
    selectIsa(original);
  }
}

// binary16 decoded with the textbook formula.
function halfValue(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return m === 0 ? sign * Infinity : NaN;
  return sign * (e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15));
}

// The nearest half (ties to even) by search over the decoded positive halves.
const positives = Array.from({ length: 0x7c00 }, (_, h) => halfValue(h));
function nearestHalf(x: number): number {
  const bits = new Uint32Array(new Float32Array([x]).buffer)[0]!;
  const sign = (bits >>> 16) & 0x8000;
  if (Number.isNaN(x)) return sign | 0x7e00 | ((bits >>> 13) & 0x3ff);
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  let lo = 0;
  let hi = 0x7bff;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (positives[mid]! <= a) lo = mid;
    else hi = mid - 1;
  }
  if (positives[lo] === a || lo === 0x7bff) return sign | lo;
  const dlo = a - positives[lo]!;
  const dhi = positives[lo + 1]! - a;
  return sign | (dhi < dlo || (dhi === dlo && lo & 1) ? lo + 1 : lo);
}

t.test('minMax ignores NaN, counts infinities and reports +0 for zero bounds', async (t) => {
  onEveryPath((isa) => {
    t.same(minMax(new Float32Array([3, NaN, -2, 7.5])), { min: -2, max: 7.5, hasNaN: true, hasInfinity: false }, isa);
    t.same(minMax(new Float32Array([1, -Infinity, 2])), { min: -Infinity, max: 2, hasNaN: false, hasInfinity: true });
    t.same(minMax(new Float32Array(0)), { min: Infinity, max: -Infinity, hasNaN: false, hasInfinity: false });
    t.same(minMax(new Float32Array([NaN, NaN])), { min: Infinity, max: -Infinity, hasNaN: true, hasInfinity: false });
    const zeros = minMax(new Float32Array([-0, 0, -0]));
    t.ok(Object.is(zeros.min, 0) && Object.is(zeros.max, 0), `${isa}: zeros are +0`);
    const big = random(100003, 5, 40);
    big[77777] = NaN;
    big[123] = 1e30;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of big) if (!Number.isNaN(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    t.same(minMax(big, { threads: 3 }), { min: lo, max: hi, hasNaN: true, hasInfinity: false }, `${isa}: big, 3 threads`);
  });
});

t.test('histogram follows the float32 rule, clamps to the edge bins and accumulates', async (t) => {
  const values = random(70001, 9, 12);
  values[5] = NaN;
  values[6] = Infinity;
  values[7] = -Infinity;
  values[8] = -10; // lo: first bin
  values[9] = 10; // hi: last bin
  const lo = -10;
  const hi = 10;
  const bins = 37;
  const scale = f(bins / (f(hi) - f(lo)));
  const want = new Float64Array(bins).fill(5);
  for (const x of values) {
    if (Number.isNaN(x)) continue;
    let b = Math.floor(f(f(x - lo) * scale));
    b = b < 0 ? 0 : b > bins - 1 ? bins - 1 : b;
    want[b]! += 1;
  }
  onEveryPath((isa) => {
    for (const threads of [1, 2]) {
      const counts = new Float64Array(bins).fill(5);
      const out = histogram(values, { lo, hi, counts, threads });
      t.equal(out, counts, 'accumulates into the given array');
      t.same(Array.from(counts), Array.from(want), `${isa}, threads ${threads}`);
    }
  });
  const fresh = histogram(new Float32Array([0.5, 1.5, 1.5, NaN]), { lo: 0, hi: 2, bins: 2 });
  t.same(Array.from(fresh), [1, 2]);
});

t.test('float16: every half decodes exactly and round-trips; encoding is nearest-even', async (t) => {
  const all = new Uint16Array(0x10000).map((_, i) => i);
  const edges: number[] = [];
  for (let h = 0; h < 0x7c00; h++) {
    const x = positives[h]!;
    const next = h + 1 < 0x7c00 ? positives[h + 1]! : 65536;
    const mid = (x + next) / 2;
    edges.push(x, -x, f(mid), -f(mid), f(mid * (1 + 2 ** -20)), f(mid * (1 - 2 ** -20)));
  }
  edges.push(0, -0, Infinity, -Infinity, NaN, 65504, 65519.99, 65520, 1e10, 3.4e38, 2 ** -25, 2 ** -26, 3 * 2 ** -26, 1e-45);
  const x = Float32Array.from(edges);
  const want = Uint16Array.from(edges, (v) => nearestHalf(f(v)));
  onEveryPath((isa) => {
    const decoded = float16ToFloat32(all, { threads: 2 });
    let bad = 0;
    for (let h = 0; h < 0x10000; h++) {
      const v = halfValue(h);
      const d = decoded[h]!;
      if (Number.isNaN(v) ? !Number.isNaN(d) : !Object.is(d, v)) bad++;
    }
    t.equal(bad, 0, `${isa}: all 65536 halves decode exactly`);
    const back = float32ToFloat16(decoded);
    let roundTrip = 0;
    for (let h = 0; h < 0x10000; h++) {
      const nan = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (back[h] !== (nan ? h | 0x200 : h)) roundTrip++;
    }
    t.equal(roundTrip, 0, `${isa}: every half round-trips (NaN quieted)`);
    const got = float32ToFloat16(x, { threads: 3 });
    let mismatches = 0;
    for (let i = 0; i < x.length; i++) if (got[i] !== want[i]) mismatches++;
    t.equal(mismatches, 0, `${isa}: ${x.length} edge values round to nearest even`);
  });
});

t.test('bad arguments give InvalidArgumentError naming the problem', async (t) => {
  const x = random(10, 1);
  const cases: [string, () => unknown, RegExp][] = [
    ['minMax of an Array', () => minMax([1, 2] as never), /Float32Array for values/],
    ['minMax threads', () => minMax(x, { threads: 1.5 }), /threads/],
    ['histogram lo', () => histogram(x, { lo: NaN, hi: 1, bins: 4 }), /for lo/],
    ['histogram hi <= lo', () => histogram(x, { lo: 1, hi: 1, bins: 4 }), /above lo/],
    ['histogram hi beyond float32', () => histogram(x, { lo: 0, hi: 1e39, bins: 4 }), /for hi/],
    ['histogram bins', () => histogram(x, { lo: 0, hi: 1, bins: 0 }), /for bins/],
    ['histogram no bins', () => histogram(x, { lo: 0, hi: 1 }), /bin count/],
    ['histogram counts type', () => histogram(x, { lo: 0, hi: 1, counts: new Float32Array(4) as never }), /Float64Array for counts/],
    ['histogram counts length', () => histogram(x, { lo: 0, hi: 1, bins: 3, counts: new Float64Array(4) }), /3 counts/],
    ['histogram tiny range', () => histogram(x, { lo: 0, hi: 1e-45, bins: 2 ** 24 }), /wide enough/],
    ['f16 of Float64Array', () => float32ToFloat16(new Float64Array(2) as never), /Float32Array for values/],
    ['f16 decode of Int16Array', () => float16ToFloat32(new Int16Array(2) as never), /Uint16Array for values/],
  ];
  for (const [name, fn, message] of cases) {
    t.throws(fn, { code: 'ERR_LITEQUANT_INVALID_ARGUMENT', message }, name);
    t.throws(fn, InvalidArgumentError, `${name}: typed`);
  }
  const b = native() as unknown as Record<string, (...args: unknown[]) => unknown>;
  const shared = new Float32Array(8);
  const calls: [string, string, unknown[]][] = [
    ['minMax: threads missing', 'f32MinMax', [x]],
    ['histogram: no bins', 'f32Histogram', [x, new Float64Array(0), 0, 1, 1]],
    ['histogram: lo > hi', 'f32Histogram', [x, new Float64Array(2), 1, 0, 1]],
    ['histogram: Infinity', 'f32Histogram', [x, new Float64Array(2), 0, Infinity, 1]],
    ['histogram: subnormal width', 'f32Histogram', [x, new Float64Array(2), 0, 1e-45, 1]],
    ['f32ToF16: length', 'f32ToF16', [x, new Uint16Array(9), 1]],
    ['f32ToF16: overlap', 'f32ToF16', [shared, new Uint16Array(shared.buffer, 0, 8), 1]],
    ['f16ToF32: type', 'f16ToF32', [new Int16Array(2), new Float32Array(2), 1]],
  ];
  for (const [name, fn, args] of calls) {
    t.throws(() => callNative(() => b[fn]!(...args)), { code: 'ERR_LITEQUANT_INVALID_ARGUMENT' }, name);
  }
});
