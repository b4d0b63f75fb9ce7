// The quantize/dequantize wrappers: TFLite rounding, per-channel layouts, and
// argument checks that turn every bad input into a typed error.
import t from 'tap';

import { InvalidArgumentError } from '../../lib/errors.js';
import { capabilities, selectIsa } from '../../lib/native/index.js';
import { dequantizeTensor, quantizeTensor } from '../../lib/native/quantize.js';

// The rule written out in plain JS: round half away from zero of x * float(1/s).
function quantizeOne(x: number, scale: number, zp: number, qmin = -128, qmax = 127): number {
  let y = Math.fround(x * Math.fround(1 / scale));
  if (Number.isNaN(y)) y = 0;
  y = Math.min(Math.max(y, qmin - zp), qmax - zp);
  const r = Math.sign(y) * Math.round(Math.abs(y));
  return r + zp;
}

function randomValues(n: number, spread: number, seed: number): Float32Array {
  let s = seed;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = ((s / 2147483648) * 2 - 1) * spread;
  }
  return out;
}

t.test('per-tensor quantize follows TFLite rounding and saturation', async (t) => {
  const x = new Float32Array([0.25, -0.25, 0.75, 1.25, -1.25, 100, -100, NaN, Infinity]);
  t.same(Array.from(quantizeTensor(x, { scale: 0.5 })), [1, -1, 2, 3, -3, 127, -128, 0, 127]);
  t.same(Array.from(quantizeTensor(x, { scale: 0.5, zeroPoint: 10, qmin: -127 })), [
    11, 9, 12, 13, 7, 127, -127, 10, 127,
  ]);
});

t.test('every supported path agrees with the plain-JS rule', async (t) => {
  const x = randomValues(1003, 3, 42);
  const original = capabilities().selected;
  for (const isa of capabilities().isa) {
    selectIsa(isa);
    const q = quantizeTensor(x, { scale: 0.0173, zeroPoint: -3 });
    const want = Array.from(x, (v) => quantizeOne(v, 0.0173, -3));
    t.same(Array.from(q), want, `${isa}: quantize`);
    const back = dequantizeTensor(q, { scale: 0.0173, zeroPoint: -3 });
    t.same(
      Array.from(back),
      Array.from(q, (v) => Math.fround(Math.fround(0.0173) * (v + 3))),
      `${isa}: dequantize`,
    );
  }
  selectIsa(original);
});

t.test('per-channel quantize uses the scale of each slice along axis', async (t) => {
  const shape = [3, 2, 4]; // axis 0 (conv OHWI), axis 2 (depthwise 1HWC style, innermost)
  const x = randomValues(24, 2, 7);
  for (const axis of [0, 1, 2, -1]) {
    const a = axis < 0 ? axis + shape.length : axis;
    const channels = shape[a] ?? 1;
    const scales = Array.from({ length: channels }, (_, c) => 0.01 * (c + 1) ** 3);
    const inner = shape.slice(a + 1).reduce((p, d) => p * d, 1);
    const q = quantizeTensor(x, { scale: scales, axis, shape, qmin: -127 });
    const want = Array.from(x, (v, i) => {
      const c = Math.floor(i / inner) % channels;
      return quantizeOne(v, scales[c] ?? 1, 0, -127);
    });
    t.same(Array.from(q), want, `axis ${axis}`);
    const back = dequantizeTensor(q, { scale: scales, axis, shape });
    t.same(
      Array.from(back),
      Array.from(q, (v, i) => Math.fround(Math.fround(scales[Math.floor(i / inner) % channels] ?? 1) * v)),
      `axis ${axis} dequantize`,
    );
  }
});

t.test('empty tensors quantize to empty results', async (t) => {
  t.equal(quantizeTensor(new Float32Array(0), { scale: 1 }).length, 0);
  t.equal(quantizeTensor(new Float32Array(0), { scale: [1, 2], axis: 1, shape: [0, 2] }).length, 0);
});

t.test('bad arguments give InvalidArgumentError naming the problem', async (t) => {
  const x = new Float32Array(6);
  const cases: [string, () => unknown, RegExp][] = [
    ['not a Float32Array', () => quantizeTensor([1, 2] as never, { scale: 1 }), /Float32Array for values/],
    ['zero scale', () => quantizeTensor(x, { scale: 0 }), /finite positive number for scale\[0\]/],
    ['NaN scale', () => quantizeTensor(x, { scale: NaN }), /scale\[0\]/],
    ['axis out of range', () => quantizeTensor(x, { scale: [1, 1], axis: 2, shape: [2, 3] }), /axis/],
    ['axis without shape', () => quantizeTensor(x, { scale: [1, 1], axis: 0 }), /shape/],
    ['shape mismatch', () => quantizeTensor(x, { scale: [1, 1], axis: 0, shape: [2, 4] }), /8 elements/],
    ['wrong scale count', () => quantizeTensor(x, { scale: [1, 1, 1], axis: 0, shape: [2, 3] }), /1 or 2 scales/],
    ['zero point outside range', () => quantizeTensor(x, { scale: 1, zeroPoint: 200 }), /zeroPoint\[0\]/],
    ['qmin out of range', () => quantizeTensor(x, { scale: 1, qmin: -129 }), /qmin/],
    ['fractional zero point', () => quantizeTensor(x, { scale: 1, zeroPoint: 0.5 }), /zeroPoint\[0\]/],
    ['dequantize of floats', () => dequantizeTensor(x as never, { scale: 1 }), /Int8Array for values/],
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
