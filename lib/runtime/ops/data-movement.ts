// Ops that move data without arithmetic: RESHAPE/SQUEEZE/EXPAND_DIMS (copies), PAD, PADV2,
// TRANSPOSE, CONCATENATION, SLICE, GATHER, SELECT_V2.
import { ActivationFunctionType, BuiltinOperator, TensorType } from '../../tflite/schema.js';
import { concatenate, gather, pad, selectV2, slice, transpose } from '../reference-ops/shape-ops.js';
import type { PlanTensor } from '../tensors.js';
import { constInts, isDataType, type Compiled, type OpContext } from './context.js';

/** The values of a constant int32 or int64 tensor (begin, size); null otherwise. */
function constIndexes(t: PlanTensor | null): number[] | null {
  if (t !== null && t.constant && t.type === TensorType.INT64) return Array.from(t.data as BigInt64Array, Number);
  return constInts(t);
}

export function compileReshape(ctx: OpContext): Compiled | null {
  const { input, output, put } = ctx;
  if (output.type !== input.type || input.data.length !== output.data.length) return null;
  return { impl: 'copy', run: () => put(input.data) };
}

export function compilePadTranspose(ctx: OpContext): Compiled | null {
  const { code, ins, input, output, put } = ctx;
  const param = constIndexes(ins[1] ?? null);
  if (param === null || output.type !== input.type || !isDataType(input.type)) return null;
  const x = input.data as Float32Array;
  if (code === BuiltinOperator.TRANSPOSE) {
    return { impl: 'reference', run: () => put(transpose(x, input.shape, param).data) };
  }
  const paddings = input.shape.map((_, i) => [param[2 * i] ?? 0, param[2 * i + 1] ?? 0] as const);
  // PADV2's constant_values holds the raw value (already quantized: the official runtime
  // copies it as is); PAD and a PADV2 without it pad with the output's zero point.
  const constant = code === BuiltinOperator.PADV2 ? (ins[2] ?? null) : null;
  if (constant !== null && (constant.type !== input.type || !constant.constant || constant.data.length !== 1)) return null;
  const value = constant !== null ? Number(constant.data[0]) : (output.quantization?.zeroPoint ?? 0);
  return { impl: 'reference', run: () => put(pad(x, input.shape, paddings, value).data) };
}

export function compileSlice(ctx: OpContext): Compiled | null {
  const { ins, input, output, put } = ctx;
  const begin = constIndexes(ins[1] ?? null);
  const size = constIndexes(ins[2] ?? null);
  if (begin === null || size === null || output.type !== input.type || !isDataType(input.type)) return null;
  if (begin.length !== input.shape.length || size.length !== input.shape.length) return null;
  const x = input.data as Float32Array;
  return { impl: 'reference', run: () => put(slice(x, input.shape, begin, size).data) };
}

export function compileGather(ctx: OpContext): Compiled | null {
  const { ins, input, output, op, put } = ctx;
  const indices = ins[1] ?? null;
  const options = op.builtinOptions;
  if (indices === null || options?.kind !== 'GatherOptions' || output.type !== input.type || !isDataType(input.type)) return null;
  if (indices.type !== TensorType.INT32 && indices.type !== TensorType.INT64) return null;
  const x = input.data as Float32Array;
  const { axis, batchDims } = options;
  // int64 indices are read at each run (they may be activations).
  const at = indices.type === TensorType.INT32 ? () => indices.data as Int32Array : () => Array.from(indices.data as BigInt64Array, Number);
  return { impl: 'reference', run: () => put(gather(x, input.shape, at(), indices.shape, axis, batchDims).data) };
}

export function compileSelectV2(ctx: OpContext): Compiled | null {
  const { ins, input, output, put } = ctx;
  const x = ins[1] ?? null;
  const y = ins[2] ?? null;
  if (input.type !== TensorType.BOOL || x === null || y === null) return null;
  if (x.type !== output.type || y.type !== output.type || !isDataType(output.type)) return null;
  const condition = input.data as Uint8Array;
  const a = x.data as Float32Array;
  const b = y.data as Float32Array;
  return { impl: 'reference', run: () => put(selectV2(condition, input.shape, a, x.shape, b, y.shape).data) };
}

export function compileConcatenation(ctx: OpContext): Compiled | null {
  const { ins, output, op, put } = ctx;
  const options = op.builtinOptions;
  if (options?.kind !== 'ConcatenationOptions' || options.fusedActivationFunction !== ActivationFunctionType.NONE) return null;
  const parts = ins.map((t) => (t !== null && t.type === output.type ? t : null));
  if (!isDataType(output.type) || parts.some((t) => t === null)) return null;
  // int8 inputs at other parameters than the output are refused by the official runtime
  // too (the quantizer must requantize them first); int16 only checks zero points.
  const q = output.quantization;
  if (
    q !== null &&
    parts.some((t) => t!.quantization?.zeroPoint !== q.zeroPoint || (output.type === TensorType.INT8 && t!.quantization?.scale !== q.scale))
  ) {
    return null;
  }
  const tensors = parts.map((t) => ({ data: t!.data as Float32Array, shape: t!.shape }));
  const axis = options.axis;
  return { impl: 'reference', run: () => put(concatenate(tensors, axis).data) };
}
