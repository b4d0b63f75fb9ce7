// Weight and bias quantization shared by every mode: symmetric int8 weights (range [-127, 127],
// zero point 0) per tensor or per channel, int32 (or int64) biases at scale s_in·s_w.
import { quantizeTensor } from '../native/quantize.js';
import { roundHalfAway } from '../runtime/reference-ops/fixed-point.js';

export interface QuantizedWeights {
  readonly data: Int8Array;
  /** One scale, or one per channel along `axis`. */
  readonly scales: number[];
  readonly axis: number | null;
  /** Per channel (or one) max |w|. */
  readonly absMax: number[];
}

/** Max |w| per channel along `axis` (or one value for axis null). */
export function absMaxPerChannel(values: Float32Array, shape: readonly number[], axis: number | null): number[] {
  if (axis === null) {
    let m = 0;
    for (const v of values) m = Math.max(m, Math.abs(v));
    return [m];
  }
  const channels = shape[axis]!;
  const inner = shape.slice(axis + 1).reduce((a, d) => a * d, 1);
  const out = new Array<number>(channels).fill(0);
  for (let i = 0; i < values.length; i++) {
    const c = Math.floor(i / inner) % channels;
    out[c] = Math.max(out[c]!, Math.abs(values[i]!));
  }
  return out;
}

/**
 * Symmetric int8 quantization: scale = max|w| / 127 per channel (an all-zero channel gets
 * scale 1, its values are 0), values rounded by the native kernel into [-127, 127].
 */
export function quantizeWeightsSymmetric(values: Float32Array, shape: readonly number[], axis: number | null): QuantizedWeights {
  const absMax = absMaxPerChannel(values, shape, axis);
  const scales = absMax.map((m) => (m > 0 ? Math.fround(m / 127) : 1));
  const data =
    axis === null
      ? quantizeTensor(values, { scale: scales[0]!, qmin: -127, qmax: 127 })
      : quantizeTensor(values, { scale: scales, axis, shape, qmin: -127, qmax: 127 });
  return { data, scales, axis, absMax };
}

/**
 * A bias quantized at scale s_in·s_w[c] (zero point 0) as the runtime adds it to the int32
 * accumulator. Returns the values and the channels whose bias would not fit in `bits`.
 */
export function quantizeBias(
  bias: Float32Array,
  inputScale: number,
  weightScales: readonly number[],
  bits: 32 | 64,
): { data: Int32Array | BigInt64Array; scales: number[]; overflow: number[] } {
  // float32, as stored in the file: a checker multiplying the stored scales gets the same value.
  const scales = Array.from(bias, (_, c) => Math.fround(inputScale * weightScales[weightScales.length === 1 ? 0 : c]!));
  const limit = bits === 32 ? 2 ** 31 - 1 : Number.MAX_SAFE_INTEGER;
  const overflow: number[] = [];
  const rounded = Array.from(bias, (b, c) => {
    const q = roundHalfAway(b / scales[c]!);
    if (Math.abs(q) > limit) {
      overflow.push(c);
      return Math.sign(q) * limit;
    }
    return q;
  });
  const data = bits === 32 ? Int32Array.from(rounded) : BigInt64Array.from(rounded, (v) => BigInt(v));
  return { data, scales, overflow };
}
