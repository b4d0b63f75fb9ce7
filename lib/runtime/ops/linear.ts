// FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D: native kernels, weights prepared once here.
// - float32 and int8: packed native kernels. int8 uses the 'fp32' requantization and XNNPACK's
//   clamp: what the official runtime (its XNNPACK delegate) computes.
// - hybrid (float activations, constant int8 weights, float output): lib/native/hybrid.ts, as
//   TFLite's builtin hybrid kernels (rows quantized on the fly; FULLY_CONNECTED honours
//   asymmetric_quantize_inputs, CONV_2D quantizes each image asymmetrically when the filter is
//   per-channel, symmetrically otherwise). DEPTHWISE_CONV_2D has no native hybrid kernel: its
//   filter is dequantized at load and the float kernel runs. Hybrid outputs differ between
//   official runtime versions too (test/runtime/models.test.ts measures by how much).
// - int16x8 (int16 activations with zero point 0, int8 weights, int64 bias):
//   lib/native/int16.ts, TFLite's builtin rules bit for bit (FULLY_CONNECTED requantizes in
//   double as LiteRT does). An int32 bias takes the reference op (ruy's single rounding).
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
import { packHybridConv2d, packHybridFullyConnected } from '../../native/hybrid.js';
import { packInt16Conv2d, packInt16DepthwiseConv2d, packInt16FullyConnected } from '../../native/int16.js';
import { type ActivationFunctionType, BuiltinOperator, Padding, TensorType } from '../../tflite/schema.js';
import { activationRangeXnnpack, elementCount } from '../reference-ops/common.js';
import { conv2DQuantized, depthwiseConv2DQuantized, fullyConnectedQuantized, type QuantizedLayerParams } from '../reference-ops/conv.js';
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
  if (input.type === TensorType.FLOAT32 && weights.type === TensorType.INT8 && output.type === TensorType.FLOAT32 && symmetric(weights)) {
    if (bias !== null && bias.type !== TensorType.FLOAT32) return null;
    const b = (bias?.data as Float32Array | undefined) ?? null;
    const layer = packHybridFullyConnected(weights.data as Int8Array, b, units, {
      weightScale: weightScales(weights, where),
      asymmetricQuantizeInputs: options.asymmetricQuantizeInputs,
      activation: fusedActivation(options.fusedActivationFunction, where),
      threads,
    });
    const x = input.data as Float32Array;
    const y = output.data as Float32Array;
    checkRows(x.length, inputSize, y.length, units, where);
    const how = options.asymmetricQuantizeInputs ? 'asymmetric' : 'symmetric';
    return { impl: `native hybrid fully-connected (${how} rows)`, run: () => void layer.run(x, y) };
  }
  if (isInt16x8(ctx, weights)) {
    const sIn = quant(input, where);
    const sOut = quant(output, where);
    const x = input.data as Int16Array;
    if (bias !== null && bias.type === TensorType.INT32) {
      const params = int16ReferenceParams(ctx, weights, options.fusedActivationFunction);
      const w = weights.data as Int8Array;
      const b = bias.data as Int32Array;
      return { impl: 'reference int16x8 fully-connected (int32 bias)', run: () => put(fullyConnectedQuantized(x, w, [units, inputSize], b, params).data) };
    }
    const b = (bias?.data as BigInt64Array | undefined) ?? null;
    const layer = packInt16FullyConnected(weights.data as Int8Array, b, units, {
      inputScale: sIn.scale,
      weightScale: weightScales(weights, where),
      outputScale: sOut.scale,
      activation: fusedActivation(options.fusedActivationFunction, where),
      requantization: 'double',
      threads,
    });
    const y = output.data as Int16Array;
    checkRows(x.length, inputSize, y.length, units, where);
    return { impl: 'native int16x8 fully-connected', run: () => void layer.run(x, y) };
  }
  return null;
}

/** A packed FULLY_CONNECTED writes its output tensor directly: the tensors must hold whole rows. */
function checkRows(inputLength: number, inputSize: number, outputLength: number, units: number, where: string): void {
  const rows = inputLength / inputSize;
  if (!Number.isInteger(rows) || rows * units !== outputLength) {
    throw new ModelFormatError(
      `${where}: input tensor has ${inputLength} elements and output tensor ${outputLength}; rows of ${inputSize} in need rows of ${units} out`,
    );
  }
}

/** A packed convolution writes its output tensor directly: its shape must be the tensor's. */
function checkConvOutput(outputShape: readonly number[], outputLength: number, where: string): void {
  if (elementCount(outputShape) !== outputLength) {
    throw new ModelFormatError(`${where}: output tensor has ${outputLength} elements, the convolution gives [${outputShape.join(', ')}]`);
  }
}

/**
 * int16 input and output with zero point 0, int8 symmetric weights, and an int64, int32 or no
 * bias: TFLite's 16x8 layers.
 */
function isInt16x8(ctx: OpContext, weights: OpContext['input']): boolean {
  const { input, output, ins } = ctx;
  const bias = ins[2] ?? null;
  return (
    input.type === TensorType.INT16 &&
    output.type === TensorType.INT16 &&
    weights.type === TensorType.INT8 &&
    symmetric(weights) &&
    (input.quantization?.zeroPoint ?? 0) === 0 &&
    (output.quantization?.zeroPoint ?? 0) === 0 &&
    (bias === null || bias.type === TensorType.INT64 || bias.type === TensorType.INT32)
  );
}

/** The reference op's parameters for an int16x8 layer with an int32 bias (ruy's single rounding). */
function int16ReferenceParams(ctx: OpContext, weights: OpContext['input'], activation: ActivationFunctionType): QuantizedLayerParams {
  return {
    input: quant(ctx.input, ctx.where),
    weightScales: weightScales(weights, ctx.where),
    output: quant(ctx.output, ctx.where),
    activation,
    rule: 'single-rounding',
  };
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
  if (input.type === TensorType.FLOAT32 && filter.type === TensorType.INT8 && output.type === TensorType.FLOAT32 && symmetric(filter)) {
    if (bias !== null && bias.type !== TensorType.FLOAT32) return null;
    const b = (bias?.data as Float32Array | undefined) ?? null;
    const x = input.data as Float32Array;
    const scales = weightScales(filter, where);
    if (depthwise) {
      // TFLite has a hybrid depthwise kernel, we do not: the filter is dequantized once here
      // (per channel along axis 3 of [1, KH, KW, C]) and the float kernel runs.
      const channels = filter.shape[3]!;
      const q = filter.data as Int8Array;
      const w = Float32Array.from(q, (v, i) => v * scales[scales.length === 1 ? 0 : i % channels]!);
      const packed = packDepthwiseFilter(w, filter.shape as [1, number, number, number], b);
      const conv = { strides: stride, dilations: dilation, padding, activation, threads } as const;
      return { impl: 'native f32 depthwise on weights dequantized at load (hybrid)', run: () => put(depthwiseConv2d(x, input.shape, packed, conv).output) };
    }
    const layer = packHybridConv2d(filter.data as Int8Array, b, { inputShape: input.shape, filterShape: filter.shape, weightScale: scales, padding, stride, dilation, activation, threads });
    const y = output.data as Float32Array;
    checkConvOutput(layer.outputShape, y.length, where);
    const how = scales.length > 1 && scales.some((s) => s !== scales[0]) ? 'asymmetric' : 'symmetric';
    return { impl: `native hybrid conv2d (${how} images)`, run: () => void layer.run(x, y) };
  }
  if (isInt16x8(ctx, filter)) {
    const sIn = quant(input, where);
    const sOut = quant(output, where);
    const x = input.data as Int16Array;
    const w = filter.data as Int8Array;
    if (bias !== null && bias.type === TensorType.INT32) {
      const params = int16ReferenceParams(ctx, filter, options.fusedActivationFunction);
      const b = bias.data as Int32Array;
      const depthMultiplier = filter.shape[3]! / input.shape[3]!;
      const geometry = { padding: options.padding, strideH: stride[0], strideW: stride[1], dilationH: dilation[0], dilationW: dilation[1], depthMultiplier };
      const run = depthwise
        ? () => put(depthwiseConv2DQuantized(x, input.shape, w, filter.shape, b, geometry, params).data)
        : () => put(conv2DQuantized(x, input.shape, w, filter.shape, b, geometry, params).data);
      return { impl: `reference int16x8 ${depthwise ? 'depthwise' : 'conv2d'} (int32 bias)`, run };
    }
    const options16 = {
      inputShape: input.shape,
      filterShape: filter.shape,
      padding,
      stride,
      dilation,
      inputScale: sIn.scale,
      weightScale: weightScales(filter, where),
      outputScale: sOut.scale,
      activation,
      threads,
    } as const;
    const b = (bias?.data as BigInt64Array | undefined) ?? null;
    const layer = depthwise ? packInt16DepthwiseConv2d(w, b, options16) : packInt16Conv2d(w, b, options16);
    const y = output.data as Int16Array;
    checkConvOutput(layer.outputShape, y.length, where);
    return { impl: `native int16x8 ${layer.kind}`, run: () => void layer.run(x, y) };
  }
  return null;
}
