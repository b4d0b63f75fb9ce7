// Data-movement ops: RESHAPE, SQUEEZE, TRANSPOSE, CONCATENATION, PAD, SLICE, GATHER, SELECT_V2.
// They copy elements without arithmetic in the official runtime (XNNPACK for int8/float
// TRANSPOSE, CONCATENATION and PAD; TFLite builtin otherwise), with these rules:
// - PAD fills with the output zero point (quantized) or 0 (float).
// - CONCATENATION: int8 inputs must share the output's scale and zero point (TFLite refuses the
//   model otherwise; XNNPACK too). int16 inputs are copied as they are, whatever their scales
//   (TFLite checks only zero points). `concatenateRequantized` implements TFLite's
//   ConcatenationWithScaling rule (uint8 kernels) for callers that rescale inputs themselves:
//   round_half_away(q * float(s_in / s_out) + float(-zp_in * that)) + zp_out.
// - GATHER: indices must be in range (TFLite fails the invocation otherwise).
// - SELECT_V2: NumPy broadcasting of condition, x and y.
import { broadcastIndex, broadcastShape, elementCount, stridesOf, type QuantParams } from './common.js';
import { clamp, f32, roundHalfAway, typeRange } from './fixed-point.js';

export type AnyArray = Float32Array | Int8Array | Int16Array | Int32Array | Uint8Array;

function allocLike<T extends AnyArray>(like: T, n: number): T {
  return new (like.constructor as new (n: number) => T)(n);
}

/** RESHAPE: the data unchanged (row-major order is kept); -1 in newShape is inferred. */
export function reshapeShape(shape: readonly number[], newShape: readonly number[]): number[] {
  const n = elementCount(shape);
  const known = newShape.reduce((a, d) => (d === -1 ? a : a * d), 1);
  const out = newShape.map((d) => (d === -1 ? n / known : d));
  if (elementCount(out) !== n) throw new RangeError(`Cannot reshape [${shape.join(', ')}] to [${newShape.join(', ')}]`);
  return out;
}

/** SQUEEZE: drops the listed size-1 dimensions (all size-1 dimensions when none are listed). */
export function squeezeShape(shape: readonly number[], squeezeDims: readonly number[] | null): number[] {
  const dims = new Set((squeezeDims ?? []).map((d) => (d < 0 ? d + shape.length : d)));
  return shape.filter((d, i) => (dims.size === 0 ? d !== 1 : !(dims.has(i) && d === 1)));
}

/** TRANSPOSE with a permutation of the axes. */
export function transpose<T extends AnyArray>(input: T, shape: readonly number[], perm: readonly number[]): { data: T; shape: number[] } {
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = stridesOf(shape);
  const strides = perm.map((p) => inStrides[p]!);
  const n = elementCount(shape);
  const out = allocLike(input, n);
  const rank = outShape.length;
  const counter = new Array<number>(rank).fill(0);
  let offset = 0;
  for (let k = 0; k < n; k++) {
    out[k] = input[offset]!;
    for (let d = rank - 1; d >= 0; d--) {
      counter[d]!++;
      offset += strides[d]!;
      if (counter[d]! < outShape[d]!) break;
      offset -= strides[d]! * outShape[d]!;
      counter[d] = 0;
    }
  }
  return { data: out, shape: outShape };
}

/** CONCATENATION along an axis (negative axes count from the end); the data are copied. */
export function concatenate<T extends AnyArray>(inputs: readonly { data: T; shape: readonly number[] }[], axis: number): { data: T; shape: number[] } {
  const first = inputs[0];
  if (first === undefined) throw new RangeError('Expected at least one input for CONCATENATION');
  const rank = first.shape.length;
  const a = axis < 0 ? axis + rank : axis;
  const outShape = [...first.shape];
  outShape[a] = inputs.reduce((s, t) => s + (t.shape[a] ?? 0), 0);
  const outer = first.shape.slice(0, a).reduce((x, d) => x * d, 1);
  const inner = first.shape.slice(a + 1).reduce((x, d) => x * d, 1);
  const out = allocLike(first.data, elementCount(outShape));
  let o = 0;
  for (let k = 0; k < outer; k++) {
    for (const t of inputs) {
      const size = (t.shape[a] ?? 0) * inner;
      out.set(t.data.subarray(k * size, (k + 1) * size) as never, o);
      o += size;
    }
  }
  return { data: out, shape: outShape };
}

/** TFLite's ConcatenationWithScaling rule: each input rescaled to the output's parameters. */
export function concatenateRequantized<T extends Int8Array | Int16Array>(
  inputs: readonly { data: T; shape: readonly number[]; scale: number; zeroPoint: number }[],
  axis: number,
  output: QuantParams,
): { data: T; shape: number[] } {
  const inverseOutputScale = f32(1 / f32(output.scale));
  const dtype = inputs[0]?.data instanceof Int16Array ? 'int16' : 'int8';
  const { qmin, qmax } = typeRange(dtype);
  const rescaled = inputs.map((t) => {
    if (t.zeroPoint === output.zeroPoint && f32(t.scale) === f32(output.scale)) return t;
    const scale = f32(f32(t.scale) * inverseOutputScale);
    const bias = f32(-t.zeroPoint * scale);
    const data = allocLike(t.data, t.data.length);
    for (let i = 0; i < t.data.length; i++) {
      data[i] = clamp(roundHalfAway(f32(f32(t.data[i]! * scale) + bias)) + output.zeroPoint, qmin, qmax);
    }
    return { ...t, data };
  });
  return concatenate(rescaled, axis);
}

/** PAD / PADV2 with a constant: paddings[i] = [before, after]. */
export function pad<T extends AnyArray>(
  input: T,
  shape: readonly number[],
  paddings: readonly (readonly [number, number])[],
  value: number,
): { data: T; shape: number[] } {
  const outShape = shape.map((d, i) => d + (paddings[i]?.[0] ?? 0) + (paddings[i]?.[1] ?? 0));
  const out = allocLike(input, elementCount(outShape));
  out.fill(value as never);
  const outStrides = stridesOf(outShape);
  const rank = shape.length;
  const n = elementCount(shape);
  const counter = new Array<number>(rank).fill(0);
  let offset = paddings.reduce((s, p, i) => s + (p?.[0] ?? 0) * outStrides[i]!, 0);
  for (let k = 0; k < n; k++) {
    out[offset] = input[k]!;
    for (let d = rank - 1; d >= 0; d--) {
      counter[d]!++;
      offset += outStrides[d]!;
      if (counter[d]! < shape[d]!) break;
      offset -= outStrides[d]! * shape[d]!;
      counter[d] = 0;
    }
  }
  return { data: out, shape: outShape };
}

/** SLICE with begin and size (-1: to the end). */
export function slice<T extends AnyArray>(
  input: T,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
): { data: T; shape: number[] } {
  const outShape = shape.map((d, i) => ((size[i] ?? -1) === -1 ? d - (begin[i] ?? 0) : size[i]!));
  const inStrides = stridesOf(shape);
  const n = elementCount(outShape);
  const out = allocLike(input, n);
  const rank = shape.length;
  const counter = new Array<number>(rank).fill(0);
  let offset = begin.reduce((s, b, i) => s + b * inStrides[i]!, 0);
  for (let k = 0; k < n; k++) {
    out[k] = input[offset]!;
    for (let d = rank - 1; d >= 0; d--) {
      counter[d]!++;
      offset += inStrides[d]!;
      if (counter[d]! < outShape[d]!) break;
      offset -= inStrides[d]! * outShape[d]!;
      counter[d] = 0;
    }
  }
  return { data: out, shape: outShape };
}

/** GATHER along `axis` with `batchDims` leading batch dimensions shared by params and indices. */
export function gather<T extends AnyArray>(
  params: T,
  paramsShape: readonly number[],
  indices: Int32Array | readonly number[],
  indicesShape: readonly number[],
  axis: number,
  batchDims = 0,
): { data: T; shape: number[] } {
  const rank = paramsShape.length;
  const a = axis < 0 ? axis + rank : axis;
  const b = batchDims < 0 ? batchDims + indicesShape.length : batchDims;
  const outShape = [...paramsShape.slice(0, a), ...indicesShape.slice(b), ...paramsShape.slice(a + 1)];
  const batchSize = paramsShape.slice(0, b).reduce((x, d) => x * d, 1);
  const outerSize = paramsShape.slice(b, a).reduce((x, d) => x * d, 1);
  const axisSize = paramsShape[a]!;
  const innerSize = paramsShape.slice(a + 1).reduce((x, d) => x * d, 1);
  const coordCount = indicesShape.slice(b).reduce((x, d) => x * d, 1);
  const out = allocLike(params, elementCount(outShape));
  let o = 0;
  for (let batch = 0; batch < batchSize; batch++) {
    for (let outer = 0; outer < outerSize; outer++) {
      for (let c = 0; c < coordCount; c++) {
        const index = indices[batch * coordCount + c]!;
        if (index < 0 || index >= axisSize) throw new RangeError(`gather index ${index} out of bounds [0, ${axisSize})`);
        const from = ((batch * outerSize + outer) * axisSize + index) * innerSize;
        for (let i = 0; i < innerSize; i++) out[o++] = params[from + i]!;
      }
    }
  }
  return { data: out, shape: outShape };
}

/** SELECT_V2: condition ? x : y with broadcasting of all three. */
export function selectV2<T extends AnyArray>(
  condition: Uint8Array | readonly boolean[],
  conditionShape: readonly number[],
  x: T,
  xShape: readonly number[],
  y: T,
  yShape: readonly number[],
): { data: T; shape: number[] } {
  const outShape = broadcastShape(broadcastShape(conditionShape, xShape), yShape);
  const ci = broadcastIndex(conditionShape, outShape);
  const xi = broadcastIndex(xShape, outShape);
  const yi = broadcastIndex(yShape, outShape);
  const out = allocLike(x, elementCount(outShape));
  for (let k = 0; k < out.length; k++) out[k] = condition[ci[k]!] ? x[xi[k]!]! : y[yi[k]!]!;
  return { data: out, shape: outShape };
}
