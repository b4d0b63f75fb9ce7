// MEAN over any set of axes (keep_dims or not), as the official TFLite runtime computes it.
//
// - float32: XNNPACK (sum, times 1/N); summation order differs, so compared within a tolerance.
// - int8, LiteRT (2025+ XNNPACK static reduce, any axes): acc = sum of raw q (int32);
//   s = float(float(s_in / s_out) * float(1 / N)); zp' = float(zp_out - float(float(N * zp_in) * s));
//   y = round_half_even(float(float(acc) * s) + zp'), clamped. ('xnnpack')
// - int8, tfjs-tflite (2023 XNNPACK global average pooling, 4D over H,W, keep_dims or not):
//   s = float(s_in / float(s_out * N)); y = round_half_even(float((acc - N zp_in) * s)) + zp_out,
//   clamped. ('xnnpack-2023')
// - int16 in LiteRT (2026 TFLite): TFLite's QuantizedMeanOrSum: the multiplier
//   Q(double(s_in) / s_out) is divided by N with floor(log2 N) extra bits
//   (m' = (m << k) / N, shift - k, k = min(floor(log2 N), 32, 31 + shift)), then
//   MultiplyByQuantizedMultiplier(sum - N zp_in) + zp_out. ('builtin')
// - int8 builtin 4D keep_dims H,W (TFLite's optimized Mean): bias = zp_out - trunc(float(zp_in s_in
//   / s_out) +- 0.5), MultiplyByQuantizedMultiplier(sum, Q(float(s_in / float(N s_out)))) + bias.
//   ('builtin-hw'; runs only when XNNPACK declines an int8 MEAN)
// - int16, and int8 MEANs other than over H,W of a 4D tensor, in tfjs-tflite (2023 TFLite):
//   with equal input and output parameters the raw sum divided by N in integers (truncating);
//   otherwise round_half_away(float(float(sum) / N) * float(s_in / s_out) + float(-zp_in * that))
//   + zp_out. ('builtin-2023')
import { dtypeOf, elementCount, stridesOf, type QuantizedArray, type QuantParams } from './common.js';
import { clamp, f32, multiplyByQuantizedMultiplier, quantizeMultiplier, roundHalfAway, roundHalfEven, typeRange } from './fixed-point.js';

export type MeanKernel = 'auto' | 'xnnpack' | 'xnnpack-2023' | 'builtin' | 'builtin-hw' | 'builtin-2023';

export interface ReduceResult<T> {
  readonly data: T;
  readonly shape: number[];
}

/** Normalized, sorted, unique axes. */
export function resolveAxes(axes: readonly number[], rank: number): number[] {
  const set = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
  for (const a of set) if (a < 0 || a >= rank) throw new RangeError(`Expected axes in [-${rank}, ${rank}) but received ${a}`);
  return [...set].sort((a, b) => a - b);
}

export function reduceOutputShape(shape: readonly number[], axes: readonly number[], keepDims: boolean): number[] {
  const resolved = resolveAxes(axes, shape.length);
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!resolved.includes(i)) out.push(d);
    else if (keepDims) out.push(1);
  });
  return out;
}

/** Sums of the input over the axes (as numbers: exact for integers), and the count per output. */
function reduceSums(input: ArrayLike<number>, shape: readonly number[], axes: readonly number[]): { sums: Float64Array; count: number } {
  const resolved = resolveAxes(axes, shape.length);
  const keptShape = shape.map((d, i) => (resolved.includes(i) ? 1 : d));
  const outStrides = stridesOf(keptShape);
  const sums = new Float64Array(elementCount(keptShape));
  const count = resolved.reduce((a, i) => a * (shape[i] ?? 1), 1);
  const rank = shape.length;
  // Output stride of each input dimension (0 along reduced ones).
  const step = shape.map((_, d) => (resolved.includes(d) ? 0 : outStrides[d]!));
  const counter = new Array<number>(rank).fill(0);
  let outIndex = 0;
  const n = elementCount(shape);
  for (let k = 0; k < n; k++) {
    sums[outIndex] = sums[outIndex]! + input[k]!;
    for (let d = rank - 1; d >= 0; d--) {
      counter[d]!++;
      outIndex += step[d]!;
      if (counter[d]! < shape[d]!) break;
      outIndex -= step[d]! * shape[d]!;
      counter[d] = 0;
    }
  }
  return { sums, count };
}

/** Float32 MEAN. */
export function meanFloat32(input: Float32Array, shape: readonly number[], axes: readonly number[], keepDims: boolean): ReduceResult<Float32Array> {
  const { sums, count } = reduceSums(input, shape, axes);
  return { data: Float32Array.from(sums, (s) => s / count), shape: reduceOutputShape(shape, axes, keepDims) };
}

/** int8/int16 MEAN. 'auto' = what LiteRT runs (XNNPACK for int8, builtin for int16). */
export function meanQuantized<T extends QuantizedArray>(
  input: T,
  shape: readonly number[],
  axes: readonly number[],
  keepDims: boolean,
  inputParams: QuantParams,
  output: QuantParams,
  kernel: MeanKernel = 'auto',
): ReduceResult<T> {
  const dtype = dtypeOf(input);
  const { qmin, qmax } = typeRange(dtype);
  const { sums, count } = reduceSums(input, shape, axes);
  const outShape = reduceOutputShape(shape, axes, keepDims);
  const out = (dtype === 'int8' ? new Int8Array(sums.length) : new Int16Array(sums.length)) as T;
  const k = kernel === 'auto' ? (dtype === 'int8' ? 'xnnpack' : 'builtin') : kernel;
  const sIn = f32(inputParams.scale);
  const sOut = f32(output.scale);
  switch (k) {
    case 'xnnpack': {
      const s = f32(f32(sIn / sOut) * f32(1 / count));
      const zp = f32(output.zeroPoint - f32(f32(count * inputParams.zeroPoint) * s));
      for (let i = 0; i < sums.length; i++) {
        out[i] = clamp(roundHalfEven(f32(f32(f32(sums[i]!) * s) + zp)), qmin, qmax);
      }
      break;
    }
    case 'xnnpack-2023': {
      const s = f32(sIn / f32(sOut * count));
      const bias = -count * inputParams.zeroPoint;
      for (let i = 0; i < sums.length; i++) {
        out[i] = clamp(roundHalfEven(f32((sums[i]! + bias) * s)) + output.zeroPoint, qmin, qmax);
      }
      break;
    }
    case 'builtin': {
      const m = quantizeMultiplier(sIn / sOut);
      let shift = 31 - Math.clz32(count); // floor(log2 count) for count < 2^31
      shift = Math.min(shift, 32, 31 + m.shift);
      const multiplier = Number((BigInt(m.multiplier) << BigInt(shift)) / BigInt(count));
      const outShift = m.shift - shift;
      for (let i = 0; i < sums.length; i++) {
        const shifted = (sums[i]! - inputParams.zeroPoint * count) | 0;
        out[i] = clamp(multiplyByQuantizedMultiplier(shifted, multiplier, outShift) + output.zeroPoint, qmin, qmax);
      }
      break;
    }
    case 'builtin-hw': {
      let temp = f32(f32(inputParams.zeroPoint * sIn) / sOut);
      temp = temp > 0 ? f32(temp + 0.5) : f32(temp - 0.5);
      const bias = output.zeroPoint - Math.trunc(temp);
      const m = quantizeMultiplier(f32(sIn / f32(count * sOut)));
      for (let i = 0; i < sums.length; i++) {
        out[i] = clamp(multiplyByQuantizedMultiplier(sums[i]!, m.multiplier, m.shift) + bias, qmin, qmax);
      }
      break;
    }
    case 'builtin-2023': {
      if (inputParams.zeroPoint === output.zeroPoint && sIn === sOut) {
        // reference_ops::Mean: the raw sum divided by N in integers (truncating).
        for (let i = 0; i < sums.length; i++) out[i] = clamp(Math.trunc(sums[i]! / count), qmin, qmax);
      } else {
        // QuantizedMeanOrSum with float rescaling.
        const scale = f32(sIn / sOut);
        const bias = f32(-inputParams.zeroPoint * scale);
        for (let i = 0; i < sums.length; i++) {
          const mean = f32(f32(sums[i]!) / f32(count));
          const result = roundHalfAway(f32(f32(mean * scale) + bias)) + output.zeroPoint;
          out[i] = clamp(result, qmin, qmax);
        }
      }
      break;
    }
  }
  return { data: out, shape: outShape };
}
