// Int8 GEMM on the native kernels (FULLY_CONNECTED, BATCH_MATMUL, CONV_2D through im2col):
//
//   C[m][j] = requantize(sum_k (A[m][k] - inputZeroPoint) * W[j][k] + bias[j])
//
// packQs8Gemm validates every option once and packs the weights for the instruction-set path
// selected at that moment; Qs8Gemm.run is the hot call and only checks its arrays.
// Requantization is either 'fp32' (XNNPACK's rule, what the official runtime runs for int8
// FULLY_CONNECTED/CONV_2D: float(acc) * scale, round half to even) or 'fixed-point' (TFLite's
// builtin kernels: a Q31 multiplier and shift, gemmlowp rounding). See requantization.h.
import { InvalidArgumentError, expected } from '../errors.js';
import type { IsaPath, NativeBinding, Qs8GemmHandle } from './binding.js';
import { callNative } from './index.js';

export type Requantization = 'fp32' | 'fixed-point';

export interface Qs8GemmOptions {
  /** Weights [n, k], row-major (FULLY_CONNECTED's layout; CONV_2D's OHWI is [O, KH*KW*I]). */
  readonly weights: Int8Array;
  /** Output columns (units, output channels). */
  readonly n: number;
  /** Reduction length (input size). */
  readonly k: number;
  /** int32 bias [n] (scale inputScale * weightScale, zero point 0); omitted means zero. */
  readonly bias?: Int32Array | null;
  /** The activations' zero point, in [-128, 127]. Default 0. */
  readonly inputZeroPoint?: number;
  /** Default 'fp32'. */
  readonly requantization?: Requantization;
  /**
   * The requantization scale inputScale * weightScale / outputScale: one number (per tensor)
   * or n (per channel); finite, > 0 (and < 2^31 for 'fixed-point'). requantizationScale()
   * computes it the way each rule's runtime does.
   */
  readonly scale: number | ArrayLike<number>;
  /** In [-128, 127]. Default 0. */
  readonly outputZeroPoint?: number;
  /** Fused activation clamp, in [-128, 127]. Defaults -128 and 127. */
  readonly qmin?: number;
  readonly qmax?: number;
  /** Threads per call, the caller included: 1 (default) to 256, or 0 for one per core. */
  readonly threads?: number;
}

/**
 * The requantization scale as each runtime computes it from the tensors' float scales:
 * 'fp32' in float arithmetic (XNNPACK: float(float(sIn * sW) / sOut)), 'fixed-point' in double
 * (TFLite: double(sIn) * double(sW) / double(sOut), later turned into a Q31 multiplier).
 */
export function requantizationScale(
  inputScale: number,
  weightScale: number,
  outputScale: number,
  requantization: Requantization = 'fp32',
): number {
  const si = Math.fround(inputScale);
  const sw = Math.fround(weightScale);
  const so = Math.fround(outputScale);
  if (requantization === 'fp32') return Math.fround(Math.fround(si * sw) / so);
  return (si * sw) / so;
}

function integerIn(value: unknown, lo: number, hi: number, param: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) {
    throw expected(`an integer in [${lo}, ${hi}]`, param, value);
  }
  return value;
}

const kMaxDim = 2 ** 40;

/** Packed weights plus requantization: run() computes one GEMM per call. */
export class Qs8Gemm {
  /** Output columns. */
  readonly n: number;
  /** Reduction length. */
  readonly k: number;
  /** The instruction-set path whose kernels run (after fallbacks). */
  readonly path: IsaPath;
  /** The micro-kernel, e.g. 'qs8_gemm_5x16c2__avx2'. */
  readonly kernel: string;
  readonly threads: number;
  readonly #binding: NativeBinding;
  readonly #handle: Qs8GemmHandle;

  /** Use packQs8Gemm. */
  constructor(binding: NativeBinding, handle: Qs8GemmHandle, threads: number) {
    const info = binding.qs8GemmInfo(handle);
    this.#binding = binding;
    this.#handle = handle;
    this.n = info.n;
    this.k = info.k;
    this.path = info.path;
    this.kernel = info.kernel;
    this.threads = threads;
  }

  #rows(a: unknown, m: number | undefined): number {
    if (!(a instanceof Int8Array)) throw expected('an Int8Array', 'a', a);
    const rows = m ?? (this.k > 0 ? a.length / this.k : NaN);
    if (!Number.isInteger(rows) || rows < 0 || rows * this.k !== a.length) {
      throw new InvalidArgumentError(
        m === undefined
          ? `Expected a length that is a multiple of k = ${this.k} for a but received ${a.length}` +
              (this.k === 0 ? ' (pass m when k is 0)' : '')
          : `Expected m * k = ${String(m)} * ${this.k} elements for a but received ${a.length}`,
      );
    }
    return rows;
  }

  /**
   * C = requantize(A x W^T): a holds m rows of k int8 values (m defaults to a.length / k);
   * the result (or `output`, when given: exactly m * n elements) holds m rows of n.
   */
  run(a: Int8Array, m?: number, output?: Int8Array): Int8Array {
    const rows = this.#rows(a, m);
    const c = output ?? new Int8Array(rows * this.n);
    if (!(c instanceof Int8Array) || c.length !== rows * this.n) {
      throw expected(`an Int8Array of length ${rows * this.n}`, 'output', c);
    }
    callNative((b) => b.qs8GemmRun(this.#handle, a, rows, c, this.threads));
    return c;
  }

  /**
   * Raw int32 sums without bias or zero points: acc[i][j] = sum_k A[i][k] * W[j][k]
   * (hybrid kernels subtract their own per-row zero point times columnSums()).
   */
  accumulate(a: Int8Array, m?: number, output?: Int32Array): Int32Array {
    const rows = this.#rows(a, m);
    const acc = output ?? new Int32Array(rows * this.n);
    if (!(acc instanceof Int32Array) || acc.length !== rows * this.n) {
      throw expected(`an Int32Array of length ${rows * this.n}`, 'output', acc);
    }
    callNative((b) => b.qs8GemmAccumulate(this.#handle, a, rows, acc, this.threads));
    return acc;
  }

  /** sum_k W[j][k] for each column j. */
  columnSums(): Int32Array {
    const out = new Int32Array(this.n);
    this.#binding.qs8GemmColumnSums(this.#handle, out);
    return out;
  }
}

/** Validates the options and packs the weights once for the selected instruction-set path. */
export function packQs8Gemm(options: Qs8GemmOptions): Qs8Gemm {
  if (options === null || typeof options !== 'object') throw expected('an object', 'options', options);
  const { weights, bias } = options;
  if (!(weights instanceof Int8Array)) throw expected('an Int8Array', 'weights', weights);
  const n = integerIn(options.n, 1, kMaxDim, 'n');
  const k = integerIn(options.k, 0, kMaxDim, 'k');
  if (weights.length !== n * k) {
    throw new InvalidArgumentError(
      `Expected n * k = ${n * k} elements for weights but received ${weights.length}`,
    );
  }
  if (bias !== undefined && bias !== null && !(bias instanceof Int32Array && bias.length === n)) {
    throw expected(`an Int32Array of length ${n} (or null)`, 'bias', bias);
  }
  const inputZeroPoint = integerIn(options.inputZeroPoint ?? 0, -128, 127, 'inputZeroPoint');
  const requantization = options.requantization ?? 'fp32';
  if (requantization !== 'fp32' && requantization !== 'fixed-point') {
    throw expected("'fp32' or 'fixed-point'", 'requantization', requantization);
  }
  const scaleList =
    typeof options.scale === 'number'
      ? [options.scale]
      : options.scale !== null && typeof options.scale === 'object' && typeof options.scale.length === 'number'
        ? Array.from(options.scale)
        : undefined;
  if (scaleList === undefined) throw expected('a number or an array of numbers', 'scale', options.scale);
  if (scaleList.length !== 1 && scaleList.length !== n) {
    throw new InvalidArgumentError(`Expected 1 or ${n} scales but received ${scaleList.length}`);
  }
  const limit = requantization === 'fp32' ? 3.4028234663852886e38 : 2 ** 31;
  scaleList.forEach((s, i) => {
    if (typeof s !== 'number' || !(s > 0 && s < limit)) {
      throw expected(`a finite positive number below ${limit === 2 ** 31 ? '2^31' : 'FLT_MAX'}`, `scale[${i}]`, s);
    }
  });
  const outputZeroPoint = integerIn(options.outputZeroPoint ?? 0, -128, 127, 'outputZeroPoint');
  const qmin = integerIn(options.qmin ?? -128, -128, 127, 'qmin');
  const qmax = integerIn(options.qmax ?? 127, qmin, 127, 'qmax');
  const threads = integerIn(options.threads ?? 1, 0, 256, 'threads');
  return callNative((b) => {
    const handle = b.qs8GemmPack(
      weights,
      n,
      k,
      bias ?? null,
      inputZeroPoint,
      requantization === 'fp32' ? 0 : 1,
      Float64Array.from(scaleList),
      outputZeroPoint,
      qmin,
      qmax,
    );
    return new Qs8Gemm(b, handle, threads);
  });
}
