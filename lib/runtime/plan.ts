// The execution plan: subgraph 0 of a Graph compiled once into a list of steps, one per
// operator, each a closure over preallocated tensor buffers.
//
// - Every tensor gets one typed array at load: constants are decoded (copied, so they are
//   aligned) from their buffers, activations are allocated at their static shape (a -1 batch in
//   shape_signature runs at the static batch, 1 in every shared model). Runs reuse them.
// - The implementation of an operator is chosen by (builtin op, input and output dtypes):
//   FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D with constant weights go to the native
//   kernels (weights packed here, once); everything else to lib/runtime/reference-ops, whose
//   results are copied into the output buffer.
// - int8 CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED use the 'fp32' requantization and
//   XNNPACK's clamp, which is what the official runtime (XNNPACK delegate) computes.
// - An operator or dtype without an implementation is an InvalidArgumentError at load naming
//   the operator, its index and its dtypes.
import { InvalidArgumentError, ModelFormatError } from '../errors.js';
import type { Graph, Operator, Tensor } from '../ir/graph.js';
import { packInt8Conv2d, packInt8DepthwiseConv2d, type Int8ConvLayer } from '../native/conv.js';
import {
  conv2d,
  depthwiseConv2d,
  fullyConnected,
  packConv2dFilter,
  packDepthwiseFilter,
  packFullyConnectedWeights,
} from '../native/f32.js';
import { packQs8Gemm, requantizationScale } from '../native/gemm.js';
import type { FusedActivation } from '../native/layer-params.js';
import { ActivationFunctionType, BuiltinOperator, Padding, TensorType } from '../tflite/schema.js';
import { logisticFloat32, logisticQuantized, reluFloat32, reluQuantized, tanhFloat32, tanhQuantized } from './reference-ops/activations.js';
import { activationRangeXnnpack, type QuantParams } from './reference-ops/common.js';
import { binaryFloat32, binaryQuantized, type BinaryOp } from './reference-ops/elementwise-binary.js';
import {
  averagePool2DFloat32,
  averagePool2DQuantized,
  maxPool2DFloat32,
  maxPool2DQuantized,
  type Pool2DOptions,
} from './reference-ops/pooling.js';
import { dequantize, quantizeFloat, requantize } from './reference-ops/quantize.js';
import { meanFloat32, meanQuantized } from './reference-ops/reduce.js';
import { concatenate, pad, transpose } from './reference-ops/shape-ops.js';
import { softmaxFloat32, softmaxQuantized } from './reference-ops/softmax.js';

export type TensorData = Float32Array | Int8Array | Int16Array | Int32Array | Uint8Array | BigInt64Array;

/** One compiled operator. */
export interface PlanStep {
  /** Operator index in subgraph 0. */
  readonly index: number;
  /** The op's name, e.g. 'CONV_2D'. */
  readonly op: string;
  /** Which implementation runs it, e.g. 'native int8 conv2d (qs8_...)' or 'reference'. */
  readonly impl: string;
  readonly run: () => void;
}

export interface PlanTensor {
  readonly index: number;
  readonly name: string;
  readonly type: TensorType;
  /** The static shape the buffer is allocated for. */
  readonly shape: readonly number[];
  /** shape_signature, or shape when the file has none. */
  readonly shapeSignature: readonly number[];
  readonly data: TensorData;
  /** Decoded from the model's buffer (and never written by an operator). */
  readonly constant: boolean;
  /** The first scale and zero point (activations are quantized per tensor). */
  readonly quantization: QuantParams | null;
  /** Every scale (per-channel weights have one per channel); [] when not quantized. */
  readonly scales: readonly number[];
  readonly zeroPoints: readonly number[];
}

export interface Plan {
  readonly inputs: readonly PlanTensor[];
  readonly outputs: readonly PlanTensor[];
  readonly steps: readonly PlanStep[];
}

export interface PlanOptions {
  /** Threads per native call (1..256, 0 = one per core). Default 1. */
  readonly threads?: number;
}

const OP_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(BuiltinOperator).map(([name, code]) => [code as number, name]),
);
const TYPE_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(TensorType).map(([name, code]) => [code as number, name]),
);

function opName(code: number): string {
  return OP_NAMES.get(code) ?? `builtin ${code}`;
}

function typeName(type: number): string {
  return TYPE_NAMES.get(type) ?? `type ${type}`;
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, d) => a * d, 1);
}

function allocate(type: TensorType, count: number, where: string): TensorData {
  switch (type) {
    case TensorType.FLOAT32:
      return new Float32Array(count);
    case TensorType.INT8:
      return new Int8Array(count);
    case TensorType.INT16:
      return new Int16Array(count);
    case TensorType.INT32:
      return new Int32Array(count);
    case TensorType.UINT8:
    case TensorType.BOOL:
      return new Uint8Array(count);
    case TensorType.INT64:
      return new BigInt64Array(count);
    default:
      throw new InvalidArgumentError(`Expected a tensor type the runtime supports for ${where} but received ${typeName(type)}`);
  }
}

/** A constant's data as an aligned typed array (a copy of the file's bytes). */
function decodeConstant(type: TensorType, bytes: Uint8Array, count: number, where: string): TensorData {
  const out = allocate(type, count, where);
  if (bytes.length !== out.byteLength) {
    throw new ModelFormatError(`${where}: buffer holds ${bytes.length} bytes, shape needs ${out.byteLength}`);
  }
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes);
  return out;
}

function fusedActivation(activation: ActivationFunctionType, where: string): FusedActivation {
  switch (activation) {
    case ActivationFunctionType.NONE:
      return 'none';
    case ActivationFunctionType.RELU:
      return 'relu';
    case ActivationFunctionType.RELU6:
      return 'relu6';
    case ActivationFunctionType.RELU_N1_TO_1:
      return 'relu-n1-to-1';
    default:
      throw new InvalidArgumentError(`Expected a supported fused activation for ${where} but received ${activation}`);
  }
}

/** Compiles subgraph 0 of the graph. Throws InvalidArgumentError for unsupported ops/dtypes. */
export function compilePlan(graph: Graph, options: PlanOptions = {}): Plan {
  const threads = options.threads ?? 1;
  const subgraph = graph.subgraphs[0];
  if (subgraph === undefined) throw new ModelFormatError('the model has no subgraph');
  const produced = new Set<number>(subgraph.inputs);
  for (const op of subgraph.operators) for (const o of op.outputs) produced.add(o);

  const tensors: PlanTensor[] = subgraph.tensors.map((t, index) => planTensor(graph, t, index, produced.has(index)));
  const tensorAt = (i: number, where: string): PlanTensor => {
    const t = tensors[i];
    if (t === undefined) throw new ModelFormatError(`${where}: tensor index ${i} out of range`);
    return t;
  };

  const steps = subgraph.operators.map((op, index) => {
    const code = graph.operatorCodes[op.opcodeIndex];
    if (code === undefined) throw new ModelFormatError(`operator ${index}: opcode index ${op.opcodeIndex} out of range`);
    const name = opName(code.builtinCode);
    const where = `operator ${index} (${name}) of subgraph 0`;
    const ins = op.inputs.map((i) => (i < 0 ? null : tensorAt(i, where)));
    const outs = op.outputs.map((i) => tensorAt(i, where));
    let step: Compiled | null;
    try {
      step = compileOp(code.builtinCode, op, ins, outs, where, threads);
    } catch (error) {
      throw withContext(error, index, where);
    }
    if (step === null) {
      const dtypes = `inputs [${ins.map((t) => (t === null ? '-' : typeName(t.type))).join(', ')}], outputs [${outs
        .map((t) => typeName(t.type))
        .join(', ')}]`;
      throw new InvalidArgumentError(
        `Expected an operator and dtypes the runtime supports for operator ${index} of subgraph 0 but received ${name} with ${dtypes}`,
      );
    }
    return { index, op: name, impl: step.impl, run: step.run };
  });

  // One run on the zero-filled inputs: every shape mismatch between an op's result and its
  // output tensor (and any error an op raises on the model's parameters) surfaces here, at load.
  for (const step of steps) {
    try {
      step.run();
    } catch (error) {
      throw withContext(error, step.index, `operator ${step.index} (${step.op}) of subgraph 0`);
    }
  }
  for (const t of tensors) {
    if (t.constant) continue;
    if (t.data instanceof BigInt64Array) t.data.fill(0n);
    else t.data.fill(0);
  }

  return {
    inputs: subgraph.inputs.map((i) => tensorAt(i, 'subgraph 0 inputs')),
    outputs: subgraph.outputs.map((i) => tensorAt(i, 'subgraph 0 outputs')),
    steps,
  };
}

/**
 * An error raised while packing or running operator `index`: kept when its message already
 * names the operator, otherwise a ModelFormatError that does (the model's parameters are what a
 * kernel refused).
 */
function withContext(error: unknown, index: number, where: string): Error {
  const message = error instanceof Error ? error.message : String(error);
  if ((error instanceof ModelFormatError || error instanceof InvalidArgumentError) && message.includes(`operator ${index} `)) {
    return error;
  }
  return new ModelFormatError(`${where}: ${message}`, { cause: error });
}

function planTensor(graph: Graph, t: Tensor, index: number, produced: boolean): PlanTensor {
  const where = `tensor ${index} (${t.name}) of subgraph 0`;
  const shape = t.shape.map((d) => (d < 0 ? 1 : d));
  const count = elementCount(shape);
  const bytes = graph.buffers[t.buffer]?.data;
  const constant = !produced && bytes !== undefined && bytes.length > 0;
  const data = constant ? decodeConstant(t.type, bytes, count, where) : allocate(t.type, count, where);
  const q = t.quantization;
  const quantization = q !== null && q.scale.length > 0 ? { scale: q.scale[0]!, zeroPoint: q.zeroPoint[0] ?? 0 } : null;
  const scales = q?.scale ?? [];
  const zeroPoints = q?.zeroPoint ?? [];
  const shapeSignature = t.shapeSignature ?? t.shape;
  return { index, name: t.name, type: t.type, shape, shapeSignature, data, constant, quantization, scales, zeroPoints };
}

interface Compiled {
  readonly impl: string;
  readonly run: () => void;
}

function quant(t: PlanTensor, where: string): QuantParams {
  if (t.quantization === null) throw new InvalidArgumentError(`Expected quantization parameters for tensor ${t.index} of ${where} but received none`);
  return t.quantization;
}

/** Copies an op's result into its output buffer; a length mismatch is a shape error in the model. */
function copyInto(target: TensorData, source: TensorData, where: string): void {
  if (source.length !== target.length) {
    throw new ModelFormatError(`${where}: the op gives ${source.length} elements, its output tensor holds ${target.length}`);
  }
  (target as Float32Array).set(source as Float32Array);
}

function compileOp(
  code: number,
  op: Operator,
  ins: readonly (PlanTensor | null)[],
  outs: readonly PlanTensor[],
  where: string,
  threads: number,
): Compiled | null {
  const input = ins[0] ?? null;
  const output = outs[0];
  if (input === null || output === undefined) return null;
  const inType = input.type;
  const outType = output.type;
  const put = (source: TensorData): void => copyInto(output.data, source, where);
  const options = op.builtinOptions;
  switch (code) {
    case BuiltinOperator.FULLY_CONNECTED: {
      const weights = ins[1] ?? null;
      const bias = ins[2] ?? null;
      if (weights === null || !weights.constant || options?.kind !== 'FullyConnectedOptions') return null;
      const [units, inputSize] = weights.shape as [number, number];
      if (inType === TensorType.FLOAT32 && weights.type === TensorType.FLOAT32 && outType === TensorType.FLOAT32) {
        const packed = packFullyConnectedWeights(weights.data as Float32Array, [units, inputSize], (bias?.data as Float32Array | undefined) ?? null);
        const activation = fusedActivation(options.fusedActivationFunction, where);
        const x = input.data as Float32Array;
        return { impl: 'native f32 fully-connected', run: () => put(fullyConnected(x, packed, { activation, threads })) };
      }
      if (inType === TensorType.INT8 && weights.type === TensorType.INT8 && outType === TensorType.INT8 && symmetric(weights)) {
        const sIn = quant(input, where);
        const sOut = quant(output, where);
        const wq = weightScales(weights, where);
        const range = activationRangeXnnpack(options.fusedActivationFunction, sOut);
        const gemm = packQs8Gemm({
          weights: weights.data as Int8Array,
          n: units,
          k: inputSize,
          bias: bias === null ? null : (bias.data as Int32Array),
          inputZeroPoint: sIn.zeroPoint,
          requantization: 'fp32',
          scale: wq.map((s) => requantizationScale(sIn.scale, s, sOut.scale, 'fp32')),
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
    case BuiltinOperator.CONV_2D:
    case BuiltinOperator.DEPTHWISE_CONV_2D: {
      const filter = ins[1] ?? null;
      const bias = ins[2] ?? null;
      if (filter === null || !filter.constant) return null;
      if (options?.kind !== 'Conv2DOptions' && options?.kind !== 'DepthwiseConv2DOptions') return null;
      const depthwise = code === BuiltinOperator.DEPTHWISE_CONV_2D;
      const padding = options.padding === Padding.SAME ? 'same' : 'valid';
      const stride: [number, number] = [options.strideH, options.strideW];
      const dilation: [number, number] = [options.dilationHFactor, options.dilationWFactor];
      const activation = fusedActivation(options.fusedActivationFunction, where);
      if (inType === TensorType.FLOAT32 && filter.type === TensorType.FLOAT32 && outType === TensorType.FLOAT32) {
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
      if (inType === TensorType.INT8 && filter.type === TensorType.INT8 && outType === TensorType.INT8 && symmetric(filter)) {
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
    case BuiltinOperator.ADD:
    case BuiltinOperator.SUB:
    case BuiltinOperator.MUL: {
      const other = ins[1] ?? null;
      if (other === null || other.type !== inType || outType !== inType) return null;
      const binOp: BinaryOp = code === BuiltinOperator.ADD ? 'ADD' : code === BuiltinOperator.SUB ? 'SUB' : 'MUL';
      const activation =
        options !== null && 'fusedActivationFunction' in options ? options.fusedActivationFunction : ActivationFunctionType.NONE;
      if (inType === TensorType.FLOAT32) {
        const a = { data: input.data as Float32Array, shape: input.shape };
        const b = { data: other.data as Float32Array, shape: other.shape };
        return { impl: 'reference', run: () => put(binaryFloat32(binOp, a, b, activation).data) };
      }
      if (inType === TensorType.INT8 || inType === TensorType.INT16) {
        const a = { data: input.data as Int8Array, shape: input.shape, ...quant(input, where) };
        const b = { data: other.data as Int8Array, shape: other.shape, ...quant(other, where) };
        const potScaleInt16 = options?.kind === 'AddOptions' || options?.kind === 'SubOptions' ? options.potScaleInt16 : true;
        const opts = { output: quant(output, where), activation, potScaleInt16 };
        return { impl: 'reference', run: () => put(binaryQuantized(binOp, a, b, opts).data) };
      }
      return null;
    }
    case BuiltinOperator.AVERAGE_POOL_2D:
    case BuiltinOperator.MAX_POOL_2D: {
      if (options?.kind !== 'Pool2DOptions' || outType !== inType) return null;
      const pool: Pool2DOptions = {
        padding: options.padding,
        strideH: options.strideH,
        strideW: options.strideW,
        filterH: options.filterHeight,
        filterW: options.filterWidth,
        activation: options.fusedActivationFunction,
      };
      const average = code === BuiltinOperator.AVERAGE_POOL_2D;
      if (inType === TensorType.FLOAT32) {
        const x = input.data as Float32Array;
        const f = average ? averagePool2DFloat32 : maxPool2DFloat32;
        return { impl: 'reference', run: () => put(f(x, input.shape, pool)) };
      }
      if (inType === TensorType.INT8 || inType === TensorType.INT16) {
        const x = input.data as Int8Array;
        const q = quant(output, where);
        const f = average ? averagePool2DQuantized : maxPool2DQuantized;
        return { impl: 'reference', run: () => put(f(x, input.shape, q, pool)) };
      }
      return null;
    }
    case BuiltinOperator.RESHAPE:
    case BuiltinOperator.SQUEEZE:
    case BuiltinOperator.EXPAND_DIMS: {
      if (outType !== inType || input.data.length !== output.data.length) return null;
      return { impl: 'copy', run: () => put(input.data) };
    }
    case BuiltinOperator.SOFTMAX: {
      const beta = options?.kind === 'SoftmaxOptions' ? options.beta : 1;
      if (inType === TensorType.FLOAT32 && outType === TensorType.FLOAT32) {
        const x = input.data as Float32Array;
        return { impl: 'reference', run: () => put(softmaxFloat32(x, input.shape, beta)) };
      }
      if ((inType === TensorType.INT8 || inType === TensorType.INT16) && outType === inType) {
        const x = input.data as Int8Array;
        const qIn = quant(input, where);
        const qOut = quant(output, where);
        return { impl: 'reference', run: () => put(softmaxQuantized(x, input.shape, qIn, qOut, beta)) };
      }
      return null;
    }
    case BuiltinOperator.RELU:
    case BuiltinOperator.RELU6:
    case BuiltinOperator.RELU_N1_TO_1: {
      if (outType !== inType) return null;
      const kind = code === BuiltinOperator.RELU ? 'RELU' : code === BuiltinOperator.RELU6 ? 'RELU6' : 'RELU_N1_TO_1';
      if (inType === TensorType.FLOAT32) {
        const x = input.data as Float32Array;
        return { impl: 'reference', run: () => put(reluFloat32(kind, x)) };
      }
      if (inType === TensorType.INT8 || inType === TensorType.INT16) {
        const x = input.data as Int8Array;
        const qIn = quant(input, where);
        const qOut = quant(output, where);
        return { impl: 'reference', run: () => put(reluQuantized(kind, x, qIn, qOut)) };
      }
      return null;
    }
    case BuiltinOperator.LOGISTIC:
    case BuiltinOperator.TANH: {
      if (outType !== inType) return null;
      const logistic = code === BuiltinOperator.LOGISTIC;
      if (inType === TensorType.FLOAT32) {
        const x = input.data as Float32Array;
        const f = logistic ? logisticFloat32 : tanhFloat32;
        return { impl: 'reference', run: () => put(f(x)) };
      }
      if (inType === TensorType.INT8 || inType === TensorType.INT16) {
        const x = input.data as Int8Array;
        const qIn = quant(input, where);
        const qOut = quant(output, where);
        const f = logistic ? logisticQuantized : tanhQuantized;
        return { impl: 'reference', run: () => put(f(x, qIn, qOut)) };
      }
      return null;
    }
    case BuiltinOperator.QUANTIZE: {
      const dtype = outType === TensorType.INT8 ? 'int8' : outType === TensorType.INT16 ? 'int16' : null;
      if (dtype === null) return null;
      const qOut = quant(output, where);
      if (inType === TensorType.FLOAT32) {
        const x = input.data as Float32Array;
        return { impl: 'reference', run: () => put(quantizeFloat(x, qOut, dtype)) };
      }
      if (inType === TensorType.INT8 || inType === TensorType.INT16) {
        const x = input.data as Int8Array;
        const qIn = quant(input, where);
        return { impl: 'reference', run: () => put(requantize(x, qIn, qOut, dtype)) };
      }
      return null;
    }
    case BuiltinOperator.DEQUANTIZE: {
      if (outType !== TensorType.FLOAT32 || (inType !== TensorType.INT8 && inType !== TensorType.INT16)) return null;
      const x = input.data as Int8Array;
      const qIn = quant(input, where);
      return { impl: 'reference', run: () => put(dequantize(x, qIn)) };
    }
    case BuiltinOperator.MEAN: {
      const axes = constInts(ins[1] ?? null);
      if (axes === null || outType !== inType) return null;
      const keepDims = options?.kind === 'ReducerOptions' ? options.keepDims : false;
      if (inType === TensorType.FLOAT32) {
        const x = input.data as Float32Array;
        return { impl: 'reference', run: () => put(meanFloat32(x, input.shape, axes, keepDims).data) };
      }
      if (inType === TensorType.INT8 || inType === TensorType.INT16) {
        const x = input.data as Int8Array;
        const qIn = quant(input, where);
        const qOut = quant(output, where);
        return { impl: 'reference', run: () => put(meanQuantized(x, input.shape, axes, keepDims, qIn, qOut).data) };
      }
      return null;
    }
    case BuiltinOperator.PAD:
    case BuiltinOperator.TRANSPOSE: {
      const param = constInts(ins[1] ?? null);
      if (param === null || outType !== inType || !isDataType(inType)) return null;
      const x = input.data as Float32Array;
      if (code === BuiltinOperator.TRANSPOSE) {
        return { impl: 'reference', run: () => put(transpose(x, input.shape, param).data) };
      }
      const paddings = input.shape.map((_, i) => [param[2 * i] ?? 0, param[2 * i + 1] ?? 0] as const);
      const value = output.quantization?.zeroPoint ?? 0;
      return { impl: 'reference', run: () => put(pad(x, input.shape, paddings, value).data) };
    }
    case BuiltinOperator.CONCATENATION: {
      if (options?.kind !== 'ConcatenationOptions' || options.fusedActivationFunction !== ActivationFunctionType.NONE) return null;
      const parts = ins.map((t) => (t !== null && t.type === outType ? t : null));
      if (!isDataType(outType) || parts.some((t) => t === null)) return null;
      // int8 inputs at other parameters than the output are refused by the official runtime
      // too (the quantizer must requantize them first); int16 only checks zero points.
      const q = output.quantization;
      if (q !== null && parts.some((t) => t!.quantization?.zeroPoint !== q.zeroPoint || (outType === TensorType.INT8 && t!.quantization?.scale !== q.scale))) {
        return null;
      }
      const tensors = parts.map((t) => ({ data: t!.data as Float32Array, shape: t!.shape }));
      const axis = options.axis;
      return { impl: 'reference', run: () => put(concatenate(tensors, axis).data) };
    }
    default:
      return null;
  }
}

/** The values of a constant int32 tensor (axes, paddings, permutations); null otherwise. */
function constInts(t: PlanTensor | null): number[] | null {
  return t !== null && t.constant && t.type === TensorType.INT32 ? Array.from(t.data as Int32Array) : null;
}

/** Types the data-movement ops copy. */
function isDataType(type: TensorType): boolean {
  return type === TensorType.FLOAT32 || type === TensorType.INT8 || type === TensorType.INT16 || type === TensorType.INT32;
}

/** Per-tensor or per-channel weight scales (all of them). */
function weightScales(t: PlanTensor, where: string): number[] {
  quant(t, where);
  return [...t.scales];
}

/** The native int8 kernels take symmetric weights (zero point 0), as TFLite's int8 spec says. */
function symmetric(t: PlanTensor): boolean {
  return t.zeroPoints.every((zp) => zp === 0);
}
