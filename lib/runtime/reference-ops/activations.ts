// RELU, RELU6, RELU_N1_TO_1, LOGISTIC, TANH and RSQRT as the official TFLite runtime computes
// them (WASM builds, XNNPACK delegate on by default).
//
// - float32: one float32 function per element (XNNPACK for RELU*, LOGISTIC, TANH and RSQRT in
//   LiteRT; its polynomial approximations differ from the exact functions in the last bits, so
//   float results are compared within a tolerance).
// - int8/int16 RELU, RELU6, RELU_N1_TO_1 (builtin; XNNPACK takes only float):
//   zp_out + MultiplyByQuantizedMultiplier(q - zp_in, Q(float(s_in / s_out))), clamped to
//   [zp_out + roundf(lo / s_out), zp_out + roundf(hi / s_out)] and the type range.
// - int8 LOGISTIC: XNNPACK 256-entry table. LiteRT (2025+ XNNPACK): x = (q - zp) * s in float,
//   sigmoid in double (exp(x) / (1 + exp(x)), float result), round half to even of
//   y * 256 + zp. tfjs-tflite (2023 XNNPACK): sigmoid in float (1 / (1 + expf(-x)) for x < 0,
//   1 - 1 / (1 + expf(x)) otherwise), lrintf(y * 256) + zp.
// - int8 TANH: LiteRT: XNNPACK table (tanhf, round half to even); tfjs-tflite: TFLite's builtin
//   table (LUTPopulate: tanhf, round half away from zero).
// - int16 LOGISTIC / TANH (builtin): the input rescaled to 1/(3*4096) (x * m + round) >> shift,
//   then TFLite's 256-entry sigmoid table (sigmoid(i/24) in Q16) with linear interpolation
//   (tanh(x) = 2 sigmoid(2x) - 1). Power-of-two input scales of 2^-12 (LOGISTIC) or 2^-12/2^-11
//   (TANH) take TFLite's optimized gemmlowp path instead: logistic/tanh on FixedPoint<int16_t, 3>
//   (exp_on_negative_values, Newton-Raphson reciprocal), 16-bit raw arithmetic.
// - int8 RSQRT (builtin): 1/sqrt(q - zp) by gemmlowp's fixed-point Newton iteration
//   (GetInvSqrtQuantizedMultiplierExp), then two MultiplyByQuantizedMultiplier steps with
//   Q(1 / (sqrt(s_in) * s_out)). int16 RSQRT (builtin, LiteRT only): a float LUTPopulateInt16
//   table of 1/sqrt(x) with interpolation.
import {
  checkedLog2,
  clamp,
  f32,
  gemmlowp16,
  multiplyByQuantizedMultiplier,
  quantizeMultiplier,
  roundHalfAway,
  saturatingRoundingDoublingHighMul,
  saturatingRoundingMultiplyByPOT,
  typeRange,
} from './fixed-point.js';
import { dtypeOf, type QuantizedArray, type QuantParams } from './common.js';
import {
  lookupInt16,
  lookupInt8,
  tfliteInt16Table,
  tfliteInt8Table,
  xnnpack2023Int8Table,
  xnnpackInt8Table,
} from './lut.js';

export type ReluKind = 'RELU' | 'RELU6' | 'RELU_N1_TO_1' | 'RELU_0_TO_1';

const RELU_BOUNDS: Record<ReluKind, [number, number]> = {
  RELU: [0, Infinity],
  RELU6: [0, 6],
  RELU_N1_TO_1: [-1, 1],
  RELU_0_TO_1: [0, 1],
};

/** Float32 RELU family. */
export function reluFloat32(kind: ReluKind, input: Float32Array): Float32Array {
  const [lo, hi] = RELU_BOUNDS[kind];
  const out = new Float32Array(input.length);
  for (let i = 0; i < input.length; i++) {
    const x = input[i]!;
    out[i] = x < lo ? lo : x > hi ? hi : x;
  }
  return out;
}

/** int8/int16 RELU family (TFLite's QuantizedReluX). */
export function reluQuantized<T extends QuantizedArray>(kind: ReluKind, input: T, inputParams: QuantParams, output: QuantParams): T {
  const dtype = dtypeOf(input);
  const { qmin, qmax } = typeRange(dtype);
  const [lo, hi] = RELU_BOUNDS[kind];
  const outScale = f32(output.scale);
  const min = Math.max(qmin, output.zeroPoint + roundHalfAway(f32(lo / outScale)));
  const max = hi === Infinity ? qmax : Math.min(qmax, output.zeroPoint + roundHalfAway(f32(hi / outScale)));
  const { multiplier, shift } = quantizeMultiplier(f32(f32(inputParams.scale) / outScale));
  const out = (dtype === 'int8' ? new Int8Array(input.length) : new Int16Array(input.length)) as T;
  for (let i = 0; i < input.length; i++) {
    const v = output.zeroPoint + multiplyByQuantizedMultiplier(input[i]! - inputParams.zeroPoint, multiplier, shift);
    out[i] = clamp(v, min, max);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// LOGISTIC and TANH

/** The implementation to reproduce for int8 LOGISTIC/TANH: 'auto' is LiteRT's. */
export type ActivationKernel = 'auto' | 'xnnpack' | 'xnnpack-2023' | 'builtin';

const expf = (x: number) => f32(Math.exp(x));
const tanhf = (x: number) => f32(Math.tanh(x));

/** XNNPACK's reference sigmoid (2025+): in double, float result. */
function sigmoidXnnpack(x: number): number {
  if (x > 100) return 1;
  if (x < -100) return 0;
  const e = Math.exp(x);
  return f32(e / (1 + e));
}

/** XNNPACK 2023's float sigmoid. */
function sigmoidXnnpack2023(x: number): number {
  return x < 0 || Object.is(x, -0) ? f32(1 / f32(1 + expf(-x))) : f32(1 - f32(1 / f32(1 + expf(x))));
}

/** TFLite's float sigmoid of its int8 LUT. */
function sigmoidTflite(x: number): number {
  return f32(1 / f32(1 + expf(-x)));
}

/** The 256-entry table of int8 LOGISTIC (output 1/256, -128). */
export function logisticInt8Table(input: QuantParams, output: QuantParams, kernel: ActivationKernel = 'auto'): Int8Array {
  switch (kernel) {
    case 'auto':
    case 'xnnpack':
      return xnnpackInt8Table(input, output, sigmoidXnnpack);
    case 'xnnpack-2023':
      return xnnpack2023Int8Table(input, output, sigmoidXnnpack2023);
    case 'builtin':
      return tfliteInt8Table(input, output, sigmoidTflite);
  }
}

/** The 256-entry table of int8 TANH (output 1/128, 0). */
export function tanhInt8Table(input: QuantParams, output: QuantParams, kernel: ActivationKernel = 'auto'): Int8Array {
  switch (kernel) {
    case 'auto':
    case 'xnnpack':
      return xnnpackInt8Table(input, output, tanhf);
    case 'xnnpack-2023':
      return xnnpack2023Int8Table(input, output, tanhf);
    case 'builtin':
      return tfliteInt8Table(input, output, tanhf);
  }
}

// The Q16 sigmoid table of TFLite's int16 LOGISTIC/TANH, at x = i / 24: sigmoid(x) raised by
// half the linear-interpolation error at the middle of the following interval (so interpolated
// values err both ways), rounded; the last entry is pinned to 65535. Derived here from that rule
// (it reproduces the official runtime's outputs bit for bit; see test/runtime).
const SIGMOID_TABLE_UINT16 = Uint16Array.from({ length: 256 }, (_, i) => {
  if (i === 255) return 65535;
  const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
  const x0 = i / 24;
  const x1 = (i + 1) / 24;
  const midError = sigmoid((x0 + x1) / 2) - (sigmoid(x0) + sigmoid(x1)) / 2;
  return Math.round(65536 * (sigmoid(x0) + midError / 2));
});

/**
 * The input rescaling of TFLite's int16 LOGISTIC/TANH Prepare for a general input scale:
 * multiplier = s * 4096 * 3 doubled until > 32767 / 2, as an integer, with the doublings as a shift.
 */
function int16InputRescale(inputScale: number): { multiplier: number; leftShift: number } {
  let multiplier = f32(inputScale) * 4096 * 3;
  let leftShift = 0;
  while (multiplier <= 32767 / 2 && leftShift <= 30) {
    leftShift++;
    multiplier *= 2;
  }
  return { multiplier: Math.trunc(multiplier), leftShift };
}

/**
 * TFLite's int16 LOGISTIC/TANH Prepare: with a power-of-two input scale giving an input left
 * shift of 0 (or 1 for TANH) the optimized gemmlowp int16 kernel runs; null otherwise.
 */
function int16PotLeftShift(kind: 'LOGISTIC' | 'TANH', inputScale: number): number | null {
  const { log2, isPowerOfTwo } = checkedLog2(inputScale);
  const leftShift = 15 - 3 + log2;
  return isPowerOfTwo && (leftShift === 0 || (kind === 'TANH' && leftShift === 1)) ? leftShift : null;
}

function logisticInt16(input: Int16Array, inputParams: QuantParams): Int16Array {
  if (int16PotLeftShift('LOGISTIC', inputParams.scale) !== null) {
    // gemmlowp::logistic on FixedPoint<int16_t, 3> (the raw input), F0 output.
    return Int16Array.from(input, (x) => gemmlowp16.logistic(x, 3));
  }
  const { multiplier, leftShift } = int16InputRescale(inputParams.scale);
  const round = leftShift > 0 ? 2 ** (leftShift - 1) : 0;
  const out = new Int16Array(input.length);
  for (let i = 0; i < input.length; i++) {
    const x = Math.floor((input[i]! * multiplier + round) / 2 ** leftShift);
    const abs = Math.abs(x);
    const uh = abs >>> 9;
    let result: number;
    if (uh >= 255) {
      result = 0x7fff << 10;
    } else {
      const ua = SIGMOID_TABLE_UINT16[uh]!;
      const ub = SIGMOID_TABLE_UINT16[uh + 1]!;
      result = ua * 512 + (abs & 0x1ff) * (ub - ua); // uint32 arithmetic, stays positive
    }
    result = x >= 0 ? result + 512 : 2 ** 25 - result + 512 - 1;
    out[i] = Math.floor(result / 1024);
  }
  return out;
}

function tanhInt16(input: Int16Array, inputParams: QuantParams): Int16Array {
  const potShift = int16PotLeftShift('TANH', inputParams.scale);
  if (potShift !== null) {
    // gemmlowp::tanh on FixedPoint<int16_t, 3>: the raw input (doubled, saturating, for 2^-11).
    return Int16Array.from(input, (x) => gemmlowp16.tanh(potShift === 0 ? x : gemmlowp16.multiplyByPOT(x, 1), 3));
  }
  const { multiplier, leftShift } = int16InputRescale(inputParams.scale);
  const round = leftShift > 0 ? 2 ** (leftShift - 1) : 0;
  const out = new Int16Array(input.length);
  for (let i = 0; i < input.length; i++) {
    const x = Math.floor((input[i]! * multiplier + round) / 2 ** leftShift);
    const abs = Math.abs(x);
    const uh = abs >>> 8;
    let result: number;
    if (uh >= 255) {
      result = 0xffff << 8;
    } else {
      const ua = SIGMOID_TABLE_UINT16[uh]!;
      const ub = SIGMOID_TABLE_UINT16[uh + 1]!;
      result = ua * 256 + (abs & 0xff) * (ub - ua);
    }
    result = x >= 0 ? result - 2 ** 23 + 128 : -result + 2 ** 23 + 128 - 1;
    out[i] = Math.floor(result / 256);
  }
  return out;
}

/** Float32 LOGISTIC. */
export function logisticFloat32(input: Float32Array): Float32Array {
  return Float32Array.from(input, (x) => 1 / (1 + Math.exp(-x)));
}

/** Float32 TANH. */
export function tanhFloat32(input: Float32Array): Float32Array {
  return Float32Array.from(input, (x) => Math.tanh(x));
}

/** Quantized LOGISTIC: int8 (output 1/256, -128) or int16 (output 1/32768, 0). */
export function logisticQuantized<T extends QuantizedArray>(
  input: T,
  inputParams: QuantParams,
  output: QuantParams,
  kernel: ActivationKernel = 'auto',
): T {
  if (input instanceof Int8Array) return lookupInt8(input, logisticInt8Table(inputParams, output, kernel)) as T;
  return logisticInt16(input as Int16Array, inputParams) as T;
}

/** Quantized TANH: int8 (output 1/128, 0) or int16 (output 1/32768, 0). */
export function tanhQuantized<T extends QuantizedArray>(
  input: T,
  inputParams: QuantParams,
  output: QuantParams,
  kernel: ActivationKernel = 'auto',
): T {
  if (input instanceof Int8Array) return lookupInt8(input, tanhInt8Table(inputParams, output, kernel)) as T;
  return tanhInt16(input as Int16Array, inputParams) as T;
}

// ---------------------------------------------------------------------------------------------
// RSQRT

/** Float32 RSQRT. */
export function rsqrtFloat32(input: Float32Array): Float32Array {
  return Float32Array.from(input, (x) => 1 / Math.fround(Math.sqrt(x)));
}

function countLeadingZeros32(x: number): number {
  return Math.clz32(x);
}

/** TFLite's GetInvSqrtQuantizedMultiplierExp (reverse_shift -1): 1/sqrt(input) as Q31 and a shift. */
export function invSqrtQuantizedMultiplierExp(input: number): { multiplier: number; shift: number } {
  if (input <= 1) return { multiplier: 2147483647, shift: 0 };
  let shift = 11;
  while (input >= 1 << 29) {
    input = Math.trunc(input / 4);
    shift++;
  }
  const maxLeftShiftBits = countLeadingZeros32(input) - 1;
  const leftShiftBitPairs = Math.floor(maxLeftShiftBits / 2) - 1;
  shift -= leftShiftBitPairs;
  input = input << (2 * leftShiftBitPairs);
  // F3 fixed point (3 integer bits).
  const fixedInput = input >> 1;
  const halfInput = saturatingRoundingMultiplyByPOT(fixedInput, -1);
  const halfThree = (1 << 28) + (1 << 27);
  let x = 1 << 28; // F3 one
  for (let i = 0; i < 5; i++) {
    const x3 = saturatingRoundingMultiplyByPOT(
      saturatingRoundingDoublingHighMul(saturatingRoundingDoublingHighMul(x, x), x),
      6,
    );
    const diff = (saturatingRoundingDoublingHighMul(halfThree, x) - saturatingRoundingDoublingHighMul(halfInput, x3)) | 0;
    x = saturatingRoundingMultiplyByPOT(diff, 3);
  }
  const halfSqrt2 = 1518500250;
  let multiplier = saturatingRoundingDoublingHighMul(x, halfSqrt2);
  if (shift < 0) {
    multiplier = multiplier << -shift;
    shift = 0;
  }
  return { multiplier, shift: -shift };
}

/** Quantized RSQRT: int8 (fixed-point) or int16 (LUT). Inputs below the zero point are an error in TFLite. */
export function rsqrtQuantized<T extends QuantizedArray>(input: T, inputParams: QuantParams, output: QuantParams): T {
  for (let i = 0; i < input.length; i++) {
    if (input[i]! < inputParams.zeroPoint) throw new RangeError('Rsqrt is only defined for positive values');
  }
  if (input instanceof Int16Array) {
    const outScale = f32(output.scale);
    const table = tfliteInt16Table(
      inputParams,
      output,
      (x) => (x <= 0 ? f32(32767 * outScale) : f32(1 / f32(Math.sqrt(x)))),
      'float',
    );
    return lookupInt16(input, table) as T;
  }
  const m = quantizeMultiplier(1 / f32(f32(Math.sqrt(f32(inputParams.scale))) * f32(output.scale)));
  const kShift = 20;
  // One evaluation per possible input value, then a table lookup.
  const table = new Int8Array(256);
  for (let q = inputParams.zeroPoint; q <= 127; q++) {
    const value = q - inputParams.zeroPoint;
    if (value === 0) {
      table[q + 128] = 127;
      continue;
    }
    const inv = invSqrtQuantizedMultiplierExp(value);
    const data = multiplyByQuantizedMultiplier(1, inv.multiplier, inv.shift + kShift);
    const v = multiplyByQuantizedMultiplier(data, m.multiplier, m.shift - kShift) + output.zeroPoint;
    table[q + 128] = clamp(v, -128, 127);
  }
  const out = lookupInt8(input as Int8Array, table);
  return out as T;
}
