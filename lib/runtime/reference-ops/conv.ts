// Plain-loop references of quantized CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED, written to
// record (and test) which requantization rule the official runtime applies; not meant to be fast
// (the native kernels are).
//
// - int8 (per-tensor and per-channel weights): XNNPACK ('fp32'): acc = bias + sum (x - zp_in) w
//   (int32); scale_c = float(float(s_in * s_w[c]) / s_out); y = round_half_even(clamp(float(acc) *
//   scale_c, lo - zp, hi - zp)) + zp_out, lo/hi = the activation bounds lrintf(f / s + zp).
// - TFLite's builtin int8 kernels ('fixed-point'): MultiplyByQuantizedMultiplier(acc, Q(m_c)) +
//   zp_out with m_c = double(s_in) s_w[c] / s_out (CONV_2D, DEPTHWISE_CONV_2D) or
//   double(float(s_in s_w)) / s_out (per-tensor FULLY_CONNECTED).
// - int16x8 (builtin): acc = sum x w (+ bias) in int64 when the bias is int64, then the int64
//   MultiplyByQuantizedMultiplier (16-bit rounded multiplier, one rounding shift) ('int64');
//   with an int32 bias TFLite accumulates in int32 and requantizes as ruy does (below).
// - int16x8 FULLY_CONNECTED with an int64 bias in LiteRT (2026 TFLite): requantization in double,
//   round_half_away(double(acc) * (double(s_in) s_w / s_out)) + zp_out ('double').
// - ruy's requantization (TFLite's optimized kernels on int32 accumulators: int8 per-channel
//   FULLY_CONNECTED in tfjs-tflite, int16x8 with an int32 bias): one rounding,
//   (acc * m + 2^(30 - shift)) >> (31 - shift) in int64 ('single-rounding').
// Which runtime uses which rule is listed in README.md.
import { ActivationFunctionType, Padding } from '../../tflite/schema.js';
import { activationRangeBuiltin, activationRangeXnnpack, dtypeOf, type QuantizedArray, type QuantParams } from './common.js';
import {
  clamp,
  f32,
  multiplyByQuantizedMultiplier,
  multiplyByQuantizedMultiplierInt64,
  quantizeMultiplier,
  roundHalfAway,
  roundHalfEven,
} from './fixed-point.js';
import { windowedOutput } from './pooling.js';

export type RequantRule = 'fp32' | 'fixed-point' | 'int64' | 'double' | 'single-rounding';

export interface QuantizedLayerParams {
  readonly input: QuantParams;
  /** One scale (per-tensor) or one per output channel. */
  readonly weightScales: readonly number[];
  readonly output: QuantParams;
  readonly activation?: ActivationFunctionType;
  readonly rule: RequantRule;
}

/** The per-output-channel requantizer of a rule. */
function requantizer(p: QuantizedLayerParams, channels: number, op: 'CONV' | 'FC', dtype: 'int8' | 'int16'): (acc: number | bigint, c: number) => number {
  const activation = p.activation ?? ActivationFunctionType.NONE;
  const scaleOf = (c: number) => p.weightScales[p.weightScales.length === 1 ? 0 : c]!;
  const zp = p.output.zeroPoint;
  if (p.rule === 'fp32') {
    const range = activationRangeXnnpack(activation, p.output);
    const scales = Array.from({ length: channels }, (_, c) => f32(f32(f32(p.input.scale) * f32(scaleOf(c))) / f32(p.output.scale)));
    return (acc, c) => roundHalfEven(clamp(f32(Number(acc) * scales[c]!), range.min - zp, range.max - zp)) + zp;
  }
  const range = activationRangeBuiltin(activation, p.output, dtype);
  const multipliers = Array.from({ length: channels }, (_, c) => {
    const real =
      op === 'FC' && p.weightScales.length === 1
        ? f32(f32(p.input.scale) * f32(scaleOf(c))) / f32(p.output.scale)
        : (f32(p.input.scale) * f32(scaleOf(c))) / f32(p.output.scale);
    return quantizeMultiplier(real);
  });
  if (p.rule === 'double') {
    const scales = Array.from({ length: channels }, (_, c) => (f32(p.input.scale) * f32(scaleOf(c))) / f32(p.output.scale));
    return (acc, c) => clamp(roundHalfAway(Number(acc) * scales[c]!) + zp, range.min, range.max);
  }
  if (p.rule === 'single-rounding') {
    // ruy's MultiplyByQuantizedMultiplier: (x * m + 2^(30 - shift)) >> (31 - shift) in int64.
    return (acc, c) => {
      const { multiplier, shift } = multipliers[c]!;
      const total = BigInt(31 - shift);
      const v = (BigInt(acc) * BigInt(multiplier) + (1n << (total - 1n))) >> total;
      return clamp(Number(v) + zp, range.min, range.max);
    };
  }
  if (p.rule === 'int64') {
    return (acc, c) => clamp(multiplyByQuantizedMultiplierInt64(acc, multipliers[c]!.multiplier, multipliers[c]!.shift) + zp, range.min, range.max);
  }
  return (acc, c) => clamp(multiplyByQuantizedMultiplier(Number(acc) | 0, multipliers[c]!.multiplier, multipliers[c]!.shift) + zp, range.min, range.max);
}

function alloc<T extends QuantizedArray>(like: T, n: number): T {
  return (like instanceof Int8Array ? new Int8Array(n) : new Int16Array(n)) as T;
}

export interface Conv2DGeometry {
  readonly padding: Padding;
  readonly strideH: number;
  readonly strideW: number;
  readonly dilationH?: number;
  readonly dilationW?: number;
}

/** CONV_2D: input NHWC, weights OHWI, bias per output channel (int32 or int64). */
export function conv2DQuantized<T extends QuantizedArray>(
  input: T,
  inputShape: readonly number[],
  weights: Int8Array,
  weightShape: readonly number[],
  bias: Int32Array | BigInt64Array | null,
  geometry: Conv2DGeometry,
  params: QuantizedLayerParams,
): { data: T; shape: number[] } {
  const [n, h, w, cin] = inputShape as [number, number, number, number];
  const [cout, kh, kw] = weightShape as [number, number, number, number];
  const dh = geometry.dilationH ?? 1;
  const dw = geometry.dilationW ?? 1;
  const oy = windowedOutput(h, (kh - 1) * dh + 1, geometry.strideH, geometry.padding);
  const ox = windowedOutput(w, (kw - 1) * dw + 1, geometry.strideW, geometry.padding);
  const requant = requantizer(params, cout, 'CONV', dtypeOf(input));
  const out = alloc(input, n * oy.out * ox.out * cout);
  const zpIn = params.input.zeroPoint;
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oy.out; y++) {
      for (let x = 0; x < ox.out; x++) {
        for (let c = 0; c < cout; c++) {
          let acc = 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = y * geometry.strideH - oy.before + ky * dh;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = x * geometry.strideW - ox.before + kx * dw;
              if (ix < 0 || ix >= w) continue;
              for (let i = 0; i < cin; i++) {
                acc += (input[((b * h + iy) * w + ix) * cin + i]! - zpIn) * weights[((c * kh + ky) * kw + kx) * cin + i]!;
              }
            }
          }
          out[o++] = requant(addBias(acc, bias, c, params.rule), c);
        }
      }
    }
  }
  return { data: out, shape: [n, oy.out, ox.out, cout] };
}

/** DEPTHWISE_CONV_2D: weights [1, KH, KW, C * depthMultiplier]. */
export function depthwiseConv2DQuantized<T extends QuantizedArray>(
  input: T,
  inputShape: readonly number[],
  weights: Int8Array,
  weightShape: readonly number[],
  bias: Int32Array | BigInt64Array | null,
  geometry: Conv2DGeometry & { readonly depthMultiplier: number },
  params: QuantizedLayerParams,
): { data: T; shape: number[] } {
  const [n, h, w, cin] = inputShape as [number, number, number, number];
  const [, kh, kw, cout] = weightShape as [number, number, number, number];
  const dh = geometry.dilationH ?? 1;
  const dw = geometry.dilationW ?? 1;
  const oy = windowedOutput(h, (kh - 1) * dh + 1, geometry.strideH, geometry.padding);
  const ox = windowedOutput(w, (kw - 1) * dw + 1, geometry.strideW, geometry.padding);
  const requant = requantizer(params, cout, 'CONV', dtypeOf(input));
  const out = alloc(input, n * oy.out * ox.out * cout);
  const zpIn = params.input.zeroPoint;
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oy.out; y++) {
      for (let x = 0; x < ox.out; x++) {
        for (let c = 0; c < cout; c++) {
          const ic = Math.floor(c / geometry.depthMultiplier);
          let acc = 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = y * geometry.strideH - oy.before + ky * dh;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = x * geometry.strideW - ox.before + kx * dw;
              if (ix < 0 || ix >= w) continue;
              acc += (input[((b * h + iy) * w + ix) * cin + ic]! - zpIn) * weights[(ky * kw + kx) * cout + c]!;
            }
          }
          out[o++] = requant(addBias(acc, bias, c, params.rule), c);
        }
      }
    }
  }
  return { data: out, shape: [n, oy.out, ox.out, cout] };
}

/** FULLY_CONNECTED: input [..., K] (flattened to rows), weights [N, K]. */
export function fullyConnectedQuantized<T extends QuantizedArray>(
  input: T,
  weights: Int8Array,
  weightShape: readonly number[],
  bias: Int32Array | BigInt64Array | null,
  params: QuantizedLayerParams,
): { data: T; shape: number[] } {
  const [units, depth] = weightShape as [number, number];
  const rows = input.length / depth;
  const requant = requantizer(params, units, 'FC', dtypeOf(input));
  const out = alloc(input, rows * units);
  const zpIn = params.input.zeroPoint;
  for (let r = 0; r < rows; r++) {
    for (let u = 0; u < units; u++) {
      let acc = 0;
      for (let k = 0; k < depth; k++) acc += (input[r * depth + k]! - zpIn) * weights[u * depth + k]!;
      out[r * units + u] = requant(addBias(acc, bias, u, params.rule), u);
    }
  }
  return { data: out, shape: [rows, units] };
}

function addBias(acc: number | bigint, bias: Int32Array | BigInt64Array | null, c: number, rule: RequantRule): number | bigint {
  if (rule === 'int64' || rule === 'double' || rule === 'single-rounding') {
    const b = bias === null ? 0n : BigInt(bias[c]!);
    return BigInt(acc) + b;
  }
  return (Number(acc) + (bias === null ? 0 : Number(bias[c]!))) | 0;
}
