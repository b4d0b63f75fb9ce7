// SOFTMAX over the last axis, as the official TFLite runtime computes it. XNNPACK takes only
// float32 with beta 1; quantized SOFTMAX is TFLite's builtin kernel in both runtimes.
//
// - float32: exp(x - max) / sum in float (XNNPACK's exp is a polynomial: compared within a
//   tolerance).
// - int8 (TFLite's optimized Softmax with a float table): table[d] = expf(float(-s_in * beta) * d)
//   for d = max - q in [0, 255]; sum of the row's table values in float32 (in order);
//   inv = float(1 / float(sum * s_out)); y = round_half_away(float(table[d] * inv)) + zp_out,
//   clamped. (Output 1/256, zero point -128.)
// - int16 (TFLite's SoftmaxInt16): the difference to the row max scaled by
//   Q(float(s_in * beta) / (10 / 65535)) to [-65535, 0] ~ [-10, 0], recentred by +32767, an
//   interpolated 513-entry exp table (LUTPopulateInt16 in double); the Q0.15 sum's reciprocal from
//   an interpolated 1/(1+x) table after normalising by its leading zeros; each exp times the
//   reciprocal, rounding shift, clamped to [0, 32767]. (Output 1/32768, zero point 0.)
import { type QuantizedArray, type QuantParams } from './common.js';
import { clamp, f32, multiplyByQuantizedMultiplier, quantizeMultiplier, roundHalfAway } from './fixed-point.js';
import { lookupInt16Value, tfliteInt16Table } from './lut.js';

/** Float32 SOFTMAX over the last axis. */
export function softmaxFloat32(input: Float32Array, shape: readonly number[], beta = 1): Float32Array {
  const depth = shape[shape.length - 1] ?? 1;
  const out = new Float32Array(input.length);
  for (let base = 0; base < input.length; base += depth) {
    let max = -Infinity;
    for (let j = 0; j < depth; j++) max = Math.max(max, input[base + j]!);
    let sum = 0;
    for (let j = 0; j < depth; j++) sum += Math.exp((input[base + j]! - max) * beta);
    for (let j = 0; j < depth; j++) out[base + j] = Math.exp((input[base + j]! - max) * beta) / sum;
  }
  return out;
}

function softmaxInt8(input: Int8Array, depth: number, inputParams: QuantParams, output: QuantParams, beta: number): Int8Array {
  const scale = f32(-f32(inputParams.scale) * f32(beta));
  // table[255 - d] = expf(scale * d): index by d = max - q directly.
  const expOfDiff = new Float64Array(256);
  for (let d = 0; d <= 255; d++) expOfDiff[d] = f32(Math.exp(f32(scale * d)));
  const outScale = f32(output.scale);
  const out = new Int8Array(input.length);
  for (let base = 0; base < input.length; base += depth) {
    let max = -128;
    for (let j = 0; j < depth; j++) max = Math.max(max, input[base + j]!);
    let sum = 0;
    for (let j = 0; j < depth; j++) sum = f32(sum + expOfDiff[max - input[base + j]!]!);
    const inverse = f32(1 / f32(sum * outScale));
    for (let j = 0; j < depth; j++) {
      const p = f32(expOfDiff[max - input[base + j]!]! * inverse);
      out[base + j] = clamp(roundHalfAway(p) + output.zeroPoint, -128, 127);
    }
  }
  return out;
}

const INT16_RANGE = 65535;
let expTable: Int16Array | null = null;
let reciprocalTable: Int16Array | null = null;

function int16Tables(): { exp: Int16Array; reciprocal: Int16Array } {
  // exp on [-10, 0] and 1/(1+x) on [0, 1], both into a symmetric [-1, 1] output range, in double.
  expTable ??= tfliteInt16Table({ scale: 10 / INT16_RANGE, zeroPoint: 32767 }, { scale: 2 / INT16_RANGE, zeroPoint: 0 }, Math.exp, 'double');
  reciprocalTable ??= tfliteInt16Table(
    { scale: 1 / INT16_RANGE, zeroPoint: -32768 },
    { scale: 2 / INT16_RANGE, zeroPoint: 0 },
    (x) => 1 / (1 + x),
    'double',
  );
  return { exp: expTable, reciprocal: reciprocalTable };
}

function softmaxInt16(input: Int16Array, depth: number, inputParams: QuantParams, beta: number): Int16Array {
  const { exp, reciprocal } = int16Tables();
  const m = quantizeMultiplier(f32(f32(inputParams.scale) * f32(beta)) / (10 / 65535));
  const out = new Int16Array(input.length);
  const exps = new Int32Array(depth);
  for (let base = 0; base < input.length; base += depth) {
    let max = -32768;
    for (let j = 0; j < depth; j++) max = Math.max(max, input[base + j]!);
    let sum = 0;
    for (let j = 0; j < depth; j++) {
      const scaled = multiplyByQuantizedMultiplier(input[base + j]! - max, m.multiplier, m.shift);
      const e = lookupInt16Value(clamp(scaled + 32767, -32768, 32767), exp);
      exps[j] = e;
      sum += e;
    }
    const headroomPlusOne = Math.clz32(sum);
    const shiftedSum = Math.floor((sum * 2 ** (headroomPlusOne - 1) + (1 << 13)) / 2 ** 14);
    const symShiftedSum = clamp(shiftedSum - ((1 << 15) + (1 << 16)), -32768, 32767);
    const reciprocalScale = lookupInt16Value(symShiftedSum, reciprocal);
    const rightShift = 31 - headroomPlusOne;
    const round = 2 ** (rightShift - 1);
    for (let j = 0; j < depth; j++) {
      const r = Math.floor((exps[j]! * reciprocalScale + round) / 2 ** rightShift);
      out[base + j] = clamp(r, 0, 32767);
    }
  }
  return out;
}

/** Quantized SOFTMAX over the last axis (int8: output 1/256, -128; int16: output 1/32768, 0). */
export function softmaxQuantized<T extends QuantizedArray>(
  input: T,
  shape: readonly number[],
  inputParams: QuantParams,
  output: QuantParams,
  beta = 1,
): T {
  const depth = shape[shape.length - 1] ?? 1;
  if (input instanceof Int8Array) return softmaxInt8(input, depth, inputParams, output, beta) as T;
  return softmaxInt16(input as Int16Array, depth, inputParams, beta) as T;
}
