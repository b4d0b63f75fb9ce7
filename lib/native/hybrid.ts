// Hybrid (dynamic-range) layers on the native kernels, as TFLite's builtin kernels compute them:
// float inputs quantized to int8 on the fly per row (per batch image for CONV_2D), int8
// weights with per-tensor or per-channel scales, int32 sums, float outputs. Every native path
// gives the same bits; against TFLite the outputs agree to float rounding (see
// native/include/litequant/hybrid.h for the exact rules and native/test/hybrid_test.cc for the
// tolerance against unquantized float math).
import { InvalidArgumentError, expected } from '../errors.js';
import { callNative } from './index.js';
import {
  type ConvPadding,
  type FusedActivation,
  checkActivation,
  checkConv2dShapes,
  checkPadding,
  checkPair,
  checkScales,
  checkShape,
  checkThreads,
  conv2dGeometry,
  floatActivationRange,
} from './layer-params.js';

export type { ConvPadding, FusedActivation } from './layer-params.js';

interface CommonOptions {
  /** One weight scale, or one per output channel (the weights' zero point is 0). */
  readonly weightScale: number | ArrayLike<number>;
  /** Threads to split the work over (1..256). Default 1. */
  readonly threads?: number;
}

export interface HybridFullyConnectedOptions extends CommonOptions {
  /** The op's asymmetric_quantize_inputs: per-row zero points instead of symmetric rows. */
  readonly asymmetricQuantizeInputs?: boolean;
  /** Default 'none'. */
  readonly activation?: FusedActivation;
}

export interface HybridBatchMatMulOptions extends CommonOptions {
  /** [..., rows, inputSize] of the float left-hand side (every batch dimension is flattened). */
  readonly inputShape: readonly number[];
  /** The constant int8 right-hand side's shape: [inputSize, units], or [units, inputSize] with adjY. */
  readonly rhsShape: readonly [number, number];
  readonly adjY?: boolean;
  readonly asymmetricQuantizeInputs?: boolean;
}

export interface HybridConv2dOptions extends CommonOptions {
  /** [batch, height, width, channels] of the NHWC input. */
  readonly inputShape: readonly number[];
  /** [outputChannels, filterHeight, filterWidth, inputChannels] of the OHWI filter. */
  readonly filterShape: readonly number[];
  readonly padding: ConvPadding;
  readonly stride?: readonly [number, number];
  readonly dilation?: readonly [number, number];
  readonly activation?: FusedActivation;
}

export interface HybridResult {
  readonly output: Float32Array;
  readonly shape: number[];
}

function checkOptions(options: unknown): asserts options is CommonOptions {
  if (options === null || typeof options !== 'object') throw expected('an object', 'options', options);
}

function checkBool(value: unknown, param: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw expected('a boolean', param, value);
  return value;
}

function checkBias(bias: unknown, channels: number): Float32Array | null {
  if (bias === null || bias === undefined) return null;
  if (!(bias instanceof Float32Array)) throw expected('a Float32Array or null', 'bias', bias);
  if (bias.length !== channels) {
    throw new InvalidArgumentError(`Expected ${channels} values for bias but received ${bias.length}`);
  }
  return bias;
}

/**
 * FULLY_CONNECTED with int8 weights [units, inputSize] and float input rows of inputSize:
 * output[b][n] = act(bias[n] + float(acc - offset_b * colsum[n]) * s_b * s_w[n]).
 */
export function hybridFullyConnected(
  input: Float32Array,
  weights: Int8Array,
  bias: Float32Array | null,
  units: number,
  options: HybridFullyConnectedOptions,
): Float32Array {
  if (!(input instanceof Float32Array)) throw expected('a Float32Array', 'input', input);
  if (!(weights instanceof Int8Array)) throw expected('an Int8Array', 'weights', weights);
  if (!Number.isInteger(units) || units < 1) throw expected('a positive integer', 'units', units);
  checkOptions(options);
  if (weights.length === 0 || weights.length % units !== 0) {
    throw new InvalidArgumentError(
      `Expected weights of units * inputSize values but received ${weights.length} for ${units} units`,
    );
  }
  const inputSize = weights.length / units;
  if (input.length % inputSize !== 0) {
    throw new InvalidArgumentError(`Expected input of batch * ${inputSize} values but received ${input.length}`);
  }
  const batch = input.length / inputSize;
  const checkedBias = checkBias(bias, units);
  const weightScales = checkScales(options.weightScale, 'weightScale', units);
  const asymmetric = checkBool(options.asymmetricQuantizeInputs, 'asymmetricQuantizeInputs');
  const [activationMin, activationMax] = floatActivationRange(checkActivation(options.activation));
  const threads = checkThreads(options.threads);
  const output = new Float32Array(batch * units);
  callNative((b) =>
    b.hybridFullyConnected(input, weights, weightScales, checkedBias, output, {
      batch,
      inputSize,
      units,
      asymmetric,
      activationMin,
      activationMax,
      threads,
    }),
  );
  return output;
}

/** BATCH_MATMUL of a float left-hand side by a constant int8 right-hand side (TFLite hybrid). */
export function hybridBatchMatMul(
  input: Float32Array,
  rhs: Int8Array,
  options: HybridBatchMatMulOptions,
): HybridResult {
  if (!(input instanceof Float32Array)) throw expected('a Float32Array', 'input', input);
  if (!(rhs instanceof Int8Array)) throw expected('an Int8Array', 'rhs', rhs);
  checkOptions(options);
  const inputShape = options.inputShape;
  if (!Array.isArray(inputShape) || inputShape.length < 2) {
    throw expected('an array of at least 2 dimensions', 'inputShape', inputShape);
  }
  checkShape(inputShape, 'inputShape', inputShape.length);
  const [r0, r1] = checkShape(options.rhsShape, 'rhsShape', 2) as [number, number];
  const adjY = checkBool(options.adjY, 'adjY');
  const [inputSize, units] = adjY ? [r1, r0] : [r0, r1];
  if (inputSize < 1 || units < 1) throw expected('non-zero dimensions', 'rhsShape', options.rhsShape);
  if (rhs.length !== inputSize * units) {
    throw new InvalidArgumentError(
      `Expected ${inputSize * units} rhs values for rhsShape [${r0}, ${r1}] but received ${rhs.length}`,
    );
  }
  if (inputShape[inputShape.length - 1] !== inputSize) {
    throw new InvalidArgumentError(
      `Expected the input's last dimension (${inputShape[inputShape.length - 1]}) to equal the rhs inner size (${inputSize})`,
    );
  }
  const rows = inputShape.slice(0, -1).reduce((a, d) => a * d, 1);
  if (input.length !== rows * inputSize) {
    throw new InvalidArgumentError(
      `Expected ${rows * inputSize} input values for inputShape [${inputShape.join(', ')}] but received ${input.length}`,
    );
  }
  const weightScales = checkScales(options.weightScale, 'weightScale', units);
  const asymmetric = checkBool(options.asymmetricQuantizeInputs, 'asymmetricQuantizeInputs');
  const threads = checkThreads(options.threads);
  // The kernels take the right-hand side as [units, inputSize] rows.
  let weights = rhs;
  if (!adjY) {
    weights = new Int8Array(rhs.length);
    for (let kk = 0; kk < inputSize; kk++) {
      for (let n = 0; n < units; n++) weights[n * inputSize + kk] = rhs[kk * units + n]!;
    }
  }
  const output = new Float32Array(rows * units);
  callNative((b) =>
    b.hybridBatchMatMul(input, weights, weightScales, output, { rows, inputSize, units, asymmetric, threads }),
  );
  return { output, shape: [...inputShape.slice(0, -1), units] };
}

/** CONV_2D with a float NHWC input and an int8 OHWI filter (TFLite's hybrid convolution). */
export function hybridConv2d(
  input: Float32Array,
  filter: Int8Array,
  bias: Float32Array | null,
  options: HybridConv2dOptions,
): HybridResult {
  if (!(input instanceof Float32Array)) throw expected('a Float32Array', 'input', input);
  if (!(filter instanceof Int8Array)) throw expected('an Int8Array', 'filter', filter);
  checkOptions(options);
  const { batch, height, width, channels, outC, kh, kw } = checkConv2dShapes(
    options.inputShape,
    options.filterShape,
    input.length,
    filter.length,
  );
  const padding = checkPadding(options.padding);
  const stride = checkPair(options.stride, 'stride', [1, 1]);
  const dilation = checkPair(options.dilation, 'dilation', [1, 1]);
  const geometry = conv2dGeometry(padding, [height, width], [kh, kw], stride, dilation);
  const checkedBias = checkBias(bias, outC);
  const weightScales = checkScales(options.weightScale, 'weightScale', outC);
  const [activationMin, activationMax] = floatActivationRange(checkActivation(options.activation));
  const threads = checkThreads(options.threads);
  const output = new Float32Array(batch * geometry.outputHeight * geometry.outputWidth * outC);
  callNative((b) =>
    b.hybridConv2d(input, filter, weightScales, checkedBias, output, {
      batch,
      inputHeight: height,
      inputWidth: width,
      inputChannels: channels,
      outputChannels: outC,
      filterHeight: kh,
      filterWidth: kw,
      strideHeight: stride[0],
      strideWidth: stride[1],
      dilationHeight: dilation[0],
      dilationWidth: dilation[1],
      padding,
      activationMin,
      activationMax,
      threads,
    }),
  );
  return { output, shape: [batch, geometry.outputHeight, geometry.outputWidth, outC] };
}
