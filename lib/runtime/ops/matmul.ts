// BATCH_MATMUL (adj_x, adj_y, broadcast batch dimensions).
// - A constant right-hand side is a layer's weights: packed once here for the native GEMMs
//   (float32: the f32 GEMM, as FULLY_CONNECTED; int8 with a zero-point-0 rhs: the int8 GEMM
//   with XNNPACK's 'fp32' requantization, as LiteRT; hybrid float x int8: lib/native/hybrid.ts with
//   the op's asymmetric_quantize_inputs), one pack per rhs batch.
// - Otherwise (two activations, int16, a non-zero rhs zero point) the reference op runs
//   (reference-ops/batch-matmul.ts, which states the official runtime's rules).
import { fullyConnected, packFullyConnectedWeights, type PackedFullyConnectedWeights } from '../../native/f32.js';
import { packQs8Gemm, requantizationScale, type Qs8Gemm } from '../../native/gemm.js';
import { packHybridBatchMatMul } from '../../native/hybrid.js';
import { TensorType } from '../../tflite/schema.js';
import {
  batchMatMulFloat32,
  batchMatMulPlan,
  batchMatMulQuantized,
  type BatchMatMulPlan,
} from '../reference-ops/batch-matmul.js';
import { isQuantizedType, quant, symmetric, weightScales, type Compiled, type OpContext } from './context.js';

type Rows = Float32Array | Int8Array;

/** The rhs matrices of a constant operand as [N, K] rows (the GEMMs' weight layout), one per batch. */
function weightRows<T extends Rows>(rhs: T, plan: BatchMatMulPlan, adjY: boolean): T[] {
  const { k, n } = plan;
  const count = rhs.length / (k * n);
  return Array.from({ length: count }, (_, b) => {
    const src = rhs.subarray(b * k * n, (b + 1) * k * n) as T;
    if (adjY) return src.slice() as T;
    // [K, N] -> [N, K].
    const dst = new (src.constructor as new (n: number) => T)(k * n);
    for (let kk = 0; kk < k; kk++) for (let j = 0; j < n; j++) dst[j * k + kk] = src[kk * n + j]!;
    return dst;
  });
}

/**
 * Runs `gemm(rows of batch b, output view of batch b, rhs batch)` for every output batch, with
 * the lhs rows transposed first when adjX. One call over every row when nothing broadcasts.
 */
function batched<T extends Rows>(
  lhs: T,
  out: T,
  plan: BatchMatMulPlan,
  adjX: boolean,
  rhsBatches: number,
  gemm: (rows: T, out: T, rhsBatch: number) => void,
): () => void {
  const { m, k, n, lhsBatch, rhsBatch } = plan;
  const batches = lhsBatch.length;
  if (!adjX && rhsBatches === 1 && lhsBatch.every((v, b) => v === b * m * k)) {
    return () => gemm(lhs, out, 0);
  }
  const scratch = new (lhs.constructor as new (n: number) => T)(m * k);
  return () => {
    for (let b = 0; b < batches; b++) {
      let rows = lhs.subarray(lhsBatch[b]!, lhsBatch[b]! + m * k) as T;
      if (adjX) {
        for (let kk = 0; kk < k; kk++) for (let i = 0; i < m; i++) scratch[i * k + kk] = rows[kk * m + i]!;
        rows = scratch;
      }
      gemm(rows, out.subarray(b * m * n, (b + 1) * m * n) as T, rhsBatch[b]! / (k * n));
    }
  };
}

export function compileBatchMatMul(ctx: OpContext): Compiled | null {
  const { ins, input: lhs, output, op, where, threads, put } = ctx;
  const rhs = ins[1] ?? null;
  const options = op.builtinOptions;
  if (rhs === null) return null;
  const adjX = options?.kind === 'BatchMatMulOptions' && options.adjX;
  const adjY = options?.kind === 'BatchMatMulOptions' && options.adjY;
  const asymmetric = options?.kind === 'BatchMatMulOptions' && options.asymmetricQuantizeInputs;
  const plan = batchMatMulPlan(lhs.shape, rhs.shape, { adjX, adjY });
  // The batch offsets in `plan` are element offsets of whole matrices.
  const scaled: BatchMatMulPlan = {
    ...plan,
    lhsBatch: plan.lhsBatch.map((v) => v * plan.m * plan.k),
    rhsBatch: plan.rhsBatch.map((v) => v * plan.k * plan.n),
  };
  const rhsBatches = rhs.data.length / (plan.k * plan.n);
  const f32 = TensorType.FLOAT32;

  if (lhs.type === f32 && rhs.type === f32 && output.type === f32) {
    const a = lhs.data as Float32Array;
    const b = rhs.data as Float32Array;
    if (!rhs.constant) {
      return { impl: 'reference', run: () => put(batchMatMulFloat32(a, lhs.shape, b, rhs.shape, { adjX, adjY }).data) };
    }
    const packed: PackedFullyConnectedWeights[] = weightRows(b, plan, adjY).map((w) => packFullyConnectedWeights(w, [plan.n, plan.k]));
    const y = output.data as Float32Array;
    const run = batched(a, y, scaled, adjX, rhsBatches, (rows, out, r) => out.set(fullyConnected(rows, packed[r]!, { threads })));
    return { impl: 'native f32 batch-matmul (constant rhs packed at load)', run };
  }

  if (lhs.type === f32 && rhs.type === TensorType.INT8 && output.type === f32 && rhs.constant && symmetric(rhs)) {
    // TFLite's hybrid BATCH_MATMUL: rows quantized on the fly, one weight scale per tensor or per unit.
    const scales = weightScales(rhs, where);
    if (scales.length !== 1 && scales.length !== plan.n) return null;
    const layers = weightRows(rhs.data as Int8Array, plan, adjY).map((w) =>
      packHybridBatchMatMul(w, {
        rhsShape: [plan.n, plan.k],
        adjY: true,
        weightScale: scales,
        asymmetricQuantizeInputs: asymmetric,
        threads,
      }),
    );
    const a = lhs.data as Float32Array;
    const y = output.data as Float32Array;
    const how = asymmetric ? 'asymmetric' : 'symmetric';
    const run = batched(a, y, scaled, adjX, rhsBatches, (rows, out, r) => void layers[r]!.run(rows, out));
    return { impl: `native hybrid batch-matmul (${how} rows)`, run };
  }

  if (isQuantizedType(lhs.type) && rhs.type === lhs.type && output.type === lhs.type) {
    const qL = quant(lhs, where);
    const qR = quant(rhs, where);
    const qO = quant(output, where);
    if (lhs.type === TensorType.INT16 && (qL.zeroPoint !== 0 || qR.zeroPoint !== 0 || qO.zeroPoint !== 0)) return null;
    if (lhs.type === TensorType.INT8 && rhs.constant && qR.zeroPoint === 0) {
      // LiteRT's XNNPACK delegate takes an int8 BATCH_MATMUL whose rhs is constant (as a fully
      // connected layer: the 'fp32' requantization); tfjs-tflite (2023) runs the builtin
      // fixed-point rule of the reference op (the two differ by 1 on ~0.3 % of outputs).
      const gemms: Qs8Gemm[] = weightRows(rhs.data as Int8Array, plan, adjY).map((w) =>
        packQs8Gemm({
          weights: w,
          n: plan.n,
          k: plan.k,
          inputZeroPoint: qL.zeroPoint,
          requantization: 'fp32',
          scale: requantizationScale(qL.scale, qR.scale, qO.scale, 'fp32'),
          outputZeroPoint: qO.zeroPoint,
          threads,
        }),
      );
      const a = lhs.data as Int8Array;
      const y = output.data as Int8Array;
      const run = batched(a, y, scaled, adjX, rhsBatches, (rows, out, r) => void gemms[r]!.run(rows, undefined, out));
      return { impl: `native int8 batch-matmul (${gemms[0]!.kernel})`, run };
    }
    const a = lhs.data as Int8Array;
    const b = rhs.data as Int8Array;
    return {
      impl: 'reference',
      run: () => put(batchMatMulQuantized(a, lhs.shape, qL, b, rhs.shape, qR, qO, { adjX, adjY }).data),
    };
  }
  return null;
}
