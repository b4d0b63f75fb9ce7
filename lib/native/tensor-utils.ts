// Calibration statistics and float16 weight conversion on the native kernels: min/max (NaN
// ignored), a streaming histogram, and IEEE binary16 conversion (round to nearest even). Every
// instruction-set path gives the same bits, for every thread count.
import { InvalidArgumentError, expected } from '../errors.js';
import type { F32MinMaxResult } from './binding.js';
import { callNative } from './index.js';
import { checkThreads } from './layer-params.js';

export type MinMax = F32MinMaxResult;

/** Largest bin count (bins - 1 must be exact in float32). */
export const MAX_HISTOGRAM_BINS = 2 ** 24;

export interface ThreadOptions {
  /** Threads to run on (1 to 256, default 1); results do not depend on it. */
  readonly threads?: number;
}

function options(value: unknown): ThreadOptions {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object') throw expected('an object', 'options', value);
  return value as ThreadOptions;
}

/**
 * Min and max over the non-NaN values (infinities included) and whether a NaN or an infinity was
 * seen. With no non-NaN value, min is Infinity and max is -Infinity. A zero bound is +0.
 */
export function minMax(values: Float32Array, opts?: ThreadOptions): MinMax {
  if (!(values instanceof Float32Array)) throw expected('a Float32Array', 'values', values);
  const threads = checkThreads(options(opts).threads);
  return callNative((n) => n.f32MinMax(values, threads));
}

export interface HistogramOptions extends ThreadOptions {
  /** Lower edge of the first bin; rounded to float32 (finite). */
  readonly lo: number;
  /** Upper edge of the last bin; rounded to float32, above lo. */
  readonly hi: number;
  /** Number of bins (1 to 2^24); defaults to counts.length. */
  readonly bins?: number;
  /** Counts to add to (streaming calibration); a new zeroed array when absent. */
  readonly counts?: Float64Array;
}

/**
 * Adds every non-NaN value to its bin: floor((x - lo) * float32(bins / (hi - lo))) computed in
 * float32, clamped to [0, bins - 1] (values outside [lo, hi] and infinities land in the edge
 * bins). Returns the counts (the `counts` option itself when given).
 */
export function histogram(values: Float32Array, opts: HistogramOptions): Float64Array {
  if (!(values instanceof Float32Array)) throw expected('a Float32Array', 'values', values);
  if (opts === null || typeof opts !== 'object') throw expected('an object', 'options', opts);
  const threads = checkThreads(opts.threads);
  const { lo, hi } = opts;
  if (typeof lo !== 'number' || !Number.isFinite(Math.fround(lo))) {
    throw expected('a finite float32 number', 'lo', lo);
  }
  if (typeof hi !== 'number' || !Number.isFinite(Math.fround(hi)) || !(Math.fround(hi) > Math.fround(lo))) {
    throw expected(`a finite float32 number above lo (${lo})`, 'hi', hi);
  }
  let counts = opts.counts;
  if (counts !== undefined && !(counts instanceof Float64Array)) {
    throw expected('a Float64Array', 'counts', counts);
  }
  const bins = opts.bins ?? counts?.length;
  if (bins === undefined) throw expected('a bin count (or a counts array)', 'bins', undefined);
  if (!Number.isInteger(bins) || bins < 1 || bins > MAX_HISTOGRAM_BINS) {
    throw expected(`an integer between 1 and ${MAX_HISTOGRAM_BINS}`, 'bins', bins);
  }
  // The bin scale the kernels use (F32HistogramScale): it must be a finite float32.
  const scale = Math.fround(bins / (Math.fround(hi) - Math.fround(lo)));
  if (!Number.isFinite(scale)) {
    throw new InvalidArgumentError(
      `Expected a range [lo, hi] wide enough for ${bins} bins but received [${lo}, ${hi}]`,
    );
  }
  if (counts === undefined) counts = new Float64Array(bins);
  else if (counts.length !== bins) {
    throw new InvalidArgumentError(`Expected ${bins} counts (one per bin) but received ${counts.length}`);
  }
  const c = counts;
  callNative((n) => n.f32Histogram(values, c, lo, hi, threads));
  return c;
}

/** IEEE binary16 bit patterns of float32 values, rounded to nearest even (overflow to Infinity). */
export function float32ToFloat16(values: Float32Array, opts?: ThreadOptions): Uint16Array {
  if (!(values instanceof Float32Array)) throw expected('a Float32Array', 'values', values);
  const threads = checkThreads(options(opts).threads);
  const out = new Uint16Array(values.length);
  callNative((n) => n.f32ToF16(values, out, threads));
  return out;
}

/** float32 values of IEEE binary16 bit patterns (exact; NaN payloads kept, quieted). */
export function float16ToFloat32(values: Uint16Array, opts?: ThreadOptions): Float32Array {
  if (!(values instanceof Uint16Array)) throw expected('a Uint16Array', 'values', values);
  const threads = checkThreads(options(opts).threads);
  const out = new Float32Array(values.length);
  callNative((n) => n.f16ToF32(values, out, threads));
  return out;
}
