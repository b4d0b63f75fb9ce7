// ADD, SUB, MUL, SQUARED_DIFFERENCE with NumPy broadcasting, as the official TFLite runtime
// (WASM builds, XNNPACK delegate on by default) computes them.
//
// - float32: XNNPACK (ADD/SUB/MUL/SQUARED_DIFFERENCE): one float32 operation per element, then
//   the fused activation as a float clamp.
// - int8 ADD/SUB: XNNPACK qs8-vadd when both s_in/s_out ratios are in [2^-10, 2^8) (else the
//   builtin kernel). Multipliers m = lrintf(float(s_in/s_out) * 2^shift) with 20 significant
//   bits, shift = 20 - exponent(max ratio); acc = bias + a*m_a + b*m_b (b's multiplier negated
//   for SUB), bias = 2^(shift-1) - zp_a*m_a - zp_b*m_b; out = (acc >> shift) + zp_out (an
//   arithmetic shift, i.e. round half up), clamped. Fused activation: a separate XNNPACK clamp
//   with bounds lrintf(f/s + zp).
// - int8 MUL: XNNPACK qs8-vmul fp32: (a - zp_a) * (b - zp_b) as int32, times
//   float(float(s_a*s_b)/s_out) in float32, round half to even, + zp_out, clamp. Used when that
//   scale is in [2^-16, 2^8).
// - builtin (int16 always; int8 when XNNPACK declines; SQUARED_DIFFERENCE int8): TFLite's
//   fixed-point kernels. ADD/SUB: inputs shifted left by 20 (int8) or 15 (int16), each scaled by
//   a Q31 multiplier of s_in / (2 max s_in), summed, scaled by 2 max s_in / (2^shift s_out)
//   (MultiplyByQuantizedMultiplierSmallerThanOneExp: double rounding). int16 with
//   pot_scale_int16 and power-of-two scales: the LSTM path (one input rounding-shifted, then a
//   saturating int16 add). MUL: MultiplyByQuantizedMultiplier((a-zp_a)(b-zp_b),
//   Q(float(float(s_a s_b)/s_out))). SQUARED_DIFFERENCE int8: inputs << 7 then scaled like ADD,
//   the difference squared, then scaled by (2 max s)^2 / (2^14 s_out). Activation bounds:
//   zp + round_half_away(float(f / s)).
import { ActivationFunctionType } from '../../tflite/schema.js';
import {
  activationRangeBuiltin,
  activationRangeFloat,
  activationRangeXnnpack,
  allocLike,
  applyActivationFloat,
  dtypeOf,
  broadcastPlan,
  type KernelChoice,
  type QuantizedArray,
  type QuantizedTensor,
  type QuantParams,
  type Tensor,
} from './common.js';
import {
  checkedLog2,
  clamp,
  f32,
  multiplyByQuantizedMultiplier,
  multiplyByQuantizedMultiplierSmallerThanOneExp,
  quantizeMultiplier,
  roundHalfEven,
  roundingDivideByPOT,
  saturatingAddInt16,
  saturatingRoundingDoublingHighMul,
  saturatingRoundingDoublingHighMulShifted,
  typeRange,
} from './fixed-point.js';

export type BinaryOp = 'ADD' | 'SUB' | 'MUL' | 'SQUARED_DIFFERENCE';

export interface BinaryResult<T> {
  readonly data: T;
  readonly shape: number[];
}

// ---------------------------------------------------------------------------------------------
// float32

/** Float32 ADD/SUB/MUL/SQUARED_DIFFERENCE with broadcasting and a fused activation. */
export function binaryFloat32(
  op: BinaryOp,
  a: Tensor<Float32Array>,
  b: Tensor<Float32Array>,
  activation: ActivationFunctionType = ActivationFunctionType.NONE,
): BinaryResult<Float32Array> {
  const range = activationRangeFloat(op === 'SQUARED_DIFFERENCE' ? ActivationFunctionType.NONE : activation);
  const plan = broadcastPlan(a.shape, b.shape);
  const out = new Float32Array(plan.size);
  const A = a.data;
  const B = b.data;
  for (let k = 0; k < plan.size; k++) {
    const x = A[plan.a === null ? k : plan.a[k]!]!;
    const y = B[plan.b === null ? k : plan.b[k]!]!;
    let v: number;
    switch (op) {
      case 'ADD':
        v = f32(x + y);
        break;
      case 'SUB':
        v = f32(x - y);
        break;
      case 'MUL':
        v = f32(x * y);
        break;
      case 'SQUARED_DIFFERENCE': {
        const d = f32(x - y);
        v = f32(d * d);
        break;
      }
    }
    out[k] = applyActivationFloat(v, range);
  }
  return { data: out, shape: plan.shape };
}

// ---------------------------------------------------------------------------------------------
// Quantized: dispatch

export interface BinaryQuantizedOptions {
  readonly output: QuantParams;
  readonly activation?: ActivationFunctionType;
  readonly kernel?: KernelChoice;
  /** ADD/SUB int16: the AddOptions/SubOptions flag (schema default true). */
  readonly potScaleInt16?: boolean;
}

/** Whether the official runtime's XNNPACK delegate takes this int8 binary op. */
export function xnnpackTakesBinary(op: BinaryOp, a: QuantParams, b: QuantParams, output: QuantParams): boolean {
  switch (op) {
    case 'ADD':
    case 'SUB': {
      const ok = (s: number) => {
        const r = f32(f32(s) / f32(output.scale));
        return r >= 2 ** -10 && r < 256;
      };
      return ok(a.scale) && ok(b.scale);
    }
    case 'MUL': {
      const r = f32(f32(f32(a.scale) * f32(b.scale)) / f32(output.scale));
      return r >= 2 ** -16 && r < 256;
    }
    case 'SQUARED_DIFFERENCE':
      return false;
  }
}

/** Quantized ADD/SUB/MUL/SQUARED_DIFFERENCE (int8 or int16) with broadcasting. */
export function binaryQuantized<T extends QuantizedArray>(
  op: BinaryOp,
  a: QuantizedTensor<T>,
  b: QuantizedTensor<T>,
  options: BinaryQuantizedOptions,
): BinaryResult<T> {
  const dtype = dtypeOf(a.data);
  const activation = options.activation ?? ActivationFunctionType.NONE;
  let kernel = options.kernel ?? 'auto';
  if (kernel === 'auto') kernel = dtype === 'int8' && xnnpackTakesBinary(op, a, b, options.output) ? 'xnnpack' : 'builtin';
  if (kernel === 'xnnpack') {
    if (dtype !== 'int8' || op === 'SQUARED_DIFFERENCE') throw new RangeError(`XNNPACK has no ${dtype} ${op}`);
    return (op === 'MUL' ? mulXnnpack(a, b, options.output, activation) : addXnnpack(op, a, b, options.output, activation)) as BinaryResult<T>;
  }
  switch (op) {
    case 'ADD':
    case 'SUB':
      if (dtype === 'int16' && (options.potScaleInt16 ?? true) && [a.scale, b.scale, options.output.scale].every(isPowerOfTwo)) {
        return addSubInt16Pot(op, a, b, options.output, activation) as BinaryResult<T>;
      }
      return addSubBuiltin(op, a, b, options.output, activation);
    case 'MUL':
      return mulBuiltin(a, b, options.output, activation);
    case 'SQUARED_DIFFERENCE':
      if (dtype !== 'int8') throw new RangeError('TFLite has no int16 SQUARED_DIFFERENCE');
      return squaredDifferenceBuiltin(a, b, options.output);
  }
}

// ---------------------------------------------------------------------------------------------
// XNNPACK

/** float32 bits as a uint32. */
function floatBits(x: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, x);
  return view.getUint32(0);
}

function bitsFloat(bits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, bits >>> 0);
  return view.getFloat32(0);
}

/** xnn_init_qs8_add_minmax_scalar_params. */
export function xnnpackAddParams(a: QuantParams, b: QuantParams, output: QuantParams, subtract = false) {
  const aRatio = f32(f32(a.scale) / f32(output.scale));
  let bRatio = f32(f32(b.scale) / f32(output.scale));
  if (subtract) bRatio = -bRatio; // XNNPACK's subtract negates b's scale
  const maxRatio = Math.max(Math.abs(aRatio), Math.abs(bRatio));
  const maxExponent = ((floatBits(maxRatio) >>> 23) & 0xff) - 127;
  const shift = 20 - maxExponent;
  // Adding shift to the exponent field multiplies by 2^shift exactly.
  const scaled = (r: number) => roundHalfEven(bitsFloat(floatBits(Math.abs(r)) + (shift << 23)));
  const aMultiplier = aRatio < 0 ? -scaled(aRatio) : scaled(aRatio);
  const bMultiplier = bRatio < 0 ? -scaled(bRatio) : scaled(bRatio);
  const bias = (2 ** (shift - 1) - a.zeroPoint * aMultiplier - b.zeroPoint * bMultiplier) | 0;
  return { aMultiplier, bMultiplier, shift, bias };
}

function addXnnpack(
  op: 'ADD' | 'SUB',
  a: QuantizedTensor,
  b: QuantizedTensor,
  output: QuantParams,
  activation: ActivationFunctionType,
): BinaryResult<Int8Array> {
  const { aMultiplier, bMultiplier, shift, bias } = xnnpackAddParams(a, b, output, op === 'SUB');
  const range = activationRangeXnnpack(activation, output);
  const A = a.data;
  const B = b.data;
  const plan = broadcastPlan(a.shape, b.shape);
  const out = allocLike(a.data, plan.size);
  for (let k = 0; k < plan.size; k++) {
    const i = plan.a === null ? k : plan.a[k]!;
    const j = plan.b === null ? k : plan.b[k]!;
    const acc = (bias + A[i]! * aMultiplier + B[j]! * bMultiplier) | 0;
    const q = clamp((acc >> shift) + output.zeroPoint, -128, 127);
    out[k] = clamp(q, range.min, range.max);
  }
  return { data: out as Int8Array, shape: plan.shape };
}

function mulXnnpack(a: QuantizedTensor, b: QuantizedTensor, output: QuantParams, activation: ActivationFunctionType): BinaryResult<Int8Array> {
  const scale = f32(f32(f32(a.scale) * f32(b.scale)) / f32(output.scale));
  const range = activationRangeXnnpack(activation, output);
  const lo = -128 - output.zeroPoint;
  const hi = 127 - output.zeroPoint;
  const A = a.data;
  const B = b.data;
  const plan = broadcastPlan(a.shape, b.shape);
  const out = allocLike(a.data, plan.size);
  for (let k = 0; k < plan.size; k++) {
    const i = plan.a === null ? k : plan.a[k]!;
    const j = plan.b === null ? k : plan.b[k]!;
    const acc = (A[i]! - a.zeroPoint) * (B[j]! - b.zeroPoint);
    const q = roundHalfEven(clamp(f32(acc * scale), lo, hi)) + output.zeroPoint;
    out[k] = clamp(q, range.min, range.max);
  }
  return { data: out as Int8Array, shape: plan.shape };
}

// ---------------------------------------------------------------------------------------------
// TFLite builtin kernels

function isPowerOfTwo(scale: number): boolean {
  return checkedLog2(scale).isPowerOfTwo;
}

/** The parameters of TFLite's general quantized ADD/SUB (add.cc / sub.cc Prepare). */
export function builtinAddParams(a: QuantParams, b: QuantParams, output: QuantParams, dtype: 'int8' | 'int16') {
  const leftShift = dtype === 'int16' ? 15 : 20;
  const twiceMaxInputScale = 2 * Math.max(f32(a.scale), f32(b.scale));
  const input1 = quantizeMultiplier(f32(a.scale) / twiceMaxInputScale);
  const input2 = quantizeMultiplier(f32(b.scale) / twiceMaxInputScale);
  const out = quantizeMultiplier(twiceMaxInputScale / f32(2 ** leftShift * f32(output.scale)));
  return { leftShift, input1, input2, output: out };
}

function addSubBuiltin<T extends QuantizedArray>(
  op: 'ADD' | 'SUB',
  a: QuantizedTensor<T>,
  b: QuantizedTensor<T>,
  output: QuantParams,
  activation: ActivationFunctionType,
): BinaryResult<T> {
  const dtype = dtypeOf(a.data);
  const p = builtinAddParams(a, b, output, dtype);
  const range = activationRangeBuiltin(activation, output, dtype);
  const A = a.data;
  const B = b.data;
  const sign = op === 'SUB' ? -1 : 1;
  // The output multiplier of SUB may exceed 1 (tiny output scales): MultiplyByQuantizedMultiplier.
  const divisor = 2 ** (31 - p.leftShift);
  const m1 = p.input1.multiplier;
  const r1 = -p.input1.shift;
  const m2 = p.input2.multiplier;
  const r2 = -p.input2.shift;
  const mo = p.output.multiplier;
  const so = p.output.shift;
  const plan = broadcastPlan(a.shape, b.shape);
  const out = allocLike(a.data, plan.size);
  for (let k = 0; k < plan.size; k++) {
    const i = plan.a === null ? k : plan.a[k]!;
    const j = plan.b === null ? k : plan.b[k]!;
    // MultiplyByQuantizedMultiplierSmallerThanOneExp((q - zp) << leftShift, m, shift).
    const x = roundingDivideByPOT(saturatingRoundingDoublingHighMulShifted(A[i]! - a.zeroPoint, divisor, m1), r1);
    const y = roundingDivideByPOT(saturatingRoundingDoublingHighMulShifted(B[j]! - b.zeroPoint, divisor, m2), r2);
    const sum = (x + sign * y) | 0;
    const raw =
      (so > 0 ? multiplyByQuantizedMultiplier(sum, mo, so) : roundingDivideByPOT(saturatingRoundingDoublingHighMul(sum, mo), -so)) +
      output.zeroPoint;
    out[k] = clamp(raw, range.min, range.max);
  }
  return { data: out, shape: plan.shape };
}

/** int16 ADD/SUB with power-of-two scales (pot_scale_int16): TFLite's LSTM-oriented path. */
function addSubInt16Pot(
  op: 'ADD' | 'SUB',
  a: QuantizedTensor,
  b: QuantizedTensor,
  output: QuantParams,
  activation: ActivationFunctionType,
): BinaryResult<Int16Array> {
  const shiftA = checkedLog2(a.scale).log2 - checkedLog2(output.scale).log2;
  const shiftB = checkedLog2(b.scale).log2 - checkedLog2(output.scale).log2;
  if (shiftA > 0 || shiftB > 0 || (shiftA !== 0 && shiftB !== 0)) {
    throw new RangeError('TFLite int16 power-of-two ADD/SUB needs one input at the output scale and the other not coarser');
  }
  const range = activationRangeBuiltin(activation, output, 'int16');
  const A = a.data;
  const B = b.data;
  const plan = broadcastPlan(a.shape, b.shape);
  const out = allocLike(a.data, plan.size);
  for (let k = 0; k < plan.size; k++) {
    const i = plan.a === null ? k : plan.a[k]!;
    const j = plan.b === null ? k : plan.b[k]!;
    let v: number;
    if (op === 'ADD') {
      const [kept, shifted, s] = shiftA === 0 ? [A[i]!, B[j]!, -shiftB] : [B[j]!, A[i]!, -shiftA];
      v = saturatingAddInt16(roundingDivideByPOT(shifted, s), kept);
    } else {
      // Sub16: the shifted input is rounding-divided, then a saturating int16 subtraction.
      const x = shiftA === 0 ? A[i]! : roundingDivideByPOT(A[i]!, -shiftA);
      const y = shiftB === 0 ? B[j]! : roundingDivideByPOT(B[j]!, -shiftB);
      v = saturatingAddInt16(x, -y);
    }
    out[k] = clamp(v, range.min, range.max);
  }
  return { data: out as Int16Array, shape: plan.shape };
}

/** The real multiplier of TFLite's quantized MUL: float(float(s_a * s_b) / s_out). */
export function builtinMulMultiplier(a: QuantParams, b: QuantParams, output: QuantParams) {
  return quantizeMultiplier(f32(f32(f32(a.scale) * f32(b.scale)) / f32(output.scale)));
}

function mulBuiltin<T extends QuantizedArray>(
  a: QuantizedTensor<T>,
  b: QuantizedTensor<T>,
  output: QuantParams,
  activation: ActivationFunctionType,
): BinaryResult<T> {
  const dtype = dtypeOf(a.data);
  const m = builtinMulMultiplier(a, b, output);
  const range = activationRangeBuiltin(activation, output, dtype);
  const A = a.data;
  const B = b.data;
  const plan = broadcastPlan(a.shape, b.shape);
  const out = allocLike(a.data, plan.size);
  for (let k = 0; k < plan.size; k++) {
    const i = plan.a === null ? k : plan.a[k]!;
    const j = plan.b === null ? k : plan.b[k]!;
    const product = (A[i]! - a.zeroPoint) * (B[j]! - b.zeroPoint);
    out[k] = clamp(multiplyByQuantizedMultiplier(product, m.multiplier, m.shift) + output.zeroPoint, range.min, range.max);
  }
  return { data: out, shape: plan.shape };
}

function squaredDifferenceBuiltin<T extends QuantizedArray>(
  a: QuantizedTensor<T>,
  b: QuantizedTensor<T>,
  output: QuantParams,
): BinaryResult<T> {
  const leftShift = 7;
  const divisor = 2 ** (31 - leftShift);
  const twiceMax = 2 * Math.max(f32(a.scale), f32(b.scale));
  const m1 = quantizeMultiplier(f32(a.scale) / twiceMax);
  const m2 = quantizeMultiplier(f32(b.scale) / twiceMax);
  const mo = quantizeMultiplier((twiceMax * twiceMax) / (2 ** (2 * leftShift) * f32(output.scale)));
  const { qmin, qmax } = typeRange('int8');
  const A = a.data;
  const B = b.data;
  const plan = broadcastPlan(a.shape, b.shape);
  const out = allocLike(a.data, plan.size);
  for (let k = 0; k < plan.size; k++) {
    const i = plan.a === null ? k : plan.a[k]!;
    const j = plan.b === null ? k : plan.b[k]!;
    const x = roundingDivideByPOT(saturatingRoundingDoublingHighMulShifted(A[i]! - a.zeroPoint, divisor, m1.multiplier), -m1.shift);
    const y = roundingDivideByPOT(saturatingRoundingDoublingHighMulShifted(B[j]! - b.zeroPoint, divisor, m2.multiplier), -m2.shift);
    const d = x - y;
    const raw = multiplyByQuantizedMultiplierSmallerThanOneExp(Math.imul(d, d), mo.multiplier, mo.shift) + output.zeroPoint;
    out[k] = clamp(raw, qmin, qmax);
  }
  return { data: out, shape: plan.shape };
}
