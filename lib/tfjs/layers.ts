// Keras layers to TFLite operators: one rule per layer class. A rule's check() looks at the
// layer config alone and throws Unsupported with the reason; convert() emits the ops for one call
// of the layer (its input values known) and may still throw Unsupported for what depends on
// shapes. The converter (convert.ts) collects every Unsupported before it gives up, so one error
// lists them all.
//
// Fusion, as TFLite's converter does it:
// - Conv2D, DepthwiseConv2D, SeparableConv2D (its pointwise part) and Dense whose output only
//   feeds a BatchNormalization over the channel axis absorb it: the weights are scaled by
//   gamma / sqrt(variance + epsilon) per output channel and the bias becomes
//   (bias - mean) * scale + beta.
// - relu and relu6 (Activation, ReLU with max_value null or 6, or the layer's own activation)
//   become the op's fused_activation_function when the activation is the only reader of the
//   conv/dense (or Add/Multiply) output; sigmoid, tanh and softmax are separate ops.
// Weight layouts: Conv2D [kh, kw, in, out] -> OHWI; DepthwiseConv2D [kh, kw, in, m] ->
// [1, kh, kw, in * m] (the same bytes); Dense [in, units] -> [units, in]; LSTM (recurrent.ts)
// kernels [in, 4 * units] with gates i, f, c, o -> four [units, in] matrices.
import { ModelFormatError } from '../errors.js';
import { builtinOptions } from '../ir/builder.js';
import { ActivationFunctionType, BuiltinOperator, Padding, TensorType, type BuiltinOptions } from '../tflite/schema.js';
import {
  activationLayerKind,
  activationName,
  axisOf,
  bool,
  channelsLast,
  checkWeightShape,
  count,
  emitActivation,
  FUSED,
  fusableActivation,
  num,
  pair,
  paddingOf,
  TFLITE_PADDING,
  Unsupported,
  where,
  type ConvertContext,
  type LayerRule,
} from './config.js';
import { convKernelToOhwi, outputSize, transpose2d, type Value } from './emit.js';
import { embedding, lstm } from './recurrent.js';
import type { KerasLayer, LayerCall } from './topology.js';

export { Unsupported, type ConvertContext, type LayerRule } from './config.js';

// ---------------------------------------------------------------------------------------------
// Conv2D, DepthwiseConv2D, SeparableConv2D, Dense (+ BatchNormalization, + relu/relu6)

/** y = x * scale + shift per channel, from a BatchNormalization's weights. */
function batchNormAffine(layer: KerasLayer, channels: number, ctx: ConvertContext): { scale: Float64Array; shift: Float64Array } {
  const epsilon = num(layer, 'epsilon', 1e-3);
  const mean = ctx.weight(layer, 'moving_mean');
  const variance = ctx.weight(layer, 'moving_variance');
  const gamma = bool(layer, 'scale', true) ? ctx.weight(layer, 'gamma') : null;
  const beta = bool(layer, 'center', true) ? ctx.weight(layer, 'beta') : null;
  for (const w of [mean, variance, gamma, beta]) if (w !== null) checkWeightShape(layer, w, [channels]);
  const scale = new Float64Array(channels);
  const shift = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = (gamma?.data[c] ?? 1) / Math.sqrt(variance.data[c]! + epsilon);
    shift[c] = (beta?.data[c] ?? 0) - mean.data[c]! * scale[c]!;
  }
  return { scale, shift };
}

/** A BatchNormalization over the last axis of a rank-`rank` tensor (the only kind that folds). */
function isChannelBatchNorm(layer: KerasLayer, rank: number): boolean {
  if (layer.className !== 'BatchNormalization') return false;
  try {
    return axisOf(layer, 'axis', -1, rank) === rank - 1;
  } catch {
    return false;
  }
}

interface LinearSpec {
  readonly code: BuiltinOperator;
  readonly input: Value;
  readonly weights: Float32Array;
  readonly weightShape: readonly number[];
  /** Whether the output channel is the last weight axis (depthwise) or the first (conv, FC). */
  readonly channelAxisLast: boolean;
  readonly bias: Float32Array;
  readonly outShape: readonly number[];
  readonly options: (fused: ActivationFunctionType) => BuiltinOptions;
  /** The layer whose weights these are, and the weight names (constants and their cache keys). */
  readonly layer: KerasLayer;
  readonly weightName: string;
}

/** Emits a CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED with BatchNormalization and activation fused. */
function emitLinear(call: LayerCall, spec: LinearSpec, ctx: ConvertContext): void {
  const own = activationName(call.layer.config['activation'], 'activation');
  let weights = spec.weights;
  let bias = spec.bias;
  let end = call.output;
  let endLayer = call.layer;
  let folded = '';
  const channels = spec.outShape[spec.outShape.length - 1]!;
  if (own === 'linear') {
    const next = ctx.soleConsumer(end);
    if (next !== null && isChannelBatchNorm(next.layer, spec.outShape.length)) {
      const { scale, shift } = batchNormAffine(next.layer, channels, ctx);
      weights = new Float32Array(weights.length);
      const perChannel = spec.weights.length / channels;
      for (let k = 0; k < weights.length; k++) {
        const c = spec.channelAxisLast ? k % channels : Math.floor(k / perChannel);
        weights[k] = spec.weights[k]! * scale[c]!;
      }
      bias = new Float32Array(channels);
      for (let c = 0; c < channels; c++) bias[c] = spec.bias[c]! * scale[c]! + shift[c]!;
      ctx.absorb(next);
      end = next.output;
      endLayer = next.layer;
      folded = `+${next.layer.name}`;
    }
  }
  let fused = FUSED[own];
  if (own === 'linear') {
    const act = fusableActivation(end, ctx);
    if (act !== null) {
      fused = act.fused;
      ctx.absorb(act.call);
      end = act.call.output;
      endLayer = act.call.layer;
    }
  }
  const name = endLayer.name;
  const w = ctx.emit.weights(`${spec.layer.name}/${spec.weightName}`, spec.weightShape, weights, `${spec.layer.name}/${spec.weightName}${folded}`);
  const b = ctx.emit.weights(`${spec.layer.name}/bias`, [channels], bias, `${spec.layer.name}/bias${folded}`);
  const linearOut = ctx.emit.activation(fused === undefined ? `${name}/linear` : name, spec.outShape);
  ctx.emit.op(spec.code, [spec.input.tensor, w, b], [linearOut.tensor], spec.options(fused ?? ActivationFunctionType.NONE));
  const value = fused === undefined ? emitActivation(own, linearOut, name, ctx) : linearOut;
  ctx.define(end, value);
}

function checkConvLike(layer: KerasLayer): void {
  channelsLast(layer);
  paddingOf(layer);
  activationName(layer.config['activation'], 'activation');
  const strides = pair(layer, 'strides', [1, 1]);
  const dilation = pair(layer, 'dilation_rate', [1, 1]);
  if ((strides[0] > 1 || strides[1] > 1) && (dilation[0] > 1 || dilation[1] > 1)) {
    throw new Unsupported('strides > 1 together with dilation_rate > 1');
  }
  const groups = layer.config['groups'];
  if (groups !== undefined && groups !== null && groups !== 1) throw new Unsupported(`groups ${JSON.stringify(groups)} (grouped convolution)`);
}

function spatialInput(input: Value): [number, number, number] {
  if (input.shape.length !== 4) throw new Unsupported(`a rank-${input.shape.length} input (expected [batch, height, width, channels])`);
  return [input.shape[1]!, input.shape[2]!, input.shape[3]!];
}

function convGeometry(layer: KerasLayer, input: Value, kernel: readonly [number, number]) {
  const [height, width, channels] = spatialInput(input);
  const padding = paddingOf(layer);
  const strides = pair(layer, 'strides', [1, 1]);
  const dilation = pair(layer, 'dilation_rate', [1, 1]);
  const outH = outputSize(height, kernel[0], strides[0], dilation[0], padding);
  const outW = outputSize(width, kernel[1], strides[1], dilation[1], padding);
  if (outH === 0 || outW === 0) throw new ModelFormatError(`${where(layer)}: a ${height}x${width} input is smaller than the ${kernel[0]}x${kernel[1]} kernel`);
  return { channels, padding, strides, dilation, outH, outW };
}

function biasOf(layer: KerasLayer, channels: number, ctx: ConvertContext): Float32Array {
  if (!bool(layer, 'use_bias', true)) return new Float32Array(channels);
  const bias = ctx.weight(layer, 'bias');
  checkWeightShape(layer, bias, [channels]);
  return bias.data;
}

/** The depthwise part of DepthwiseConv2D and SeparableConv2D. */
function depthwiseSpec(call: LayerCall, input: Value, ctx: ConvertContext, bias: Float32Array | null): LinearSpec {
  const layer = call.layer;
  const kernel = ctx.weight(layer, 'depthwise_kernel');
  if (kernel.shape.length !== 4) throw new ModelFormatError(`${where(layer)}: depthwise_kernel has shape [${kernel.shape.join(', ')}], expected [kh, kw, in, multiplier]`);
  const [kh, kw, cin, multiplier] = kernel.shape as [number, number, number, number];
  const g = convGeometry(layer, input, [kh, kw]);
  if (cin !== g.channels) throw new ModelFormatError(`${where(layer)}: depthwise_kernel is for ${cin} channels but the input has ${g.channels}`);
  const channels = cin * multiplier;
  return {
    code: BuiltinOperator.DEPTHWISE_CONV_2D,
    input,
    weights: kernel.data,
    weightShape: [1, kh, kw, channels],
    channelAxisLast: true,
    bias: bias ?? biasOf(layer, channels, ctx),
    outShape: [input.shape[0]!, g.outH, g.outW, channels],
    options: (fused) =>
      builtinOptions('DepthwiseConv2DOptions', {
        padding: TFLITE_PADDING[g.padding],
        strideH: g.strides[0],
        strideW: g.strides[1],
        dilationHFactor: g.dilation[0],
        dilationWFactor: g.dilation[1],
        depthMultiplier: multiplier,
        fusedActivationFunction: fused,
      }),
    layer,
    weightName: 'depthwise_kernel',
  };
}

const conv2d: LayerRule = {
  check: checkConvLike,
  convert(call, [input], ctx) {
    const layer = call.layer;
    const kernel = ctx.weight(layer, 'kernel');
    if (kernel.shape.length !== 4) throw new ModelFormatError(`${where(layer)}: kernel has shape [${kernel.shape.join(', ')}], expected [kh, kw, in, out]`);
    const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
    const g = convGeometry(layer, input!, [kh, kw]);
    if (cin !== g.channels) throw new ModelFormatError(`${where(layer)}: kernel is for ${cin} input channels but the input has ${g.channels}`);
    emitLinear(
      call,
      {
        code: BuiltinOperator.CONV_2D,
        input: input!,
        weights: convKernelToOhwi(kernel.data, kernel.shape),
        weightShape: [cout, kh, kw, cin],
        channelAxisLast: false,
        bias: biasOf(layer, cout, ctx),
        outShape: [input!.shape[0]!, g.outH, g.outW, cout],
        options: (fused) =>
          builtinOptions('Conv2DOptions', {
            padding: TFLITE_PADDING[g.padding],
            strideH: g.strides[0],
            strideW: g.strides[1],
            dilationHFactor: g.dilation[0],
            dilationWFactor: g.dilation[1],
            fusedActivationFunction: fused,
          }),
        layer,
        weightName: 'kernel',
      },
      ctx,
    );
  },
};

const depthwiseConv2d: LayerRule = {
  check: checkConvLike,
  convert(call, [input], ctx) {
    emitLinear(call, depthwiseSpec(call, input!, ctx, null), ctx);
  },
};

/** SeparableConv2D: DEPTHWISE_CONV_2D (zero bias, no activation) then a 1x1 CONV_2D. */
const separableConv2d: LayerRule = {
  check: checkConvLike,
  convert(call, [input], ctx) {
    const layer = call.layer;
    const pointwise = ctx.weight(layer, 'pointwise_kernel');
    const depthwise = depthwiseSpec(call, input!, ctx, new Float32Array(0));
    const mid = depthwise.outShape[3]!;
    if (pointwise.shape.length !== 4 || pointwise.shape[0] !== 1 || pointwise.shape[1] !== 1 || pointwise.shape[2] !== mid) {
      throw new ModelFormatError(`${where(layer)}: pointwise_kernel has shape [${pointwise.shape.join(', ')}], expected [1, 1, ${mid}, filters]`);
    }
    const cout = pointwise.shape[3]!;
    const dwOut = ctx.emit.activation(`${layer.name}/depthwise`, depthwise.outShape);
    const dwWeights = ctx.emit.weights(`${layer.name}/depthwise_kernel`, depthwise.weightShape, depthwise.weights);
    const dwBias = ctx.emit.weights(`${layer.name}/depthwise_bias`, [mid], new Float32Array(mid));
    ctx.emit.op(BuiltinOperator.DEPTHWISE_CONV_2D, [input!.tensor, dwWeights, dwBias], [dwOut.tensor], depthwise.options(ActivationFunctionType.NONE));
    emitLinear(
      call,
      {
        code: BuiltinOperator.CONV_2D,
        input: dwOut,
        weights: convKernelToOhwi(pointwise.data, pointwise.shape),
        weightShape: [cout, 1, 1, mid],
        channelAxisLast: false,
        bias: biasOf(layer, cout, ctx),
        outShape: [...depthwise.outShape.slice(0, 3), cout],
        options: (fused) => builtinOptions('Conv2DOptions', { padding: Padding.VALID, strideH: 1, strideW: 1, fusedActivationFunction: fused }),
        layer,
        weightName: 'pointwise_kernel',
      },
      ctx,
    );
  },
};

const dense: LayerRule = {
  check: (layer) => void activationName(layer.config['activation'], 'activation'),
  convert(call, [input], ctx) {
    const layer = call.layer;
    const kernel = ctx.weight(layer, 'kernel');
    const inner = input!.shape[input!.shape.length - 1]!;
    if (kernel.shape.length !== 2 || kernel.shape[0] !== inner) {
      throw new ModelFormatError(`${where(layer)}: kernel has shape [${kernel.shape.join(', ')}] but the input's last dimension is ${inner}`);
    }
    const units = kernel.shape[1]!;
    const keepNumDims = input!.shape.length > 2;
    emitLinear(
      call,
      {
        code: BuiltinOperator.FULLY_CONNECTED,
        input: input!,
        weights: transpose2d(kernel.data, inner, units),
        weightShape: [units, inner],
        channelAxisLast: false,
        bias: biasOf(layer, units, ctx),
        outShape: [...input!.shape.slice(0, -1), units],
        options: (fused) => builtinOptions('FullyConnectedOptions', { fusedActivationFunction: fused, keepNumDims }),
        layer,
        weightName: 'kernel',
      },
      ctx,
    );
  },
};

/** A BatchNormalization that no conv/dense absorbed: MUL by the scale, ADD the shift. */
const batchNormalization: LayerRule = {
  convert(call, [input], ctx) {
    const layer = call.layer;
    const rank = input!.shape.length;
    const axis = axisOf(layer, 'axis', -1, rank);
    if (axis !== rank - 1) throw new Unsupported(`axis ${axis} of a rank-${rank} input (only the last axis, channels_last, converts)`);
    const channels = input!.shape[axis]!;
    const { scale, shift } = batchNormAffine(layer, channels, ctx);
    const s = ctx.emit.weights(`${layer.name}/scale`, [channels], Float32Array.from(scale));
    const t = ctx.emit.weights(`${layer.name}/shift`, [channels], Float32Array.from(shift));
    const mid = ctx.emit.activation(`${layer.name}/mul`, input!.shape);
    ctx.emit.op(BuiltinOperator.MUL, [input!.tensor, s], [mid.tensor], builtinOptions('MulOptions'));
    const out = ctx.emit.activation(layer.name, input!.shape);
    ctx.emit.op(BuiltinOperator.ADD, [mid.tensor, t], [out.tensor], builtinOptions('AddOptions'));
    ctx.define(call.output, out);
  },
};

const activationLayer: LayerRule = {
  check: (layer) => void activationLayerKind(layer),
  convert(call, [input], ctx) {
    const kind = activationLayerKind(call.layer)!;
    const axis = call.layer.className === 'Softmax' ? axisOf(call.layer, 'axis', -1, input!.shape.length) : undefined;
    ctx.define(call.output, emitActivation(kind, input!, call.layer.name, ctx, axis));
  },
};

// ---------------------------------------------------------------------------------------------
// Pooling, shapes

function pool(code: BuiltinOperator): LayerRule {
  return {
    check(layer) {
      channelsLast(layer);
      paddingOf(layer);
    },
    convert(call, [input], ctx) {
      const layer = call.layer;
      const size = pair(layer, 'pool_size', [2, 2]);
      const strides = pair(layer, 'strides', size);
      const [height, width, channels] = spatialInput(input!);
      const padding = paddingOf(layer);
      const outH = outputSize(height, size[0], strides[0], 1, padding);
      const outW = outputSize(width, size[1], strides[1], 1, padding);
      if (outH === 0 || outW === 0) throw new ModelFormatError(`${where(layer)}: a ${height}x${width} input is smaller than the ${size[0]}x${size[1]} pool`);
      const out = ctx.emit.activation(layer.name, [input!.shape[0]!, outH, outW, channels]);
      const options = builtinOptions('Pool2DOptions', {
        padding: TFLITE_PADDING[padding],
        strideH: strides[0],
        strideW: strides[1],
        filterHeight: size[0],
        filterWidth: size[1],
      });
      ctx.emit.op(code, [input!.tensor], [out.tensor], options);
      ctx.define(call.output, out);
    },
  };
}

/** GlobalAveragePooling2D: MEAN over axes 1 and 2. */
const globalAveragePooling2d: LayerRule = {
  check: channelsLast,
  convert(call, [input], ctx) {
    const layer = call.layer;
    const [, , channels] = spatialInput(input!);
    const keepDims = bool(layer, 'keepdims', false);
    const batch = input!.shape[0]!;
    const out = ctx.emit.activation(layer.name, keepDims ? [batch, 1, 1, channels] : [batch, channels]);
    const axes = ctx.emit.ints(`${layer.name}/axes`, [1, 2]);
    ctx.emit.op(BuiltinOperator.MEAN, [input!.tensor, axes], [out.tensor], builtinOptions('ReducerOptions', { keepDims }));
    ctx.define(call.output, out);
  },
};

/** RESHAPE to [batch, ...dims]; the shape constant has -1 for a dynamic batch. */
function emitReshape(call: LayerCall, input: Value, dims: readonly number[], ctx: ConvertContext): void {
  const shape = [input.shape[0]!, ...dims];
  const newShape = [ctx.emit.dynamicBatch ? -1 : shape[0]!, ...dims];
  const out = ctx.emit.activation(call.layer.name, shape, input.type);
  const shapeTensor = ctx.emit.ints(`${call.layer.name}/shape`, newShape);
  ctx.emit.op(BuiltinOperator.RESHAPE, [input.tensor, shapeTensor], [out.tensor], builtinOptions('ReshapeOptions', { newShape }));
  ctx.define(call.output, out);
}

const flatten: LayerRule = {
  check: channelsLast,
  convert(call, [input], ctx) {
    emitReshape(call, input!, [count(input!.shape.slice(1))], ctx);
  },
};

const reshape: LayerRule = {
  convert(call, [input], ctx) {
    const layer = call.layer;
    const target = layer.config['target_shape'];
    if (!Array.isArray(target) || !target.every((d) => Number.isInteger(d) && (d === -1 || (d as number) > 0))) {
      throw new ModelFormatError(`${where(layer)}: target_shape is ${JSON.stringify(target)}, expected positive integers (one may be -1)`);
    }
    const dims = target as number[];
    const size = count(input!.shape.slice(1));
    const known = count(dims.filter((d) => d !== -1));
    const unknown = dims.filter((d) => d === -1).length;
    if (unknown > 1 || (unknown === 1 ? size % known !== 0 : known !== size)) {
      throw new ModelFormatError(`${where(layer)}: target_shape ${JSON.stringify(dims)} does not fit an input of ${size} values per sample`);
    }
    emitReshape(call, input!, dims.map((d) => (d === -1 ? size / known : d)), ctx);
  },
};

/** Numpy broadcasting of two shapes; null when they do not broadcast. */
function broadcast(a: readonly number[], b: readonly number[]): number[] | null {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(Math.max(x, y));
  }
  return out;
}

/** Add, Multiply: ADD / MUL chained over the inputs; a relu/relu6 after it fuses into the last. */
function merge(code: BuiltinOperator, kind: 'AddOptions' | 'MulOptions'): LayerRule {
  return {
    convert(call, inputs, ctx) {
      const layer = call.layer;
      if (inputs.length < 2) {
        throw new ModelFormatError(`${where(layer)}: ${inputs.length} input, expected at least 2`);
      }
      const act = fusableActivation(call.output, ctx);
      const end = act?.call ?? call;
      if (act !== null) ctx.absorb(act.call);
      let acc = inputs[0]!;
      for (let i = 1; i < inputs.length; i++) {
        const next = inputs[i]!;
        const shape = broadcast(acc.shape, next.shape);
        if (shape === null) {
          throw new ModelFormatError(`${where(layer)}: inputs of shapes [${acc.shape.join(', ')}] and [${next.shape.join(', ')}] do not broadcast`);
        }
        const last = i === inputs.length - 1;
        const out = ctx.emit.activation(last ? end.layer.name : `${layer.name}/${i}`, shape);
        const fused = last && act !== null ? act.fused : ActivationFunctionType.NONE;
        ctx.emit.op(code, [acc.tensor, next.tensor], [out.tensor], builtinOptions(kind, { fusedActivationFunction: fused }));
        acc = out;
      }
      ctx.define(end.output, acc);
    },
  };
}

const concatenate: LayerRule = {
  convert(call, inputs, ctx) {
    const layer = call.layer;
    const first = inputs[0]!;
    const rank = first.shape.length;
    const axis = axisOf(layer, 'axis', -1, rank);
    if (axis === 0) throw new Unsupported('concatenation along the batch axis');
    if (inputs.length < 1 || inputs.some((v) => v.shape.length !== rank || v.shape.some((d, i) => i !== axis && d !== first.shape[i]))) {
      throw new ModelFormatError(`${where(layer)}: inputs of shapes ${inputs.map((v) => `[${v.shape.join(', ')}]`).join(', ')} do not concatenate along axis ${axis}`);
    }
    const shape = first.shape.map((d, i) => (i === axis ? inputs.reduce((n, v) => n + v.shape[i]!, 0) : d));
    const out = ctx.emit.activation(layer.name, shape);
    ctx.emit.op(
      BuiltinOperator.CONCATENATION,
      inputs.map((v) => v.tensor),
      [out.tensor],
      builtinOptions('ConcatenationOptions', { axis, fusedActivationFunction: ActivationFunctionType.NONE }),
    );
    ctx.define(call.output, out);
  },
};

/** ZeroPadding2D: PAD with [[0, 0], [top, bottom], [left, right], [0, 0]]. */
const zeroPadding2d: LayerRule = {
  check: channelsLast,
  convert(call, [input], ctx) {
    const layer = call.layer;
    const value = layer.config['padding'];
    let rows: [number, number];
    let cols: [number, number];
    const isPair = (v: unknown): v is [number, number] => Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x) && (x as number) >= 0);
    if (Number.isInteger(value) && (value as number) >= 0) {
      rows = [value as number, value as number];
      cols = [value as number, value as number];
    } else if (Array.isArray(value) && value.length === 2 && isPair(value[0]) && isPair(value[1])) {
      rows = value[0];
      cols = value[1];
    } else if (isPair(value)) {
      rows = [value[0], value[0]];
      cols = [value[1], value[1]];
    } else {
      throw new ModelFormatError(`${where(layer)}: padding is ${JSON.stringify(value)}, expected an integer, [rows, cols] or [[top, bottom], [left, right]]`);
    }
    const [height, width, channels] = spatialInput(input!);
    const out = ctx.emit.activation(layer.name, [input!.shape[0]!, height + rows[0] + rows[1], width + cols[0] + cols[1], channels]);
    const paddings = ctx.emit.builder.tensor({
      name: ctx.emit.name(`${layer.name}/paddings`),
      type: TensorType.INT32,
      shape: [4, 2],
      data: Int32Array.from([0, 0, ...rows, ...cols, 0, 0]),
    });
    ctx.emit.op(BuiltinOperator.PAD, [input!.tensor, paddings], [out.tensor], builtinOptions('PadOptions'));
    ctx.define(call.output, out);
  },
};

// ---------------------------------------------------------------------------------------------

/** Layers that compute nothing at inference: their output is their input. */
export const IDENTITY_LAYERS: ReadonlySet<string> = new Set([
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'SpatialDropout3D',
  'GaussianDropout',
  'GaussianNoise',
  'AlphaDropout',
]);

/** Whether a call passes its input through (an identity layer, or Activation 'linear'). */
export function isIdentity(layer: KerasLayer): boolean {
  if (IDENTITY_LAYERS.has(layer.className)) return true;
  if (layer.className !== 'Activation') return false;
  try {
    return activationName(layer.config['activation'], 'activation') === 'linear';
  } catch {
    return false;
  }
}

export const LAYER_RULES: ReadonlyMap<string, LayerRule> = new Map<string, LayerRule>([
  ['Dense', dense],
  ['Conv2D', conv2d],
  ['DepthwiseConv2D', depthwiseConv2d],
  ['SeparableConv2D', separableConv2d],
  ['BatchNormalization', batchNormalization],
  ['Activation', activationLayer],
  ['ReLU', activationLayer],
  ['Softmax', activationLayer],
  ['MaxPooling2D', pool(BuiltinOperator.MAX_POOL_2D)],
  ['AveragePooling2D', pool(BuiltinOperator.AVERAGE_POOL_2D)],
  ['GlobalAveragePooling2D', globalAveragePooling2d],
  ['Flatten', flatten],
  ['Reshape', reshape],
  ['ZeroPadding2D', zeroPadding2d],
  ['Add', merge(BuiltinOperator.ADD, 'AddOptions')],
  ['Multiply', merge(BuiltinOperator.MUL, 'MulOptions')],
  ['Concatenate', concatenate],
  ['Embedding', embedding],
  ['LSTM', lstm],
]);

/** Aliases Keras and tfjs use for the same classes. */
export const LAYER_ALIASES: Readonly<Record<string, string>> = {
  Convolution2D: 'Conv2D',
  SeparableConvolution2D: 'SeparableConv2D',
  MaxPool2D: 'MaxPooling2D',
  AvgPool2D: 'AveragePooling2D',
  AveragePool2D: 'AveragePooling2D',
  GlobalAvgPool2D: 'GlobalAveragePooling2D',
};
