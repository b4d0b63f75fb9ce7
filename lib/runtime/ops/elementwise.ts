// Element-wise ops through reference-ops: ADD/SUB/MUL, RELU family, LOGISTIC/TANH,
// QUANTIZE/DEQUANTIZE, SQUARED_DIFFERENCE, RSQRT. ADD/SUB/MUL run natively
// (lib/native/elementwise.ts) for float32 and for int8 under XNNPACK's rule.
import { ModelFormatError } from '../../errors.js';
import { float16ToFloat32 } from '../../native/tensor-utils.js';
import { ActivationFunctionType, BuiltinOperator, TensorType } from '../../tflite/schema.js';
import {
  logisticFloat32,
  logisticQuantized,
  reluFloat32,
  reluQuantized,
  rsqrtFloat32,
  rsqrtQuantized,
  tanhFloat32,
  tanhQuantized,
} from '../reference-ops/activations.js';
import { binaryFloat32, binaryQuantized, xnnpackTakesBinary, type BinaryOp } from '../reference-ops/elementwise-binary.js';
import { dequantize, quantizeFloat, requantize } from '../reference-ops/quantize.js';
import { clamp, f32, multiplyByQuantizedMultiplier, quantizeMultiplier, typeRange } from '../reference-ops/fixed-point.js';
import { createFloat32Binary, createInt8Binary, type BinaryOperation } from '../../native/elementwise.js';
import { int8Converters } from '../../native/quantize.js';
import { fusedActivation, isQuantizedType, quant, type Compiled, type OpContext } from './context.js';

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
  const native = compileNativeBinary(ctx, binOp, other, activation);
  if (native !== null) return native;
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

const NATIVE_BINARY: ReadonlyMap<BinaryOp, BinaryOperation> = new Map([
  ['ADD', 'add'],
  ['SUB', 'sub'],
  ['MUL', 'mul'],
]);

const CLAMP_ACTIVATIONS: ReadonlySet<ActivationFunctionType> = new Set([
  ActivationFunctionType.NONE,
  ActivationFunctionType.RELU,
  ActivationFunctionType.RELU6,
  ActivationFunctionType.RELU_N1_TO_1,
]);

// ADD/SUB/MUL on the native kernels (lib/native/elementwise.ts), writing straight into the
// output tensor: float32, and int8 where the official runtime runs XNNPACK's rule. null leaves
// the op to the reference (TFLite's builtin int8 rule, int16, other activations).
function compileNativeBinary(
  ctx: OpContext,
  binOp: BinaryOp,
  other: OpContext['input'],
  activation: ActivationFunctionType,
): Compiled | null {
  const { input, output, where } = ctx;
  const operation = NATIVE_BINARY.get(binOp);
  if (operation === undefined || !CLAMP_ACTIVATIONS.has(activation)) return null;
  const shapes = { op: operation, aShape: input.shape, bShape: other.shape, activation: fusedActivation(activation, where) };
  let run: () => void;
  let kernel: string;
  let size: number;
  if (input.type === TensorType.FLOAT32) {
    const binary = createFloat32Binary(shapes);
    const [a, b, y] = [input.data as Float32Array, other.data as Float32Array, output.data as Float32Array];
    [kernel, size, run] = [binary.kernel, binary.outputSize, () => void binary.run(a, b, y)];
  } else if (input.type === TensorType.INT8) {
    const [qa, qb, qo] = [quant(input, where), quant(other, where), quant(output, where)];
    if (!xnnpackTakesBinary(binOp, qa, qb, qo)) return null;
    const binary = createInt8Binary({ ...shapes, a: qa, b: qb, output: qo });
    const [a, b, y] = [input.data as Int8Array, other.data as Int8Array, output.data as Int8Array];
    [kernel, size, run] = [binary.kernel, binary.outputSize, () => void binary.run(a, b, y)];
  } else {
    return null;
  }
  if (size !== output.data.length) {
    // The wording of copyInto (context.ts), which the reference path reports.
    throw new ModelFormatError(`${where}: the op gives ${size} elements, its output tensor holds ${output.data.length}`);
  }
  return { impl: `native ${operation} (${kernel})`, run };
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
  if (input.type === TensorType.UINT8 || output.type === TensorType.UINT8) return compileQuantizeUint8(ctx);
  const dtype = output.type === TensorType.INT8 ? 'int8' : output.type === TensorType.INT16 ? 'int16' : null;
  if (dtype === null) return null;
  const qOut = quant(output, where);
  if (input.type === TensorType.FLOAT32) {
    const x = input.data as Float32Array;
    if (dtype === 'int8') {
      const y = output.data as Int8Array;
      if (x.length !== y.length) throw new ModelFormatError(`${where}: the input holds ${x.length} values, the output ${y.length}`);
      const { quantize } = int8Converters(qOut.scale, qOut.zeroPoint);
      return { impl: 'native (f32 -> qs8, halves to even)', run: () => quantize(x, y) };
    }
    return { impl: 'reference', run: () => put(quantizeFloat(x, qOut, dtype)) };
  }
  if (isQuantizedType(input.type)) {
    const x = input.data as Int8Array;
    const qIn = quant(input, where);
    return { impl: 'reference', run: () => put(requantize(x, qIn, qOut, dtype)) };
  }
  return null;
}

// DEQUANTIZE: int8/int16 (per tensor, or per channel along quantizedDimension: weights) and
// float16 (weights) -> float32. Of a constant (float16 and weight-only models), the values are
// computed once here and each run copies them (plan.ts also folds such a step at load, so the
// layer reading it packs float weights).
/**
 * uint8 <-> int8 (and uint8 -> uint8) QUANTIZE, the edges of a model with uint8 I/O: TFLite's
 * builtin Requantize (XNNPACK does not take mixed signedness): y = clamp(MultiplyByQuantizedMultiplier(
 * x - zp_in, Q(double(s_in) / s_out)) + zp_out). With equal scales (zero points 128 apart, as the
 * converter writes them) this is x ^ 0x80, TFLite's fast path.
 */
function compileQuantizeUint8(ctx: OpContext): Compiled | null {
  const { input, output, where } = ctx;
  const ok = (t: TensorType): boolean => t === TensorType.UINT8 || t === TensorType.INT8;
  if (!ok(input.type) || !ok(output.type) || (input.type === TensorType.INT8 && output.type === TensorType.INT8)) return null;
  const qIn = quant(input, where);
  const qOut = quant(output, where);
  const { multiplier, shift } = quantizeMultiplier(f32(qIn.scale) / f32(qOut.scale));
  const { qmin, qmax } = typeRange(output.type === TensorType.UINT8 ? 'uint8' : 'int8');
  const x = input.data as Uint8Array | Int8Array;
  const y = output.data as Uint8Array | Int8Array;
  const run = (): void => {
    for (let i = 0; i < x.length; i++) {
      y[i] = clamp(multiplyByQuantizedMultiplier(x[i]! - qIn.zeroPoint, multiplier, shift) + qOut.zeroPoint, qmin, qmax);
    }
  };
  return { impl: 'reference (uint8 requantize)', run };
}

export function compileDequantize(ctx: OpContext): Compiled | null {
  const { input, output, where, put } = ctx;
  if (output.type !== TensorType.FLOAT32) return null;
  let compute: () => Float32Array;
  if (input.type === TensorType.FLOAT16) {
    const x = input.data as Int16Array; // binary16 bit patterns
    const bits = new Uint16Array(x.buffer, x.byteOffset, x.length);
    compute = () => float16ToFloat32(bits);
  } else if (isQuantizedType(input.type) && input.scales.length > 1) {
    const x = input.data as Int8Array | Int16Array;
    const axis = input.quantizedDimension;
    const channels = input.shape[axis] ?? 0;
    if (channels !== input.scales.length || input.zeroPoints.length !== channels) {
      throw new ModelFormatError(
        `${where}: ${input.scales.length} scales and ${input.zeroPoints.length} zero points for axis ${axis} of [${input.shape.join(', ')}]`,
      );
    }
    const inner = input.shape.slice(axis + 1).reduce((a, d) => a * d, 1);
    const scales = input.scales.map((s) => Math.fround(s));
    compute = () => {
      const out = new Float32Array(x.length);
      // (q - zp) * scale: the exact product rounded once to float32, as the official kernel.
      for (let i = 0; i < x.length; i++) {
        const c = Math.floor(i / inner) % channels;
        out[i] = (x[i]! - input.zeroPoints[c]!) * scales[c]!;
      }
      return out;
    };
  } else if (isQuantizedType(input.type)) {
    const x = input.data as Int8Array;
    const qIn = quant(input, where);
    const y = output.data as Float32Array;
    if (!input.constant && input.type === TensorType.INT8) {
      if (x.length !== y.length) throw new ModelFormatError(`${where}: the input holds ${x.length} values, the output ${y.length}`);
      const { dequantize: toFloat } = int8Converters(qIn.scale, qIn.zeroPoint);
      return { impl: 'native (qs8 -> f32)', run: () => toFloat(x, y) };
    }
    compute = () => dequantize(x, qIn);
  } else {
    return null;
  }
  if (input.constant) {
    const values = compute();
    return { impl: 'reference (constant input: dequantized at load)', run: () => put(values) };
  }
  return { impl: 'reference', run: () => put(compute()) };
}

// SQUARED_DIFFERENCE and RSQRT: separate from compileBinary (which ADD/SUB/MUL share).
export function compileSquaredDifference(ctx: OpContext): Compiled | null {
  const { ins, input, output, where, put } = ctx;
  const other = ins[1] ?? null;
  if (other === null || other.type !== input.type || output.type !== input.type) return null;
  if (input.type === TensorType.FLOAT32) {
    const a = { data: input.data as Float32Array, shape: input.shape };
    const b = { data: other.data as Float32Array, shape: other.shape };
    return { impl: 'reference', run: () => put(binaryFloat32('SQUARED_DIFFERENCE', a, b).data) };
  }
  // TFLite has no int16 SQUARED_DIFFERENCE kernel (it fails at Invoke).
  if (input.type === TensorType.INT8) {
    const a = { data: input.data as Int8Array, shape: input.shape, ...quant(input, where) };
    const b = { data: other.data as Int8Array, shape: other.shape, ...quant(other, where) };
    const opts = { output: quant(output, where) };
    return { impl: 'reference', run: () => put(binaryQuantized('SQUARED_DIFFERENCE', a, b, opts).data) };
  }
  return null;
}

export function compileRsqrt(ctx: OpContext): Compiled | null {
  const { input, output, where, put } = ctx;
  if (output.type !== input.type) return null;
  if (input.type === TensorType.FLOAT32) {
    const x = input.data as Float32Array;
    return { impl: 'reference', run: () => put(rsqrtFloat32(x)) };
  }
  if (isQuantizedType(input.type)) {
    const x = input.data as Int8Array;
    const qIn = quant(input, where);
    const qOut = quant(output, where);
    return { impl: 'reference', run: () => put(rsqrtQuantized(x, qIn, qOut)) };
  }
  return null;
}
