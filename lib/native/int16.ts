// int16x8 layers on the native kernels (TFLite's 16x8 quantization): int16 activations with
// zero point 0, int8 weights (per tensor or per output channel, zero point 0), int64 bias,
// exact int64 sums and TFLite's requantization, so outputs equal the TFLite runtime's bit for bit.
//
// A layer is packed once (weights for the int16x8 GEMM of the instruction-set path selected at
// that moment, bias, requantization, geometry); run() is the hot call: it checks its arrays and
// writes into `output` when one is given (no JS allocation; the native side uses
// small scratch buffers).
import { InvalidArgumentError, expected } from '../errors.js';
import type { IsaPath, Qs16Handle, Qs16PackParams } from './binding.js';
import { callNative } from './index.js';
import {
  type Conv2dGeometry,
  type ConvPadding,
  type FusedActivation,
  checkActivation,
  checkConv2dShapes,
  checkPadding,
  checkPair,
  checkScale,
  checkScales,
  checkShape,
  checkThreads,
  conv2dGeometry,
  quantizedActivationRange,
} from './layer-params.js';

export type { ConvPadding, FusedActivation } from './layer-params.js';

/**
 * How FULLY_CONNECTED's int64 sums become int16 outputs (the two official runtimes differ;
 * test/native/int16.test.ts checks both bit for bit):
 * - 'double': round(double(acc) * s_in * s_w / s_out), halfway cases away from zero. LiteRT
 *   since 2025-04 (LiteRT.js 2.5.3). The default.
 * - 'fixed-point': TFLite's int64 MultiplyByQuantizedMultiplier (a 16-bit reduced multiplier and
 *   one rounding shift; per-tensor multipliers from float(s_in * s_w)). TFLite before 2025-04
 *   (tfjs-tflite 0.0.1-alpha.10). CONV_2D uses this rule in both runtimes.
 */
export type Int16Requantization = 'fixed-point' | 'double';

interface CommonOptions {
  /** Scale of the int16 input (zero point 0). */
  readonly inputScale: number;
  /** One weight scale, or one per output channel. */
  readonly weightScale: number | ArrayLike<number>;
  /** Scale of the int16 output (zero point 0). */
  readonly outputScale: number;
  /** The fused activation, applied as TFLite's quantized clamp. Default 'none'. */
  readonly activation?: FusedActivation;
  /** Threads each run() splits its work over (1..256). Default 1. */
  readonly threads?: number;
}

export interface Int16FullyConnectedOptions extends CommonOptions {
  /** Default 'double' (current LiteRT). */
  readonly requantization?: Int16Requantization;
}

export interface Int16Conv2dOptions extends CommonOptions {
  /** [batch, height, width, channels] of the NHWC input. */
  readonly inputShape: readonly number[];
  /** [outputChannels, filterHeight, filterWidth, inputChannels] of the OHWI filter. */
  readonly filterShape: readonly number[];
  readonly padding: ConvPadding;
  /** [height, width]; default [1, 1]. */
  readonly stride?: readonly [number, number];
  /** [height, width]; default [1, 1]. */
  readonly dilation?: readonly [number, number];
}

export interface Int16DepthwiseConv2dOptions extends CommonOptions {
  /** [batch, height, width, channels] of the NHWC input. */
  readonly inputShape: readonly number[];
  /** [1, filterHeight, filterWidth, channels * depthMultiplier] (TFLite's layout). */
  readonly filterShape: readonly number[];
  readonly padding: ConvPadding;
  readonly stride?: readonly [number, number];
  readonly dilation?: readonly [number, number];
}

/** A packed int16x8 FULLY_CONNECTED: rows of inputSize int16 values in, rows of units out. */
export interface Int16FullyConnectedLayer {
  readonly units: number;
  readonly inputSize: number;
  /** The instruction-set path and micro-kernel the layer was packed for. */
  readonly path: IsaPath;
  readonly kernel: string;
  /**
   * input holds any number of rows of inputSize; the result (or `output`, when given: exactly
   * rows * units values) holds the rows of units.
   */
  run(input: Int16Array, output?: Int16Array): Int16Array;
}

/** A packed int16x8 CONV_2D or DEPTHWISE_CONV_2D for one input shape. */
export interface Int16ConvLayer {
  readonly kind: 'conv2d' | 'depthwise';
  readonly inputShape: readonly [number, number, number, number];
  /** [batch, outputHeight, outputWidth, outputChannels]. */
  readonly outputShape: readonly [number, number, number, number];
  /** DEPTHWISE_CONV_2D has no SIMD kernel: 'reference' and 'qs16_dwconv__scalar'. */
  readonly path: IsaPath;
  readonly kernel: string;
  /** NHWC input of inputShape in; the NHWC output (or `output`, when given, filled). */
  run(input: Int16Array, output?: Int16Array): Int16Array;
}

const MAX_ABS_BIAS = 2n ** 46n;

function checkBias(bias: unknown, channels: number): BigInt64Array | null {
  if (bias === null || bias === undefined) return null;
  if (!(bias instanceof BigInt64Array)) throw expected('a BigInt64Array or null', 'bias', bias);
  if (bias.length !== channels) {
    throw new InvalidArgumentError(`Expected ${channels} values for bias but received ${bias.length}`);
  }
  bias.forEach((b, i) => {
    if (b > MAX_ABS_BIAS || b < -MAX_ABS_BIAS) {
      throw expected('an int64 within +-2^46 (TFLite int16x8 bias bound)', `bias[${i}]`, b);
    }
  });
  return bias;
}

function checkOptions(options: unknown): asserts options is CommonOptions {
  if (options === null || typeof options !== 'object') throw expected('an object', 'options', options);
}

/** Scales, the fused activation's int16 clamp (zero point 0) and threads, for `channels` outputs. */
function checkQuantization(options: CommonOptions, channels: number) {
  const inputScale = checkScale(options.inputScale, 'inputScale');
  const weightScales = checkScales(options.weightScale, 'weightScale', channels);
  const outputScale = checkScale(options.outputScale, 'outputScale');
  const activation = checkActivation(options.activation);
  const [qmin, qmax] = quantizedActivationRange(activation, outputScale, 0, -32768, 32767);
  const threads = checkThreads(options.threads);
  return { inputScale, weightScales, outputScale, qmin, qmax, threads };
}

interface ConvWindow {
  readonly padding: ConvPadding;
  readonly stride: [number, number];
  readonly dilation: [number, number];
  readonly geometry: Conv2dGeometry;
}

/** Padding, stride and dilation of a CONV_2D / DEPTHWISE_CONV_2D and the geometry they give. */
function checkWindow(
  options: Int16Conv2dOptions | Int16DepthwiseConv2dOptions,
  height: number,
  width: number,
  kh: number,
  kw: number,
): ConvWindow {
  const padding = checkPadding(options.padding);
  const stride = checkPair(options.stride, 'stride', [1, 1]);
  const dilation = checkPair(options.dilation, 'dilation', [1, 1]);
  const geometry = conv2dGeometry(padding, [height, width], [kh, kw], stride, dilation);
  return { padding, stride, dilation, geometry };
}

function nativeWindow(w: ConvWindow) {
  return {
    strideHeight: w.stride[0],
    strideWidth: w.stride[1],
    dilationHeight: w.dilation[0],
    dilationWidth: w.dilation[1],
    padding: w.padding,
  };
}

function checkOutput(output: unknown, length: number): Int16Array {
  if (output === undefined) return new Int16Array(length);
  if (!(output instanceof Int16Array)) throw expected('an Int16Array', 'output', output);
  if (output.length !== length) {
    throw new InvalidArgumentError(`Expected ${length} values for output but received ${output.length}`);
  }
  return output;
}

function pack(
  kind: 'fully-connected' | 'conv2d' | 'depthwise',
  weights: Int8Array,
  bias: BigInt64Array | null,
  weightScales: Float32Array,
  params: Qs16PackParams,
): Qs16Handle {
  return callNative((b) => b.qs16Pack(kind, weights, bias, weightScales, params));
}

/**
 * Packs a FULLY_CONNECTED int16x8 with `weights` [units, inputSize] (TFLite's layout); run()
 * takes int16 rows of inputSize: output[b][n] = requantize(sum_k input[b][k] * weights[n][k] +
 * bias[n]).
 */
export function packInt16FullyConnected(
  weights: Int8Array,
  bias: BigInt64Array | null,
  units: number,
  options: Int16FullyConnectedOptions,
): Int16FullyConnectedLayer {
  if (!(weights instanceof Int8Array)) throw expected('an Int8Array', 'weights', weights);
  if (!Number.isInteger(units) || units < 1) throw expected('a positive integer', 'units', units);
  checkOptions(options);
  if (weights.length % units !== 0 || weights.length === 0) {
    throw new InvalidArgumentError(
      `Expected weights of units * inputSize values but received ${weights.length} for ${units} units`,
    );
  }
  const inputSize = weights.length / units;
  const checkedBias = checkBias(bias, units);
  const requantization = options.requantization ?? 'double';
  if (requantization !== 'fixed-point' && requantization !== 'double') {
    throw expected("'fixed-point' or 'double'", 'requantization', requantization);
  }
  const { weightScales, threads, inputScale, outputScale, qmin, qmax } = checkQuantization(options, units);
  const handle = pack('fully-connected', weights, checkedBias, weightScales, {
    inputSize,
    units,
    requantization,
    inputScale,
    outputScale,
    qmin,
    qmax,
  });
  const info = callNative((b) => b.qs16Info(handle));
  return {
    units,
    inputSize,
    path: info.path,
    kernel: info.kernel,
    run(input: Int16Array, output?: Int16Array): Int16Array {
      if (!(input instanceof Int16Array)) throw expected('an Int16Array', 'input', input);
      const rows = input.length / inputSize;
      if (!Number.isInteger(rows)) {
        throw new InvalidArgumentError(`Expected input of rows * ${inputSize} values but received ${input.length}`);
      }
      const y = checkOutput(output, rows * units);
      callNative((b) => b.qs16Run(handle, input, y, threads));
      return y;
    },
  };
}

function convLayer(
  kind: 'conv2d' | 'depthwise',
  handle: Qs16Handle,
  inputShape: readonly [number, number, number, number],
  geometry: Conv2dGeometry,
  outC: number,
  threads: number,
): Int16ConvLayer {
  const info = callNative((b) => b.qs16Info(handle));
  const { inputLength, outputLength } = info;
  return {
    kind,
    inputShape,
    outputShape: [inputShape[0], geometry.outputHeight, geometry.outputWidth, outC],
    path: info.path,
    kernel: info.kernel,
    run(input: Int16Array, output?: Int16Array): Int16Array {
      if (!(input instanceof Int16Array)) throw expected('an Int16Array', 'input', input);
      if (input.length !== inputLength) {
        throw new InvalidArgumentError(
          `Expected ${inputLength} input values for inputShape [${inputShape.join(', ')}] but received ${input.length}`,
        );
      }
      const y = checkOutput(output, outputLength);
      callNative((b) => b.qs16Run(handle, input, y, threads));
      return y;
    },
  };
}

/** Packs a CONV_2D int16x8 with TFLite's padding, stride and dilation rules (NHWC input, OHWI filter). */
export function packInt16Conv2d(
  filter: Int8Array,
  bias: BigInt64Array | null,
  options: Int16Conv2dOptions,
): Int16ConvLayer {
  if (!(filter instanceof Int8Array)) throw expected('an Int8Array', 'filter', filter);
  checkOptions(options);
  const { batch, height, width, channels, outC, kh, kw } = checkConv2dShapes(
    options.inputShape,
    options.filterShape,
    filter.length,
  );
  const window = checkWindow(options, height, width, kh, kw);
  const checkedBias = checkBias(bias, outC);
  const { weightScales, threads, ...quantization } = checkQuantization(options, outC);
  const handle = pack('conv2d', filter, checkedBias, weightScales, {
    batch,
    inputHeight: height,
    inputWidth: width,
    inputChannels: channels,
    outputChannels: outC,
    filterHeight: kh,
    filterWidth: kw,
    ...nativeWindow(window),
    ...quantization,
  });
  return convLayer('conv2d', handle, [batch, height, width, channels], window.geometry, outC, threads);
}

/**
 * Packs a DEPTHWISE_CONV_2D int16x8 (TFLite's DepthwiseConvPerChannel for int16 with int64
 * bias): output channel c * depthMultiplier + m reads input channel c. The depth multiplier is
 * filterShape[3] / inputShape[3].
 */
export function packInt16DepthwiseConv2d(
  filter: Int8Array,
  bias: BigInt64Array | null,
  options: Int16DepthwiseConv2dOptions,
): Int16ConvLayer {
  if (!(filter instanceof Int8Array)) throw expected('an Int8Array', 'filter', filter);
  checkOptions(options);
  const [batch, height, width, channels] = checkShape(options.inputShape, 'inputShape', 4) as [
    number,
    number,
    number,
    number,
  ];
  const [one, kh, kw, outC] = checkShape(options.filterShape, 'filterShape', 4) as [number, number, number, number];
  if (one !== 1) throw expected('1 (TFLite depthwise filters are [1, KH, KW, C*M])', 'filterShape[0]', one);
  if (height < 1 || width < 1 || channels < 1 || outC < 1 || kh < 1 || kw < 1) {
    throw expected('non-zero spatial, channel and filter dimensions', 'inputShape/filterShape', [
      ...options.inputShape,
      ...options.filterShape,
    ]);
  }
  if (outC % channels !== 0) {
    throw new InvalidArgumentError(
      `Expected filterShape[3] (${outC}) to be a multiple of the input channels (${channels})`,
    );
  }
  if (filter.length !== kh * kw * outC) {
    throw new InvalidArgumentError(
      `Expected ${kh * kw * outC} filter values for filterShape [${options.filterShape.join(', ')}] but received ${filter.length}`,
    );
  }
  const window = checkWindow(options, height, width, kh, kw);
  const checkedBias = checkBias(bias, outC);
  const { weightScales, threads, ...quantization } = checkQuantization(options, outC);
  const handle = pack('depthwise', filter, checkedBias, weightScales, {
    batch,
    inputHeight: height,
    inputWidth: width,
    inputChannels: channels,
    depthMultiplier: outC / channels,
    filterHeight: kh,
    filterWidth: kw,
    ...nativeWindow(window),
    ...quantization,
  });
  return convLayer('depthwise', handle, [batch, height, width, channels], window.geometry, outC, threads);
}
