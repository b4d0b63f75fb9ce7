// float32 FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D on the native kernels, with TFLite's
// semantics (NHWC, OHWI / [1, KH, KW, C*M] filters, SAME/VALID padding, fused activation clamp).
// Weights can be packed once (packFullyConnectedWeights, packConv2dFilter, packDepthwiseFilter)
// and reused; passing a plain Float32Array packs it for that call.
//
// Numerics: every output is bias + sum of products in a fixed order; optimized paths fuse
// multiply and add, so they differ from the reference path by at most
// 2 * gamma(K+1) * (|bias| + sum |x * w|) (see native/include/litequant/f32_gemm.h).
import { InvalidArgumentError, expected } from '../errors.js';
import type { IsaPath } from './binding.js';
import { callNative } from './index.js';
import {
  checkActivation,
  checkPadding,
  checkPair,
  checkShape,
  checkThreads,
  conv2dGeometry,
  type ConvPadding,
  type FusedActivation,
} from './layer-params.js';

export type { ConvPadding, FusedActivation } from './layer-params.js';

const MAX_DIM = 2 ** 31;

/** FULLY_CONNECTED weights [units, inputSize] packed for one instruction-set path. */
export interface PackedFullyConnectedWeights {
  readonly kind: 'fully-connected';
  readonly units: number;
  readonly inputSize: number;
  /** The path whose kernels the packing is laid out for. */
  readonly path: IsaPath;
}

/** A CONV_2D filter [outputChannels, filterHeight, filterWidth, inputChannels], packed. */
export interface PackedConv2dFilter {
  readonly kind: 'conv2d';
  readonly shape: readonly [number, number, number, number];
  readonly path: IsaPath;
}

/** A DEPTHWISE_CONV_2D filter [1, filterHeight, filterWidth, channels], packed. */
export interface PackedDepthwiseFilter {
  readonly kind: 'depthwise';
  readonly shape: readonly [1, number, number, number];
  readonly path: IsaPath;
}

// The native handles, reachable only from this module.
const handles = new WeakMap<object, unknown>();

function handleOf(value: object): unknown {
  return handles.get(value);
}

function checkFloat32(value: unknown, param: string): Float32Array {
  if (!(value instanceof Float32Array)) throw expected('a Float32Array', param, value);
  return value;
}

function checkBias(value: unknown, length: number): Float32Array | null {
  if (value === undefined || value === null) return null;
  if (!(value instanceof Float32Array)) throw expected('a Float32Array or null', 'bias', value);
  if (value.length !== length) {
    throw new InvalidArgumentError(`Expected ${length} values for bias but received ${value.length}`);
  }
  return value;
}

function checkPositiveShape(value: unknown, param: string, rank: number): number[] {
  const shape = checkShape(value, param, rank);
  if (!shape.every((d) => d >= 1)) throw expected(`an array of ${rank} positive integers`, param, value);
  return shape;
}

function checkLength(values: Float32Array, want: number, param: string, shape: readonly number[]): void {
  if (values.length !== want) {
    throw new InvalidArgumentError(
      `Expected ${want} elements for ${param} of shape [${shape.join(', ')}] but received ${values.length}`,
    );
  }
}

/** Packs FULLY_CONNECTED weights [units, inputSize] (and an optional bias [units]) once. */
export function packFullyConnectedWeights(
  weights: Float32Array,
  shape: readonly [number, number],
  bias?: Float32Array | null,
): PackedFullyConnectedWeights {
  checkFloat32(weights, 'weights');
  const [units, inputSize] = checkShape(shape, 'shape', 2) as [number, number];
  if (units < 1) throw expected('at least 1 unit', 'shape[0]', units);
  // The batch is input.length / inputSize, so an empty input row could not be counted.
  if (inputSize < 1) throw expected('at least 1 input', 'shape[1]', inputSize);
  checkLength(weights, units * inputSize, 'weights', [units, inputSize]);
  const b = checkBias(bias, units);
  const packed = callNative((n) => n.f32GemmPack(weights, b, { units, inputSize }));
  const result: PackedFullyConnectedWeights = Object.freeze({
    kind: 'fully-connected' as const,
    units,
    inputSize,
    path: packed.path,
  });
  handles.set(result, packed.handle);
  return result;
}

export interface FullyConnectedOptions {
  /** [units, inputSize]; required when `weights` is a Float32Array. */
  readonly weightsShape?: readonly [number, number];
  /** [units]; only with unpacked weights (packed weights carry their bias). */
  readonly bias?: Float32Array | null;
  readonly activation?: FusedActivation;
  /** Threads to run on (1 to 256, default 1); the result is the same for every count. */
  readonly threads?: number;
}

function fullyConnectedWeights(
  weights: Float32Array | PackedFullyConnectedWeights,
  options: FullyConnectedOptions,
): PackedFullyConnectedWeights {
  if (weights instanceof Float32Array) {
    if (options.weightsShape === undefined) {
      throw expected('[units, inputSize] (required with unpacked weights)', 'weightsShape', undefined);
    }
    return packFullyConnectedWeights(weights, options.weightsShape, options.bias);
  }
  if (weights === null || typeof weights !== 'object' || handleOf(weights) === undefined ||
      weights.kind !== 'fully-connected') {
    throw expected('a Float32Array or weights from packFullyConnectedWeights', 'weights', weights);
  }
  if (options.bias !== undefined && options.bias !== null) {
    throw new InvalidArgumentError('Expected no bias option with packed weights (they carry their bias)');
  }
  return weights;
}

/**
 * FULLY_CONNECTED / BATCH_MATMUL: output[b][u] = act(bias[u] + sum_i input[b][i] * W[u][i]).
 * input holds batch * inputSize values; returns batch * units values.
 */
export function fullyConnected(
  input: Float32Array,
  weights: Float32Array | PackedFullyConnectedWeights,
  options: FullyConnectedOptions = {},
): Float32Array {
  checkFloat32(input, 'input');
  if (options === null || typeof options !== 'object') throw expected('an object', 'options', options);
  const activation = checkActivation(options.activation);
  const threads = checkThreads(options.threads);
  const w = fullyConnectedWeights(weights, options);
  const batch = input.length / w.inputSize;
  if (!Number.isInteger(batch)) {
    throw new InvalidArgumentError(
      `Expected a multiple of inputSize ${w.inputSize} elements for input but received ${input.length}`,
    );
  }
  const output = new Float32Array(batch * w.units);
  callNative((n) => n.f32Gemm(handleOf(w), input, output, { batch, activation, threads }));
  return output;
}

/** Packs a CONV_2D filter [outputChannels, filterHeight, filterWidth, inputChannels] once. */
export function packConv2dFilter(
  filter: Float32Array,
  shape: readonly [number, number, number, number],
  bias?: Float32Array | null,
): PackedConv2dFilter {
  checkFloat32(filter, 'filter');
  const s = checkPositiveShape(shape, 'filterShape', 4) as [number, number, number, number];
  checkLength(filter, s[0] * s[1] * s[2] * s[3], 'filter', s);
  const b = checkBias(bias, s[0]);
  const packed = callNative((n) =>
    n.f32GemmPack(filter, b, { units: s[0], inputSize: s[1] * s[2] * s[3] }),
  );
  const result: PackedConv2dFilter = Object.freeze({
    kind: 'conv2d' as const,
    shape: Object.freeze([...s]) as unknown as readonly [number, number, number, number],
    path: packed.path,
  });
  handles.set(result, packed.handle);
  return result;
}

/** Packs a DEPTHWISE_CONV_2D filter [1, filterHeight, filterWidth, channels] once. */
export function packDepthwiseFilter(
  filter: Float32Array,
  shape: readonly [1, number, number, number],
  bias?: Float32Array | null,
): PackedDepthwiseFilter {
  checkFloat32(filter, 'filter');
  const s = checkPositiveShape(shape, 'filterShape', 4);
  if (s[0] !== 1) throw expected('1 (filters are [1, KH, KW, C])', 'filterShape[0]', s[0]);
  const [, kh, kw, channels] = s as [1, number, number, number];
  checkLength(filter, kh * kw * channels, 'filter', s);
  const b = checkBias(bias, channels);
  const packed = callNative((n) =>
    n.f32DepthwisePack(filter, b, { filterHeight: kh, filterWidth: kw, channels }),
  );
  const result: PackedDepthwiseFilter = Object.freeze({
    kind: 'depthwise' as const,
    shape: Object.freeze([1, kh, kw, channels]) as unknown as readonly [1, number, number, number],
    path: packed.path,
  });
  handles.set(result, packed.handle);
  return result;
}

export interface ConvOptions {
  /** The filter's shape; required when the filter is a Float32Array. */
  readonly filterShape?: readonly number[];
  /** One value per output channel; only with unpacked filters. */
  readonly bias?: Float32Array | null;
  /** [height, width], default [1, 1]. */
  readonly strides?: readonly [number, number];
  /** [height, width], default [1, 1]. */
  readonly dilations?: readonly [number, number];
  /** TFLite's padding rule, default 'valid'. */
  readonly padding?: ConvPadding;
  readonly activation?: FusedActivation;
  readonly threads?: number;
}

export interface DepthwiseConvOptions extends ConvOptions {
  /** Output channels per input channel; derived from the filter when absent. */
  readonly depthMultiplier?: number;
}

export interface ConvResult {
  readonly output: Float32Array;
  /** [batch, outputHeight, outputWidth, outputChannels] */
  readonly shape: readonly [number, number, number, number];
}

interface ConvCommon {
  readonly batch: number;
  readonly inputHeight: number;
  readonly inputWidth: number;
  readonly inputChannels: number;
  readonly strides: [number, number];
  readonly dilations: [number, number];
  readonly padding: ConvPadding;
  readonly activation: FusedActivation;
  readonly threads: number;
}

function convCommon(input: Float32Array, inputShape: readonly number[], options: ConvOptions): ConvCommon {
  checkFloat32(input, 'input');
  if (options === null || typeof options !== 'object') throw expected('an object', 'options', options);
  const [batch, inputHeight, inputWidth, inputChannels] = checkShape(inputShape, 'inputShape', 4) as [
    number,
    number,
    number,
    number,
  ];
  if (inputHeight < 1 || inputWidth < 1 || inputChannels < 1) {
    throw expected(
      '[batch, height, width, channels] with positive height, width and channels',
      'inputShape',
      inputShape,
    );
  }
  checkLength(input, batch * inputHeight * inputWidth * inputChannels, 'input', inputShape);
  return {
    batch,
    inputHeight,
    inputWidth,
    inputChannels,
    strides: checkPair(options.strides, 'strides', [1, 1]),
    dilations: checkPair(options.dilations, 'dilations', [1, 1]),
    padding: checkPadding(options.padding, 'valid'),
    activation: checkActivation(options.activation),
    threads: checkThreads(options.threads),
  };
}

function nativeGeometry(c: ConvCommon) {
  return {
    batch: c.batch,
    inputHeight: c.inputHeight,
    inputWidth: c.inputWidth,
    inputChannels: c.inputChannels,
    strideHeight: c.strides[0],
    strideWidth: c.strides[1],
    dilationHeight: c.dilations[0],
    dilationWidth: c.dilations[1],
    padding: c.padding,
    activation: c.activation,
    threads: c.threads,
  };
}

function isPacked(value: unknown, kind: string): boolean {
  return value !== null && typeof value === 'object' && handleOf(value) !== undefined &&
    (value as { kind?: unknown }).kind === kind;
}

/** CONV_2D on an NHWC input [batch, height, width, channels] with an OHWI filter. */
export function conv2d(
  input: Float32Array,
  inputShape: readonly number[],
  filter: Float32Array | PackedConv2dFilter,
  options: ConvOptions = {},
): ConvResult {
  const c = convCommon(input, inputShape, options);
  let packed: PackedConv2dFilter;
  if (filter instanceof Float32Array) {
    if (options.filterShape === undefined) {
      throw expected(
        '[outputChannels, filterHeight, filterWidth, inputChannels] (required with an unpacked filter)',
        'filterShape',
        undefined,
      );
    }
    packed = packConv2dFilter(filter, options.filterShape as [number, number, number, number], options.bias);
  } else {
    if (!isPacked(filter, 'conv2d')) {
      throw expected('a Float32Array or a filter from packConv2dFilter', 'filter', filter);
    }
    if (options.bias !== undefined && options.bias !== null) {
      throw new InvalidArgumentError('Expected no bias option with a packed filter (it carries its bias)');
    }
    packed = filter;
  }
  const [outChannels, kh, kw, inChannels] = packed.shape;
  if (inChannels !== c.inputChannels) {
    throw new InvalidArgumentError(
      `Expected the filter's ${inChannels} input channels to match the input's ${c.inputChannels}`,
    );
  }
  const g = conv2dGeometry(c.padding, [c.inputHeight, c.inputWidth], [kh, kw], c.strides, c.dilations);
  const output = new Float32Array(c.batch * g.outputHeight * g.outputWidth * outChannels);
  callNative((n) =>
    n.f32Conv2d(handleOf(packed), input, output, { ...nativeGeometry(c), filterHeight: kh, filterWidth: kw }),
  );
  return { output, shape: [c.batch, g.outputHeight, g.outputWidth, outChannels] };
}

/** DEPTHWISE_CONV_2D on an NHWC input with a [1, KH, KW, channels * depthMultiplier] filter. */
export function depthwiseConv2d(
  input: Float32Array,
  inputShape: readonly number[],
  filter: Float32Array | PackedDepthwiseFilter,
  options: DepthwiseConvOptions = {},
): ConvResult {
  const c = convCommon(input, inputShape, options);
  let packed: PackedDepthwiseFilter;
  if (filter instanceof Float32Array) {
    if (options.filterShape === undefined) {
      throw expected(
        '[1, filterHeight, filterWidth, channels] (required with an unpacked filter)',
        'filterShape',
        undefined,
      );
    }
    packed = packDepthwiseFilter(filter, options.filterShape as [1, number, number, number], options.bias);
  } else {
    if (!isPacked(filter, 'depthwise')) {
      throw expected('a Float32Array or a filter from packDepthwiseFilter', 'filter', filter);
    }
    if (options.bias !== undefined && options.bias !== null) {
      throw new InvalidArgumentError('Expected no bias option with a packed filter (it carries its bias)');
    }
    packed = filter;
  }
  const [, kh, kw, channels] = packed.shape;
  const derived = channels / c.inputChannels;
  if (!Number.isInteger(derived)) {
    throw new InvalidArgumentError(
      `Expected the filter's ${channels} channels to be a multiple of the input's ${c.inputChannels}`,
    );
  }
  const depthMultiplier = options.depthMultiplier ?? derived;
  if (!Number.isInteger(depthMultiplier) || depthMultiplier < 1 || depthMultiplier > MAX_DIM) {
    throw expected('a positive integer', 'depthMultiplier', options.depthMultiplier);
  }
  if (depthMultiplier !== derived) {
    throw new InvalidArgumentError(
      `Expected depthMultiplier ${derived} (filter channels ${channels} / input channels ` +
        `${c.inputChannels}) but received ${depthMultiplier}`,
    );
  }
  const g = conv2dGeometry(c.padding, [c.inputHeight, c.inputWidth], [kh, kw], c.strides, c.dilations);
  const output = new Float32Array(c.batch * g.outputHeight * g.outputWidth * channels);
  callNative((n) =>
    n.f32DepthwiseConv2d(handleOf(packed), input, output, { ...nativeGeometry(c), depthMultiplier }),
  );
  return { output, shape: [c.batch, g.outputHeight, g.outputWidth, channels] };
}
