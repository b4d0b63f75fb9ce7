// Ops that move data without arithmetic: RESHAPE/SQUEEZE/EXPAND_DIMS (copies), PAD,
// TRANSPOSE, CONCATENATION.
import { ActivationFunctionType, BuiltinOperator, TensorType } from '../../tflite/schema.js';
import { concatenate, pad, transpose } from '../reference-ops/shape-ops.js';
import { constInts, isDataType, type Compiled, type OpContext } from './context.js';

export function compileReshape(ctx: OpContext): Compiled | null {
  const { input, output, put } = ctx;
  if (output.type !== input.type || input.data.length !== output.data.length) return null;
  return { impl: 'copy', run: () => put(input.data) };
}

export function compilePadTranspose(ctx: OpContext): Compiled | null {
  const { code, ins, input, output, put } = ctx;
  const param = constInts(ins[1] ?? null);
  if (param === null || output.type !== input.type || !isDataType(input.type)) return null;
  const x = input.data as Float32Array;
  if (code === BuiltinOperator.TRANSPOSE) {
    return { impl: 'reference', run: () => put(transpose(x, input.shape, param).data) };
  }
  const paddings = input.shape.map((_, i) => [param[2 * i] ?? 0, param[2 * i + 1] ?? 0] as const);
  const value = output.quantization?.zeroPoint ?? 0;
  return { impl: 'reference', run: () => put(pad(x, input.shape, paddings, value).data) };
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
