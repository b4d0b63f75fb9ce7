// The reference ops equal Google's official TFLite runtime (both WASM builds: LiteRT.js 2.5.3 and
// tfjs-tflite 2023) bit for bit on int8 and int16x8, and within 1e-5 relative on float32.
// Cases of a suite share one model, run once per runtime (see OpSuite in op-models.ts). Where
// the two runtimes compute differently (their XNNPACK and TFLite versions differ), the case's
// expectation picks the matching implementation from the runtime's name.
import t from 'tap';

import { builtinOptions, GraphBuilder } from '../../lib/ir/builder.js';
import { ActivationFunctionType as Act, BuiltinOperator as Op, Padding } from '../../lib/tflite/schema.js';
import { writeModel } from '../../lib/tflite/write.js';
import { runOracle, type OracleRuntime } from '../fixtures/oracle.js';
import {
  addTensor,
  allInt8,
  checkSuite,
  f32,
  i32,
  q,
  randF32,
  randInt16,
  randInt8,
  type OpCase,
  type TensorArg,
  type TensorData,
} from '../fixtures/op-suite.js';

import { broadcastShape } from '../../lib/runtime/reference-ops/common.js';
import { binaryFloat32, binaryQuantized, type BinaryOp } from '../../lib/runtime/reference-ops/elementwise-binary.js';
import {
  logisticFloat32,
  logisticQuantized,
  reluFloat32,
  reluQuantized,
  rsqrtFloat32,
  rsqrtQuantized,
  tanhFloat32,
  tanhQuantized,
  type ReluKind,
} from '../../lib/runtime/reference-ops/activations.js';
import { dequantize, quantizeFloat, requantize } from '../../lib/runtime/reference-ops/quantize.js';
import {
  averagePool2DFloat32,
  averagePool2DQuantized,
  maxPool2DFloat32,
  maxPool2DQuantized,
  pool2DOutputShape,
  type Pool2DOptions,
} from '../../lib/runtime/reference-ops/pooling.js';
import { meanFloat32, meanQuantized, reduceOutputShape, type MeanKernel } from '../../lib/runtime/reference-ops/reduce.js';
import { softmaxFloat32, softmaxQuantized } from '../../lib/runtime/reference-ops/softmax.js';
import { concatenate, gather, pad, selectV2, slice, transpose } from '../../lib/runtime/reference-ops/shape-ops.js';
import {
  conv2DQuantized,
  depthwiseConv2DQuantized,
  fullyConnectedQuantized,
  type QuantizedLayerParams,
  type RequantRule,
} from '../../lib/runtime/reference-ops/conv.js';

const BOTH: readonly OracleRuntime[] = ['litert', 'tfjs-tflite'];
const FLOAT_TOLERANCE = 1e-5;

type P = { scale: number; zeroPoint: number };
const p = (scale: number, zeroPoint = 0): P => ({ scale, zeroPoint });
const count = (shape: readonly number[]) => shape.reduce((a, d) => a * d, 1);
const qarg = (dtype: 'int8' | 'int16', shape: readonly number[], params: P): TensorArg => q(dtype, shape, params.scale, params.zeroPoint);

/** Quantized random data of a dtype. */
function qdata(dtype: 'int8' | 'int16', n: number, seed: number): Int8Array | Int16Array {
  return dtype === 'int8' ? randInt8(n, seed) : randInt16(n, seed, -20000, 20000);
}

// ---------------------------------------------------------------------------------------------
// ADD, SUB, MUL, SQUARED_DIFFERENCE

const BINARY_OPS: Record<BinaryOp, Op> = {
  ADD: Op.ADD,
  SUB: Op.SUB,
  MUL: Op.MUL,
  SQUARED_DIFFERENCE: Op.SQUARED_DIFFERENCE,
};

function binaryOptions(op: BinaryOp, activation: Act, potScaleInt16: boolean) {
  switch (op) {
    case 'ADD':
      return builtinOptions('AddOptions', { fusedActivationFunction: activation, potScaleInt16 });
    case 'SUB':
      return builtinOptions('SubOptions', { fusedActivationFunction: activation, potScaleInt16 });
    case 'MUL':
      return builtinOptions('MulOptions', { fusedActivationFunction: activation });
    case 'SQUARED_DIFFERENCE':
      return builtinOptions('SquaredDifferenceOptions');
  }
}

function binaryCase(
  op: BinaryOp,
  dtype: 'int8' | 'int16',
  aShape: number[],
  bShape: number[],
  pa: P,
  pb: P,
  po: P,
  activation: Act = Act.NONE,
  potScaleInt16 = false,
): OpCase {
  const outShape = broadcastShape(aShape, bShape);
  const na = count(aShape);
  const nb = count(bShape);
  const first = dtype === 'int8' ? Int8Array.from({ length: na }, (_, i) => (i % 256) - 128) : randInt16(na, 5, -400, 400);
  return {
    name: `${op} ${dtype} [${aShape}] x [${bShape}] act ${activation}${potScaleInt16 ? ' pot' : ''}`,
    op: BINARY_OPS[op],
    inputs: [qarg(dtype, aShape, pa), qarg(dtype, bShape, pb)],
    outputs: [qarg(dtype, outShape, po)],
    spec: { options: binaryOptions(op, activation, potScaleInt16) },
    samples: [
      [first, qdata(dtype, nb, 2)],
      [qdata(dtype, na, 3), qdata(dtype, nb, 4)],
    ],
    expected: ([a, b]) =>
      binaryQuantized(
        op,
        { data: a as Int8Array, shape: aShape, ...pa },
        { data: b as Int8Array, shape: bShape, ...pb },
        { output: po, activation, potScaleInt16 },
      ).data,
  };
}

function binaryFloatCase(op: BinaryOp, aShape: number[], bShape: number[], outShape: number[], activation: Act): OpCase {
  return {
    name: `${op} float32 [${aShape}] x [${bShape}] act ${activation}`,
    op: BINARY_OPS[op],
    inputs: [f32(aShape), f32(bShape)],
    outputs: [f32(outShape)],
    spec: { options: binaryOptions(op, activation, false) },
    samples: [
      [randF32(count(aShape), 1), randF32(count(bShape), 2)],
      [randF32(count(aShape), 3, -100, 100), randF32(count(bShape), 4, -1e-3, 1e-3)],
    ],
    expected: ([a, b]) => binaryFloat32(op, { data: a as Float32Array, shape: aShape }, { data: b as Float32Array, shape: bShape }, activation).data,
    tolerance: FLOAT_TOLERANCE,
  };
}

const S = [1, 8, 8, 4];
const binaryCases: OpCase[] = [];
for (const op of ['ADD', 'SUB', 'MUL'] as const) {
  // int8: XNNPACK (qs8-vadd / qs8-vmul), with broadcasting and each fused activation.
  binaryCases.push(binaryCase(op, 'int8', S, S, p(0.05, 3), p(0.07, -2), p(0.1, 1)));
  binaryCases.push(binaryCase(op, 'int8', S, [1, 1, 1, 4], p(0.02, -10), p(0.5, 7), p(0.3, -5), Act.RELU));
  // Output scale 4, zero point 1: the RELU6 bound 6/4 + 1 = 2.5 is a tie (XNNPACK: 2, TFLite: 3).
  binaryCases.push(binaryCase(op, 'int8', [2, 1, 4, 1], [1, 3, 1, 5], p(0.125), p(0.25), p(4, 1), Act.RELU6));
  binaryCases.push(binaryCase(op, 'int8', S, S, p(0.01, 100), p(0.013, -100), p(0.011, -3), Act.RELU_N1_TO_1));
  // int16 (TFLite builtin, general scales).
  binaryCases.push(binaryCase(op, 'int16', S, S, p(0.0005), p(0.0007), p(0.001)));
  binaryCases.push(binaryCase(op, 'int16', S, [1, 1, 1, 4], p(0.0002), p(0.005), p(0.003), Act.RELU));
  binaryCases.push(binaryCase(op, 'int16', [2, 1, 4, 1], [1, 3, 1, 5], p(1 / 4096), p(1 / 2048), p(1 / 1024), Act.RELU6));
  binaryCases.push(binaryFloatCase(op, S, S, S, Act.NONE));
  binaryCases.push(binaryFloatCase(op, S, [4], S, Act.RELU));
  binaryCases.push(binaryFloatCase(op, [2, 1, 3], [4, 1], [2, 4, 3], Act.RELU6));
}
// int8 ratios XNNPACK declines: TFLite's builtin fixed-point kernels.
binaryCases.push(binaryCase('ADD', 'int8', S, S, p(0.0001, 3), p(0.07, -2), p(0.5, 1)));
binaryCases.push(binaryCase('SUB', 'int8', S, S, p(0.0001, 3), p(0.07, -2), p(0.5, 1), Act.RELU));
binaryCases.push(binaryCase('MUL', 'int8', S, S, p(0.001, 3), p(0.001, -2), p(0.5, 1)));
// int16 power-of-two scales with pot_scale_int16: the LSTM path.
binaryCases.push(binaryCase('ADD', 'int16', S, S, p(1 / 4096), p(1 / 1024), p(1 / 1024), Act.NONE, true));
binaryCases.push(binaryCase('SUB', 'int16', S, S, p(1 / 1024), p(1 / 8192), p(1 / 1024), Act.RELU, true));
// SQUARED_DIFFERENCE: int8 builtin (no int16 kernel), float XNNPACK.
binaryCases.push(binaryCase('SQUARED_DIFFERENCE', 'int8', S, S, p(0.05, 3), p(0.07, -2), p(0.1, -128)));
binaryCases.push(binaryCase('SQUARED_DIFFERENCE', 'int8', S, [1, 1, 1, 4], p(0.02, -10), p(0.05, 7), p(0.03, -100)));
binaryCases.push(binaryFloatCase('SQUARED_DIFFERENCE', S, S, S, Act.NONE));
binaryCases.push(binaryFloatCase('SQUARED_DIFFERENCE', [2, 1, 3], [4, 1], [2, 4, 3], Act.NONE));

// ---------------------------------------------------------------------------------------------
// Activations

const RELU_OPS: Record<string, Op> = { RELU: Op.RELU, RELU6: Op.RELU6, RELU_N1_TO_1: Op.RELU_N1_TO_1 };
const activationCases: OpCase[] = [];
for (const kind of ['RELU', 'RELU6', 'RELU_N1_TO_1'] as ReluKind[]) {
  for (const [pi, po] of [
    [p(0.05, 3), p(0.05, 3)],
    [p(0.05, -20), p(0.03, -100)],
    [p(4, 1), p(4, 1)],
  ] as const) {
    activationCases.push({
      name: `${kind} int8 ${pi.scale},${pi.zeroPoint} -> ${po.scale},${po.zeroPoint}`,
      op: RELU_OPS[kind]!,
      inputs: [qarg('int8', [256], pi)],
      outputs: [qarg('int8', [256], po)],
      samples: [[allInt8()]],
      expected: ([x]) => reluQuantized(kind, x as Int8Array, pi, po),
    });
  }
  if (kind !== 'RELU_N1_TO_1') {
    activationCases.push({
      name: `${kind} int16`,
      op: RELU_OPS[kind]!,
      inputs: [q('int16', [1024], 0.0005)],
      outputs: [q('int16', [1024], 0.0003)],
      samples: [[randInt16(1024, 3)], [randInt16(1024, 4, -3000, 30000)]],
      expected: ([x]) => reluQuantized(kind, x as Int16Array, p(0.0005), p(0.0003)),
    });
  }
  activationCases.push({
    name: `${kind} float32`,
    op: RELU_OPS[kind]!,
    inputs: [f32([256])],
    outputs: [f32([256])],
    samples: [[randF32(256, 5, -8, 8)]],
    expected: ([x]) => reluFloat32(kind, x as Float32Array),
    tolerance: FLOAT_TOLERANCE,
  });
}

for (const [name, op] of [
  ['LOGISTIC', Op.LOGISTIC],
  ['TANH', Op.TANH],
] as const) {
  const out8 = name === 'LOGISTIC' ? p(1 / 256, -128) : p(1 / 128, 0);
  const quantized = name === 'LOGISTIC' ? logisticQuantized : tanhQuantized;
  for (const pi of [p(0.05, 3), p(0.1, -20), p(1 / 16, 0)]) {
    activationCases.push({
      name: `${name} int8 ${pi.scale},${pi.zeroPoint}`,
      op,
      inputs: [qarg('int8', [256], pi)],
      outputs: [qarg('int8', [256], out8)],
      samples: [[allInt8()]],
      // LiteRT: XNNPACK's 2025 tables; tfjs-tflite: XNNPACK 2023 (LOGISTIC) / TFLite's table (TANH).
      expected: ([x], runtime) =>
        quantized(x as Int8Array, pi, out8, runtime === 'litert' ? 'xnnpack' : name === 'LOGISTIC' ? 'xnnpack-2023' : 'builtin'),
    });
  }
  for (const scale of [0.001, 0.00013]) {
    activationCases.push({
      name: `${name} int16 ${scale}`,
      op,
      inputs: [q('int16', [4096], scale)],
      outputs: [q('int16', [4096], 1 / 32768)],
      samples: [[Int16Array.from({ length: 4096 }, (_, i) => (i - 2048) * 16)], [randInt16(4096, 9)]],
      expected: ([x]) => quantized(x as Int16Array, p(scale), p(1 / 32768)),
    });
  }
  // Power-of-two input scales: TFLite's gemmlowp int16 kernel; every int16 input.
  for (const scale of name === 'LOGISTIC' ? [1 / 4096] : [1 / 4096, 1 / 2048]) {
    activationCases.push({
      name: `${name} int16 power-of-two input scale ${scale}, every input`,
      op,
      inputs: [q('int16', [65536], scale)],
      outputs: [q('int16', [65536], 1 / 32768)],
      samples: [[Int16Array.from({ length: 65536 }, (_, i) => i - 32768)]],
      expected: ([x]) => quantized(x as Int16Array, p(scale), p(1 / 32768)),
    });
  }
  activationCases.push({
    name: `${name} float32`,
    op,
    inputs: [f32([256])],
    outputs: [f32([256])],
    samples: [[randF32(256, 5, -8, 8)], [randF32(256, 6, -30, 30)]],
    expected: ([x]) => (name === 'LOGISTIC' ? logisticFloat32 : tanhFloat32)(x as Float32Array),
    tolerance: FLOAT_TOLERANCE,
  });
}

for (const [pi, po] of [
  [p(0.05, -128), p(0.1, -128)],
  [p(0.01, 3), p(0.5, -100)],
] as const) {
  activationCases.push({
    name: `RSQRT int8 ${pi.scale},${pi.zeroPoint} -> ${po.scale},${po.zeroPoint}`,
    op: Op.RSQRT,
    inputs: [qarg('int8', [256], pi)],
    outputs: [qarg('int8', [256], po)],
    // TFLite fails on inputs below the zero point.
    samples: [[Int8Array.from({ length: 256 }, (_, i) => pi.zeroPoint + (i % (128 - pi.zeroPoint)))]],
    expected: ([x]) => rsqrtQuantized(x as Int8Array, pi, po),
  });
}
activationCases.push({
  name: 'RSQRT float32',
  op: Op.RSQRT,
  inputs: [f32([256])],
  outputs: [f32([256])],
  samples: [[randF32(256, 5, 0.001, 100)]],
  expected: ([x]) => rsqrtFloat32(x as Float32Array),
  tolerance: FLOAT_TOLERANCE,
});

// ---------------------------------------------------------------------------------------------
// QUANTIZE, DEQUANTIZE

/** Values on the rounding ties of `scale` (x / s = k + 0.5), plus an offset. */
function ties(scale: number, n: number, offset = 0): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (i - n / 2 + 0.5) * scale + offset);
}

const quantizeCases: OpCase[] = [];
for (const [dtype, po] of [
  ['int8', p(0.5, 0)],
  ['int8', p(0.0123, -7)],
  ['int16', p(0.1)],
  ['int16', p(0.0123)],
] as const) {
  quantizeCases.push({
    name: `QUANTIZE float32 -> ${dtype} ${po.scale},${po.zeroPoint}`,
    op: Op.QUANTIZE,
    inputs: [f32([1024])],
    outputs: [qarg(dtype, [1024], po)],
    samples: [[ties(po.scale, 1024)], [ties(po.scale, 1024, po.scale * 300)], [randF32(1024, 1, -200 * po.scale, 200 * po.scale)]],
    expected: ([x]) => quantizeFloat(x as Float32Array, po, dtype),
  });
}
for (const [di, pi, dout, po] of [
  ['int8', p(0.05, 3), 'int8', p(0.0333, 10)], // XNNPACK qs8-vcvt (8-bit multiplier)
  ['int8', p(0.5, -128), 'int8', p(0.01, 0)],
  ['int8', p(0.0001, 0), 'int8', p(0.1, 5)], // ratio below 2^-8: TFLite's Requantize
  ['int16', p(0.0005), 'int16', p(0.0003)],
  ['int16', p(0.001), 'int8', p(0.05, -3)],
] as const) {
  quantizeCases.push({
    name: `QUANTIZE ${di} ${pi.scale},${pi.zeroPoint} -> ${dout} ${po.scale},${po.zeroPoint}`,
    op: Op.QUANTIZE,
    inputs: [qarg(di, [1024], pi)],
    outputs: [qarg(dout, [1024], po)],
    samples: [[di === 'int8' ? allInt8(1024) : randInt16(1024, 3)], [qdata(di, 1024, 4)]],
    expected: ([x]) => requantize(x as Int8Array, pi, po, dout),
  });
}
for (const [dtype, pi] of [
  ['int8', p(0.0371, 5)],
  ['int16', p(0.000123)],
] as const) {
  quantizeCases.push({
    name: `DEQUANTIZE ${dtype}`,
    op: Op.DEQUANTIZE,
    inputs: [qarg(dtype, [1024], pi)],
    outputs: [f32([1024])],
    samples: [[dtype === 'int8' ? allInt8(1024) : randInt16(1024, 1)]],
    expected: ([x]) => dequantize(x as Int8Array, pi),
  });
}

// ---------------------------------------------------------------------------------------------
// Pooling, MEAN, SOFTMAX

const poolCases: OpCase[] = [];
const POOL_INPUT = [1, 9, 7, 5];
for (const options of [
  { padding: Padding.SAME, strideH: 2, strideW: 2, filterH: 3, filterW: 3, activation: Act.NONE },
  { padding: Padding.VALID, strideH: 1, strideW: 2, filterH: 2, filterW: 3, activation: Act.RELU },
  { padding: Padding.SAME, strideH: 1, strideW: 1, filterH: 4, filterW: 2, activation: Act.RELU6 },
] as Pool2DOptions[]) {
  const outShape = pool2DOutputShape(POOL_INPUT, options);
  const tflOptions = builtinOptions('Pool2DOptions', {
    padding: options.padding,
    strideH: options.strideH,
    strideW: options.strideW,
    filterHeight: options.filterH,
    filterWidth: options.filterW,
    fusedActivationFunction: options.activation ?? Act.NONE,
  });
  const label = `${options.padding === Padding.SAME ? 'SAME' : 'VALID'} ${options.filterH}x${options.filterW}/${options.strideH}x${options.strideW} act ${options.activation}`;
  for (const [name, op] of [
    ['AVERAGE_POOL_2D', Op.AVERAGE_POOL_2D],
    ['MAX_POOL_2D', Op.MAX_POOL_2D],
  ] as const) {
    for (const dtype of ['int8', 'int16'] as const) {
      const params = dtype === 'int8' ? p(0.05, -7) : p(0.0007);
      poolCases.push({
        name: `${name} ${dtype} ${label}`,
        op,
        inputs: [qarg(dtype, POOL_INPUT, params)],
        outputs: [qarg(dtype, outShape, params)],
        spec: { options: tflOptions },
        samples: [[qdata(dtype, 315, 1)], [qdata(dtype, 315, 2)]],
        expected: ([x]) => (name === 'AVERAGE_POOL_2D' ? averagePool2DQuantized : maxPool2DQuantized)(x as Int8Array, POOL_INPUT, params, options),
      });
    }
    poolCases.push({
      name: `${name} float32 ${label}`,
      op,
      inputs: [f32(POOL_INPUT)],
      outputs: [f32(outShape)],
      spec: { options: tflOptions },
      samples: [[randF32(315, 1, -8, 8)]],
      expected: ([x]) => (name === 'AVERAGE_POOL_2D' ? averagePool2DFloat32 : maxPool2DFloat32)(x as Float32Array, POOL_INPUT, options),
      tolerance: FLOAT_TOLERANCE,
    });
  }
}

/** Which MEAN implementation each runtime runs. */
function meanKernel(runtime: OracleRuntime, dtype: 'int8' | 'int16', shape: number[], axes: number[]): MeanKernel {
  if (runtime === 'litert') return dtype === 'int8' ? 'xnnpack' : 'builtin';
  const spatial = shape.length === 4 && axes.length === 2 && axes.includes(1) && axes.includes(2);
  return dtype === 'int8' && spatial ? 'xnnpack-2023' : 'builtin-2023';
}

for (const [shape, axes, keepDims] of [
  [[1, 7, 5, 6], [1, 2], true],
  [[2, 4, 4, 3], [2, 1], false],
  [[2, 6, 10], [0, 2], false],
  [[3, 5, 4, 8], [3], true],
] as [number[], number[], boolean][]) {
  const outShape = reduceOutputShape(shape, axes, keepDims);
  const n = count(shape);
  for (const [dtype, pi, po] of [
    ['int8', p(0.05, -7), p(0.05, -7)],
    ['int8', p(0.05, 11), p(0.013, -100)],
    ['int16', p(0.0005), p(0.0003)],
    ['int16', p(0.0005), p(0.0005)],
  ] as const) {
    poolCases.push({
      name: `MEAN ${dtype} [${shape}] axes [${axes}] keep ${keepDims} ${pi.scale},${pi.zeroPoint} -> ${po.scale},${po.zeroPoint}`,
      op: Op.MEAN,
      inputs: [qarg(dtype, shape, pi), i32(axes)],
      outputs: [qarg(dtype, outShape, po)],
      spec: { options: builtinOptions('ReducerOptions', { keepDims }) },
      samples: [[qdata(dtype, n, 1)], [qdata(dtype, n, 2)], [qdata(dtype, n, 3)]],
      expected: ([x], runtime) => meanQuantized(x as Int8Array, shape, axes, keepDims, pi, po, meanKernel(runtime, dtype, shape, axes)).data,
    });
  }
  poolCases.push({
    name: `MEAN float32 [${shape}] axes [${axes}] keep ${keepDims}`,
    op: Op.MEAN,
    inputs: [f32(shape), i32(axes)],
    outputs: [f32(outShape)],
    spec: { options: builtinOptions('ReducerOptions', { keepDims }) },
    samples: [[randF32(n, 1, -8, 8)]],
    expected: ([x]) => meanFloat32(x as Float32Array, shape, axes, keepDims).data,
    tolerance: FLOAT_TOLERANCE,
  });
}

for (const [shape, beta] of [
  [[4, 10], 1],
  [[2, 3, 37], 1],
  [[5, 7], 0.5],
] as [number[], number][]) {
  const n = count(shape);
  const options = builtinOptions('SoftmaxOptions', { beta });
  for (const pi of [p(0.1, -3), p(0.0371, 40)]) {
    poolCases.push({
      name: `SOFTMAX int8 [${shape}] beta ${beta} ${pi.scale},${pi.zeroPoint}`,
      op: Op.SOFTMAX,
      inputs: [qarg('int8', shape, pi)],
      outputs: [q('int8', shape, 1 / 256, -128)],
      spec: { options },
      samples: [[randInt8(n, 1)], [randInt8(n, 2, 80, 127)], [randInt8(n, 3, -20, 10)]],
      expected: ([x]) => softmaxQuantized(x as Int8Array, shape, pi, p(1 / 256, -128), beta),
    });
  }
  for (const scale of [0.001, 1 / 4096]) {
    poolCases.push({
      name: `SOFTMAX int16 [${shape}] beta ${beta} ${scale}`,
      op: Op.SOFTMAX,
      inputs: [q('int16', shape, scale)],
      outputs: [q('int16', shape, 1 / 32768)],
      spec: { options },
      samples: [[randInt16(n, 1)], [randInt16(n, 2, -3000, 3000)], [randInt16(n, 3, -300, 300)]],
      expected: ([x]) => softmaxQuantized(x as Int16Array, shape, p(scale), p(1 / 32768), beta),
    });
  }
  poolCases.push({
    name: `SOFTMAX float32 [${shape}] beta ${beta}`,
    op: Op.SOFTMAX,
    inputs: [f32(shape)],
    outputs: [f32(shape)],
    spec: { options },
    samples: [[randF32(n, 1, -10, 10)]],
    expected: ([x]) => softmaxFloat32(x as Float32Array, shape, beta),
    tolerance: FLOAT_TOLERANCE,
  });
}

// ---------------------------------------------------------------------------------------------
// Data movement

type AnyDtype = 'int8' | 'int16' | 'float32';
const arg = (dtype: AnyDtype, shape: readonly number[], params: P = dtype === 'int8' ? p(0.05, 3) : p(0.001)): TensorArg =>
  dtype === 'float32' ? f32(shape) : qarg(dtype, shape, params);
const gen = (dtype: AnyDtype, n: number, seed: number): TensorData => (dtype === 'float32' ? randF32(n, seed) : qdata(dtype, n, seed));

const shapeCases: OpCase[] = [];
const litertOnlyCases: OpCase[] = [];
const X = [2, 3, 4, 5];
for (const dtype of ['int8', 'int16', 'float32'] as const) {
  shapeCases.push({
    name: `RESHAPE ${dtype}`,
    op: Op.RESHAPE,
    inputs: [arg(dtype, X), i32([6, 20])],
    outputs: [arg(dtype, [6, 20])],
    spec: { options: builtinOptions('ReshapeOptions', { newShape: [6, 20] }) },
    samples: [[gen(dtype, 120, 1)]],
    expected: ([x]) => x!,
  });
  shapeCases.push({
    name: `SQUEEZE ${dtype}`,
    op: Op.SQUEEZE,
    inputs: [arg(dtype, [1, 4, 1, 5])],
    outputs: [arg(dtype, [4, 5])],
    spec: { options: builtinOptions('SqueezeOptions', { squeezeDims: [0, 2] }) },
    samples: [[gen(dtype, 20, 1)]],
    expected: ([x]) => x!,
  });
  for (const perm of [
    [0, 3, 1, 2],
    [3, 2, 1, 0],
  ]) {
    // tfjs-tflite's XNNPACK delegate logs an ERROR on int16 TRANSPOSE (then runs TFLite's kernel).
    (dtype === 'int16' ? litertOnlyCases : shapeCases).push({
      name: `TRANSPOSE ${dtype} [${perm}]`,
      op: Op.TRANSPOSE,
      inputs: [arg(dtype, X), i32(perm)],
      outputs: [arg(dtype, perm.map((d) => X[d]!))],
      samples: [[gen(dtype, 120, 1)]],
      expected: ([x]) => transpose(x as Int8Array, X, perm).data,
    });
  }
  for (const axis of [1, -1]) {
    const a = axis < 0 ? axis + 4 : axis;
    const other = X.map((d, i) => (i === a ? 2 : d));
    const outShape = X.map((d, i) => (i === a ? d + 2 : d));
    shapeCases.push({
      name: `CONCATENATION ${dtype} axis ${axis}`,
      op: Op.CONCATENATION,
      inputs: [arg(dtype, X), arg(dtype, other)],
      outputs: [arg(dtype, outShape)],
      spec: { options: builtinOptions('ConcatenationOptions', { axis }) },
      samples: [[gen(dtype, 120, 1), gen(dtype, count(other), 2)]],
      expected: ([x, y]) => concatenate([{ data: x as Int8Array, shape: X }, { data: y as Int8Array, shape: other }], axis).data,
    });
  }
  const paddings: [number, number][] = [
    [0, 0],
    [1, 2],
    [0, 3],
    [2, 0],
  ];
  shapeCases.push({
    name: `PAD ${dtype}`,
    op: Op.PAD,
    inputs: [arg(dtype, X), i32(paddings.flat(), [4, 2])],
    outputs: [arg(dtype, X.map((d, i) => d + paddings[i]![0] + paddings[i]![1]))],
    samples: [[gen(dtype, 120, 1)]],
    expected: ([x]) => pad(x as Int8Array, X, paddings, dtype === 'int8' ? 3 : 0).data,
  });
  shapeCases.push({
    name: `SLICE ${dtype}`,
    op: Op.SLICE,
    inputs: [arg(dtype, X), i32([1, 0, 1, 2]), i32([1, 2, -1, 3])],
    outputs: [arg(dtype, [1, 2, 3, 3])],
    samples: [[gen(dtype, 120, 1)]],
    expected: ([x]) => slice(x as Int8Array, X, [1, 0, 1, 2], [1, 2, -1, 3]).data,
  });
  for (const [axis, batchDims, indexShape, indices] of [
    [1, 0, [4], [2, 0, 1, 2]],
    [0, 0, [2, 2], [1, 0, 1, 1]],
    [2, 1, [2, 3], [0, 3, 1, 2, 2, 0]],
  ] as [number, number, number[], number[]][]) {
    shapeCases.push({
      name: `GATHER ${dtype} axis ${axis} batch_dims ${batchDims}`,
      op: Op.GATHER,
      inputs: [arg(dtype, X), i32(indices, indexShape)],
      outputs: [arg(dtype, [...X.slice(0, axis), ...indexShape.slice(batchDims), ...X.slice(axis + 1)])],
      spec: { options: builtinOptions('GatherOptions', { axis, batchDims }) },
      samples: [[gen(dtype, 120, 1)]],
      expected: ([x]) => gather(x as Int8Array, X, indices, indexShape, axis, batchDims).data,
    });
  }
  for (const [cs, xs, ys] of [
    [
      [2, 3],
      [2, 3],
      [2, 3],
    ],
    [[2, 1], [1, 3], [2, 3]],
    [[3], [2, 3], [1]],
  ] as number[][][]) {
    const condition = Uint8Array.from({ length: count(cs!) }, (_, i) => ((i * 7) % 3 === 0 ? 1 : 0));
    shapeCases.push({
      name: `SELECT_V2 ${dtype} [${cs}] [${xs}] [${ys}]`,
      op: Op.SELECT_V2,
      inputs: [{ dtype: 'bool', shape: cs! }, arg(dtype, xs!), arg(dtype, ys!)],
      outputs: [arg(dtype, [2, 3])],
      samples: [[condition, gen(dtype, count(xs!), 1), gen(dtype, count(ys!), 2)]],
      expected: ([c, x, y]) => selectV2(c as Uint8Array, cs!, x as Int8Array, xs!, y as Int8Array, ys!).data,
    });
  }
}
// int16 CONCATENATION copies inputs whatever their scales (TFLite checks only zero points).
shapeCases.push({
  name: 'CONCATENATION int16 inputs with other scales than the output: copied',
  op: Op.CONCATENATION,
  inputs: [q('int16', [2, 3], 0.001), q('int16', [2, 2], 0.003)],
  outputs: [q('int16', [2, 5], 0.002)],
  spec: { options: builtinOptions('ConcatenationOptions', { axis: 1 }) },
  samples: [[randInt16(6, 1), randInt16(4, 2)]],
  expected: ([x, y]) => concatenate([{ data: x as Int16Array, shape: [2, 3] }, { data: y as Int16Array, shape: [2, 2] }], 1).data,
});
// int8 inputs at other scales: the official runtime needs them requantized first (a QUANTIZE op,
// as the TFLite quantizer emits); then CONCATENATION copies.
shapeCases.push({
  name: 'QUANTIZE (int8 requantize) then CONCATENATION int8',
  graph: (b, prefix) => {
    const x = addTensor(b, q('int8', [2, 3], 0.05, 3), `${prefix}x`);
    const y = addTensor(b, q('int8', [2, 2], 0.07, 1), `${prefix}y`);
    const xr = addTensor(b, q('int8', [2, 3], 0.07, 1), `${prefix}xr`);
    const out = addTensor(b, q('int8', [2, 5], 0.07, 1), `${prefix}out`);
    b.op(Op.QUANTIZE, [x], [xr]);
    b.op(Op.CONCATENATION, [xr, y], [out], { options: builtinOptions('ConcatenationOptions', { axis: 1 }) });
    return { inputs: [x, y], outputs: [out] };
  },
  samples: [[randInt8(6, 1), randInt8(4, 2)]],
  expected: ([x, y]) => {
    const xr = requantize(x as Int8Array, p(0.05, 3), p(0.07, 1), 'int8');
    return concatenate([{ data: xr, shape: [2, 3] }, { data: y as Int8Array, shape: [2, 2] }], 1).data;
  },
});

// ---------------------------------------------------------------------------------------------
// Cases only LiteRT can run (tfjs-tflite 2023 lacks the kernel or logs a delegate ERROR).

for (const [pi, po] of [
  [p(0.001), p(0.01)],
  [p(0.0003), p(0.005)],
] as const) {
  litertOnlyCases.push({
    name: `RSQRT int16 ${pi.scale} -> ${po.scale}`,
    op: Op.RSQRT,
    inputs: [qarg('int16', [4096], pi)],
    outputs: [qarg('int16', [4096], po)],
    samples: [[Int16Array.from({ length: 4096 }, (_, i) => i * 8)], [randInt16(4096, 2, 0, 32767)]],
    expected: ([x]) => rsqrtQuantized(x as Int16Array, pi, po),
  });
}
litertOnlyCases.push({
  name: 'QUANTIZE int8 -> int16',
  op: Op.QUANTIZE,
  inputs: [q('int8', [256], 0.05, 3)],
  outputs: [q('int16', [256], 0.0007)],
  samples: [[allInt8()]],
  expected: ([x]) => requantize(x as Int8Array, p(0.05, 3), p(0.0007), 'int16'),
});

// ---------------------------------------------------------------------------------------------
// CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED: the requantization rule of each runtime.

type LayerKind = 'CONV_2D' | 'DEPTHWISE_CONV_2D' | 'FULLY_CONNECTED';

function layerCase(
  kind: LayerKind,
  dtype: 'int8' | 'int16',
  perChannel: boolean,
  biasBits: 32 | 64,
  activation: Act,
  rule: (runtime: OracleRuntime) => RequantRule,
): OpCase {
  const inShape = kind === 'FULLY_CONNECTED' ? [64, 200] : [1, 16, 16, 8];
  const channels = 16;
  const weightShape = kind === 'CONV_2D' ? [channels, 3, 3, 8] : kind === 'DEPTHWISE_CONV_2D' ? [1, 3, 3, channels] : [channels, 200];
  const input = dtype === 'int8' ? p(0.043, -9) : p(0.00071);
  const output = dtype === 'int8' ? p(0.27, 5) : p(0.0041);
  const weightScales = perChannel ? Array.from({ length: channels }, (_, c) => 0.0011 + c * 0.00031) : [0.0017];
  const weights = randInt8(count(weightShape), 77, -127, 127);
  const biasValues = Array.from({ length: channels }, (_, c) => ((c * 1237) % 5000) - 2500);
  const bias = biasBits === 64 ? BigInt64Array.from(biasValues.map(BigInt)) : Int32Array.from(biasValues);
  const biasScales = weightScales.map((s) => Math.fround(input.scale * s));
  const outShape = kind === 'FULLY_CONNECTED' ? [64, channels] : [1, 8, 8, channels];
  const geometry = { padding: Padding.SAME, strideH: 2, strideW: 2 };
  const options =
    kind === 'CONV_2D'
      ? builtinOptions('Conv2DOptions', { ...geometry, fusedActivationFunction: activation })
      : kind === 'DEPTHWISE_CONV_2D'
        ? builtinOptions('DepthwiseConv2DOptions', { ...geometry, depthMultiplier: 2, fusedActivationFunction: activation })
        : builtinOptions('FullyConnectedOptions', { fusedActivationFunction: activation });
  const opCode = kind === 'CONV_2D' ? Op.CONV_2D : kind === 'DEPTHWISE_CONV_2D' ? Op.DEPTHWISE_CONV_2D : Op.FULLY_CONNECTED;
  const n = count(inShape);
  return {
    name: `${kind} ${dtype} ${perChannel ? 'per-channel' : 'per-tensor'} int${biasBits} bias act ${activation}`,
    op: opCode,
    inputs: [
      qarg(dtype, inShape, input),
      { dtype: 'int8', shape: weightShape, scale: weightScales, zeroPoint: 0, quantizedDimension: kind === 'DEPTHWISE_CONV_2D' ? 3 : 0, data: weights },
      { dtype: biasBits === 64 ? 'int64' : 'int32', shape: [channels], scale: biasScales, zeroPoint: 0, data: bias },
    ],
    outputs: [qarg(dtype, outShape, output)],
    spec: { options, version: dtype === 'int16' ? (kind === 'FULLY_CONNECTED' ? 7 : 4) : kind === 'FULLY_CONNECTED' ? 5 : 3 },
    samples: [[dtype === 'int8' ? randInt8(n, 1) : randInt16(n, 1, -9000, 9000)], [dtype === 'int8' ? randInt8(n, 2) : randInt16(n, 2, -9000, 9000)]],
    expected: ([x], runtime) => {
      const params: QuantizedLayerParams = { input, weightScales, output, activation, rule: rule(runtime) };
      if (kind === 'CONV_2D') return conv2DQuantized(x as Int8Array, inShape, weights, weightShape, bias, geometry, params).data;
      if (kind === 'DEPTHWISE_CONV_2D') {
        return depthwiseConv2DQuantized(x as Int8Array, inShape, weights, weightShape, bias, { ...geometry, depthMultiplier: 2 }, params).data;
      }
      return fullyConnectedQuantized(x as Int8Array, weights, weightShape, bias, params).data;
    },
  };
}

const fp32 = (): RequantRule => 'fp32';
const layerCases: OpCase[] = [
  layerCase('CONV_2D', 'int8', false, 32, Act.NONE, fp32),
  layerCase('CONV_2D', 'int8', true, 32, Act.RELU6, fp32),
  layerCase('DEPTHWISE_CONV_2D', 'int8', false, 32, Act.NONE, fp32),
  layerCase('DEPTHWISE_CONV_2D', 'int8', true, 32, Act.RELU6, fp32),
  layerCase('FULLY_CONNECTED', 'int8', false, 32, Act.NONE, fp32),
  // tfjs-tflite's XNNPACK (2023) leaves per-channel FULLY_CONNECTED to TFLite (ruy: single rounding).
  layerCase('FULLY_CONNECTED', 'int8', true, 32, Act.RELU6, (r) => (r === 'litert' ? 'fp32' : 'single-rounding')),
  layerCase('CONV_2D', 'int16', true, 64, Act.NONE, () => 'int64'),
  layerCase('DEPTHWISE_CONV_2D', 'int16', true, 64, Act.NONE, () => 'int64'),
  // LiteRT's FULLY_CONNECTED int16x8 requantizes in double; tfjs-tflite with the int64 rule.
  layerCase('FULLY_CONNECTED', 'int16', false, 64, Act.NONE, (r) => (r === 'litert' ? 'double' : 'int64')),
  layerCase('FULLY_CONNECTED', 'int16', true, 64, Act.NONE, (r) => (r === 'litert' ? 'double' : 'int64')),
  layerCase('FULLY_CONNECTED', 'int16', false, 32, Act.NONE, () => 'single-rounding'),
];

// ---------------------------------------------------------------------------------------------

t.test('elementwise binary ops', (t) => checkSuite(t, 'ADD, SUB, MUL, SQUARED_DIFFERENCE', binaryCases, BOTH));
t.test('activations', (t) => checkSuite(t, 'RELU*, LOGISTIC, TANH, RSQRT', activationCases, BOTH));
t.test('quantize', (t) => checkSuite(t, 'QUANTIZE, DEQUANTIZE', quantizeCases, BOTH));
t.test('pooling, mean, softmax', (t) => checkSuite(t, 'AVERAGE_POOL_2D, MAX_POOL_2D, MEAN, SOFTMAX', poolCases, BOTH));
t.test('data movement', (t) => checkSuite(t, 'RESHAPE, SQUEEZE, TRANSPOSE, CONCATENATION, PAD, SLICE, GATHER, SELECT_V2', shapeCases, BOTH));
t.test('ops only LiteRT runs', (t) => checkSuite(t, 'int16 RSQRT, int16 TRANSPOSE, int8 -> int16 QUANTIZE', litertOnlyCases, ['litert']));
t.test('CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED requantization rules', (t) => checkSuite(t, 'conv and fully connected', layerCases, BOTH));

t.test('int8 CONCATENATION of inputs at another scale than the output is refused by both runtimes', async (t) => {
  const b = new GraphBuilder();
  const x = addTensor(b, q('int8', [2, 3], 0.05, 3), 'x');
  const y = addTensor(b, q('int8', [2, 2], 0.1, -5), 'y');
  const out = addTensor(b, q('int8', [2, 5], 0.07, 1), 'out');
  b.op(Op.CONCATENATION, [x, y], [out], { options: builtinOptions('ConcatenationOptions', { axis: 1 }) });
  const graph = b.build();
  const bytes = writeModel({ ...graph, subgraphs: [{ ...graph.subgraphs[0]!, inputs: [x, y], outputs: [out] }] });
  for (const runtime of BOTH) {
    await t.rejects(runOracle(bytes, [[randInt8(6, 1), randInt8(4, 2)]], { runtime }), { code: 'ERR_ORACLE' }, runtime);
  }
});

t.test('the oracle cases tell the implementations apart (the other rule would differ)', async (t) => {
  const a = { data: allInt8(1024), shape: [1024], ...p(0.05, 3) };
  const b = { data: randInt8(1024, 2), shape: [1024], ...p(0.07, -2) };
  const differ = (x: ArrayLike<number>, y: ArrayLike<number>) => Array.from(x).filter((v, i) => v !== y[i]).length;
  for (const op of ['ADD', 'SUB', 'MUL'] as const) {
    const xnn = binaryQuantized(op, a, b, { output: p(0.1, 1), kernel: 'xnnpack' }).data;
    const builtin = binaryQuantized(op, a, b, { output: p(0.1, 1), kernel: 'builtin' }).data;
    t.ok(differ(xnn, builtin) > 0, `int8 ${op}: XNNPACK and TFLite differ on ${differ(xnn, builtin)} of 1024`);
  }
  const x = allInt8(256);
  const r1 = requantize(x, p(0.05, 3), p(0.0333, 10), 'int8', 'xnnpack');
  const r2 = requantize(x, p(0.05, 3), p(0.0333, 10), 'int8', 'builtin');
  t.ok(differ(r1, r2) > 0, `int8 requantize: ${differ(r1, r2)} of 256 differ`);
  const f = ties(0.5, 1024);
  t.ok(differ(quantizeFloat(f, p(0.5), 'int8', 'xnnpack'), quantizeFloat(f, p(0.5), 'int8', 'builtin')) > 0, 'float -> int8 ties');
  const m = randInt8(3 * 5 * 4 * 8, 2);
  const kernels: MeanKernel[] = ['xnnpack', 'xnnpack-2023', 'builtin', 'builtin-2023'];
  const means = kernels.map((k) => meanQuantized(m, [3, 5, 4, 8], [3], false, p(0.05, -7), p(0.05, -7), k).data);
  t.ok(differ(means[0]!, means[2]!) > 0 && differ(means[2]!, means[3]!) > 0 && differ(means[0]!, means[1]!) > 0, 'MEAN kernels differ');
});
