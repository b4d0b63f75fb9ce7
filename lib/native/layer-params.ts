// Layer parameters shared by the int8, int16x8, float32 and hybrid wrappers: fused activations
// (TFLite's CalculateActivationRange / CalculateActivationRangeQuantized) and CONV_2D /
// DEPTHWISE_CONV_2D geometry (TFLite's ComputeOutSize and ComputePaddingWithOffset, as
// native/include/litequant/conv_geometry.h), each validated with messages that name the option
// and the value received.
import { InvalidArgumentError, expected } from '../errors.js';

/** The fused activations that are a clamp (TANH and SIGN_BIT are not supported here). */
export type FusedActivation = 'none' | 'relu' | 'relu-n1-to-1' | 'relu6';

const ACTIVATIONS: readonly FusedActivation[] = ['none', 'relu', 'relu-n1-to-1', 'relu6'];

export function checkActivation(value: unknown, param = 'activation'): FusedActivation {
  if (value === undefined) return 'none';
  if (typeof value !== 'string' || !(ACTIVATIONS as readonly string[]).includes(value)) {
    throw expected(`one of ${ACTIVATIONS.map((a) => `'${a}'`).join(', ')}`, param, value);
  }
  return value as FusedActivation;
}

/** The float clamp of an activation (CalculateActivationRange). */
export function floatActivationRange(activation: FusedActivation): [number, number] {
  switch (activation) {
    case 'relu':
      return [0, Infinity];
    case 'relu-n1-to-1':
      return [-1, 1];
    case 'relu6':
      return [0, 6];
    default:
      return [-Infinity, Infinity];
  }
}

/** TfLiteRound of float(f / scale): float division, halfway cases away from zero. */
function quantizeBound(f: number, scale: number, zeroPoint: number): number {
  const y = Math.fround(f / Math.fround(scale));
  return zeroPoint + Math.sign(y) * Math.round(Math.abs(y));
}

/**
 * The quantized clamp of an activation for an output with `scale` and `zeroPoint`
 * (CalculateActivationRangeQuantized), intersected with [qmin, qmax].
 */
export function quantizedActivationRange(
  activation: FusedActivation,
  scale: number,
  zeroPoint: number,
  qmin: number,
  qmax: number,
): [number, number] {
  switch (activation) {
    case 'relu':
      return [Math.max(qmin, quantizeBound(0, scale, zeroPoint)), qmax];
    case 'relu6':
      return [
        Math.max(qmin, quantizeBound(0, scale, zeroPoint)),
        Math.min(qmax, quantizeBound(6, scale, zeroPoint)),
      ];
    case 'relu-n1-to-1':
      return [
        Math.max(qmin, quantizeBound(-1, scale, zeroPoint)),
        Math.min(qmax, quantizeBound(1, scale, zeroPoint)),
      ];
    default:
      return [qmin, qmax];
  }
}

export type ConvPadding = 'same' | 'valid';

/** 'same' or 'valid'; `fallback` when absent (required when there is none). */
export function checkPadding(value: unknown, fallback?: ConvPadding): ConvPadding {
  if (value === undefined && fallback !== undefined) return fallback;
  if (value !== 'same' && value !== 'valid') throw expected("'same' or 'valid'", 'padding', value);
  return value;
}

export interface Conv2dGeometry {
  readonly outputHeight: number;
  readonly outputWidth: number;
  /** Padding before the first row / column (TFLite's padding_values); the rest goes after. */
  readonly padTop: number;
  readonly padLeft: number;
}

function dilatedSize(filter: number, dilation: number): number {
  return (filter - 1) * dilation + 1;
}

function outSize(padding: ConvPadding, input: number, filter: number, stride: number, dilation: number): number {
  return padding === 'same'
    ? Math.floor((input + stride - 1) / stride)
    : Math.floor((input + stride - dilatedSize(filter, dilation)) / stride);
}

function padBefore(input: number, filter: number, stride: number, dilation: number, out: number): number {
  const total = Math.max(0, (out - 1) * stride + dilatedSize(filter, dilation) - input);
  return Math.floor(total / 2);
}

/** Output size and padding of a CONV_2D / DEPTHWISE_CONV_2D, as TFLite computes them. */
export function conv2dGeometry(
  padding: ConvPadding,
  input: readonly [number, number],
  filter: readonly [number, number],
  stride: readonly [number, number],
  dilation: readonly [number, number],
): Conv2dGeometry {
  const outputHeight = outSize(padding, input[0], filter[0], stride[0], dilation[0]);
  const outputWidth = outSize(padding, input[1], filter[1], stride[1], dilation[1]);
  // Only VALID can come out empty: the input is smaller than the dilated filter.
  if (outputHeight <= 0 || outputWidth <= 0) {
    const dh = dilatedSize(filter[0], dilation[0]);
    const dw = dilatedSize(filter[1], dilation[1]);
    throw new InvalidArgumentError(
      `Expected a filter that fits the input with padding '${padding}' (an input of at least the dilated ` +
        `filter, ${dh}x${dw}) but received ${input[0]}x${input[1]} (filter ${filter[0]}x${filter[1]}, ` +
        `dilation ${dilation[0]}x${dilation[1]})`,
    );
  }
  return {
    outputHeight,
    outputWidth,
    padTop: padBefore(input[0], filter[0], stride[0], dilation[0], outputHeight),
    padLeft: padBefore(input[1], filter[1], stride[1], dilation[1], outputWidth),
  };
}

/** A [height, width] pair of positive integers (stride, dilation); `fallback` when absent. */
export function checkPair(value: unknown, param: string, fallback: [number, number]): [number, number] {
  if (value === undefined) return fallback;
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    !value.every((v) => Number.isInteger(v) && v >= 1 && v <= 2 ** 31)
  ) {
    throw expected('a [height, width] pair of positive integers', param, value);
  }
  return [value[0] as number, value[1] as number];
}

/** A shape of `rank` positive integers. */
export function checkShape(value: unknown, param: string, rank: number): number[] {
  if (
    !Array.isArray(value) ||
    value.length !== rank ||
    !value.every((v) => Number.isInteger(v) && v >= 0 && v <= 2 ** 31)
  ) {
    throw expected(`an array of ${rank} non-negative integers`, param, value);
  }
  return value as number[];
}

/** A finite number > 0 (a scale). */
export function checkScale(value: unknown, param: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !(value > 0)) {
    throw expected('a finite number > 0', param, value);
  }
  return value;
}

/** One scale or one per channel, as a Float32Array. */
export function checkScales(value: unknown, param: string, channels: number): Float32Array {
  const list =
    typeof value === 'number'
      ? [value]
      : value !== null && typeof value === 'object' && typeof (value as ArrayLike<number>).length === 'number'
        ? Array.from(value as ArrayLike<number>)
        : undefined;
  if (list === undefined) throw expected('a number or an array of numbers', param, value);
  if (list.length !== 1 && list.length !== channels) {
    throw new InvalidArgumentError(`Expected 1 or ${channels} values for ${param} but received ${list.length}`);
  }
  list.forEach((s, i) => checkScale(s, `${param}[${i}]`));
  return Float32Array.from(list);
}

/** A thread count in [1, 256]; 1 when absent. */
export function checkThreads(value: unknown): number {
  if (value === undefined) return 1;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 256) {
    throw expected('an integer between 1 and 256', 'threads', value);
  }
  return value as number;
}

export interface Conv2dShapes {
  readonly batch: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly outC: number;
  readonly kh: number;
  readonly kw: number;
}

/**
 * Checks an NHWC input shape and an OHWI filter shape against each other and against the
 * filter's length (layers are packed for an input shape; run() checks the input's length).
 */
export function checkConv2dShapes(inputShape: unknown, filterShape: unknown, filterLength: number): Conv2dShapes {
  const [batch, height, width, channels] = checkShape(inputShape, 'inputShape', 4) as [number, number, number, number];
  const [outC, kh, kw, filterC] = checkShape(filterShape, 'filterShape', 4) as [number, number, number, number];
  if (filterC !== channels) {
    throw new InvalidArgumentError(
      `Expected filterShape[3] (${filterC}) to equal the input channels inputShape[3] (${channels})`,
    );
  }
  if (height < 1 || width < 1 || channels < 1 || outC < 1 || kh < 1 || kw < 1) {
    throw expected('non-zero spatial, channel and filter dimensions', 'inputShape/filterShape', [
      ...(inputShape as number[]),
      ...(filterShape as number[]),
    ]);
  }
  if (filterLength !== outC * kh * kw * channels) {
    throw new InvalidArgumentError(
      `Expected ${outC * kh * kw * channels} filter values for filterShape [${(filterShape as number[]).join(', ')}] but received ${filterLength}`,
    );
  }
  return { batch, height, width, channels, outC, kh, kw };
}
