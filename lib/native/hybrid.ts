// Hybrid (dynamic-range) layers on the native kernels, as TFLite's builtin kernels compute them:
// float inputs quantized to int8 on the fly per row (per batch image for CONV_2D), int8
// weights with per-tensor or per-channel scales, int32 sums, float outputs. Every native path
// gives the same bits; against TFLite the outputs agree to float rounding (see
// native/include/litequant/hybrid.h for the exact rules and native/test/hybrid_test.cc for the
// tolerance against unquantized float math).
//
// A layer is packed once (weights for the int8 GEMM of the instruction-set path selected at that
// moment, column sums, scales, bias, options); run() is the hot call: it checks its arrays and
// writes into `output` when one is given (no JS allocation; the native side uses
// small scratch buffers).
import { InvalidArgumentError, expected } from '../errors.js';
import type { HybridHandle, HybridPackParams, IsaPath } from './binding.js';
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
  /** Threads each run() splits its work over (1..256). Default 1. */
  readonly threads?: number;
}

export interface HybridFullyConnectedOptions extends CommonOptions {
  /** The op's asymmetric_quantize_inputs: per-row zero points instead of symmetric rows. */
  readonly asymmetricQuantizeInputs?: boolean;
  /** Default 'none'. */
  readonly activation?: FusedActivation;
}

export interface HybridBatchMatMulOptions extends CommonOptions {
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

/**
 * A packed hybrid FULLY_CONNECTED or BATCH_MATMUL (constant right-hand side): rows of inputSize
 * floats in, rows of units floats out.
 */
export interface HybridGemmLayer {
  readonly kind: 'fully-connected' | 'batch-matmul';
  readonly units: number;
  readonly inputSize: number;
  /** The instruction-set path and int8 GEMM micro-kernel the layer was packed for. */
  readonly path: IsaPath;
  readonly kernel: string;
  /**
   * input holds any number of rows of inputSize (every batch dimension flattened); the result
   * (or `output`, when given: exactly rows * units values) holds the rows of units.
   */
  run(input: Float32Array, output?: Float32Array): Float32Array;
}

/** A packed hybrid CONV_2D for one input shape. */
export interface HybridConv2dLayer {
  readonly inputShape: readonly [number, number, number, number];
  /** [batch, outputHeight, outputWidth, outputChannels]. */
  readonly outputShape: readonly [number, number, number, number];
  readonly path: IsaPath;
  readonly kernel: string;
  /** NHWC input of inputShape in; the NHWC output (or `output`, when given, filled). */
  run(input: Float32Array, output?: Float32Array): Float32Array;
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

function checkOutput(output: unknown, length: number): Float32Array {
  if (output === undefined) return new Float32Array(length);
  if (!(output instanceof Float32Array)) throw expected('a Float32Array', 'output', output);
  if (output.length !== length) {
    throw new InvalidArgumentError(`Expected ${length} values for output but received ${output.length}`);
  }
  return output;
}

function pack(
  kind: 'fully-connected' | 'batch-matmul' | 'conv2d',
  weights: Int8Array,
  weightScales: Float32Array,
  bias: Float32Array | null,
  params: HybridPackParams,
): HybridHandle {
  return callNative((b) => b.hybridPack(kind, weights, weightScales, bias, params));
}

function gemmLayer(
  kind: 'fully-connected' | 'batch-matmul',
  handle: HybridHandle,
  threads: number,
): HybridGemmLayer {
  const info = callNative((b) => b.hybridInfo(handle));
  const { units, inputSize } = info;
  return {
    kind,
    units,
    inputSize,
    path: info.path,
    kernel: info.kernel,
    run(input: Float32Array, output?: Float32Array): Float32Array {
      if (!(input instanceof Float32Array)) throw expected('a Float32Array', 'input', input);
      const rows = input.length / inputSize;
      if (!Number.isInteger(rows)) {
        throw new InvalidArgumentError(`Expected input of rows * ${inputSize} values but received ${input.length}`);
      }
      const y = checkOutput(output, rows * units);
      callNative((b) => b.hybridRun(handle, input, y, threads));
      return y;
    },
  };
}

/**
 * Packs a FULLY_CONNECTED with int8 weights [units, inputSize]; run() takes float rows of
 * inputSize: output[b][n] = act(bias[n] + float(acc - offset_b * colsum[n]) * s_b * s_w[n]).
 */
export function packHybridFullyConnected(
  weights: Int8Array,
  bias: Float32Array | null,
  units: number,
  options: HybridFullyConnectedOptions,
): HybridGemmLayer {
  if (!(weights instanceof Int8Array)) throw expected('an Int8Array', 'weights', weights);
  if (!Number.isInteger(units) || units < 1) throw expected('a positive integer', 'units', units);
  checkOptions(options);
  if (weights.length === 0 || weights.length % units !== 0) {
    throw new InvalidArgumentError(
      `Expected weights of units * inputSize values but received ${weights.length} for ${units} units`,
    );
  }
  const inputSize = weights.length / units;
  const checkedBias = checkBias(bias, units);
  const weightScales = checkScales(options.weightScale, 'weightScale', units);
  const asymmetric = checkBool(options.asymmetricQuantizeInputs, 'asymmetricQuantizeInputs');
  const [activationMin, activationMax] = floatActivationRange(checkActivation(options.activation));
  const threads = checkThreads(options.threads);
  const handle = pack('fully-connected', weights, weightScales, checkedBias, {
    inputSize,
    units,
    asymmetric,
    activationMin,
    activationMax,
  });
  return gemmLayer('fully-connected', handle, threads);
}

/**
 * Packs a BATCH_MATMUL of a float left-hand side by a constant int8 right-hand side (TFLite
 * hybrid, no bias or activation); run() takes the left-hand side's rows of inputSize.
 */
export function packHybridBatchMatMul(rhs: Int8Array, options: HybridBatchMatMulOptions): HybridGemmLayer {
  if (!(rhs instanceof Int8Array)) throw expected('an Int8Array', 'rhs', rhs);
  checkOptions(options);
  const [r0, r1] = checkShape(options.rhsShape, 'rhsShape', 2) as [number, number];
  const adjY = checkBool(options.adjY, 'adjY');
  const [inputSize, units] = adjY ? [r1, r0] : [r0, r1];
  if (inputSize < 1 || units < 1) throw expected('non-zero dimensions', 'rhsShape', options.rhsShape);
  if (rhs.length !== inputSize * units) {
    throw new InvalidArgumentError(
      `Expected ${inputSize * units} rhs values for rhsShape [${r0}, ${r1}] but received ${rhs.length}`,
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
  const handle = pack('batch-matmul', weights, weightScales, null, { inputSize, units, asymmetric });
  return gemmLayer('batch-matmul', handle, threads);
}

/** Packs a CONV_2D with a float NHWC input and an int8 OHWI filter (TFLite's hybrid convolution). */
export function packHybridConv2d(
  filter: Int8Array,
  bias: Float32Array | null,
  options: HybridConv2dOptions,
): HybridConv2dLayer {
  if (!(filter instanceof Int8Array)) throw expected('an Int8Array', 'filter', filter);
  checkOptions(options);
  const { batch, height, width, channels, outC, kh, kw } = checkConv2dShapes(
    options.inputShape,
    options.filterShape,
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
  const handle = pack('conv2d', filter, weightScales, checkedBias, {
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
  });
  const info = callNative((b) => b.hybridInfo(handle));
  const inputShape = [batch, height, width, channels] as const;
  const { inputLength, outputLength } = info;
  return {
    inputShape,
    outputShape: [batch, geometry.outputHeight, geometry.outputWidth, outC],
    path: info.path,
    kernel: info.kernel,
    run(input: Float32Array, output?: Float32Array): Float32Array {
      if (!(input instanceof Float32Array)) throw expected('a Float32Array', 'input', input);
      if (input.length !== inputLength) {
        throw new InvalidArgumentError(
          `Expected ${inputLength} input values for inputShape [${inputShape.join(', ')}] but received ${input.length}`,
        );
      }
      const y = checkOutput(output, outputLength);
      callNative((b) => b.hybridRun(handle, input, y, threads));
      return y;
    },
  };
}
