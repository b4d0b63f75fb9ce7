// Affine quantization of float32 buffers to int8 and back, per tensor or per
// channel, on the native kernels. Rounding follows TFLite: q = clamp(round(x / s) + zp)
// with halfway cases away from zero, using x * float(1 / s) as TFLite's tools do.
import { InvalidArgumentError, expected } from '../errors.js';
import { callNative, native } from './index.js';

export interface AffineParams {
  /** One scale (per tensor) or one per channel along `axis`; finite and > 0. */
  readonly scale: number | ArrayLike<number>;
  /** One zero point or one per channel; defaults to 0. */
  readonly zeroPoint?: number | ArrayLike<number>;
  /** The quantized dimension for per-channel parameters (negative counts from the end). */
  readonly axis?: number;
  /** The tensor's shape; required with `axis`, and its element count must match the data. */
  readonly shape?: readonly number[];
}

export interface Int8Range {
  /** Smallest quantized value: -128 for activations, -127 for symmetric weights. */
  readonly qmin?: number;
  readonly qmax?: number;
}

interface Layout {
  readonly outer: number;
  readonly channels: number;
  readonly inner: number;
  readonly scales: Float32Array;
  readonly zeroPoints: Int32Array;
}

function toList(value: number | ArrayLike<number>, param: string): number[] {
  if (typeof value === 'number') return [value];
  if (value !== null && typeof value === 'object' && typeof value.length === 'number') {
    return Array.from(value);
  }
  throw expected('a number or an array of numbers', param, value);
}

function layoutOf(length: number, params: AffineParams): Layout {
  if (params === null || typeof params !== 'object') throw expected('an object', 'params', params);
  const scales = toList(params.scale, 'scale');
  const zeroPoints = toList(params.zeroPoint ?? 0, 'zeroPoint');
  let outer = 1;
  let channels = 1;
  let inner = length;
  if (params.axis !== undefined) {
    const shape = params.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw expected('an array of non-negative integers (required with axis)', 'shape', shape);
    }
    const rank = shape.length;
    if (!Number.isInteger(params.axis) || params.axis < -rank || params.axis >= rank) {
      throw expected(`an integer axis in [${-rank}, ${rank - 1}]`, 'axis', params.axis);
    }
    const axis = params.axis < 0 ? params.axis + rank : params.axis;
    outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
    channels = shape[axis] ?? 1;
    inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    if (outer * channels * inner !== length) {
      throw new InvalidArgumentError(
        `Expected ${outer * channels * inner} elements for shape [${shape.join(', ')}] but the data has ${length}`,
      );
    }
  }
  if (channels === 0) {
    channels = 1; // an empty tensor: nothing to quantize
    outer = 0;
  }
  if (scales.length !== 1 && scales.length !== channels) {
    throw new InvalidArgumentError(
      `Expected 1 or ${channels} scales (one per channel along axis) but received ${scales.length}`,
    );
  }
  if (zeroPoints.length !== 1 && zeroPoints.length !== channels) {
    throw new InvalidArgumentError(
      `Expected 1 or ${channels} zero points but received ${zeroPoints.length}`,
    );
  }
  scales.forEach((s, i) => {
    if (!(Number.isFinite(s) && s > 0)) throw expected('a finite positive number', `scale[${i}]`, s);
  });
  zeroPoints.forEach((z, i) => {
    if (!Number.isInteger(z)) throw expected('an integer', `zeroPoint[${i}]`, z);
  });
  const fill = (list: number[]) => (list.length === 1 ? new Array<number>(channels).fill(list[0] ?? 0) : list);
  return {
    outer,
    channels,
    inner,
    scales: Float32Array.from(fill(scales)),
    zeroPoints: Int32Array.from(fill(zeroPoints)),
  };
}

/** Quantizes float32 values to int8 with TFLite's rounding. */
export function quantizeTensor(values: Float32Array, params: AffineParams & Int8Range): Int8Array {
  if (!(values instanceof Float32Array)) throw expected('a Float32Array', 'values', values);
  const l = layoutOf(values.length, params);
  const qmin = params.qmin ?? -128;
  const qmax = params.qmax ?? 127;
  if (!Number.isInteger(qmin) || qmin < -128 || qmin > 127) {
    throw expected('an integer in [-128, 127]', 'qmin', qmin);
  }
  if (!Number.isInteger(qmax) || qmax < qmin || qmax > 127) {
    throw expected(`an integer in [${qmin}, 127]`, 'qmax', qmax);
  }
  l.zeroPoints.forEach((z, i) => {
    if (z < qmin || z > qmax) throw expected(`an integer in [${qmin}, ${qmax}]`, `zeroPoint[${i}]`, z);
  });
  const out = new Int8Array(values.length);
  callNative((b) =>
    b.quantizeInt8(values, out, l.scales, l.zeroPoints, l.outer, l.channels, l.inner, qmin, qmax),
  );
  return out;
}

/** Dequantizes int8 values: scale * (q - zeroPoint), rounded once to float32. */
export function dequantizeTensor(values: Int8Array, params: AffineParams): Float32Array {
  if (!(values instanceof Int8Array)) throw expected('an Int8Array', 'values', values);
  const l = layoutOf(values.length, params);
  l.zeroPoints.forEach((z, i) => {
    if (z < -128 || z > 127) throw expected('an integer in [-128, 127]', `zeroPoint[${i}]`, z);
  });
  const out = new Float32Array(values.length);
  callNative((b) =>
    b.dequantizeInt8(values, out, l.scales, l.zeroPoints, l.outer, l.channels, l.inner),
  );
  return out;
}

/**
 * The runtime's QUANTIZE and DEQUANTIZE between float32 and int8, per tensor, into preallocated
 * arrays (parameters checked once, here). QUANTIZE rounds halves to even (XNNPACK's f32->qs8
 * convert, what the official runtime computes), unlike quantizeTensor's TFLite-tools rule.
 */
export function int8Converters(scale: number, zeroPoint: number): {
  quantize: (x: Float32Array, out: Int8Array) => void;
  dequantize: (q: Int8Array, out: Float32Array) => void;
} {
  const scales = Float32Array.of(scale);
  if (!(scales[0]! > 0 && Number.isFinite(scales[0]!))) throw expected('a finite positive float32', 'scale', scale);
  if (!Number.isInteger(zeroPoint) || zeroPoint < -128 || zeroPoint > 127) throw expected('an integer in [-128, 127]', 'zeroPoint', zeroPoint);
  const zeroPoints = Int32Array.of(zeroPoint);
  const b = native();
  return {
    quantize: (x, out) => b.quantizeInt8HalfEven(x, out, scales, zeroPoint),
    dequantize: (q, out) => b.dequantizeInt8(q, out, scales, zeroPoints, 1, 1, q.length),
  };
}
