// float32 FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D: the reference path equals TFLite's loops
// written in plain JS (Math.fround after every operation, bias first, fixed order) bit for bit;
// every other path stays within 2 * gamma(K+1) * (|bias| + sum |x * w|) of it; thread counts give
// identical results; bad arguments give InvalidArgumentError, never a crash.
import t, { type Test } from 'tap';

import { InvalidArgumentError } from '../../lib/errors.js';
import { capabilities, callNative, native, selectIsa } from '../../lib/native/index.js';
import {
  conv2d,
  depthwiseConv2d,
  fullyConnected,
  packConv2dFilter,
  packDepthwiseFilter,
  packFullyConnectedWeights,
  type FusedActivation,
} from '../../lib/native/f32.js';

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

function clampOf(activation: FusedActivation): [number, number] {
  switch (activation) {
    case 'relu': return [0, Infinity];
    case 'relu6': return [0, 6];
    case 'relu-n1-to-1': return [-1, 1];
    default: return [-Infinity, Infinity];
  }
}

function clamp(x: number, [lo, hi]: [number, number]): number {
  return x < lo ? lo : x > hi ? hi : x; // NaN stays NaN
}

// 2 * gamma(K+1) * S plus the underflow term (native/test/f32_gemm_test.cc derives it).
function tolerance(k: number, absSum: number): number {
  const u = 2 ** -24;
  return (2 * (k + 1) * u) / (1 - (k + 1) * u) * absSum + 2 * (2 * k + 1) * 2 ** -149;
}

/** Compares against the plain-JS result: exact on the reference path, within the bound elsewhere. */
function compare(
  t: Test,
  isa: string,
  got: Float32Array,
  want: Float64Array | number[],
  abs: number[],
  k: number,
  what: string,
): void {
  let bad = 0;
  let first = '';
  for (let i = 0; i < got.length; i++) {
    const g = got[i] ?? NaN;
    const w = want[i] ?? NaN;
    const ok = Number.isNaN(w) ? Number.isNaN(g) : isa === 'reference' ? g === w : Math.abs(g - w) <= tolerance(k, abs[i] ?? 0);
    if (!ok && bad++ === 0) first = ` (first at ${i}: ${g} vs ${w})`;
  }
  t.equal(bad, 0, `${isa}: ${what}${first}`);
}

// Runs fn on every path this CPU supports, then restores the selection.
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

t.test('fullyConnected equals the plain-JS loop (reference) and the bound (other paths)', async (t) => {
  const shapes: [number, number, number][] = [[1, 1, 1], [3, 7, 5], [6, 16, 17], [7, 33, 64], [13, 40, 129]];
  const activations: FusedActivation[] = ['none', 'relu', 'relu6', 'relu-n1-to-1'];
  onEveryPath((isa) => {
    shapes.forEach(([batch, units, inputSize], si) => {
      const input = random(batch * inputSize, 1 + si, 2);
      const weights = random(units * inputSize, 2 + si);
      for (let u = 0; u < units; u++) {
        for (let i = 0; i < inputSize; i++) weights[u * inputSize + i]! *= 10 ** ((u % 5) - 2);
      }
      const bias = random(units, 3 + si);
      const activation = activations[si % 4]!;
      const want: number[] = [];
      const abs: number[] = [];
      for (let b = 0; b < batch; b++) {
        for (let u = 0; u < units; u++) {
          let acc = bias[u]!;
          let s = Math.abs(acc);
          for (let i = 0; i < inputSize; i++) {
            const x = input[b * inputSize + i]!;
            const w = weights[u * inputSize + i]!;
            acc = f(acc + f(x * w));
            s += Math.abs(x * w);
          }
          want.push(clamp(acc, clampOf(activation)));
          abs.push(s);
        }
      }
      const got = fullyConnected(input, weights, { weightsShape: [units, inputSize], bias, activation });
      t.equal(got.length, batch * units);
      compare(t, isa, got, want, abs, inputSize, `fullyConnected ${batch}x${units}x${inputSize} ${activation}`);
    });
  });
});

t.test('packed weights are reused, record their path, and give the same result', async (t) => {
  const input = random(5 * 24, 7);
  const weights = random(9 * 24, 8);
  const bias = random(9, 9);
  const packed = packFullyConnectedWeights(weights, [9, 24], bias);
  t.equal(packed.units, 9);
  t.equal(packed.inputSize, 24);
  t.ok(capabilities().built.includes(packed.path), `packed for ${packed.path}`);
  const once = fullyConnected(input, weights, { weightsShape: [9, 24], bias });
  t.same(fullyConnected(input, packed), once);
  t.same(fullyConnected(input, packed), once, 'again');
  t.same(fullyConnected(input, packed, { threads: 2 }), once, 'threads: 2');
});

t.test('NaN passes through every activation clamp; no bias means zeros', async (t) => {
  const input = new Float32Array([NaN, 1, 1, 1]);
  const weights = new Float32Array([1, 1, 1, 1, 2, 2]);
  onEveryPath((isa) => {
    for (const activation of ['none', 'relu', 'relu6', 'relu-n1-to-1'] as const) {
      const out = fullyConnected(input, weights, { weightsShape: [3, 2], activation });
      t.ok(Number.isNaN(out[0]) && Number.isNaN(out[1]) && Number.isNaN(out[2]), `${isa} ${activation} row 0`);
      t.same(Array.from(out.slice(3)), [clamp(2, clampOf(activation)), clamp(2, clampOf(activation)), clamp(4, clampOf(activation))]);
    }
  });
});

type Geometry = {
  batch: number; h: number; w: number; c: number; kh: number; kw: number;
  strides: [number, number]; dilations: [number, number]; padding: 'same' | 'valid';
};

function outSize(padding: 'same' | 'valid', n: number, k: number, s: number, d: number): [number, number] {
  const eff = (k - 1) * d + 1;
  const out = padding === 'same' ? Math.floor((n + s - 1) / s) : Math.floor((n + s - eff) / s);
  const pad = Math.max(0, (out - 1) * s + eff - n);
  return [out, Math.floor(pad / 2)];
}

// TFLite's reference loops: padding taps skipped, bias first, then (ky, kx, ic) in order.
function plainConv(g: Geometry, input: Float32Array, filter: Float32Array, bias: Float32Array, oc: number,
  depthMultiplier: number | null, activation: FusedActivation) {
  const [oh, padTop] = outSize(g.padding, g.h, g.kh, g.strides[0], g.dilations[0]);
  const [ow, padLeft] = outSize(g.padding, g.w, g.kw, g.strides[1], g.dilations[1]);
  const want: number[] = [];
  const abs: number[] = [];
  for (let b = 0; b < g.batch; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let o = 0; o < oc; o++) {
          let acc = bias[o]!;
          let s = Math.abs(acc);
          for (let ky = 0; ky < g.kh; ky++)
            for (let kx = 0; kx < g.kw; kx++) {
              const iy = oy * g.strides[0] + ky * g.dilations[0] - padTop;
              const ix = ox * g.strides[1] + kx * g.dilations[1] - padLeft;
              if (iy < 0 || ix < 0 || iy >= g.h || ix >= g.w) continue;
              const pixel = ((b * g.h + iy) * g.w + ix) * g.c;
              if (depthMultiplier === null) {
                for (let ic = 0; ic < g.c; ic++) {
                  const x = input[pixel + ic]!;
                  const w = filter[((o * g.kh + ky) * g.kw + kx) * g.c + ic]!;
                  acc = f(acc + f(x * w));
                  s += Math.abs(x * w);
                }
              } else {
                const x = input[pixel + Math.floor(o / depthMultiplier)]!;
                const w = filter[(ky * g.kw + kx) * oc + o]!;
                acc = f(acc + f(x * w));
                s += Math.abs(x * w);
              }
            }
          want.push(clamp(acc, clampOf(activation)));
          abs.push(s);
        }
  return { want, abs, shape: [g.batch, oh, ow, oc] };
}

const geometries: Geometry[] = [
  { batch: 1, h: 5, w: 5, c: 3, kh: 3, kw: 3, strides: [1, 1], dilations: [1, 1], padding: 'same' },
  { batch: 2, h: 7, w: 6, c: 5, kh: 3, kw: 2, strides: [2, 1], dilations: [1, 1], padding: 'same' },
  { batch: 1, h: 9, w: 7, c: 8, kh: 3, kw: 3, strides: [1, 2], dilations: [2, 1], padding: 'valid' },
  { batch: 1, h: 4, w: 4, c: 17, kh: 1, kw: 1, strides: [1, 1], dilations: [1, 1], padding: 'valid' },
  { batch: 2, h: 6, w: 5, c: 9, kh: 1, kw: 1, strides: [2, 2], dilations: [1, 1], padding: 'same' },
  { batch: 1, h: 2, w: 3, c: 4, kh: 5, kw: 5, strides: [1, 1], dilations: [1, 1], padding: 'same' },
  { batch: 1, h: 13, w: 11, c: 33, kh: 3, kw: 3, strides: [3, 3], dilations: [1, 1], padding: 'same' },
];

t.test('conv2d equals TFLite\'s loop (reference) and the bound (other paths)', async (t) => {
  onEveryPath((isa) => {
    geometries.forEach((g, gi) => {
      const oc = [1, 7, 16, 33][gi % 4]!;
      const activation = (['none', 'relu6', 'relu', 'relu-n1-to-1'] as const)[gi % 4]!;
      const input = random(g.batch * g.h * g.w * g.c, 10 + gi, 2);
      const filter = random(oc * g.kh * g.kw * g.c, 20 + gi);
      const bias = random(oc, 30 + gi);
      const { want, abs, shape } = plainConv(g, input, filter, bias, oc, null, activation);
      const r = conv2d(input, [g.batch, g.h, g.w, g.c], filter, {
        filterShape: [oc, g.kh, g.kw, g.c], bias, strides: g.strides, dilations: g.dilations,
        padding: g.padding, activation,
      });
      t.same(r.shape, shape, `${isa} shape ${gi}`);
      compare(t, isa, r.output, want, abs, g.kh * g.kw * g.c, `conv2d geometry ${gi}`);
      const packed = packConv2dFilter(filter, [oc, g.kh, g.kw, g.c], bias);
      const again = conv2d(input, [g.batch, g.h, g.w, g.c], packed, {
        strides: g.strides, dilations: g.dilations, padding: g.padding, activation, threads: 3,
      });
      t.same(again.output, r.output, `${isa} packed + 3 threads ${gi}`);
    });
  });
});

t.test('depthwiseConv2d equals TFLite\'s loop (reference) and the bound (other paths)', async (t) => {
  onEveryPath((isa) => {
    geometries.forEach((g, gi) => {
      const dm = [1, 2, 1, 3][gi % 4]!;
      const oc = g.c * dm;
      const activation = (['relu6', 'none', 'relu-n1-to-1', 'relu'] as const)[gi % 4]!;
      const input = random(g.batch * g.h * g.w * g.c, 40 + gi, 2);
      const filter = random(g.kh * g.kw * oc, 50 + gi);
      const bias = random(oc, 60 + gi);
      const { want, abs, shape } = plainConv(g, input, filter, bias, oc, dm, activation);
      const r = depthwiseConv2d(input, [g.batch, g.h, g.w, g.c], filter, {
        filterShape: [1, g.kh, g.kw, oc], bias, strides: g.strides, dilations: g.dilations,
        padding: g.padding, activation,
      });
      t.same(r.shape, shape, `${isa} shape ${gi}`);
      compare(t, isa, r.output, want, abs, g.kh * g.kw, `depthwise geometry ${gi} (multiplier ${dm})`);
      const packed = packDepthwiseFilter(filter, [1, g.kh, g.kw, oc], bias);
      const again = depthwiseConv2d(input, [g.batch, g.h, g.w, g.c], packed, {
        strides: g.strides, dilations: g.dilations, padding: g.padding, activation, threads: 2,
        depthMultiplier: dm,
      });
      t.same(again.output, r.output, `${isa} packed + 2 threads ${gi}`);
    });
  });
});

t.test('bad arguments give InvalidArgumentError naming the problem', async (t) => {
  const x = random(12, 1);
  const w = random(6, 2);
  const packed = packFullyConnectedWeights(w, [2, 3]);
  const dw = packDepthwiseFilter(random(9 * 3, 3), [1, 3, 3, 3]);
  const cases: [string, () => unknown, RegExp][] = [
    ['input not Float32Array', () => fullyConnected([1, 2, 3] as never, packed), /Float32Array for input/],
    ['missing weightsShape', () => fullyConnected(x, w), /weightsShape/],
    ['weights length', () => fullyConnected(x, w, { weightsShape: [2, 4] }), /8 elements for weights/],
    ['inputSize 0', () => packFullyConnectedWeights(new Float32Array(0), [2, 0]), /at least 1 input for shape\[1\]/],
    ['input not a multiple', () => fullyConnected(random(7, 1), packed), /multiple of inputSize 3/],
    ['bias length', () => fullyConnected(x, w, { weightsShape: [2, 3], bias: new Float32Array(3) }), /2 values for bias/],
    ['bias with packed', () => fullyConnected(x, packed, { bias: new Float32Array(2) }), /no bias option/],
    ['fake packed', () => fullyConnected(x, { kind: 'fully-connected', units: 2, inputSize: 3, path: 'avx2' }), /packFullyConnectedWeights/],
    ['activation', () => fullyConnected(x, packed, { activation: 'tanh' as never }), /activation/],
    ['threads', () => fullyConnected(x, packed, { threads: 0 }), /threads/],
    ['conv input shape', () => conv2d(x, [1, 2, 2], w, { filterShape: [1, 1, 1, 3] }), /inputShape/],
    ['conv input length', () => conv2d(x, [1, 2, 2, 4], w, { filterShape: [2, 1, 1, 3] }), /16 elements for input/],
    ['conv channels', () => conv2d(x, [1, 2, 2, 3], w, { filterShape: [3, 1, 1, 2] }), /input channels/],
    ['conv too large (valid)', () => conv2d(x, [1, 2, 2, 3], random(27, 1), { filterShape: [1, 3, 3, 3] }), /filter that fits/],
    ['conv strides', () => conv2d(x, [1, 2, 2, 3], w, { filterShape: [2, 1, 1, 3], strides: [0, 1] }), /strides/],
    ['conv padding', () => conv2d(x, [1, 2, 2, 3], w, { filterShape: [2, 1, 1, 3], padding: 'full' as never }), /padding/],
    ['depthwise filter[0]', () => depthwiseConv2d(x, [1, 2, 2, 3], random(27, 1), { filterShape: [2, 3, 3, 3] as never }), /filterShape\[0\]/],
    ['depthwise multiplier', () => depthwiseConv2d(x, [1, 2, 2, 3], dw, { depthMultiplier: 2, padding: 'same' }), /depthMultiplier 1/],
    ['depthwise kind', () => depthwiseConv2d(x, [1, 2, 2, 3], packed as never, { padding: 'same' }), /packDepthwiseFilter/],
  ];
  for (const [name, fn, message] of cases) {
    t.throws(fn, { code: 'ERR_LITEQUANT_INVALID_ARGUMENT', message }, name);
    t.throws(fn, InvalidArgumentError, `${name}: typed`);
  }
});

t.test('the addon rejects malformed calls itself (no crash)', async (t) => {
  const b = native() as unknown as Record<string, (...args: unknown[]) => unknown>;
  const pack = (w: Float32Array, n: number, k: number) => b['f32GemmPack']!(w, null, { units: n, inputSize: k }) as { handle: unknown };
  const { handle } = pack(random(6, 1), 2, 3);
  const dw = (b['f32DepthwisePack']!(random(9, 1), null, { filterHeight: 3, filterWidth: 3, channels: 1 }) as { handle: unknown }).handle;
  const shared = new Float32Array(8);
  const geometry = {
    batch: 1, inputHeight: 2, inputWidth: 2, inputChannels: 1, strideHeight: 1, strideWidth: 1,
    dilationHeight: 1, dilationWidth: 1, padding: 'same', filterHeight: 1, filterWidth: 3,
  };
  const calls: [string, string, unknown[]][] = [
    ['pack: no arguments', 'f32GemmPack', []],
    ['pack: weights length', 'f32GemmPack', [random(5, 1), null, { units: 2, inputSize: 3 }]],
    ['pack: bias type', 'f32GemmPack', [random(6, 1), new Float64Array(2), { units: 2, inputSize: 3 }]],
    ['pack: units 0', 'f32GemmPack', [random(0, 1), null, { units: 0, inputSize: 3 }]],
    ['pack: huge', 'f32GemmPack', [random(6, 1), null, { units: 2 ** 31, inputSize: 2 ** 31 }]],
    ['gemm: not a handle', 'f32Gemm', [{}, random(3, 1), new Float32Array(2), { batch: 1 }]],
    ['gemm: dwconv handle', 'f32Gemm', [dw, random(3, 1), new Float32Array(2), { batch: 1 }]],
    ['gemm: input length', 'f32Gemm', [handle, random(4, 1), new Float32Array(2), { batch: 1 }]],
    ['gemm: output length', 'f32Gemm', [handle, random(3, 1), new Float32Array(3), { batch: 1 }]],
    ['gemm: overlap', 'f32Gemm', [handle, shared.subarray(0, 3), shared.subarray(2, 4), { batch: 1 }]],
    ['gemm: activation', 'f32Gemm', [handle, random(3, 1), new Float32Array(2), { batch: 1, activation: 'gelu' }]],
    ['gemm: threads', 'f32Gemm', [handle, random(3, 1), new Float32Array(2), { batch: 1, threads: 1000 }]],
    ['gemm: params', 'f32Gemm', [handle, random(3, 1), new Float32Array(2), null]],
    ['conv: K mismatch', 'f32Conv2d', [handle, random(4, 1), new Float32Array(8), { ...geometry, filterHeight: 2 }]],
    ['conv: padding', 'f32Conv2d', [handle, random(4, 1), new Float32Array(8), { ...geometry, padding: 'SAME' }]],
    ['conv: output length', 'f32Conv2d', [handle, random(4, 1), new Float32Array(7), geometry]],
    ['conv: empty output', 'f32Conv2d', [handle, random(2, 1), new Float32Array(0), { ...geometry, inputWidth: 1, padding: 'valid' }]],
    ['conv: dilation overflow', 'f32Conv2d', [handle, random(4, 1), new Float32Array(8), { ...geometry, dilationWidth: 2 ** 31 }]],
    ['dwconv: channels', 'f32DepthwiseConv2d', [dw, random(8, 1), new Float32Array(8), { ...geometry, inputChannels: 2, depthMultiplier: 1 }]],
    ['dwconv: gemm handle', 'f32DepthwiseConv2d', [handle, random(4, 1), new Float32Array(4), { ...geometry, depthMultiplier: 1 }]],
  ];
  for (const [name, fn, args] of calls) {
    t.throws(() => callNative(() => b[fn]!(...args)), { code: 'ERR_LITEQUANT_INVALID_ARGUMENT' }, name);
  }
  t.throws(() => b['f32Gemm']!({}, random(3, 1), new Float32Array(2), { batch: 1 }), {
    message: /^Expected weights packed by f32GemmPack for packed but received an object/,
  });
});
