// FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D: native kernels, weights packed once here.
// int8 uses the 'fp32' requantization and XNNPACK's clamp: what the official runtime (its
// XNNPACK delegate) computes.
import { ModelFormatError } from '../../errors.js';
import { packInt8Conv2d, packInt8DepthwiseConv2d, type Int8ConvLayer } from '../../native/conv.js';
import {
  conv2d,
  depthwiseConv2d,
  fullyConnected,
  packConv2dFilter,
  packDepthwiseFilter,
  packFullyConnectedWeights,
} from '../../native/f32.js';
import { packQs8Gemm, requantizationScale } from '../../native/gemm.js';
import { BuiltinOperator, Padding, TensorType } from '../../tflite/schema.js';
import { activationRangeXnnpack, elementCount } from '../reference-ops/common.js';
import { fusedActivation, quant, symmetric, weightScales, type Compiled, type OpContext } from './context.js';

export function compileFullyConnected(ctx: OpContext): Compiled | null {
  const { ins, input, output, op, where, threads, put } = ctx;
  const weights = ins[1] ?? null;
  const bias = ins[2] ?? null;
  const options = op.builtinOptions;
  if (weights === null || !weights.constant || options?.kind !== 'FullyConnectedOptions') return null;
  const [units, inputSize] = weights.shape as [number, number];
  if (input.type === TensorType.FLOAT32 && weights.type === TensorType.FLOAT32 && output.type === TensorType.FLOAT32) {
    const packed = packFullyConnectedWeights(weights.data as Float32Array, [units, inputSize], (bias?.data as Float32Array | undefined) ?? null);
    const activation = fusedActivation(options.fusedActivationFunction, where);
    const x = input.data as Float32Array;
    return { impl: 'native f32 fully-connected', run: () => put(fullyConnected(x, packed, { activation, threads })) };
  }
  if (input.type === TensorType.INT8 && weights.type === TensorType.INT8 && output.type === TensorType.INT8 && symmetric(weights)) {
    const sIn = quant(input, where);
    const sOut = quant(output, where);
    const range = activationRangeXnnpack(options.fusedActivationFunction, sOut);
    const gemm = packQs8Gemm({
      weights: weights.data as Int8Array,
      n: units,
      k: inputSize,
      bias: bias === null ? null : (bias.data as Int32Array),
      inputZeroPoint: sIn.zeroPoint,
      requantization: 'fp32',
      scale: weightScales(weights, where).map((s) => requantizationScale(sIn.scale, s, sOut.scale, 'fp32')),
      outputZeroPoint: sOut.zeroPoint,
      qmin: range.min,
      qmax: range.max,
      threads,
    });
    const x = input.data as Int8Array;
    const y = output.data as Int8Array;
    return { impl: `native int8 fully-connected (${gemm.kernel})`, run: () => void gemm.run(x, undefined, y) };
  }
  return null;
}

export function compileConvolution(ctx: OpContext): Compiled | null {
  const { code, ins, input, output, op, where, threads, put } = ctx;
  const filter = ins[1] ?? null;
  const bias = ins[2] ?? null;
  const options = op.builtinOptions;
  if (filter === null || !filter.constant) return null;
  if (options?.kind !== 'Conv2DOptions' && options?.kind !== 'DepthwiseConv2DOptions') return null;
  const depthwise = code === BuiltinOperator.DEPTHWISE_CONV_2D;
  const padding = options.padding === Padding.SAME ? 'same' : 'valid';
  const stride: [number, number] = [options.strideH, options.strideW];
  const dilation: [number, number] = [options.dilationHFactor, options.dilationWFactor];
  const activation = fusedActivation(options.fusedActivationFunction, where);
  if (input.type === TensorType.FLOAT32 && filter.type === TensorType.FLOAT32 && output.type === TensorType.FLOAT32) {
    const b = (bias?.data as Float32Array | undefined) ?? null;
    const x = input.data as Float32Array;
    const conv = { strides: stride, dilations: dilation, padding, activation, threads } as const;
    if (depthwise) {
      const packed = packDepthwiseFilter(filter.data as Float32Array, filter.shape as [1, number, number, number], b);
      return { impl: 'native f32 depthwise', run: () => put(depthwiseConv2d(x, input.shape, packed, conv).output) };
    }
    const packed = packConv2dFilter(filter.data as Float32Array, filter.shape as [number, number, number, number], b);
    return { impl: 'native f32 conv2d', run: () => put(conv2d(x, input.shape, packed, conv).output) };
  }
  if (input.type === TensorType.INT8 && filter.type === TensorType.INT8 && output.type === TensorType.INT8 && symmetric(filter)) {
    const sIn = quant(input, where);
    const sOut = quant(output, where);
    const layerOptions = {
      inputShape: input.shape,
      filterShape: filter.shape,
      padding,
      stride,
      dilation,
      inputScale: sIn.scale,
      inputZeroPoint: sIn.zeroPoint,
      weightScale: weightScales(filter, where),
      outputScale: sOut.scale,
      outputZeroPoint: sOut.zeroPoint,
      activation,
      requantization: 'fp32',
    } as const;
    const b = bias === null ? null : (bias.data as Int32Array);
    const layer: Int8ConvLayer = depthwise
      ? packInt8DepthwiseConv2d(filter.data as Int8Array, b, layerOptions)
      : packInt8Conv2d(filter.data as Int8Array, b, layerOptions);
    const x = input.data as Int8Array;
    const y = output.data as Int8Array;
    if (elementCount(layer.outputShape) !== y.length) {
      throw new ModelFormatError(`${where}: output tensor has ${y.length} elements, the convolution gives [${layer.outputShape.join(', ')}]`);
    }
    return { impl: `native int8 ${layer.kind} (${layer.kernel})`, run: () => void layer.run(x, { output: y, threads }) };
  }
  return null;
}
