// The int16x8 wrappers: the seanet CONV_2D models' golden outputs (made by the TFLite runtime)
// reproduced bit for bit from the models' own weights and parameters, FULLY_CONNECTED and
// CONV_2D against plain-JS versions of TFLite's rules, and argument errors.
import { readFileSync } from 'node:fs';
import t from 'tap';

import { InvalidArgumentError } from '../../lib/errors.js';
import { operatorCode, type Graph, type Quantization, type Tensor } from '../../lib/ir/graph.js';
import { callNative, capabilities, native, selectIsa } from '../../lib/native/index.js';
import { int16Conv2d, int16DepthwiseConv2d, int16FullyConnected } from '../../lib/native/int16.js';
import type { FusedActivation } from '../../lib/native/layer-params.js';
import { readModel } from '../../lib/tflite/read.js';
import { ActivationFunctionType, BuiltinOperator, Padding, TensorType } from '../../lib/tflite/schema.js';
import { writeModel } from '../../lib/tflite/write.js';
import { runOracle, tensorValues } from '../fixtures/oracle.js';
import { sharedPath, sharedSkip } from '../fixtures/shared.js';
import { tensor } from '../fixtures/tiny-model.js';

function readCsv(path: string): number[] {
  return readFileSync(path, 'utf8')
    .split(/[\s,]+/)
    .filter((s) => s !== '')
    .map(Number);
}

// Copies a tensor's buffer (the reader's views need not be aligned for 8-byte elements).
function tensorBytes(buffers: readonly { data: Uint8Array }[], tensor: Tensor): ArrayBuffer {
  const data = buffers[tensor.buffer]?.data ?? new Uint8Array(0);
  return data.slice().buffer;
}

const ACTIVATIONS: Record<number, FusedActivation> = {
  [ActivationFunctionType.NONE]: 'none',
  [ActivationFunctionType.RELU]: 'relu',
  [ActivationFunctionType.RELU_N1_TO_1]: 'relu-n1-to-1',
  [ActivationFunctionType.RELU6]: 'relu6',
};

// Runs the model's single CONV_2D with int16Conv2d, every parameter taken from the model.
function runSeanetConv(modelPath: string, input: Int16Array): Int16Array {
  const graph = readModel(new Uint8Array(readFileSync(modelPath)));
  const sg = graph.subgraphs[0]!;
  const op = sg.operators[0]!;
  const opts = op.builtinOptions;
  if (opts?.kind !== 'Conv2DOptions') throw new Error(`${modelPath}: not a CONV_2D`);
  const [inT, filterT, biasT] = op.inputs.map((i) => sg.tensors[i]!);
  const outT = sg.tensors[op.outputs[0]!]!;
  if (!inT || !filterT || !outT) throw new Error('missing tensors');
  if (inT.type !== TensorType.INT16 || filterT.type !== TensorType.INT8) throw new Error('not int16x8');
  const bias =
    biasT && biasT.type === TensorType.INT64 ? new BigInt64Array(tensorBytes(graph.buffers, biasT)) : null;
  const activation = ACTIVATIONS[opts.fusedActivationFunction];
  if (activation === undefined) throw new Error('unsupported activation');
  return int16Conv2d(input, new Int8Array(tensorBytes(graph.buffers, filterT)), bias, {
    inputShape: inT.shape,
    filterShape: filterT.shape,
    padding: opts.padding === Padding.SAME ? 'same' : 'valid',
    stride: [opts.strideH, opts.strideW],
    dilation: [opts.dilationHFactor, opts.dilationWFactor],
    inputScale: inT.quantization!.scale[0]!,
    weightScale: filterT.quantization!.scale,
    outputScale: outT.quantization!.scale[0]!,
    activation,
  }).output;
}

t.test('seanet int16x8 CONV_2D goldens are reproduced bit for bit on every path', { skip: sharedSkip('models', 'int16x8') }, async (t) => {
  const original = capabilities().selected;
  for (const name of ['seanet_conv0', 'seanet_conv10']) {
    const dir = sharedPath('models', 'int16x8');
    const input = Int16Array.from(readCsv(`${dir}/${name}_input0_int16.csv`));
    const golden = readCsv(`${dir}/${name}_golden_int16.csv`);
    for (const isa of capabilities().isa) {
      selectIsa(isa);
      const output = runSeanetConv(`${dir}/${name}.tflite`, input);
      t.equal(output.length, golden.length, `${name} ${isa}: output size`);
      const diffs = Array.from(output).filter((v, i) => v !== golden[i]).length;
      t.equal(diffs, 0, `${name} ${isa}: ${golden.length} outputs equal the golden`);
    }
  }
  selectIsa(original);
});

// ---- Plain-JS versions of TFLite's int16x8 rules -------------------------------------------

// QuantizeMultiplier: frexp, Q31 mantissa rounded half away from zero.
function quantizeMultiplier(real: number): [number, number] {
  if (real === 0) return [0, 0];
  let shift = Math.floor(Math.log2(real)) + 1;
  let q = real / 2 ** shift;
  if (q >= 1) {
    q /= 2;
    shift += 1;
  } else if (q < 0.5) {
    q *= 2;
    shift -= 1;
  }
  let qFixed = Math.round(q * 2 ** 31);
  if (qFixed === 2 ** 31) {
    qFixed /= 2;
    shift += 1;
  }
  if (shift < -31) return [0, 0];
  return [qFixed, shift];
}

// The int64 MultiplyByQuantizedMultiplier, then the int32 truncation TFLite does.
function multiplyByQuantizedMultiplier(acc: bigint, multiplier: number, shift: number): number {
  const reduced = multiplier < 0x7fff0000 ? (multiplier + (1 << 15)) >> 16 : 0x7fff;
  const total = BigInt(15 - shift);
  const result = (acc * BigInt(reduced) + (1n << (total - 1n))) >> total;
  return Number(BigInt.asIntN(32, result));
}

function requantize(
  acc: bigint,
  mode: 'fixed-point' | 'double',
  real: number,
  qmin: number,
  qmax: number,
): number {
  let y: number;
  if (mode === 'fixed-point') {
    const [m, s] = quantizeMultiplier(real);
    y = multiplyByQuantizedMultiplier(acc, m, s);
  } else {
    const r = Number(acc) * real;
    y = Math.sign(r) * Math.round(Math.abs(r));
  }
  return Math.min(Math.max(y, qmin), qmax);
}

function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

function randomInt16(n: number, rand: () => number): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => (i % 17 === 0 ? -32768 : Math.floor(rand() * 65536) - 32768));
}

function randomInt8(n: number, rand: () => number): Int8Array {
  return Int8Array.from({ length: n }, () => Math.floor(rand() * 256) - 128);
}

t.test('FULLY_CONNECTED equals TFLite rules on every path (per tensor, per channel, both requantizations)', async (t) => {
  const rand = lcg(11);
  const batch = 3;
  const k = 37;
  const units = 19;
  const input = randomInt16(batch * k, rand);
  const weights = randomInt8(units * k, rand);
  const bias = BigInt64Array.from({ length: units }, () => BigInt(Math.floor((rand() - 0.5) * 2 ** 34)));
  const inputScale = 1 / 4096;
  const outputScale = 0.37;
  const perChannel = Array.from({ length: units }, () => 10 ** (-1 - rand() * 3));
  const original = capabilities().selected;
  for (const isa of capabilities().isa) {
    selectIsa(isa);
    for (const mode of ['fixed-point', 'double'] as const) {
      for (const weightScale of [0.0123, perChannel]) {
        for (const activation of ['none', 'relu'] as const) {
          const got = int16FullyConnected(input, weights, bias, units, {
            inputScale,
            weightScale,
            outputScale,
            requantization: mode,
            activation,
          });
          const want: number[] = [];
          for (let b = 0; b < batch; b++) {
            for (let n = 0; n < units; n++) {
              let acc = bias[n]!;
              for (let i = 0; i < k; i++) acc += BigInt(input[b * k + i]! * weights[n * k + i]!);
              const s = typeof weightScale === 'number' ? weightScale : weightScale[n]!;
              // Per-tensor fixed-point multipliers come from float(s_in * s_w) (TFLite's
              // GetQuantizedConvolutionMultipler); the others from double products.
              const real =
                mode === 'fixed-point' && typeof weightScale === 'number'
                  ? Math.fround(Math.fround(inputScale) * Math.fround(s)) / Math.fround(outputScale)
                  : (Math.fround(inputScale) * Math.fround(s)) / Math.fround(outputScale);
              want.push(requantize(acc, mode, real, activation === 'relu' ? 0 : -32768, 32767));
            }
          }
          t.same(
            Array.from(got),
            want,
            `${isa} ${mode} ${typeof weightScale === 'number' ? 'per-tensor' : 'per-channel'} ${activation}`,
          );
        }
      }
    }
  }
  selectIsa(original);
});

t.test('CONV_2D equals a plain-JS TFLite reference loop (SAME, stride, dilation)', async (t) => {
  const rand = lcg(5);
  const [batch, h, w, c] = [2, 7, 9, 3];
  const [oc, kh, kw] = [5, 3, 2];
  const stride: [number, number] = [2, 1];
  const dilation: [number, number] = [1, 2];
  const input = randomInt16(batch * h * w * c, rand);
  const filter = randomInt8(oc * kh * kw * c, rand);
  const bias = BigInt64Array.from({ length: oc }, (_, i) => BigInt(i * 1000 - 2000));
  const weightScale = Array.from({ length: oc }, () => 10 ** (-2 - rand() * 2));
  const inputScale = 1 / 8192;
  const outputScale = 0.01;
  const { output, shape } = int16Conv2d(input, filter, bias, {
    inputShape: [batch, h, w, c],
    filterShape: [oc, kh, kw, c],
    padding: 'same',
    stride,
    dilation,
    inputScale,
    weightScale,
    outputScale,
    activation: 'relu6',
  });
  const [outH, outW] = [Math.ceil(h / stride[0]), Math.ceil(w / stride[1])];
  t.same(shape, [batch, outH, outW, oc]);
  const padTop = Math.floor(Math.max(0, (outH - 1) * stride[0] + (kh - 1) * dilation[0] + 1 - h) / 2);
  const padLeft = Math.floor(Math.max(0, (outW - 1) * stride[1] + (kw - 1) * dilation[1] + 1 - w) / 2);
  const qmax = Math.round(Math.fround(6 / Math.fround(outputScale)));
  const want: number[] = [];
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        for (let o = 0; o < oc; o++) {
          let acc = bias[o]!;
          for (let fy = 0; fy < kh; fy++) {
            for (let fx = 0; fx < kw; fx++) {
              const y = oy * stride[0] - padTop + fy * dilation[0];
              const x = ox * stride[1] - padLeft + fx * dilation[1];
              if (y < 0 || y >= h || x < 0 || x >= w) continue;
              for (let ic = 0; ic < c; ic++) {
                acc += BigInt(input[((b * h + y) * w + x) * c + ic]! * filter[((o * kh + fy) * kw + fx) * c + ic]!);
              }
            }
          }
          const real = (Math.fround(inputScale) * Math.fround(weightScale[o]!)) / Math.fround(outputScale);
          want.push(requantize(acc, 'fixed-point', real, 0, Math.min(qmax, 32767)));
        }
      }
    }
  }
  t.same(Array.from(output), want);
});

t.test('DEPTHWISE_CONV_2D equals a plain-JS TFLite reference loop (multiplier 2, VALID, dilation)', async (t) => {
  const rand = lcg(13);
  const [batch, h, w, c, mult, kh, kw] = [2, 6, 7, 3, 2, 2, 3];
  const oc = c * mult;
  const dilation: [number, number] = [2, 1];
  const input = randomInt16(batch * h * w * c, rand);
  const filter = randomInt8(kh * kw * oc, rand);
  const bias = BigInt64Array.from({ length: oc }, (_, i) => BigInt(i * 5000 - 9000));
  const weightScale = Array.from({ length: oc }, () => 10 ** (-2 - rand() * 2));
  const inputScale = 1 / 8192;
  const outputScale = 0.002;
  const { output, shape } = int16DepthwiseConv2d(input, filter, bias, {
    inputShape: [batch, h, w, c],
    filterShape: [1, kh, kw, oc],
    padding: 'valid',
    dilation,
    inputScale,
    weightScale,
    outputScale,
  });
  const outH = h - (kh - 1) * dilation[0];
  const outW = w - (kw - 1) * dilation[1];
  t.same(shape, [batch, outH, outW, oc]);
  const want: number[] = [];
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        for (let o = 0; o < oc; o++) {
          const ic = Math.floor(o / mult);
          let acc = bias[o]!;
          for (let fy = 0; fy < kh; fy++) {
            for (let fx = 0; fx < kw; fx++) {
              const y = oy + fy * dilation[0];
              const x = ox + fx * dilation[1];
              acc += BigInt(input[((b * h + y) * w + x) * c + ic]! * filter[(fy * kw + fx) * oc + o]!);
            }
          }
          const real = (Math.fround(inputScale) * Math.fround(weightScale[o]!)) / Math.fround(outputScale);
          want.push(requantize(acc, 'fixed-point', real, -32768, 32767));
        }
      }
    }
  }
  t.same(Array.from(output), want);
  t.throws(
    () => int16DepthwiseConv2d(input, filter, bias, { inputShape: [batch, h, w, c], filterShape: [1, kh, kw, 5], padding: 'valid', inputScale, weightScale: 1, outputScale }),
    { code: 'ERR_LITEQUANT_INVALID_ARGUMENT', message: /multiple of the input channels/ },
  );
});

// A one-op int16x8 FULLY_CONNECTED model (int64 bias), written with the format layer.
function int16FcModel(batch: number, k: number, n: number, weights: Int8Array, bias: BigInt64Array, sIn: number, sW: number[], sOut: number): Uint8Array {
  const q = (scale: number[]): Quantization => ({
    min: [],
    max: [],
    scale: scale.map(Math.fround),
    zeroPoint: scale.map(() => 0),
    quantizedDimension: 0,
    details: null,
  });
  const graph: Graph = {
    version: 3,
    description: 'int16x8 FULLY_CONNECTED',
    operatorCodes: [operatorCode(BuiltinOperator.FULLY_CONNECTED, 4)],
    subgraphs: [
      {
        name: 'main',
        tensors: [
          { ...tensor('input', [batch, k], 0, TensorType.INT16), quantization: q([sIn]) },
          { ...tensor('weights', [n, k], 1, TensorType.INT8), quantization: q(sW) },
          { ...tensor('bias', [n], 2, TensorType.INT64), quantization: q(sW.map((s) => Math.fround(sIn) * Math.fround(s))) },
          { ...tensor('output', [batch, n], 0, TensorType.INT16), quantization: q([sOut]) },
        ],
        inputs: [0],
        outputs: [3],
        operators: [
          {
            opcodeIndex: 0,
            inputs: [0, 1, 2],
            outputs: [3],
            intermediates: null,
            builtinOptions: {
              kind: 'FullyConnectedOptions',
              fusedActivationFunction: ActivationFunctionType.NONE,
              weightsFormat: 0,
              keepNumDims: false,
              asymmetricQuantizeInputs: false,
              quantizedBiasType: 0,
            },
            builtinOptions2: null,
            customOptions: null,
            customOptionsFormat: 0,
            largeCustomOptions: false,
            mutatingVariableInputs: [],
            debugMetadataIndex: -1,
          },
        ],
        debugMetadataIndex: -1,
      },
    ],
    buffers: [
      { data: new Uint8Array(0), external: false },
      { data: new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength), external: false },
      { data: new Uint8Array(bias.buffer, bias.byteOffset, bias.byteLength), external: false },
    ],
    metadata: [],
    metadataBuffer: [],
    signatureDefs: null,
    externalBufferGroups: [],
    externalBuffers: [],
  };
  return writeModel(graph);
}

t.test('int16x8 FULLY_CONNECTED equals both official runtimes, each with its requantization', async (t) => {
  // TFLite 2023 (tfjs-tflite) uses the int64 fixed-point multiplier; LiteRT since 2025-04
  // (LiteRT.js 2.5.3) requantizes in double. The two differ on a few outputs per layer.
  const rand = lcg(7);
  const [batch, k, n] = [6, 300, 24];
  const weights = randomInt8(n * k, rand);
  const input = randomInt16(batch * k, rand);
  const sIn = 1 / 3000;
  const sOut = 0.01;
  for (const perChannel of [false, true]) {
    const sW = perChannel ? Array.from({ length: n }, () => Math.fround(0.001 + rand() * 0.01)) : [Math.fround(0.0073)];
    const bias = BigInt64Array.from({ length: n }, () => BigInt(Math.floor((rand() - 0.5) * 2e7)));
    const model = int16FcModel(batch, k, n, weights, bias, sIn, sW, sOut);
    const ours = (requantization: 'fixed-point' | 'double') =>
      Array.from(
        int16FullyConnected(input, weights, bias, n, {
          inputScale: sIn,
          weightScale: perChannel ? sW : sW[0]!,
          outputScale: sOut,
          requantization,
        }),
      );
    const fixed = ours('fixed-point');
    const double = ours('double');
    t.ok(fixed.some((v, i) => v !== double[i]), 'the two rules differ on this data');
    const label = perChannel ? 'per-channel' : 'per-tensor';
    const litert = await runOracle(model, [[input]], { runtime: 'litert' });
    t.same(tensorValues(litert.outputs[0]![0]!), double, `${label}: LiteRT.js equals 'double'`);
    const tfjs = await runOracle(model, [[input]], { runtime: 'tfjs-tflite' });
    t.same(tensorValues(tfjs.outputs[0]![0]!), fixed, `${label}: tfjs-tflite equals 'fixed-point'`);
  }
});

t.test('bad arguments give InvalidArgumentError naming the problem', async (t) => {
  const input = new Int16Array(8);
  const weights = new Int8Array(8);
  const fc = { inputScale: 1, weightScale: 1, outputScale: 1 };
  const conv = {
    inputShape: [1, 2, 2, 2],
    filterShape: [1, 1, 1, 2],
    padding: 'valid' as const,
    inputScale: 1,
    weightScale: 1,
    outputScale: 1,
  };
  const cases: [string, () => unknown, RegExp][] = [
    ['input type', () => int16FullyConnected(new Int8Array(8) as never, weights, null, 2, fc), /Int16Array for input/],
    ['units', () => int16FullyConnected(input, weights, null, 3, fc), /units \* inputSize/],
    ['bias type', () => int16FullyConnected(input, weights, new Int32Array(2) as never, 2, fc), /BigInt64Array or null for bias/],
    ['bias length', () => int16FullyConnected(input, weights, new BigInt64Array(3), 2, fc), /2 values for bias/],
    ['bias range', () => int16FullyConnected(input, weights, BigInt64Array.from([2n ** 50n, 0n]), 2, fc), /bias\[0\]/],
    ['zero scale', () => int16FullyConnected(input, weights, null, 2, { ...fc, outputScale: 0 }), /outputScale/],
    ['scale count', () => int16FullyConnected(input, weights, null, 2, { ...fc, weightScale: [1, 1, 1] }), /1 or 2 values for weightScale/],
    ['multiplier too large', () => int16FullyConnected(input, weights, null, 2, { ...fc, weightScale: 1000, requantization: 'fixed-point' }), /below 128/],
    ['mode', () => int16FullyConnected(input, weights, null, 2, { ...fc, requantization: 'float' as never }), /requantization/],
    ['activation', () => int16FullyConnected(input, weights, null, 2, { ...fc, activation: 'tanh' as never }), /activation/],
    ['threads', () => int16FullyConnected(input, weights, null, 2, { ...fc, threads: 0 }), /threads/],
    ['conv shape', () => int16Conv2d(input, new Int8Array(2), null, { ...conv, inputShape: [1, 2, 2] }), /inputShape/],
    ['conv channels', () => int16Conv2d(input, new Int8Array(2), null, { ...conv, filterShape: [1, 1, 1, 3] }), /filterShape\[3\]/],
    ['conv filter too big', () => int16Conv2d(input, new Int8Array(18), null, { ...conv, filterShape: [1, 3, 3, 2] }), /fits the input/],
    ['conv padding', () => int16Conv2d(input, new Int8Array(2), null, { ...conv, padding: 'full' as never }), /padding/],
    ['conv stride', () => int16Conv2d(input, new Int8Array(2), null, { ...conv, stride: [0, 1] }), /stride/],
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

t.test('the addon itself rejects malformed calls (no JS validation in between)', async (t) => {
  const fc = native().qs16FullyConnected as (...args: unknown[]) => void;
  const conv = native().qs16Conv2d as (...args: unknown[]) => void;
  const dw = native().qs16DepthwiseConv2d as (...args: unknown[]) => void;
  const i16 = (n: number) => new Int16Array(n);
  const i8 = (n: number) => new Int8Array(n);
  const scales = new Float32Array([0.01]);
  const p = { batch: 2, inputSize: 4, units: 3, inputScale: 0.5, outputScale: 0.5, requantization: 'fixed-point', qmin: -32768, qmax: 32767 };
  const cp = {
    batch: 1, inputHeight: 4, inputWidth: 4, inputChannels: 2, outputChannels: 3, filterHeight: 3, filterWidth: 3,
    strideHeight: 1, strideWidth: 1, dilationHeight: 1, dilationWidth: 1, padding: 'same', inputScale: 0.5,
    outputScale: 0.5, qmin: -32768, qmax: 32767,
  };
  t.doesNotThrow(() => fc(i16(8), i8(12), null, scales, i16(6), p), 'a well-formed call');
  t.same(
    callNative(() => conv(i16(32), i8(54), null, scales, i16(48), cp)),
    [4, 4],
    'a well-formed conv returns its output size',
  );
  const calls: [string, () => unknown][] = [
    ['no arguments', () => fc()],
    ['params not an object', () => fc(i16(8), i8(12), null, scales, i16(6), 5)],
    ['params missing a field', () => fc(i16(8), i8(12), null, scales, i16(6), { ...p, units: undefined })],
    ['input Int8Array', () => fc(i8(8), i8(12), null, scales, i16(6), p)],
    ['bias Int32Array', () => fc(i16(8), i8(12), new Int32Array(3), scales, i16(6), p)],
    ['bias length', () => fc(i16(8), i8(12), new BigInt64Array(2), scales, i16(6), p)],
    ['bias beyond 2^46', () => fc(i16(8), i8(12), BigInt64Array.from([2n ** 47n, 0n, 0n]), scales, i16(6), p)],
    ['output short', () => fc(i16(8), i8(12), null, scales, i16(5), p)],
    ['weights short', () => fc(i16(8), i8(11), null, scales, i16(6), p)],
    ['scales length', () => fc(i16(8), i8(12), null, new Float32Array(2), i16(6), p)],
    ['NaN scale', () => fc(i16(8), i8(12), null, new Float32Array([NaN]), i16(6), p)],
    ['huge dims', () => fc(i16(8), i8(12), null, scales, i16(6), { ...p, batch: 2 ** 31, units: 2 ** 31 })],
    ['fractional dim', () => fc(i16(8), i8(12), null, scales, i16(6), { ...p, batch: 1.5 })],
    ['qmin > qmax', () => fc(i16(8), i8(12), null, scales, i16(6), { ...p, qmin: 10, qmax: 5 })],
    ['bad mode', () => fc(i16(8), i8(12), null, scales, i16(6), { ...p, requantization: 'x' })],
    ['multiplier >= 128', () => fc(i16(8), i8(12), null, new Float32Array([1000]), i16(6), p)],
    ['conv output short', () => conv(i16(32), i8(54), null, scales, i16(47), cp)],
    ['conv filter too large', () => conv(i16(32), i8(150), null, scales, i16(48), { ...cp, filterHeight: 5, filterWidth: 5, padding: 'valid' })],
    ['conv zero stride', () => conv(i16(32), i8(54), null, scales, i16(48), { ...cp, strideWidth: 0 })],
    ['conv padding', () => conv(i16(32), i8(54), null, scales, i16(48), { ...cp, padding: 'full' })],
    ['conv huge', () => conv(i16(32), i8(54), null, scales, i16(48), { ...cp, inputHeight: 2 ** 31, inputWidth: 2 ** 31 })],
    ['dw no multiplier', () => dw(i16(32), i8(18), null, scales, i16(32), cp)],
    ['dw filter short', () => dw(i16(32), i8(17), null, scales, i16(32), { ...cp, depthMultiplier: 1 })],
    ['dw output short', () => dw(i16(32), i8(18), null, scales, i16(31), { ...cp, depthMultiplier: 1 })],
  ];
  t.same(callNative(() => dw(i16(32), i8(18), null, scales, i16(32), { ...cp, depthMultiplier: 1 })), [4, 4], 'a well-formed depthwise call');
  for (const [name, fn] of calls) {
    t.throws(() => callNative(fn), { code: 'ERR_LITEQUANT_INVALID_ARGUMENT' }, name);
  }
});
