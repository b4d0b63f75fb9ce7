// int8 CONV_2D and DEPTHWISE_CONV_2D on the native kernels, NHWC as TFLite stores tensors:
// int8 activations (any zero point), symmetric int8 weights (per tensor or per output
// channel), int32 bias. A layer is packed once (weights, bias and requantization prepared for
// the selected instruction-set path) and then run any number of times on Int8Arrays; every
// path gives the same bytes.
import { InvalidArgumentError, expected } from '../errors.js';
import type { IsaPath, Qs8ConvHandle, Qs8ConvParams } from './binding.js';
import { callNative } from './index.js';
import {
  type ConvPadding,
  type FusedActivation,
  checkActivation,
  checkPair,
  checkScale,
  checkScales,
  checkShape,
  checkPadding,
  checkThreads,
  conv2dGeometry,
  quantizedActivationRange,
} from './layer-params.js';

export type { ConvPadding, FusedActivation } from './layer-params.js';

/**
 * How int32 sums become int8 outputs (both are used by the official runtime):
 * - 'fp32': XNNPACK's rule, what the TFLite runtime runs int8 CONV_2D and DEPTHWISE_CONV_2D
 *   with by default: acc * float(float(s_in * s_w) / s_out), rounded half to even.
 * - 'fixed-point': TFLite's builtin kernels: a Q31 multiplier and shift from the double
 *   s_in * s_w / s_out, with gemmlowp's rounding.
 */
export type Int8Requantization = 'fp32' | 'fixed-point';

export interface Int8ConvOptions {
  /** [batch, height, width, channels] of the NHWC input. */
  readonly inputShape: readonly number[];
  /**
   * CONV_2D: [outputChannels, filterHeight, filterWidth, inputChannels] (OHWI).
   * DEPTHWISE_CONV_2D: [1, filterHeight, filterWidth, channels * depthMultiplier].
   */
  readonly filterShape: readonly number[];
  readonly padding: ConvPadding;
  /** [height, width]; default [1, 1]. */
  readonly stride?: readonly [number, number];
  /** [height, width]; default [1, 1]. */
  readonly dilation?: readonly [number, number];
  readonly inputScale: number;
  /** Default 0; in [-128, 127]. */
  readonly inputZeroPoint?: number;
  /** One weight scale, or one per output channel (weights have zero point 0). */
  readonly weightScale: number | ArrayLike<number>;
  readonly outputScale: number;
  /** Default 0; in [-128, 127]. */
  readonly outputZeroPoint?: number;
  /** The fused activation, applied as TFLite's quantized clamp. Default 'none'. */
  readonly activation?: FusedActivation;
  /** Default 'fp32'. */
  readonly requantization?: Int8Requantization;
}

export interface Int8DepthwiseConvOptions extends Int8ConvOptions {
  /** filterShape[3] / channels when omitted; must agree with it when given. */
  readonly depthMultiplier?: number;
}

export interface Int8ConvRunOptions {
  /** Where to write the result (its length must be the output's); a new array otherwise. */
  readonly output?: Int8Array;
  /** Threads to split the work over (1..256). Default 1. */
  readonly threads?: number;
}

/** A packed int8 convolution, ready to run. */
export interface Int8ConvLayer {
  readonly kind: 'conv2d' | 'depthwise';
  readonly inputShape: readonly [number, number, number, number];
  readonly outputShape: readonly [number, number, number, number];
  /** Padding before the first row / column (TFLite's padding_values); the rest goes after. */
  readonly padTop: number;
  readonly padLeft: number;
  /** The instruction-set path and micro-kernel the layer was packed for. */
  readonly path: IsaPath;
  readonly kernel: string;
  /** Runs the layer on an NHWC int8 input of inputShape; returns the NHWC output. */
  run(input: Int8Array, options?: Int8ConvRunOptions): Int8Array;
}

function checkZeroPoint(value: unknown, param: string): number {
  if (value === undefined) return 0;
  if (!Number.isInteger(value) || (value as number) < -128 || (value as number) > 127) {
    throw expected('an integer between -128 and 127', param, value);
  }
  return value as number;
}

/** The real requantization scales the native layer takes, computed as each runtime does. */
function requantScales(
  rule: Int8Requantization,
  inputScale: number,
  weightScales: Float32Array,
  outputScale: number,
): Float64Array {
  const sIn = Math.fround(inputScale);
  const sOut = Math.fround(outputScale);
  return Float64Array.from(weightScales, (sW) =>
    rule === 'fp32'
      ? Math.fround(Math.fround(sIn * sW) / sOut) // float(float(s_in * s_w) / s_out)
      : (sIn * sW) / sOut, // in double, from the float tensor scales
  );
}

function pack(
  kind: 'conv2d' | 'depthwise',
  filter: Int8Array,
  bias: Int32Array | null,
  options: Int8DepthwiseConvOptions,
): Int8ConvLayer {
  if (!(filter instanceof Int8Array)) throw expected('an Int8Array', 'filter', filter);
  if (options === null || typeof options !== 'object') throw expected('an object', 'options', options);
  const [batch, height, width, channels] = checkShape(options.inputShape, 'inputShape', 4) as [
    number,
    number,
    number,
    number,
  ];
  const [f0, kh, kw, f3] = checkShape(options.filterShape, 'filterShape', 4) as [
    number,
    number,
    number,
    number,
  ];
  if (batch < 1 || height < 1 || width < 1 || channels < 1) {
    throw expected('positive dimensions', 'inputShape', options.inputShape);
  }
  if (f0 < 1 || kh < 1 || kw < 1 || f3 < 1) {
    throw expected('positive dimensions', 'filterShape', options.filterShape);
  }
  let outputChannels: number;
  let depthMultiplier = 1;
  if (kind === 'conv2d') {
    if (f3 !== channels) {
      throw new InvalidArgumentError(
        `Expected filterShape[3] (${f3}) to equal the input channels inputShape[3] (${channels})`,
      );
    }
    outputChannels = f0;
  } else {
    if (f0 !== 1) throw expected('1 (a [1, height, width, channels] filter)', 'filterShape[0]', f0);
    if (f3 % channels !== 0) {
      throw new InvalidArgumentError(
        `Expected filterShape[3] (${f3}) to be a multiple of the input channels inputShape[3] (${channels})`,
      );
    }
    depthMultiplier = f3 / channels;
    if (options.depthMultiplier !== undefined && options.depthMultiplier !== depthMultiplier) {
      throw expected(
        `${depthMultiplier} (filterShape[3] / inputShape[3])`,
        'depthMultiplier',
        options.depthMultiplier,
      );
    }
    outputChannels = f3;
  }
  if (filter.length !== f0 * kh * kw * f3) {
    throw new InvalidArgumentError(
      `Expected ${f0 * kh * kw * f3} filter values for filterShape [${options.filterShape.join(', ')}] but received ${filter.length}`,
    );
  }
  if (bias !== null && bias !== undefined) {
    if (!(bias instanceof Int32Array)) throw expected('an Int32Array or null', 'bias', bias);
    if (bias.length !== outputChannels) {
      throw new InvalidArgumentError(
        `Expected ${outputChannels} values for bias (one per output channel) but received ${bias.length}`,
      );
    }
  }
  const padding = checkPadding(options.padding);
  const stride = checkPair(options.stride, 'stride', [1, 1]);
  const dilation = checkPair(options.dilation, 'dilation', [1, 1]);
  conv2dGeometry(padding, [height, width], [kh, kw], stride, dilation); // throws when VALID does not fit
  const inputScale = checkScale(options.inputScale, 'inputScale');
  const weightScales = checkScales(options.weightScale, 'weightScale', outputChannels);
  const outputScale = checkScale(options.outputScale, 'outputScale');
  const inputZeroPoint = checkZeroPoint(options.inputZeroPoint, 'inputZeroPoint');
  const outputZeroPoint = checkZeroPoint(options.outputZeroPoint, 'outputZeroPoint');
  const activation = checkActivation(options.activation);
  const rule = options.requantization ?? 'fp32';
  if (rule !== 'fp32' && rule !== 'fixed-point') {
    throw expected("'fp32' or 'fixed-point'", 'requantization', rule);
  }
  const [qmin, qmax] = quantizedActivationRange(activation, outputScale, outputZeroPoint, -128, 127);
  const scales = requantScales(rule, inputScale, weightScales, outputScale);
  const params: Qs8ConvParams = {
    batch,
    inputHeight: height,
    inputWidth: width,
    inputChannels: channels,
    outputChannels,
    kernelHeight: kh,
    kernelWidth: kw,
    strideHeight: stride[0],
    strideWidth: stride[1],
    dilationHeight: dilation[0],
    dilationWidth: dilation[1],
    depthMultiplier,
    padding,
    inputZeroPoint,
    outputZeroPoint,
    qmin,
    qmax,
    requant: rule,
  };
  const handle: Qs8ConvHandle = callNative((b) => b.qs8ConvPack(kind, filter, bias ?? null, scales, params));
  const info = callNative((b) => b.qs8ConvInfo(handle));
  const inputSize = info.inputSize;
  const outputSize = info.outputSize;
  return {
    kind,
    inputShape: [batch, height, width, channels],
    outputShape: [batch, info.outputHeight, info.outputWidth, outputChannels],
    padTop: info.padTop,
    padLeft: info.padLeft,
    path: info.path,
    kernel: info.kernel,
    run(input: Int8Array, runOptions?: Int8ConvRunOptions): Int8Array {
      if (!(input instanceof Int8Array)) throw expected('an Int8Array', 'input', input);
      if (input.length !== inputSize) {
        throw new InvalidArgumentError(
          `Expected ${inputSize} input values (inputShape [${batch}, ${height}, ${width}, ${channels}]) but received ${input.length}`,
        );
      }
      let output: Int8Array;
      let threads = 1;
      if (runOptions === undefined) {
        output = new Int8Array(outputSize);
      } else {
        if (runOptions === null || typeof runOptions !== 'object') {
          throw expected('an object', 'options', runOptions);
        }
        threads = checkThreads(runOptions.threads);
        if (runOptions.output === undefined) {
          output = new Int8Array(outputSize);
        } else {
          output = runOptions.output;
          if (!(output instanceof Int8Array)) throw expected('an Int8Array', 'output', output);
          if (output.length !== outputSize) {
            throw new InvalidArgumentError(
              `Expected ${outputSize} values for output but received ${output.length}`,
            );
          }
        }
      }
      callNative((b) => b.qs8ConvRun(handle, input, output, threads));
      return output;
    },
  };
}

/**
 * Packs an int8 CONV_2D: out = requantize(bias[o] + sum over the taps inside the image of
 * (input - inputZeroPoint) * filter[o][ky][kx][i]), with TFLite's SAME/VALID rules.
 */
export function packInt8Conv2d(
  filter: Int8Array,
  bias: Int32Array | null,
  options: Int8ConvOptions,
): Int8ConvLayer {
  return pack('conv2d', filter, bias, options);
}

/**
 * Packs an int8 DEPTHWISE_CONV_2D: output channel c * depthMultiplier + m reads input channel c
 * through filter[0][ky][kx][c * depthMultiplier + m].
 */
export function packInt8DepthwiseConv2d(
  filter: Int8Array,
  bias: Int32Array | null,
  options: Int8DepthwiseConvOptions,
): Int8ConvLayer {
  return pack('depthwise', filter, bias, options);
}
