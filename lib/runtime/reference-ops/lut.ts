// Lookup tables of the official runtime's quantized activations: 256-entry int8 tables (TFLite's
// LUTPopulate and XNNPACK's LUT operators) and TFLite's 513-entry interpolated int16 tables
// (LUTPopulateInt16 + LUTLookup). Every float step is rounded to float32 as the C++ does (or
// kept in double where the C++ uses double).
import { clamp, f32, roundHalfAway, roundHalfEven } from './fixed-point.js';
import type { QuantParams } from './common.js';

/** A 256-entry table indexed by (q + 128). */
export type Int8Table = Int8Array;

export function lookupInt8(input: Int8Array, table: Int8Table): Int8Array {
  const out = new Int8Array(input.length);
  for (let i = 0; i < input.length; i++) out[i] = table[input[i]! + 128]!;
  return out;
}

/**
 * TFLite's LUTPopulate<int8_t>: dequantize in float32, transform (a float32 function), then
 * round_half_away(float(y * float(1 / s_out))) + zp, clamped.
 */
export function tfliteInt8Table(input: QuantParams, output: QuantParams, transform: (x: number) => number): Int8Table {
  const table = new Int8Array(256);
  const inverseScale = f32(1 / f32(output.scale));
  const inScale = f32(input.scale);
  for (let q = -128; q <= 127; q++) {
    const dequantized = f32(inScale * (q - input.zeroPoint));
    const transformed = f32(transform(dequantized));
    const rescaled = roundHalfAway(f32(transformed * inverseScale));
    table[q + 128] = clamp(rescaled + output.zeroPoint, -128, 127);
  }
  return table;
}

/**
 * XNNPACK's LUT of a quantized unary op built from its reference kernel (2025+ XNNPACK):
 * x = (float(q) - float(zp)) * s in float32, y = f(x) (float32), then
 * round_half_even(float(float(y * float(1 / s_out)) + zp_out)), clamped.
 */
export function xnnpackInt8Table(input: QuantParams, output: QuantParams, f: (x: number) => number): Int8Table {
  const table = new Int8Array(256);
  const inverseScale = f32(1 / f32(output.scale));
  const inScale = f32(input.scale);
  for (let q = -128; q <= 127; q++) {
    const x = f32((q - input.zeroPoint) * inScale);
    const y = f32(f(x));
    const v = f32(f32(y * inverseScale) + output.zeroPoint);
    table[q + 128] = Number.isNaN(v) ? 0 : clamp(roundHalfEven(v), -128, 127);
  }
  return table;
}

/**
 * The LUT of XNNPACK's 2023 lut-elementwise operators (sigmoid/tanh_nc_qs8): x = float((q - zp) * s),
 * y = f(x), lrintf(float(y * float(1 / s_out))) + zp_out, clamped.
 */
export function xnnpack2023Int8Table(input: QuantParams, output: QuantParams, f: (x: number) => number): Int8Table {
  const table = new Int8Array(256);
  const inverseScale = f32(1 / f32(output.scale));
  const inScale = f32(input.scale);
  for (let q = -128; q <= 127; q++) {
    const x = f32((q - input.zeroPoint) * inScale);
    const y = f32(f(x));
    table[q + 128] = clamp(roundHalfEven(f32(y * inverseScale)) + output.zeroPoint, -128, 127);
  }
  return table;
}

// ---------------------------------------------------------------------------------------------
// int16: 513-entry tables with linear interpolation (TFLite's LUTPopulateInt16 / LUTLookup).

/**
 * TFLite's LUTPopulateInt16 over the input range of int16 (512 steps + 1): each entry is the
 * rounded sample minus half the midpoint interpolation error. `precision` says whether the
 * C++ instantiates it with float (most ops) or double (SOFTMAX's tables).
 */
export function tfliteInt16Table(
  input: QuantParams,
  output: QuantParams,
  transform: (x: number) => number,
  precision: 'float' | 'double',
): Int16Array {
  const F = precision === 'float' ? f32 : (x: number) => x;
  const inScale = F(input.scale);
  const outScale = F(output.scale);
  const inputMin = F(inScale * (-32768 - input.zeroPoint));
  const inputMax = F(inScale * (32767 - input.zeroPoint));
  const outputMin = F(outScale * (-32768 - output.zeroPoint));
  const outputMax = F(outScale * (32767 - output.zeroPoint));
  const steps = 512;
  const step = F(F(inputMax - inputMin) / steps);
  const halfStep = F(step / 2);
  const scalingInverse = F(65536 / F(outputMax - outputMin));
  const fn = (x: number) => F(transform(x));
  const table = new Int16Array(steps + 1);
  for (let i = 0; i < steps; i++) {
    const at = F(inputMin + F(i * step));
    const val = fn(at);
    const valMidpoint = fn(F(at + halfStep));
    const valNext = fn(F(inputMin + F((i + 1) * step)));
    const sample = roundHalfAway(F(val * scalingInverse));
    const midpointInterp = roundHalfAway(F(F(F(valNext * scalingInverse) + sample) / 2));
    const midpoint = roundHalfAway(F(valMidpoint * scalingInverse));
    const bias = roundHalfAway(F(F(midpointInterp - midpoint) / 2));
    table[i] = clamp(sample - bias, -32768, 32767);
  }
  table[steps] = clamp(roundHalfAway(F(fn(inputMax) * scalingInverse)), -32768, 32767);
  return table;
}

/** TFLite's LUTLookup for int16: base entry plus the rounded interpolated slope. */
export function lookupInt16Value(value: number, table: Int16Array): number {
  const index = 256 + (value >> 7);
  const offset = value & 0x7f;
  const base = table[index]!;
  const slope = table[index + 1]! - base;
  const delta = (slope * offset + 64) >> 7;
  return ((base + delta) << 16) >> 16;
}

export function lookupInt16(input: Int16Array, table: Int16Array): Int16Array {
  const out = new Int16Array(input.length);
  for (let i = 0; i < input.length; i++) out[i] = lookupInt16Value(input[i]!, table);
  return out;
}
