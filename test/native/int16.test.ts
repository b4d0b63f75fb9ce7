// The packed int16x8 layers: the seanet CONV_2D models' golden outputs (made by the TFLite
// runtime) reproduced bit for bit from the models' own weights and parameters, FULLY_CONNECTED,
// CONV_2D and DEPTHWISE_CONV_2D against plain-JS versions of TFLite's rules, run() into a given
// output and reuse across calls, and argument errors (wrappers and the addon itself).
import { readFileSync } from 'node:fs';
import t from 'tap';

import { InvalidArgumentError } from '../../lib/errors.js';
import { operatorCode, type Graph, type Quantization, type Tensor } from '../../lib/ir/graph.js';
import { callNative, capabilities, native, selectIsa } from '../../lib/native/index.js';
import { packInt16Conv2d, packInt16DepthwiseConv2d, packInt16FullyConnected } from '../../lib/native/int16.js';
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

// Runs the model's single CONV_2D with packInt16Conv2d, every parameter taken from the model.
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
  return packInt16Conv2d(new Int8Array(tensorBytes(graph.buffers, filterT)), bias, {
    inputShape: inT.shape,
    filterShape: filterT.shape,
    padding: opts.padding === Padding.SAME ? 'same' : 'valid',
    stride: [opts.strideH, opts.strideW],
    dilation: [opts.dilationHFactor, opts.dilationWFactor],
    inputScale: inT.quantization!.scale[0]!,
    weightScale: filterT.quantization!.scale,
    outputScale: outT.quantization!.scale[0]!,
    activation,
  }).run(input);
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
          const got = packInt16FullyConnected(weights, bias, units, {
            inputScale,
            weightScale,
            outputScale,
            requantization: mode,
            activation,
          }).run(input);
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
  const layer = packInt16Conv2d(filter, bias, {
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
  const shape = layer.outputShape;
  const output = layer.run(input);
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
  const layer = packInt16DepthwiseConv2d(filter, bias, {
    inputShape: [batch, h, w, c],
    filterShape: [1, kh, kw, oc],
    padding: 'valid',
    dilation,
    inputScale,
    weightScale,
    outputScale,
  });
  t.equal(layer.kind, 'depthwise');
  const shape = layer.outputShape;
  const output = layer.run(input);
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
    () => packInt16DepthwiseConv2d(filter, bias, { inputShape: [batch, h, w, c], filterShape: [1, kh, kw, 5], padding: 'valid', inputScale, weightScale: 1, outputScale }),
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
        packInt16FullyConnected(weights, bias, n, {
          inputScale: sIn,
          weightScale: perChannel ? sW : sW[0]!,
          outputScale: sOut,
          requantization,
        }).run(input),
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

t.test('a packed layer writes into a given output, is reusable and keeps the path it was packed for', async (t) => {
  const rand = lcg(19);
  const [k, units] = [41, 13];
  const weights = randomInt8(units * k, rand);
  const bias = BigInt64Array.from({ length: units }, (_, i) => BigInt(i * 777 - 4000));
  const options = { inputScale: 1 / 4096, weightScale: 0.01, outputScale: 0.05, requantization: 'fixed-point' } as const;
  const original = capabilities().selected;
  const isas = capabilities().isa;
  selectIsa(isas[isas.length - 1]!);
  const fc = packInt16FullyConnected(weights, bias, units, options);
  t.same([fc.units, fc.inputSize], [units, k]);
  t.match(fc.kernel, /^qs16_gemm_/, `kernel ${fc.kernel}`);
  const packedPath = fc.path;
  for (const rows of [1, 5, 9, 0]) {
    const input = randomInt16(rows * k, rand);
    const fresh = fc.run(input);
    const output = new Int16Array(rows * units).fill(12345);
    t.equal(fc.run(input, output), output, `${rows} rows: run returns the given output`);
    t.same(Array.from(output), Array.from(fresh), `${rows} rows: same values as a new array`);
  }
  selectIsa('reference');
  const input = randomInt16(3 * k, rand);
  const before = fc.run(input);
  t.equal(fc.path, packedPath, 'path fixed at pack time');
  const reference = packInt16FullyConnected(weights, bias, units, options);
  t.equal(reference.path, 'reference');
  t.same(Array.from(reference.run(input)), Array.from(before), 'every path gives the same bits');
  selectIsa(original);

  const conv = packInt16Conv2d(randomInt8(3 * 2 * 2 * 4, rand), null, {
    inputShape: [1, 4, 5, 4],
    filterShape: [3, 2, 2, 4],
    padding: 'same',
    inputScale: 1 / 4096,
    weightScale: [0.01, 0.02, 0.03],
    outputScale: 0.01,
  });
  t.same([conv.kind, conv.inputShape, conv.outputShape], ['conv2d', [1, 4, 5, 4], [1, 4, 5, 3]]);
  const dw = packInt16DepthwiseConv2d(randomInt8(2 * 2 * 8, rand), null, {
    inputShape: [1, 4, 5, 4],
    filterShape: [1, 2, 2, 8],
    padding: 'valid',
    inputScale: 1 / 4096,
    weightScale: 0.02,
    outputScale: 0.01,
  });
  t.same([dw.kind, dw.outputShape, dw.path, dw.kernel], ['depthwise', [1, 3, 4, 8], 'reference', 'qs16_dwconv__scalar']);
  const image = randomInt16(4 * 5 * 4, rand);
  for (const layer of [conv, dw]) {
    const out = new Int16Array(layer.outputShape.reduce((a, d) => a * d, 1));
    t.equal(layer.run(image, out), out);
    t.same(Array.from(out), Array.from(layer.run(image)), `${layer.kind}: same values into a given output`);
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
  const layer = () => packInt16FullyConnected(weights, null, 2, fc);
  const cases: [string, () => unknown, RegExp][] = [
    ['input type', () => layer().run(new Int8Array(8) as never), /Int16Array for input/],
    ['rows', () => layer().run(new Int16Array(7)), /rows \* 4 values/],
    ['output type', () => layer().run(input, new Int32Array(4) as never), /Int16Array for output/],
    ['output length', () => layer().run(input, new Int16Array(5)), /4 values for output/],
    ['weights type', () => packInt16FullyConnected(new Uint8Array(8) as never, null, 2, fc), /Int8Array for weights/],
    ['units', () => packInt16FullyConnected(weights, null, 3, fc), /units \* inputSize/],
    ['bias type', () => packInt16FullyConnected(weights, new Int32Array(2) as never, 2, fc), /BigInt64Array or null for bias/],
    ['bias length', () => packInt16FullyConnected(weights, new BigInt64Array(3), 2, fc), /2 values for bias/],
    ['bias range', () => packInt16FullyConnected(weights, BigInt64Array.from([2n ** 50n, 0n]), 2, fc), /bias\[0\]/],
    ['zero scale', () => packInt16FullyConnected(weights, null, 2, { ...fc, outputScale: 0 }), /outputScale/],
    ['scale count', () => packInt16FullyConnected(weights, null, 2, { ...fc, weightScale: [1, 1, 1] }), /1 or 2 values for weightScale/],
    ['multiplier too large', () => packInt16FullyConnected(weights, null, 2, { ...fc, weightScale: 1000, requantization: 'fixed-point' }), /below 128/],
    ['mode', () => packInt16FullyConnected(weights, null, 2, { ...fc, requantization: 'float' as never }), /requantization/],
    ['activation', () => packInt16FullyConnected(weights, null, 2, { ...fc, activation: 'tanh' as never }), /activation/],
    ['threads', () => packInt16FullyConnected(weights, null, 2, { ...fc, threads: 0 }), /threads/],
    ['conv shape', () => packInt16Conv2d(new Int8Array(2), null, { ...conv, inputShape: [1, 2, 2] }), /inputShape/],
    ['conv channels', () => packInt16Conv2d(new Int8Array(2), null, { ...conv, filterShape: [1, 1, 1, 3] }), /filterShape\[3\]/],
    ['conv filter too big', () => packInt16Conv2d(new Int8Array(18), null, { ...conv, filterShape: [1, 3, 3, 2] }), /fits the input/],
    ['conv padding', () => packInt16Conv2d(new Int8Array(2), null, { ...conv, padding: 'full' as never }), /padding/],
    ['conv stride', () => packInt16Conv2d(new Int8Array(2), null, { ...conv, stride: [0, 1] }), /stride/],
    ['conv input', () => packInt16Conv2d(new Int8Array(2), null, conv).run(new Int16Array(9)), /8 input values/],
    ['conv output', () => packInt16Conv2d(new Int8Array(2), null, conv).run(input, new Int16Array(3)), /4 values for output/],
    ['dw filter', () => packInt16DepthwiseConv2d(new Int8Array(3), null, { ...conv, filterShape: [1, 1, 1, 2] }), /2 filter values/],
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
  const pack = native().qs16Pack as (...args: unknown[]) => unknown;
  const run = native().qs16Run as (...args: unknown[]) => void;
  const info = native().qs16Info as (...args: unknown[]) => unknown;
  const i16 = (n: number) => new Int16Array(n);
  const i8 = (n: number) => new Int8Array(n);
  const scales = new Float32Array([0.01]);
  const p = { inputSize: 4, units: 3, inputScale: 0.5, outputScale: 0.5, requantization: 'fixed-point', qmin: -32768, qmax: 32767 };
  const cp = {
    batch: 1, inputHeight: 4, inputWidth: 4, inputChannels: 2, outputChannels: 3, filterHeight: 3, filterWidth: 3,
    strideHeight: 1, strideWidth: 1, dilationHeight: 1, dilationWidth: 1, padding: 'same', inputScale: 0.5,
    outputScale: 0.5, qmin: -32768, qmax: 32767,
  };
  const dp = { ...cp, outputChannels: undefined, depthMultiplier: 1 };
  const fc = callNative(() => pack('fully-connected', i8(12), null, scales, p));
  const conv = callNative(() => pack('conv2d', i8(54), null, scales, cp));
  const dw = callNative(() => pack('depthwise', i8(18), null, scales, dp));
  t.doesNotThrow(() => run(fc, i16(8), i16(6), 1), 'a well-formed call');
  t.doesNotThrow(() => run(fc, i16(0), i16(0), 2), 'zero rows');
  t.doesNotThrow(() => run(conv, i16(32), i16(48), 1), 'a well-formed conv');
  t.doesNotThrow(() => run(dw, i16(32), i16(32), 1), 'a well-formed depthwise call');
  t.match(callNative(() => info(conv)), { kind: 'conv2d', units: 3, inputSize: 18, outputHeight: 4, outputWidth: 4, inputLength: 32, outputLength: 48 });
  t.match(callNative(() => info(dw)), { kind: 'depthwise', units: 2, inputSize: 9, outputLength: 32, path: 'reference' });
  t.match(callNative(() => info(fc)), { kind: 'fully-connected', units: 3, inputSize: 4, inputLength: 0 });
  const shared = new Int16Array(16);
  const calls: [string, () => unknown][] = [
    ['no arguments', () => pack()],
    ['unknown kind', () => pack('lstm', i8(12), null, scales, p)],
    ['params not an object', () => pack('fully-connected', i8(12), null, scales, 5)],
    ['params missing a field', () => pack('fully-connected', i8(12), null, scales, { ...p, units: undefined })],
    ['bias Int32Array', () => pack('fully-connected', i8(12), new Int32Array(3), scales, p)],
    ['bias length', () => pack('fully-connected', i8(12), new BigInt64Array(2), scales, p)],
    ['bias beyond 2^46', () => pack('fully-connected', i8(12), BigInt64Array.from([2n ** 47n, 0n, 0n]), scales, p)],
    ['weights short', () => pack('fully-connected', i8(11), null, scales, p)],
    ['scales length', () => pack('fully-connected', i8(12), null, new Float32Array(2), p)],
    ['NaN scale', () => pack('fully-connected', i8(12), null, new Float32Array([NaN]), p)],
    ['huge dims', () => pack('fully-connected', i8(12), null, scales, { ...p, inputSize: 2 ** 22, units: 2 ** 31 })],
    ['fractional dim', () => pack('fully-connected', i8(12), null, scales, { ...p, units: 1.5 })],
    ['qmin > qmax', () => pack('fully-connected', i8(12), null, scales, { ...p, qmin: 10, qmax: 5 })],
    ['bad mode', () => pack('fully-connected', i8(12), null, scales, { ...p, requantization: 'x' })],
    ['multiplier >= 128', () => pack('fully-connected', i8(12), null, new Float32Array([1000]), p)],
    ['conv filter too large', () => pack('conv2d', i8(150), null, scales, { ...cp, filterHeight: 5, filterWidth: 5, padding: 'valid' })],
    ['conv zero stride', () => pack('conv2d', i8(54), null, scales, { ...cp, strideWidth: 0 })],
    ['conv padding', () => pack('conv2d', i8(54), null, scales, { ...cp, padding: 'full' })],
    ['conv huge', () => pack('conv2d', i8(54), null, scales, { ...cp, inputHeight: 2 ** 31, inputWidth: 2 ** 31 })],
    ['dw no multiplier', () => pack('depthwise', i8(18), null, scales, cp)],
    ['dw filter short', () => pack('depthwise', i8(17), null, scales, dp)],
    ['run without handle', () => run({}, i16(8), i16(6), 1)],
    ['run with a foreign handle', () => run(native().qs8GemmPack(i8(12), 3, 4, null, 0, 0, new Float64Array([0.5]), 0, -128, 127), i16(8), i16(6), 1)],
    ['run input Int8Array', () => run(fc, i8(8), i16(6), 1)],
    ['run input not whole rows', () => run(fc, i16(7), i16(6), 1)],
    ['run output short', () => run(fc, i16(8), i16(5), 1)],
    ['run threads 257', () => run(fc, i16(8), i16(6), 257)],
    ['run overlapping views', () => run(fc, shared.subarray(0, 8), shared.subarray(6, 12), 1)],
    ['conv output short', () => run(conv, i16(32), i16(47), 1)],
    ['dw input short', () => run(dw, i16(31), i16(32), 1)],
    ['dw output short', () => run(dw, i16(32), i16(31), 1)],
    ['info without handle', () => info(null)],
  ];
  for (const [name, fn] of calls) {
    t.throws(() => callNative(fn), { code: 'ERR_LITEQUANT_INVALID_ARGUMENT' }, name);
  }
});
