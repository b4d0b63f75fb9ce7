// The int8 CONV_2D / DEPTHWISE_CONV_2D wrappers: every supported path equals a plain-JS
// reference written from TFLite's reference kernels (padded taps skipped) in both
// requantization rules, and bad arguments give InvalidArgumentError naming the problem.
import t from 'tap';

import { InvalidArgumentError } from '../../lib/errors.js';
import { callNative, capabilities, native, selectIsa } from '../../lib/native/index.js';
import {
  type Int8DepthwiseConvOptions,
  type Int8Requantization,
  packInt8Conv2d,
  packInt8DepthwiseConv2d,
} from '../../lib/native/conv.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
}

function randomInt8(n: number, rand: () => number): Int8Array {
  return Int8Array.from({ length: n }, () => Math.floor(rand() * 256) - 128);
}

// --- Requantization, written out from requantization.h's definitions.

function roundHalfEven(y: number): number {
  const r = Math.round(y); // halves up
  return r - y === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function requantizeFp32(acc: number, scale: number, zp: number, qmin: number, qmax: number): number {
  let y = Math.fround(Math.fround(acc) * scale);
  y = Math.min(Math.max(y, qmin - zp), qmax - zp);
  return roundHalfEven(y) + zp;
}

function quantizeMultiplier(real: number): [number, number] {
  if (real === 0) return [0, 0];
  let shift = Math.floor(Math.log2(real)) + 1;
  let q = real / 2 ** shift;
  while (q >= 1) (q /= 2), shift++;
  while (q < 0.5) (q *= 2), shift--;
  let fixed = Math.round(q * 2 ** 31);
  if (fixed === 2 ** 31) (fixed /= 2), shift++;
  if (shift < -31) return [0, 0];
  return [fixed, shift];
}

function requantizeFixed(acc: number, real: number, zp: number, qmin: number, qmax: number): number {
  const [m, shift] = quantizeMultiplier(real);
  const left = Math.max(shift, 0);
  const right = Math.max(-shift, 0);
  const x = (acc << left) | 0;
  const ab = BigInt(x) * BigInt(m);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  const high = Number((ab + nudge) / (1n << 31n)); // BigInt division truncates toward zero
  const mask = 2 ** right - 1;
  const remainder = high & mask;
  const threshold = (mask >> 1) + (high < 0 ? 1 : 0);
  const y = (high >> right) + (remainder > threshold ? 1 : 0) + zp;
  return Math.min(Math.max(y, qmin), qmax);
}

// --- The reference convolution (TFLite's reference_integer_ops, NHWC).

interface Geometry {
  n: number;
  h: number;
  w: number;
  c: number;
  oc: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  same: boolean;
  depthwise: boolean;
}

function outSize(input: number, k: number, stride: number, dilation: number, same: boolean): number {
  const eff = (k - 1) * dilation + 1;
  return same ? Math.ceil(input / stride) : Math.floor((input - eff) / stride) + 1;
}

function padBefore(input: number, out: number, k: number, stride: number, dilation: number): number {
  return Math.floor(Math.max(0, (out - 1) * stride + (k - 1) * dilation + 1 - input) / 2);
}

function referenceConv(
  g: Geometry,
  input: Int8Array,
  filter: Int8Array,
  bias: Int32Array | null,
  requant: (acc: number, o: number) => number,
): Int8Array {
  const oh = outSize(g.h, g.kh, g.sh, g.dh, g.same);
  const ow = outSize(g.w, g.kw, g.sw, g.dw, g.same);
  const pt = g.same ? padBefore(g.h, oh, g.kh, g.sh, g.dh) : 0;
  const pl = g.same ? padBefore(g.w, ow, g.kw, g.sw, g.dw) : 0;
  const zp = inputZeroPoint;
  const out = new Int8Array(g.n * oh * ow * g.oc);
  const m = g.oc / g.c;
  for (let b = 0; b < g.n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let o = 0; o < g.oc; o++) {
          let acc = bias ? (bias[o] ?? 0) : 0;
          for (let ky = 0; ky < g.kh; ky++) {
            const iy = oy * g.sh - pt + ky * g.dh;
            if (iy < 0 || iy >= g.h) continue;
            for (let kx = 0; kx < g.kw; kx++) {
              const ix = ox * g.sw - pl + kx * g.dw;
              if (ix < 0 || ix >= g.w) continue;
              const pixel = ((b * g.h + iy) * g.w + ix) * g.c;
              if (g.depthwise) {
                const x = (input[pixel + Math.floor(o / m)] ?? 0) - zp;
                acc = (acc + x * (filter[(ky * g.kw + kx) * g.oc + o] ?? 0)) | 0;
              } else {
                for (let i = 0; i < g.c; i++) {
                  const x = (input[pixel + i] ?? 0) - zp;
                  acc = (acc + x * (filter[((o * g.kh + ky) * g.kw + kx) * g.c + i] ?? 0)) | 0;
                }
              }
            }
          }
          out[((b * oh + oy) * ow + ox) * g.oc + o] = requant(acc, o);
        }
      }
    }
  }
  return out;
}

let inputZeroPoint = 0; // read by referenceConv

interface Case {
  name: string;
  g: Geometry;
  inputZeroPoint: number;
  outputZeroPoint: number;
  activation?: 'relu' | 'relu6';
  perChannel: boolean;
  withBias: boolean;
}

const g = (o: Partial<Geometry> & Pick<Geometry, 'h' | 'w' | 'c' | 'oc' | 'kh' | 'kw'>): Geometry => ({
  n: 1,
  sh: 1,
  sw: 1,
  dh: 1,
  dw: 1,
  same: true,
  depthwise: false,
  ...o,
});

const cases: Case[] = [
  { name: 'conv 3x3 SAME', g: g({ h: 7, w: 6, c: 5, oc: 9, kh: 3, kw: 3 }), inputZeroPoint: -128, outputZeroPoint: 3, perChannel: true, withBias: true },
  { name: 'conv 3x3 stride 2 even input', g: g({ h: 8, w: 8, c: 3, oc: 4, kh: 3, kw: 3, sh: 2, sw: 2 }), inputZeroPoint: 127, outputZeroPoint: -128, perChannel: false, withBias: true, activation: 'relu' },
  { name: 'conv 1x1', g: g({ n: 2, h: 5, w: 3, c: 17, oc: 8, kh: 1, kw: 1 }), inputZeroPoint: 5, outputZeroPoint: 0, perChannel: true, withBias: false },
  { name: 'conv 1x1 stride 2 VALID', g: g({ h: 5, w: 7, c: 8, oc: 3, kh: 1, kw: 1, sh: 2, sw: 2, same: false }), inputZeroPoint: -1, outputZeroPoint: 1, perChannel: true, withBias: true },
  { name: 'conv 5x5 dilation 2', g: g({ h: 9, w: 11, c: 2, oc: 5, kh: 5, kw: 5, dh: 2, dw: 2 }), inputZeroPoint: 0, outputZeroPoint: 10, perChannel: true, withBias: true, activation: 'relu6' },
  { name: 'conv 1x7 VALID', g: g({ h: 3, w: 9, c: 4, oc: 6, kh: 1, kw: 7, same: false }), inputZeroPoint: -20, outputZeroPoint: -5, perChannel: false, withBias: true },
  { name: 'depthwise 3x3 SAME', g: g({ h: 6, w: 7, c: 17, oc: 17, kh: 3, kw: 3, depthwise: true }), inputZeroPoint: -128, outputZeroPoint: 0, perChannel: true, withBias: true },
  { name: 'depthwise 3x3 stride 2 multiplier 2', g: g({ h: 9, w: 8, c: 3, oc: 6, kh: 3, kw: 3, sh: 2, sw: 2, depthwise: true }), inputZeroPoint: 127, outputZeroPoint: 4, perChannel: true, withBias: true, activation: 'relu' },
  { name: 'depthwise 5x5 dilation 2 VALID', g: g({ h: 11, w: 10, c: 8, oc: 8, kh: 5, kw: 5, dh: 2, dw: 2, same: false, depthwise: true }), inputZeroPoint: 9, outputZeroPoint: -9, perChannel: false, withBias: false },
  { name: 'depthwise 1x7 channels 64', g: g({ n: 2, h: 3, w: 8, c: 64, oc: 64, kh: 1, kw: 7, depthwise: true }), inputZeroPoint: -3, outputZeroPoint: 2, perChannel: true, withBias: true },
  { name: 'depthwise 1x1 channel 1 multiplier 3', g: g({ h: 4, w: 4, c: 1, oc: 3, kh: 1, kw: 1, depthwise: true }), inputZeroPoint: 0, outputZeroPoint: 0, perChannel: true, withBias: true },
];

t.test('every supported path equals the plain-JS reference, both requantization rules', async (t) => {
  const caps = capabilities();
  const paths = caps.isa.filter((p) => caps.built.includes(p));
  const original = caps.selected;
  const rand = lcg(7);
  for (const c of cases) {
    const { g: geo } = c;
    const filterShape = geo.depthwise ? [1, geo.kh, geo.kw, geo.oc] : [geo.oc, geo.kh, geo.kw, geo.c];
    const input = randomInt8(geo.n * geo.h * geo.w * geo.c, rand);
    const filter = randomInt8(filterShape.reduce((a, b) => a * b, 1), rand);
    const bias = c.withBias
      ? Int32Array.from({ length: geo.oc }, () => Math.floor(rand() * 20000) - 10000)
      : null;
    const inputScale = 0.02;
    const outputScale = geo.depthwise ? 0.05 : 0.15;
    const weightScale = c.perChannel
      ? Array.from({ length: geo.oc }, (_, o) => 0.001 * 10 ** ((o % 5) / 2)) // 1e-3 .. 1e-1
      : 0.004;
    for (const rule of ['fp32', 'fixed-point'] as Int8Requantization[]) {
      const options: Int8DepthwiseConvOptions = {
        inputShape: [geo.n, geo.h, geo.w, geo.c],
        filterShape,
        padding: geo.same ? 'same' : 'valid',
        stride: [geo.sh, geo.sw],
        dilation: [geo.dh, geo.dw],
        inputScale,
        inputZeroPoint: c.inputZeroPoint,
        weightScale,
        outputScale,
        outputZeroPoint: c.outputZeroPoint,
        requantization: rule,
        ...(c.activation ? { activation: c.activation } : {}),
      };
      // The activation clamp, as TFLite's CalculateActivationRangeQuantized.
      const qmin = c.activation ? Math.max(-128, c.outputZeroPoint) : -128;
      const six = c.outputZeroPoint + Math.round(Math.fround(6 / Math.fround(outputScale)));
      const qmax = c.activation === 'relu6' ? Math.min(127, six) : 127;
      const sIn = Math.fround(inputScale);
      const sOut = Math.fround(outputScale);
      const requant = (acc: number, o: number): number => {
        const sW = Math.fround(Array.isArray(weightScale) ? (weightScale[o] ?? 0) : (weightScale as number));
        return rule === 'fp32'
          ? requantizeFp32(acc, Math.fround(Math.fround(sIn * sW) / sOut), c.outputZeroPoint, qmin, qmax)
          : requantizeFixed(acc, (sIn * sW) / sOut, c.outputZeroPoint, qmin, qmax);
      };
      inputZeroPoint = c.inputZeroPoint;
      const want = referenceConv(geo, input, filter, bias, requant);
      for (const isa of paths) {
        selectIsa(isa);
        const layer = geo.depthwise
          ? packInt8DepthwiseConv2d(filter, bias, options)
          : packInt8Conv2d(filter, bias, options);
        t.equal(layer.outputShape.reduce((a, b) => a * b, 1), want.length, `${c.name}: output shape`);
        const got = layer.run(input);
        t.same(Array.from(got), Array.from(want), `${c.name} ${rule} on ${isa} (${layer.kernel})`);
        const again = layer.run(input, { threads: 2, output: new Int8Array(want.length) });
        t.same(Array.from(again), Array.from(want), `${c.name} ${rule} on ${isa}, 2 threads`);
      }
    }
  }
  selectIsa(original);
});

t.test('the layer reports TFLite geometry', async (t) => {
  const layer = packInt8Conv2d(new Int8Array(2 * 3 * 3 * 4), null, {
    inputShape: [1, 6, 5, 4],
    filterShape: [2, 3, 3, 4],
    padding: 'same',
    stride: [2, 2],
    inputScale: 1,
    weightScale: 1,
    outputScale: 1,
  });
  t.same(layer.outputShape, [1, 3, 3, 2]);
  t.equal(layer.padTop, 0); // total 1: the odd row goes after
  t.equal(layer.padLeft, 1);
  t.equal(layer.kind, 'conv2d');
  t.match(layer.kernel, /qs8_i?gemm/); // im2col + GEMM, or the indirect GEMM (AVX2)
  const dw = packInt8DepthwiseConv2d(new Int8Array(9 * 8), null, {
    inputShape: [1, 4, 4, 4],
    filterShape: [1, 3, 3, 8],
    padding: 'valid',
    inputScale: 1,
    weightScale: 1,
    outputScale: 1,
  });
  t.same(dw.outputShape, [1, 2, 2, 8]);
  t.match(dw.kernel, /qs8_dwconv/);
});

t.test('bad arguments give InvalidArgumentError naming the problem', async (t) => {
  const base = {
    inputShape: [1, 4, 4, 3],
    filterShape: [2, 3, 3, 3],
    padding: 'same' as const,
    inputScale: 0.1,
    weightScale: 0.1,
    outputScale: 0.1,
  };
  const filter = new Int8Array(54);
  const conv = (f: unknown, b: unknown, o: object) => () => packInt8Conv2d(f as Int8Array, b as Int32Array, { ...base, ...o });
  const dw = (f: unknown, o: object) => () =>
    packInt8DepthwiseConv2d(f as Int8Array, null, { ...base, filterShape: [1, 3, 3, 6], ...o });
  const layer = packInt8Conv2d(filter, null, base);
  const cases: [string, () => unknown, RegExp][] = [
    ['filter not Int8Array', conv(new Float32Array(54), null, {}), /Int8Array for filter/],
    ['filter length', conv(new Int8Array(53), null, {}), /54 filter values/],
    ['channels mismatch', conv(filter, null, { filterShape: [2, 3, 3, 4] }), /filterShape\[3\]/],
    ['inputShape rank', conv(filter, null, { inputShape: [4, 4, 3] }), /inputShape/],
    ['zero dimension', conv(filter, null, { inputShape: [1, 0, 4, 3] }), /inputShape/],
    ['padding', conv(filter, null, { padding: 'SAME' }), /'same' or 'valid' for padding/],
    ['stride 0', conv(filter, null, { stride: [0, 1] }), /stride/],
    ['VALID too small', conv(filter, null, { padding: 'valid', dilation: [2, 2] }), /at least the dilated filter/],
    ['bias type', conv(filter, new Float32Array(2), {}), /Int32Array or null for bias/],
    ['bias length', conv(filter, new Int32Array(3), {}), /2 values for bias/],
    ['weight scales count', conv(filter, null, { weightScale: [1, 2, 3] }), /1 or 2 values for weightScale/],
    ['negative scale', conv(filter, null, { inputScale: -1 }), /inputScale/],
    ['zero point range', conv(filter, null, { inputZeroPoint: 128 }), /inputZeroPoint/],
    ['fractional zero point', conv(filter, null, { outputZeroPoint: 0.5 }), /outputZeroPoint/],
    ['requantization', conv(filter, null, { requantization: 'double' }), /requantization/],
    ['activation', conv(filter, null, { activation: 'tanh' }), /activation/],
    ['depthwise filterShape[0]', dw(new Int8Array(108), { filterShape: [2, 3, 3, 6] }), /filterShape\[0\]/],
    ['depthwise channels', dw(new Int8Array(63), { filterShape: [1, 3, 3, 7] }), /multiple of the input channels/],
    ['depthwise multiplier', dw(new Int8Array(54), { depthMultiplier: 3 }), /depthMultiplier/],
    ['run input type', () => layer.run(new Uint8Array(48) as unknown as Int8Array), /Int8Array for input/],
    ['run input length', () => layer.run(new Int8Array(47)), /48 input values/],
    ['run output length', () => layer.run(new Int8Array(48), { output: new Int8Array(31) }), /32 values for output/],
    ['run threads', () => layer.run(new Int8Array(48), { threads: 0 }), /threads/],
  ];
  for (const [name, fn, message] of cases) {
    t.throws(fn, InvalidArgumentError, name);
    t.throws(fn, { message }, `${name}: message`);
  }
});

t.test('the addon checks its own arguments: errors with a code, never a crash', async (t) => {
  const pack = native().qs8ConvPack as (...args: unknown[]) => unknown;
  const run = native().qs8ConvRun as (...args: unknown[]) => unknown;
  const params = {
    batch: 1, inputHeight: 4, inputWidth: 4, inputChannels: 3, outputChannels: 2,
    kernelHeight: 3, kernelWidth: 3, strideHeight: 1, strideWidth: 1, dilationHeight: 1,
    dilationWidth: 1, depthMultiplier: 1, padding: 'same', inputZeroPoint: 0,
    outputZeroPoint: 0, qmin: -128, qmax: 127, requant: 'fp32',
  };
  const w = new Int8Array(54);
  const s = new Float64Array([0.5]);
  const handle = pack('conv2d', w, null, s, params);
  const calls: [string, () => unknown][] = [
    ['no arguments', () => pack()],
    ['kind', () => pack('conv3d', w, null, s, params)],
    ['params not an object', () => pack('conv2d', w, null, s, 7)],
    ['missing field', () => pack('conv2d', w, null, s, { ...params, kernelWidth: undefined })],
    ['huge dimension', () => pack('conv2d', w, null, s, { ...params, inputHeight: 2 ** 40 })],
    ['tensor too large', () => pack('conv2d', w, null, s, { ...params, inputHeight: 2 ** 20, inputWidth: 2 ** 20 })],
    ['weights length', () => pack('conv2d', new Int8Array(5), null, s, params)],
    ['scales type', () => pack('conv2d', w, null, new Float32Array([1]), params)],
    ['scale NaN', () => pack('conv2d', w, null, new Float64Array([NaN]), params)],
    ['scale too large for fixed-point', () => pack('conv2d', w, null, new Float64Array([2 ** 31]), { ...params, requant: 'fixed-point' })],
    ['depthwise channels', () => pack('depthwise', new Int8Array(27), null, s, { ...params, outputChannels: 3, depthMultiplier: 2 })],
    ['qmax < qmin', () => pack('conv2d', w, null, s, { ...params, qmin: 10, qmax: 5 })],
    ['run: not a handle', () => run({}, new Int8Array(48), new Int8Array(32), 1)],
    ['run: gemm-like external', () => run(null, new Int8Array(48), new Int8Array(32), 1)],
    ['run: input length', () => run(handle, new Int8Array(47), new Int8Array(32), 1)],
    ['run: output type', () => run(handle, new Int8Array(48), new Uint8Array(32), 1)],
    ['run: threads', () => run(handle, new Int8Array(48), new Int8Array(32), 1000)],
    ['run: overlapping buffers', () => {
      const buffer = new Int8Array(64);
      return run(handle, buffer.subarray(0, 48), buffer.subarray(16, 48), 1);
    }],
  ];
  for (const [name, fn] of calls) {
    t.throws(() => callNative(fn), { code: 'ERR_LITEQUANT_INVALID_ARGUMENT' }, name);
  }
  t.doesNotThrow(() => run(handle, new Int8Array(48), new Int8Array(32), 1));
});
