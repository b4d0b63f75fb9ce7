// BATCH_MATMUL: lhs [..., M, K] x rhs [..., K, N] -> [..., M, N] (adjX: lhs is [..., K, M];
// adjY: rhs is [..., N, K]). The batch dimensions broadcast as NumPy's (each pair equal, or one
// of them 1; the shorter shape is extended with leading 1s).
//
// What the official runtime computes (TFLite's batch_matmul.cc builtin kernel unless the
// XNNPACK delegate takes the op):
// - float32: XNNPACK; one float sum per output (within 1e-5 relative).
// - int8, builtin (`kernel: 'builtin'`; tfjs-tflite always, LiteRT when the rhs is an
//   activation): acc = sum (l - zp_l)(r - zp_r) in int32, MultiplyByQuantizedMultiplier(acc,
//   Q(m)) + zp_out clamped to [-128, 127], m = double(float(s_l * s_r)) / s_out (no fused
//   activation).
// - int8, XNNPACK (`kernel: 'xnnpack'`; LiteRT when the rhs is constant with zero point 0, run
//   as a fully connected layer): y = rne(clamp(float(acc) * float(float(s_l * s_r) / s_out))) +
//   zp_out. The two differ by 1 on a few outputs in a thousand.
// - int16 (zero points 0): builtin; acc in int64, the int64 MultiplyByQuantizedMultiplier
//   (16-bit rounded multiplier, one rounding shift), same m, clamped to [-32768, 32767].
// - hybrid (float lhs, constant int8 rhs): no reference here; lib/native/hybrid.ts runs TFLite's
//   builtin rule (tfjs-tflite equals it); LiteRT's XNNPACK quantizes the rows asymmetrically
//   whatever asymmetric_quantize_inputs says, so it differs (within a tolerance).
import { broadcastShape, elementCount, stridesOf, type QuantizedArray, type QuantParams } from './common.js';
import { clamp, f32, multiplyByQuantizedMultiplier, multiplyByQuantizedMultiplierInt64, quantizeMultiplier, roundHalfEven } from './fixed-point.js';

export interface BatchMatMulOptions {
  readonly adjX?: boolean;
  readonly adjY?: boolean;
  /** int8 requantization (see above). Default 'builtin'. */
  readonly kernel?: 'builtin' | 'xnnpack';
}

/** The geometry of one BATCH_MATMUL: sizes, output shape and the operands' batch of each output batch. */
export interface BatchMatMulPlan {
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly shape: number[];
  /** For output batch b: the lhs batch and the rhs batch it multiplies. */
  readonly lhsBatch: Int32Array;
  readonly rhsBatch: Int32Array;
}

export function batchMatMulPlan(lhsShape: readonly number[], rhsShape: readonly number[], options: BatchMatMulOptions = {}): BatchMatMulPlan {
  if (lhsShape.length < 2 || rhsShape.length < 2) {
    throw new RangeError(`Expected operands of rank 2 or more but received [${lhsShape.join(', ')}] and [${rhsShape.join(', ')}]`);
  }
  const [l0, l1] = lhsShape.slice(-2) as [number, number];
  const [r0, r1] = rhsShape.slice(-2) as [number, number];
  const [m, k] = options.adjX ? [l1, l0] : [l0, l1];
  const [kr, n] = options.adjY ? [r1, r0] : [r0, r1];
  if (k !== kr) throw new RangeError(`Expected equal inner dimensions but received ${k} (lhs) and ${kr} (rhs)`);
  const lhsBatchShape = lhsShape.slice(0, -2);
  const rhsBatchShape = rhsShape.slice(0, -2);
  const batchShape = broadcastShape(lhsBatchShape, rhsBatchShape);
  const count = elementCount(batchShape);
  const lhsBatch = batchIndex(lhsBatchShape, batchShape, count);
  const rhsBatch = batchIndex(rhsBatchShape, batchShape, count);
  return { m, k, n, shape: [...batchShape, m, n], lhsBatch, rhsBatch };
}

/** For each batch of `outShape`, the flat batch of an operand with batch shape `shape` (broadcast). */
function batchIndex(shape: readonly number[], outShape: readonly number[], count: number): Int32Array {
  const rank = outShape.length;
  const strides = stridesOf(shape);
  const index = new Int32Array(count);
  for (let b = 0; b < count; b++) {
    let rest = b;
    let flat = 0;
    for (let d = rank - 1; d >= 0; d--) {
      const size = outShape[d]!;
      const coord = rest % size;
      rest = Math.floor(rest / size);
      const j = d - (rank - shape.length);
      if (j >= 0 && shape[j]! !== 1) flat += coord * strides[j]!;
    }
    index[b] = flat;
  }
  return index;
}

/** The [rows, cols] element of batch `batch` of an operand, read as [M, K] (lhs) or [K, N] (rhs). */
function reader(rows: number, cols: number, transposed: boolean): (batch: number, i: number, j: number) => number {
  const size = rows * cols;
  return transposed ? (batch, i, j) => batch * size + j * rows + i : (batch, i, j) => batch * size + i * cols + j;
}

export function batchMatMulFloat32(
  lhs: Float32Array,
  lhsShape: readonly number[],
  rhs: Float32Array,
  rhsShape: readonly number[],
  options: BatchMatMulOptions = {},
): { data: Float32Array; shape: number[] } {
  const plan = batchMatMulPlan(lhsShape, rhsShape, options);
  const { m, k, n } = plan;
  const at = reader(m, k, options.adjX === true);
  const bt = reader(k, n, options.adjY === true);
  const out = new Float32Array(elementCount(plan.shape));
  let o = 0;
  for (let b = 0; b < plan.lhsBatch.length; b++) {
    const lb = plan.lhsBatch[b]!;
    const rb = plan.rhsBatch[b]!;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let kk = 0; kk < k; kk++) acc += lhs[at(lb, i, kk)]! * rhs[bt(rb, kk, j)]!;
        out[o++] = acc;
      }
    }
  }
  return { data: out, shape: plan.shape };
}

/** The requantization multiplier of a quantized BATCH_MATMUL (GetQuantizedConvolutionMultipler). */
export function batchMatMulMultiplier(lhs: QuantParams, rhs: QuantParams, output: QuantParams): number {
  return f32(f32(lhs.scale) * f32(rhs.scale)) / f32(output.scale);
}

/** int8 (int32 sums) or int16 (int64 sums, zero points 0) BATCH_MATMUL. */
export function batchMatMulQuantized<T extends QuantizedArray>(
  lhs: T,
  lhsShape: readonly number[],
  lhsParams: QuantParams,
  rhs: T,
  rhsShape: readonly number[],
  rhsParams: QuantParams,
  output: QuantParams,
  options: BatchMatMulOptions = {},
): { data: T; shape: number[] } {
  const plan = batchMatMulPlan(lhsShape, rhsShape, options);
  const { m, k, n } = plan;
  const at = reader(m, k, options.adjX === true);
  const bt = reader(k, n, options.adjY === true);
  const int8 = lhs instanceof Int8Array;
  const xnnpack = int8 && options.kernel === 'xnnpack';
  const { multiplier, shift } = quantizeMultiplier(batchMatMulMultiplier(lhsParams, rhsParams, output));
  const scale = f32(f32(f32(lhsParams.scale) * f32(rhsParams.scale)) / f32(output.scale));
  const [lo, hi] = int8 ? [-128, 127] : [-32768, 32767];
  const zpL = lhsParams.zeroPoint;
  const zpR = rhsParams.zeroPoint;
  const zpO = output.zeroPoint;
  const size = elementCount(plan.shape);
  const out = (int8 ? new Int8Array(size) : new Int16Array(size)) as T;
  let o = 0;
  for (let b = 0; b < plan.lhsBatch.length; b++) {
    const lb = plan.lhsBatch[b]!;
    const rb = plan.rhsBatch[b]!;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        // int16 products sum exactly in a double up to 2^53 (K < 2^23).
        let acc = 0;
        for (let kk = 0; kk < k; kk++) acc += (lhs[at(lb, i, kk)]! - zpL) * (rhs[bt(rb, kk, j)]! - zpR);
        if (xnnpack) {
          out[o++] = roundHalfEven(clamp(f32(acc * scale), lo - zpO, hi - zpO)) + zpO;
          continue;
        }
        const scaled = int8 ? multiplyByQuantizedMultiplier(acc | 0, multiplier, shift) : multiplyByQuantizedMultiplierInt64(acc, multiplier, shift);
        out[o++] = clamp(scaled + zpO, lo, hi);
      }
    }
  }
  return { data: out, shape: plan.shape };
}
