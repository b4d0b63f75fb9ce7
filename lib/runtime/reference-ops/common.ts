// Types and small helpers shared by the reference ops: tensors as typed arrays with a shape and
// (for quantized ones) per-tensor parameters, fused activations, broadcasting.
import { ActivationFunctionType } from '../../tflite/schema.js';
import { clamp, f32, roundHalfAway, roundHalfEven, typeRange } from './fixed-point.js';

export type QuantizedArray = Int8Array | Int16Array;
export type QuantizedDtype = 'int8' | 'int16';

/** Per-tensor affine parameters: real = scale * (q - zeroPoint). */
export interface QuantParams {
  readonly scale: number;
  readonly zeroPoint: number;
}

export interface Tensor<T> {
  readonly data: T;
  readonly shape: readonly number[];
}

export interface QuantizedTensor<T extends QuantizedArray = QuantizedArray> extends Tensor<T>, QuantParams {}

/**
 * Which of the official runtime's implementations to reproduce. 'auto' picks the one the
 * official runtime (TFLite with its default XNNPACK delegate) runs for these parameters.
 */
export type KernelChoice = 'auto' | 'xnnpack' | 'builtin';

export function dtypeOf(data: QuantizedArray): QuantizedDtype {
  return data instanceof Int8Array ? 'int8' : 'int16';
}

export function allocLike<T extends QuantizedArray>(like: T, length: number): T {
  return (like instanceof Int8Array ? new Int8Array(length) : new Int16Array(length)) as T;
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i] ?? 1;
  }
  return strides;
}

/** NumPy-style broadcast of two shapes (as TFLite's CalculateShapeForBroadcast). */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(`Expected broadcastable shapes but received [${a.join(', ')}] and [${b.join(', ')}]`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** For each element of the broadcast output, the flat index into an input of `shape`. */
export function broadcastIndex(shape: readonly number[], outShape: readonly number[]): Int32Array {
  const n = elementCount(outShape);
  const rank = outShape.length;
  const index = new Int32Array(n);
  const inStrides = stridesOf(shape);
  // Stride 0 along broadcast dimensions, aligned to the right.
  const strides = outShape.map((_, i) => {
    const j = i - (rank - shape.length);
    return j < 0 || (shape[j] ?? 1) === 1 ? 0 : (inStrides[j] ?? 0);
  });
  const counter = new Array<number>(rank).fill(0);
  let offset = 0;
  for (let k = 0; k < n; k++) {
    index[k] = offset;
    for (let d = rank - 1; d >= 0; d--) {
      counter[d]!++;
      offset += strides[d]!;
      if (counter[d]! < outShape[d]!) break;
      offset -= strides[d]! * outShape[d]!;
      counter[d] = 0;
    }
  }
  return index;
}

/** The output shape and, for inputs that need it, the broadcast index of each output element. */
export interface BroadcastPlan {
  readonly shape: number[];
  readonly size: number;
  /** null: the input has the output's shape (index k maps to k). */
  readonly a: Int32Array | null;
  readonly b: Int32Array | null;
}

export function broadcastPlan(aShape: readonly number[], bShape: readonly number[]): BroadcastPlan {
  const shape = broadcastShape(aShape, bShape);
  const same = (s: readonly number[]) => s.length === shape.length && s.every((d, i) => d === shape[i]);
  return {
    shape,
    size: elementCount(shape),
    a: same(aShape) ? null : broadcastIndex(aShape, shape),
    b: same(bShape) ? null : broadcastIndex(bShape, shape),
  };
}

// ---------------------------------------------------------------------------------------------
// Fused activations.

/** The float clamp of a fused activation (XNNPACK's output_min/output_max). */
export function activationRangeFloat(activation: ActivationFunctionType): { min: number; max: number } {
  switch (activation) {
    case ActivationFunctionType.RELU:
      return { min: 0, max: Infinity };
    case ActivationFunctionType.RELU6:
      return { min: 0, max: 6 };
    case ActivationFunctionType.RELU_N1_TO_1:
      return { min: -1, max: 1 };
    case ActivationFunctionType.NONE:
      return { min: -Infinity, max: Infinity };
    default:
      throw new RangeError(`Unsupported fused activation ${activation}`);
  }
}

/**
 * TFLite's CalculateActivationRangeQuantized: the float bounds quantized with
 * zp + round_half_away(float(f / scale)), intersected with the type range.
 */
export function activationRangeBuiltin(
  activation: ActivationFunctionType,
  output: QuantParams,
  dtype: QuantizedDtype,
): { min: number; max: number } {
  const { qmin, qmax } = typeRange(dtype);
  const { min, max } = activationRangeFloat(activation);
  const quantize = (v: number) => output.zeroPoint + roundHalfAway(f32(v / f32(output.scale)));
  return {
    min: min === -Infinity ? qmin : Math.max(qmin, quantize(min)),
    max: max === Infinity ? qmax : Math.min(qmax, quantize(max)),
  };
}

/**
 * XNNPACK's quantized clamp bounds (xnn_qs8_quantize): lrintf(clamp(f / scale + zp, -128, 127)),
 * all in float32.
 */
export function activationRangeXnnpack(activation: ActivationFunctionType, output: QuantParams): { min: number; max: number } {
  const { min, max } = activationRangeFloat(activation);
  const quantize = (v: number) =>
    roundHalfEven(clamp(f32(f32(v / f32(output.scale)) + output.zeroPoint), -128, 127));
  return { min: min === -Infinity ? -128 : quantize(min), max: max === Infinity ? 127 : quantize(max) };
}

/** Float fused activation as XNNPACK and TFLite apply it (min then max clamp). */
export function applyActivationFloat(x: number, range: { min: number; max: number }): number {
  return x < range.min ? range.min : x > range.max ? range.max : x;
}
