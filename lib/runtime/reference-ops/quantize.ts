// QUANTIZE (float -> int8/int16, int8/int16 -> int8/int16 requantization) and DEQUANTIZE, as the
// official TFLite runtime (WASM, XNNPACK delegate on) computes them.
//
// - float32 -> int8: XNNPACK f32-qs8-vcvt: y = round_half_even(float(x * float(1 / s))) + zp,
//   clamped (the float32 product, not a division).
// - float32 -> int16 (and int8 when XNNPACK declines): TFLite's optimized AffineQuantize:
//   round_half_away(x / double(s)) + zp, clamped (a double division).
// - int8 -> int8 with s_in/s_out in [2^-8, 2^7]: XNNPACK qs8-vcvt: an 8-bit-fraction multiplier
//   m = lrintf(256 * float(s_in / s_out)); y = floor(((x - zp_in) * m + 128) / 256) + zp_out.
// - Other requantizations (int16 <-> int16/int8, int8 -> int16, int8 ratios out of range):
//   TFLite's Requantize: MultiplyByQuantizedMultiplier(x - zp_in, Q(double(s_in) / s_out)) + zp_out.
// - DEQUANTIZE (int8 XNNPACK, int16 builtin): float((x - zp) * s), exact product rounded once.
import { type KernelChoice, type QuantizedArray, type QuantizedDtype, type QuantParams } from './common.js';
import { clamp, f32, multiplyByQuantizedMultiplier, quantizeMultiplier, roundHalfAway, roundHalfEven, typeRange } from './fixed-point.js';

function alloc(dtype: QuantizedDtype, n: number): QuantizedArray {
  return dtype === 'int8' ? new Int8Array(n) : new Int16Array(n);
}

/** float32 -> int8/int16 (QUANTIZE with a float input). */
export function quantizeFloat(
  input: Float32Array,
  output: QuantParams,
  dtype: QuantizedDtype,
  kernel: KernelChoice = 'auto',
): QuantizedArray {
  const { qmin, qmax } = typeRange(dtype);
  const out = alloc(dtype, input.length);
  const zp = output.zeroPoint;
  const useXnnpack = kernel === 'xnnpack' || (kernel === 'auto' && dtype === 'int8');
  if (useXnnpack) {
    if (dtype !== 'int8') throw new RangeError('XNNPACK has no float -> int16 QUANTIZE');
    const inverse = f32(1 / f32(output.scale));
    for (let i = 0; i < input.length; i++) {
      const v = f32(input[i]! * inverse);
      out[i] = Number.isNaN(v) ? zp : clamp(roundHalfEven(clamp(v, qmin - zp, qmax - zp)) + zp, qmin, qmax);
    }
  } else {
    const scale = f32(output.scale);
    for (let i = 0; i < input.length; i++) {
      out[i] = clamp(roundHalfAway(input[i]! / scale) + zp, qmin, qmax);
    }
  }
  return out;
}

/** Whether XNNPACK takes an int8 -> int8 QUANTIZE with these parameters. */
export function xnnpackTakesRequantize(input: QuantParams, output: QuantParams): boolean {
  const r = f32(f32(input.scale) / f32(output.scale));
  return r >= 1 / 256 && r <= 128;
}

/** Quantized -> quantized QUANTIZE (requantization). */
export function requantize(
  input: QuantizedArray,
  inputParams: QuantParams,
  output: QuantParams,
  outputDtype: QuantizedDtype,
  kernel: KernelChoice = 'auto',
): QuantizedArray {
  const { qmin, qmax } = typeRange(outputDtype);
  const out = alloc(outputDtype, input.length);
  const inputIsInt8 = input instanceof Int8Array;
  const useXnnpack =
    kernel === 'xnnpack' || (kernel === 'auto' && inputIsInt8 && outputDtype === 'int8' && xnnpackTakesRequantize(inputParams, output));
  if (useXnnpack) {
    const m = roundHalfEven(256 * f32(f32(inputParams.scale) / f32(output.scale)));
    for (let i = 0; i < input.length; i++) {
      out[i] = clamp(Math.floor(((input[i]! - inputParams.zeroPoint) * m + 128) / 256) + output.zeroPoint, qmin, qmax);
    }
  } else {
    const { multiplier, shift } = quantizeMultiplier(f32(inputParams.scale) / f32(output.scale));
    for (let i = 0; i < input.length; i++) {
      const v = multiplyByQuantizedMultiplier(input[i]! - inputParams.zeroPoint, multiplier, shift) + output.zeroPoint;
      out[i] = clamp(v, qmin, qmax);
    }
  }
  return out;
}

/** DEQUANTIZE: int8/int16 -> float32. */
export function dequantize(input: QuantizedArray, params: QuantParams): Float32Array {
  const out = new Float32Array(input.length);
  const scale = f32(params.scale);
  for (let i = 0; i < input.length; i++) out[i] = (input[i]! - params.zeroPoint) * scale;
  return out;
}
