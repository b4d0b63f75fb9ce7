// Shared arithmetic of the reference ops: TFLite's fixed-point helpers (gemmlowp style, as in
// tflite/kernels/internal/common.h and quantization_util.cc) and the float32 rounding helpers
// XNNPACK's kernels rely on. Every function has exact int32 (or int64) semantics on JS numbers:
// values stay within ±2^53 and products wider than that are split.

/** A real multiplier as TFLite stores it: a Q31 value in [2^30, 2^31) (or 0) and a power-of-two shift. */
export interface QuantizedMultiplier {
  readonly multiplier: number;
  /** > 0: left shift; < 0: right shift. */
  readonly shift: number;
}

const TWO_POW_31 = 2147483648;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** std::frexp for a finite double: x = fraction * 2^exponent with |fraction| in [0.5, 1). */
export function frexp(x: number): { fraction: number; exponent: number } {
  if (x === 0 || !Number.isFinite(x)) return { fraction: x, exponent: 0 };
  const abs = Math.abs(x);
  let exponent = Math.floor(Math.log2(abs)) + 1;
  let fraction = abs * 2 ** -exponent;
  // log2 can be off by one near powers of two; scaling by powers of two is exact.
  while (fraction >= 1) {
    fraction /= 2;
    exponent++;
  }
  while (fraction < 0.5) {
    fraction *= 2;
    exponent--;
  }
  return { fraction: x < 0 ? -fraction : fraction, exponent };
}

/** TfLiteRound / std::round: round half away from zero. */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** lrintf / nearbyint in the default rounding mode: round half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** float32 value of a double (C's static_cast<float>). */
export const f32 = Math.fround;

/** TFLite's QuantizeMultiplier (double-rounding build). */
export function quantizeMultiplier(realMultiplier: number): QuantizedMultiplier {
  if (realMultiplier === 0) return { multiplier: 0, shift: 0 };
  const { fraction, exponent } = frexp(realMultiplier);
  let shift = exponent;
  let qFixed = roundHalfAway(fraction * TWO_POW_31);
  if (qFixed === TWO_POW_31) {
    qFixed /= 2;
    shift++;
  }
  if (shift < -31) return { multiplier: 0, shift: 0 };
  return { multiplier: qFixed, shift };
}

/**
 * gemmlowp's SaturatingRoundingDoublingHighMul: the high 32 bits of 2*a*b, rounded (nudge of
 * ±2^30, then truncating division by 2^31).
 */
export function saturatingRoundingDoublingHighMul(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const ab = a * b;
  if (ab < 4503599627370496 && ab > -4503599627370496) {
    // Exact product: one division by 2^31 (exact) and a truncation.
    return Math.trunc((ab >= 0 ? ab + 1073741824 : ab + (1 - 1073741824)) / TWO_POW_31);
  }
  // a*b = hi * 2^16 + lo with hi = aHigh * b, lo = aLow * b, both exact in a double.
  const aLow = a & 0xffff;
  const hi = ((a - aLow) / 65536) * b;
  const q1 = Math.floor(hi / 32768);
  const rest = (hi - q1 * 32768) * 65536 + aLow * b + (ab >= 0 ? 1073741824 : 1 - 1073741824); // exact: < 2^49
  const q2 = Math.floor(rest / TWO_POW_31);
  const floorQuotient = q1 + q2;
  // C++ int64 division truncates toward zero.
  return floorQuotient < 0 && rest !== q2 * TWO_POW_31 ? floorQuotient + 1 : floorQuotient;
}

/**
 * SaturatingRoundingDoublingHighMul(v * 2^leftShift, m) for |v * m| < 2^47 and leftShift <= 30
 * without the wide product (the input scaling of TFLite's ADD/SUB). `divisor` is
 * 2^(31 - leftShift).
 */
export function saturatingRoundingDoublingHighMulShifted(v: number, divisor: number, m: number): number {
  const p = v * m; // exact
  const half = divisor * 0.5;
  if (p >= 0) return Math.floor((p + half) / divisor);
  // trunc((p * 2^ls + 1 - 2^30) / 2^31) for p < 0: -floor((|p| + half - 2^-ls) / divisor).
  const n = half - p;
  const q = Math.floor(n / divisor);
  return q * divisor === n ? 1 - q : -q;
}

/** gemmlowp's RoundingDivideByPOT: arithmetic shift right, rounding half away from zero. */
export function roundingDivideByPOT(x: number, exponent: number): number {
  if (exponent === 0) return x;
  if (exponent < 31) {
    const mask = (1 << exponent) - 1;
    const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + ((x & mask) > threshold ? 1 : 0);
  }
  // exponent 31 (or more): the int32 value is below 2^31 in magnitude.
  const remainder = x < 0 ? x + TWO_POW_31 : x;
  const threshold = 1073741823 + (x < 0 ? 1 : 0);
  return (exponent >= 32 ? (x < 0 ? -1 : 0) : x >> 31) + (exponent === 31 && remainder > threshold ? 1 : 0);
}

/** TFLite's MultiplyByQuantizedMultiplier(int32 x, ...), double rounding. */
export function multiplyByQuantizedMultiplier(x: number, multiplier: number, shift: number): number {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  const shifted = left === 0 ? x : Math.imul(x, 1 << left);
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(shifted, multiplier), right);
}

/** MultiplyByQuantizedMultiplierSmallerThanOneExp: the same for shift <= 0. */
export function multiplyByQuantizedMultiplierSmallerThanOneExp(x: number, multiplier: number, shift: number): number {
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(x, multiplier), -shift);
}

/** MultiplyByQuantizedMultiplierGreaterThanOne: x << shift, then the high multiply. */
export function multiplyByQuantizedMultiplierGreaterThanOne(x: number, multiplier: number, shift: number): number {
  return saturatingRoundingDoublingHighMul(Math.imul(x, 2 ** shift), multiplier);
}

/**
 * TFLite's MultiplyByQuantizedMultiplier(int64 x, ...) used by the int16x8 kernels: the Q31
 * multiplier rounded to 16 bits, one rounding shift by 15 - shift. x is a BigInt or a number
 * (|x| < 2^47).
 */
export function multiplyByQuantizedMultiplierInt64(x: bigint | number, multiplier: number, shift: number): number {
  const reduced = multiplier < 0x7fff0000 ? (multiplier + (1 << 15)) >> 16 : 0x7fff;
  const totalShift = 15 - shift;
  const xb = typeof x === 'bigint' ? x : BigInt(x);
  const result = (xb * BigInt(reduced) + (1n << BigInt(totalShift - 1))) >> BigInt(totalShift);
  return Number(BigInt.asIntN(32, result));
}

/** gemmlowp's SaturatingRoundingMultiplyByPOT for int32 (exponent may be negative). */
export function saturatingRoundingMultiplyByPOT(x: number, exponent: number): number {
  if (exponent === 0) return x;
  if (exponent < 0) return roundingDivideByPOT(x, -exponent);
  const min = -(2 ** (31 - exponent));
  const max = 2 ** (31 - exponent) - 1;
  if (x > max) return INT32_MAX;
  if (x < min) return INT32_MIN;
  return x * 2 ** exponent;
}

/** Saturating int16 add (gemmlowp SaturatingAdd on int16 raw values). */
export function saturatingAddInt16(a: number, b: number): number {
  const s = a + b;
  return s > 32767 ? 32767 : s < -32768 ? -32768 : s;
}

/** Clamps to [lo, hi]. */
export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** The integer range of a quantized element type. */
export function typeRange(dtype: 'int8' | 'int16' | 'uint8' | 'int32'): { qmin: number; qmax: number } {
  switch (dtype) {
    case 'int8':
      return { qmin: -128, qmax: 127 };
    case 'uint8':
      return { qmin: 0, qmax: 255 };
    case 'int16':
      return { qmin: -32768, qmax: 32767 };
    case 'int32':
      return { qmin: INT32_MIN, qmax: INT32_MAX };
  }
}

/** TFLite's CheckedLog2: log2 of a float scale rounded, and whether it is within 1e-3 of an integer. */
export function checkedLog2(x: number): { log2: number; isPowerOfTwo: boolean } {
  const xLog2 = f32(f32(Math.log(f32(x))) * f32(1 / f32(Math.log(2))));
  const rounded = roundHalfAway(xLog2);
  return { log2: rounded, isPowerOfTwo: Math.abs(f32(xLog2 - rounded)) < f32(1e-3) };
}

// ---------------------------------------------------------------------------------------------
// gemmlowp's fixed-point transcendental functions (fixedpoint.h) on raw int32 or int16 values:
// FixedPoint<intN_t, integerBits> with the raw value in a JS number. Constants are given in
// their int32 form and rescaled to 16 bits as gemmlowp's RescaleConstantInitializer does.

export interface GemmlowpFixedPoint {
  /** exp(a) for a <= 0; a has `integerBits` integer bits, the result 0. */
  expOnNegativeValues(a: number, integerBits: number): number;
  /** 1 / (1 + a) for a in [0, 1) (0 integer bits in and out). */
  oneOverOnePlusXForXIn01(a: number): number;
  /** (1 - a) / (1 + a) for a in (0, 1). */
  oneMinusXOverOnePlusXForXIn01(a: number): number;
  logistic(a: number, integerBits: number): number;
  tanh(a: number, integerBits: number): number;
  /** SaturatingRoundingMultiplyByPOT at this width. */
  multiplyByPOT(x: number, exponent: number): number;
}

function makeGemmlowp(bits: 16 | 32): GemmlowpFixedPoint {
  const max = bits === 32 ? INT32_MAX : 32767;
  const min = bits === 32 ? INT32_MIN : -32768;
  const wrap = bits === 32 ? (x: number) => x | 0 : (x: number) => (x << 16) >> 16;
  const add = (a: number, b: number) => wrap(a + b);
  const sub = (a: number, b: number) => wrap(a - b);
  const mul =
    bits === 32
      ? saturatingRoundingDoublingHighMul
      : (a: number, b: number) => {
          if (a === -32768 && b === -32768) return 32767;
          const ab = a * b;
          return wrap(Math.trunc((ab + (ab >= 0 ? 16384 : 1 - 16384)) / 32768));
        };
  const multiplyByPOT = (x: number, exponent: number): number => {
    if (exponent === 0) return x;
    if (exponent < 0) return roundingDivideByPOT(x, -exponent);
    const threshold = 2 ** (bits - 1 - exponent) - 1;
    return x > threshold ? max : x < -threshold ? min : x * 2 ** exponent;
  };
  const constant = (int32Value: number) => (bits === 32 ? int32Value : roundingDivideByPOT(int32Value, 16));
  // gemmlowp AddSaturatingIf16Bit.
  const addSaturatingIf16Bit = bits === 32 ? add : (a: number, b: number) => clamp(a + b, min, max);
  const halfSum = (a: number, b: number) => {
    const sum = a + b;
    return Math.trunc((sum + (sum >= 0 ? 1 : -1)) / 2);
  };
  const f0Bits = bits - 1;
  const constantTerm = constant(1895147668); // exp(-1/8)
  const constant1Over3 = constant(715827883);
  const barrels = [
    [-2, constant(1672461947)], // exp(-1/4)
    [-1, constant(1302514674)], // exp(-1/2)
    [0, constant(790015084)], // exp(-1)
    [1, constant(290630308)], // exp(-2)
    [2, constant(39332535)], // exp(-4)
    [3, constant(720401)], // exp(-8)
    [4, constant(242)], // exp(-16)
  ] as const;
  const c48Over17 = constant(1515870810); // F2
  const cNeg32Over17 = constant(-1010580540); // F2
  const f2One = 2 ** (bits - 3);

  const expOnQuarterInterval = (a: number): number => {
    const x = add(a, 2 ** (f0Bits - 3)); // a + 1/8
    const x2 = mul(x, x);
    const x3 = mul(x2, x);
    const x4 = mul(x2, x2);
    const x4Over4 = multiplyByPOT(x4, -2);
    const poly = multiplyByPOT(add(mul(add(x4Over4, x3), constant1Over3), x2), -1);
    return addSaturatingIf16Bit(constantTerm, mul(constantTerm, add(x, poly)));
  };

  const expOnNegativeValues = (a: number, integerBits: number): number => {
    const fractionalBits = bits - 1 - integerBits;
    const oneQuarter = 2 ** (fractionalBits - 2);
    const aModQuarterMinusOneQuarter = sub(a & (oneQuarter - 1), oneQuarter);
    let result = expOnQuarterInterval(multiplyByPOT(aModQuarterMinusOneQuarter, integerBits));
    const remainder = sub(aModQuarterMinusOneQuarter, a);
    for (const [exponent, multiplier] of barrels) {
      if (integerBits > exponent && (remainder & (2 ** (fractionalBits + exponent))) !== 0) result = mul(result, multiplier);
    }
    if (integerBits > 5 && a < constant(-(2 ** (36 - integerBits)))) result = 0;
    return a === 0 ? max : result;
  };

  const reciprocalF2 = (halfDenominator: number): number => {
    let x = add(c48Over17, mul(halfDenominator, cNeg32Over17));
    for (let i = 0; i < 3; i++) {
      const oneMinus = sub(f2One, mul(halfDenominator, x));
      x = add(x, multiplyByPOT(mul(x, oneMinus), 2));
    }
    return x;
  };
  const oneOverOnePlusXForXIn01 = (a: number) => multiplyByPOT(reciprocalF2(halfSum(a, max)), 1);
  const oneMinusXOverOnePlusXForXIn01 = (a: number) => multiplyByPOT(sub(reciprocalF2(halfSum(a, max)), f2One), 2);

  return {
    expOnNegativeValues,
    oneOverOnePlusXForXIn01,
    oneMinusXOverOnePlusXForXIn01,
    multiplyByPOT,
    logistic(a, integerBits) {
      if (a === 0) return constant(1 << 30);
      const abs = a > 0 ? a : wrap(-a);
      const positive = oneOverOnePlusXForXIn01(expOnNegativeValues(wrap(-abs), integerBits));
      return a > 0 ? positive : sub(max, positive);
    },
    tanh(a, integerBits) {
      if (a === 0) return 0;
      const t = oneMinusXOverOnePlusXForXIn01(expOnNegativeValues(a < 0 ? a : wrap(-a), integerBits + 1));
      return a < 0 ? wrap(-t) : t;
    },
  };
}

/** gemmlowp's functions on FixedPoint<int32_t, N>. */
export const gemmlowp32: GemmlowpFixedPoint = makeGemmlowp(32);
/** gemmlowp's functions on FixedPoint<int16_t, N>. */
export const gemmlowp16: GemmlowpFixedPoint = makeGemmlowp(16);

/** exp(a) for a <= 0 on FixedPoint<int32_t, integerBits>, as FixedPoint<int32_t, 0>. */
export function expOnNegativeValues(a: number, integerBits: number): number {
  return gemmlowp32.expOnNegativeValues(a, integerBits);
}
