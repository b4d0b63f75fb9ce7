// Ops that reduce windows or axes: AVERAGE_POOL_2D, MAX_POOL_2D, MEAN, SOFTMAX.
import { BuiltinOperator, TensorType } from '../../tflite/schema.js';
import {
  averagePool2DFloat32,
  averagePool2DQuantized,
  maxPool2DFloat32,
  maxPool2DQuantized,
  type Pool2DOptions,
} from '../reference-ops/pooling.js';
import { meanFloat32, meanQuantized } from '../reference-ops/reduce.js';
import { softmaxFloat32, softmaxQuantized } from '../reference-ops/softmax.js';
import { constInts, isQuantizedType, quant, type Compiled, type OpContext } from './context.js';

export function compilePool2D(ctx: OpContext): Compiled | null {
  const { code, input, output, op, where, put } = ctx;
  const options = op.builtinOptions;
  if (options?.kind !== 'Pool2DOptions' || output.type !== input.type) return null;
  const pool: Pool2DOptions = {
    padding: options.padding,
    strideH: options.strideH,
    strideW: options.strideW,
    filterH: options.filterHeight,
    filterW: options.filterWidth,
    activation: options.fusedActivationFunction,
  };
  const average = code === BuiltinOperator.AVERAGE_POOL_2D;
  if (input.type === TensorType.FLOAT32) {
    const x = input.data as Float32Array;
    const f = average ? averagePool2DFloat32 : maxPool2DFloat32;
    return { impl: 'reference', run: () => put(f(x, input.shape, pool)) };
  }
  if (isQuantizedType(input.type)) {
    const x = input.data as Int8Array;
    const q = quant(output, where);
    const f = average ? averagePool2DQuantized : maxPool2DQuantized;
    return { impl: 'reference', run: () => put(f(x, input.shape, q, pool)) };
  }
  return null;
}

export function compileMean(ctx: OpContext): Compiled | null {
  const { ins, input, output, op, where, put } = ctx;
  const axes = constInts(ins[1] ?? null);
  if (axes === null || output.type !== input.type) return null;
  const options = op.builtinOptions;
  const keepDims = options?.kind === 'ReducerOptions' ? options.keepDims : false;
  if (input.type === TensorType.FLOAT32) {
    const x = input.data as Float32Array;
    return { impl: 'reference', run: () => put(meanFloat32(x, input.shape, axes, keepDims).data) };
  }
  if (isQuantizedType(input.type)) {
    const x = input.data as Int8Array;
    const qIn = quant(input, where);
    const qOut = quant(output, where);
    return { impl: 'reference', run: () => put(meanQuantized(x, input.shape, axes, keepDims, qIn, qOut).data) };
  }
  return null;
}

export function compileSoftmax(ctx: OpContext): Compiled | null {
  const { input, output, op, where, put } = ctx;
  const options = op.builtinOptions;
  const beta = options?.kind === 'SoftmaxOptions' ? options.beta : 1;
  if (input.type === TensorType.FLOAT32 && output.type === TensorType.FLOAT32) {
    const x = input.data as Float32Array;
    return { impl: 'reference', run: () => put(softmaxFloat32(x, input.shape, beta)) };
  }
  if (isQuantizedType(input.type) && output.type === input.type) {
    const x = input.data as Int8Array;
    const qIn = quant(input, where);
    const qOut = quant(output, where);
    return { impl: 'reference', run: () => put(softmaxQuantized(x, input.shape, qIn, qOut, beta)) };
  }
  return null;
}
