// Element-wise ops through reference-ops: ADD/SUB/MUL, RELU family, LOGISTIC/TANH,
// QUANTIZE/DEQUANTIZE.
import { ActivationFunctionType, BuiltinOperator, TensorType } from '../../tflite/schema.js';
import { logisticFloat32, logisticQuantized, reluFloat32, reluQuantized, tanhFloat32, tanhQuantized } from '../reference-ops/activations.js';
import { binaryFloat32, binaryQuantized, type BinaryOp } from '../reference-ops/elementwise-binary.js';
import { dequantize, quantizeFloat, requantize } from '../reference-ops/quantize.js';
import { isQuantizedType, quant, type Compiled, type OpContext } from './context.js';

const BINARY_OPS: ReadonlyMap<number, BinaryOp> = new Map([
  [BuiltinOperator.ADD, 'ADD'],
  [BuiltinOperator.SUB, 'SUB'],
  [BuiltinOperator.MUL, 'MUL'],
]);

export function compileBinary(ctx: OpContext): Compiled | null {
  const { code, ins, input, output, op, where, put } = ctx;
  const other = ins[1] ?? null;
  const binOp = BINARY_OPS.get(code);
  if (binOp === undefined || other === null || other.type !== input.type || output.type !== input.type) return null;
  const options = op.builtinOptions;
  const activation =
    options !== null && 'fusedActivationFunction' in options ? options.fusedActivationFunction : ActivationFunctionType.NONE;
  if (input.type === TensorType.FLOAT32) {
    const a = { data: input.data as Float32Array, shape: input.shape };
    const b = { data: other.data as Float32Array, shape: other.shape };
    return { impl: 'reference', run: () => put(binaryFloat32(binOp, a, b, activation).data) };
  }
  if (isQuantizedType(input.type)) {
    const a = { data: input.data as Int8Array, shape: input.shape, ...quant(input, where) };
    const b = { data: other.data as Int8Array, shape: other.shape, ...quant(other, where) };
    const potScaleInt16 = options?.kind === 'AddOptions' || options?.kind === 'SubOptions' ? options.potScaleInt16 : true;
    const opts = { output: quant(output, where), activation, potScaleInt16 };
    return { impl: 'reference', run: () => put(binaryQuantized(binOp, a, b, opts).data) };
  }
  return null;
}

export function compileRelu(ctx: OpContext): Compiled | null {
  const { code, input, output, where, put } = ctx;
  if (output.type !== input.type) return null;
  const kind = code === BuiltinOperator.RELU ? 'RELU' : code === BuiltinOperator.RELU6 ? 'RELU6' : 'RELU_N1_TO_1';
  if (input.type === TensorType.FLOAT32) {
    const x = input.data as Float32Array;
    return { impl: 'reference', run: () => put(reluFloat32(kind, x)) };
  }
  if (isQuantizedType(input.type)) {
    const x = input.data as Int8Array;
    const qIn = quant(input, where);
    const qOut = quant(output, where);
    return { impl: 'reference', run: () => put(reluQuantized(kind, x, qIn, qOut)) };
  }
  return null;
}

export function compileSigmoidTanh(ctx: OpContext): Compiled | null {
  const { code, input, output, where, put } = ctx;
  if (output.type !== input.type) return null;
  const logistic = code === BuiltinOperator.LOGISTIC;
  if (input.type === TensorType.FLOAT32) {
    const x = input.data as Float32Array;
    const f = logistic ? logisticFloat32 : tanhFloat32;
    return { impl: 'reference', run: () => put(f(x)) };
  }
  if (isQuantizedType(input.type)) {
    const x = input.data as Int8Array;
    const qIn = quant(input, where);
    const qOut = quant(output, where);
    const f = logistic ? logisticQuantized : tanhQuantized;
    return { impl: 'reference', run: () => put(f(x, qIn, qOut)) };
  }
  return null;
}

export function compileQuantize(ctx: OpContext): Compiled | null {
  const { input, output, where, put } = ctx;
  const dtype = output.type === TensorType.INT8 ? 'int8' : output.type === TensorType.INT16 ? 'int16' : null;
  if (dtype === null) return null;
  const qOut = quant(output, where);
  if (input.type === TensorType.FLOAT32) {
    const x = input.data as Float32Array;
    return { impl: 'reference', run: () => put(quantizeFloat(x, qOut, dtype)) };
  }
  if (isQuantizedType(input.type)) {
    const x = input.data as Int8Array;
    const qIn = quant(input, where);
    return { impl: 'reference', run: () => put(requantize(x, qIn, qOut, dtype)) };
  }
  return null;
}

export function compileDequantize(ctx: OpContext): Compiled | null {
  const { input, output, where, put } = ctx;
  if (output.type !== TensorType.FLOAT32 || !isQuantizedType(input.type)) return null;
  const x = input.data as Int8Array;
  const qIn = quant(input, where);
  return { impl: 'reference', run: () => put(dequantize(x, qIn)) };
}
