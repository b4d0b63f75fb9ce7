// AVERAGE_POOL_2D and MAX_POOL_2D on NHWC tensors, as the official TFLite runtime computes them.
//
// Windows: TFLite's SAME/VALID rule (SAME: out = ceil(in / stride), padding before =
// floor(total / 2)); padded positions are left out of the window (and of the average's count).
// - float32: XNNPACK (sum / count, max), then the fused activation clamp. XNNPACK sums in its
//   own order, so float averages are compared within a tolerance.
// - int8 AVERAGE_POOL_2D (builtin; XNNPACK takes float only) and int16: the raw values are
//   summed (input and output share scale and zero point), then divided by the count rounding
//   half away from zero ((acc +- count/2) / count, truncating), then clamped to the activation
//   range zp + round_half_away(float(f / s)).
// - int8 MAX_POOL_2D: XNNPACK (max, clamp to lrintf(f / s + zp)); int16: builtin (max, clamp
//   to the builtin activation range). Both equal the plain window max unless a fused activation
//   bound lands on a tie.
import { ActivationFunctionType, Padding } from '../../tflite/schema.js';
import {
  activationRangeBuiltin,
  activationRangeFloat,
  activationRangeXnnpack,
  applyActivationFloat,
  dtypeOf,
  type KernelChoice,
  type QuantizedArray,
  type QuantParams,
} from './common.js';
import { clamp, f32 } from './fixed-point.js';

export interface Pool2DOptions {
  readonly padding: Padding;
  readonly strideH: number;
  readonly strideW: number;
  readonly filterH: number;
  readonly filterW: number;
  readonly activation?: ActivationFunctionType;
}

/** Output size and leading padding of one spatial dimension (TFLite's ComputePaddingHeightWidth). */
export function windowedOutput(inSize: number, filter: number, stride: number, padding: Padding): { out: number; before: number } {
  if (padding === Padding.SAME) {
    const out = Math.ceil(inSize / stride);
    const total = Math.max((out - 1) * stride + filter - inSize, 0);
    return { out, before: Math.floor(total / 2) };
  }
  return { out: Math.floor((inSize - filter) / stride) + 1, before: 0 };
}

export function pool2DOutputShape(inputShape: readonly number[], options: Pool2DOptions): number[] {
  const [n, h, w, c] = inputShape as [number, number, number, number];
  const oh = windowedOutput(h, options.filterH, options.strideH, options.padding).out;
  const ow = windowedOutput(w, options.filterW, options.strideW, options.padding).out;
  return [n, oh, ow, c];
}

/** Visits each output position with the clipped window bounds. */
function forEachWindow(
  inputShape: readonly number[],
  options: Pool2DOptions,
  visit: (outIndex: number, inBase: number, y0: number, y1: number, x0: number, x1: number, channel: number) => void,
): void {
  const [n, h, w, c] = inputShape as [number, number, number, number];
  const { out: oh, before: padH } = windowedOutput(h, options.filterH, options.strideH, options.padding);
  const { out: ow, before: padW } = windowedOutput(w, options.filterW, options.strideW, options.padding);
  let outIndex = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const iy = oy * options.strideH - padH;
      const y0 = Math.max(0, -iy);
      const y1 = Math.min(options.filterH, h - iy);
      for (let ox = 0; ox < ow; ox++) {
        const ix = ox * options.strideW - padW;
        const x0 = Math.max(0, -ix);
        const x1 = Math.min(options.filterW, w - ix);
        const inBase = ((b * h + iy) * w + ix) * c;
        for (let ch = 0; ch < c; ch++) visit(outIndex++, inBase + ch, y0, y1, x0, x1, ch);
      }
    }
  }
}

export function averagePool2DFloat32(input: Float32Array, inputShape: readonly number[], options: Pool2DOptions): Float32Array {
  const shape = pool2DOutputShape(inputShape, options);
  const out = new Float32Array(shape.reduce((a, d) => a * d, 1));
  const range = activationRangeFloat(options.activation ?? ActivationFunctionType.NONE);
  const rowStride = (inputShape[2] ?? 0) * (inputShape[3] ?? 0);
  const colStride = inputShape[3] ?? 0;
  forEachWindow(inputShape, options, (k, base, y0, y1, x0, x1) => {
    let sum = 0;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += input[base + y * rowStride + x * colStride]!;
    out[k] = applyActivationFloat(f32(sum / ((y1 - y0) * (x1 - x0))), range);
  });
  return out;
}

export function maxPool2DFloat32(input: Float32Array, inputShape: readonly number[], options: Pool2DOptions): Float32Array {
  const shape = pool2DOutputShape(inputShape, options);
  const out = new Float32Array(shape.reduce((a, d) => a * d, 1));
  const range = activationRangeFloat(options.activation ?? ActivationFunctionType.NONE);
  const rowStride = (inputShape[2] ?? 0) * (inputShape[3] ?? 0);
  const colStride = inputShape[3] ?? 0;
  forEachWindow(inputShape, options, (k, base, y0, y1, x0, x1) => {
    let max = -Infinity;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) max = Math.max(max, input[base + y * rowStride + x * colStride]!);
    out[k] = applyActivationFloat(max, range);
  });
  return out;
}

/** int8/int16 AVERAGE_POOL_2D (TFLite builtin; input and output share their parameters). */
export function averagePool2DQuantized<T extends QuantizedArray>(
  input: T,
  inputShape: readonly number[],
  output: QuantParams,
  options: Pool2DOptions,
): T {
  const dtype = dtypeOf(input);
  const shape = pool2DOutputShape(inputShape, options);
  const n = shape.reduce((a, d) => a * d, 1);
  const out = (dtype === 'int8' ? new Int8Array(n) : new Int16Array(n)) as T;
  const range = activationRangeBuiltin(options.activation ?? ActivationFunctionType.NONE, output, dtype);
  const rowStride = (inputShape[2] ?? 0) * (inputShape[3] ?? 0);
  const colStride = inputShape[3] ?? 0;
  forEachWindow(inputShape, options, (k, base, y0, y1, x0, x1) => {
    let acc = 0;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) acc += input[base + y * rowStride + x * colStride]!;
    const count = (y1 - y0) * (x1 - x0);
    const half = Math.trunc(count / 2);
    const avg = Math.trunc(acc > 0 ? (acc + half) / count : (acc - half) / count);
    out[k] = clamp(avg, range.min, range.max);
  });
  return out;
}

/** int8/int16 MAX_POOL_2D: int8 as XNNPACK, int16 as TFLite's builtin kernel. */
export function maxPool2DQuantized<T extends QuantizedArray>(
  input: T,
  inputShape: readonly number[],
  output: QuantParams,
  options: Pool2DOptions,
  kernel: KernelChoice = 'auto',
): T {
  const dtype = dtypeOf(input);
  const shape = pool2DOutputShape(inputShape, options);
  const n = shape.reduce((a, d) => a * d, 1);
  const out = (dtype === 'int8' ? new Int8Array(n) : new Int16Array(n)) as T;
  const activation = options.activation ?? ActivationFunctionType.NONE;
  const useXnnpack = kernel === 'xnnpack' || (kernel === 'auto' && dtype === 'int8');
  const range = useXnnpack ? activationRangeXnnpack(activation, output) : activationRangeBuiltin(activation, output, dtype);
  const rowStride = (inputShape[2] ?? 0) * (inputShape[3] ?? 0);
  const colStride = inputShape[3] ?? 0;
  forEachWindow(inputShape, options, (k, base, y0, y1, x0, x1) => {
    let max = -Infinity;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) max = Math.max(max, input[base + y * rowStride + x * colStride]!);
    out[k] = clamp(max, range.min, range.max);
  });
  return out;
}
