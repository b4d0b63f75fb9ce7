// The TFLite side of the converter: a GraphBuilder with the conventions of converted models.
// - Activation tensors are float32 (int32 for Embedding indices) with the batch at dimension 0:
//   static size 1 and, when the model's batch is dynamic, shape_signature [-1, ...].
// - Constants are float32 (weights) or int32 (shapes, axes), named after their Keras layer
//   ('dense/kernel'); a constant asked for twice under the same key (a shared layer called
//   twice) is emitted once.
// - Names are unique: a repeated name gets '_1', '_2'... appended.
import { GraphBuilder, type OpSpec } from '../ir/builder.js';
import type { Graph } from '../ir/graph.js';
import type { BuiltinOperator, BuiltinOptions } from '../tflite/schema.js';
import { TensorType } from '../tflite/schema.js';

/** A converted Keras tensor: its TFLite tensor, static shape (batch 1) and type. */
export interface Value {
  readonly tensor: number;
  readonly shape: readonly number[];
  readonly type: TensorType;
}

export class Emitter {
  readonly builder = new GraphBuilder();
  private readonly names = new Set<string>();
  private readonly constants = new Map<string, number>();

  /** dynamicBatch: activations get shape_signature [-1, ...]. */
  constructor(readonly dynamicBatch: boolean) {}

  name(wanted: string): string {
    let name = wanted;
    for (let k = 1; this.names.has(name); k++) name = `${wanted}_${k}`;
    this.names.add(name);
    return name;
  }

  private signature(shape: readonly number[]): number[] | null {
    return this.dynamicBatch && shape.length > 0 ? [-1, ...shape.slice(1)] : null;
  }

  /** A graph input (batch first). */
  input(name: string, shape: readonly number[], type: TensorType): Value {
    const tensor = this.builder.input({ name: this.name(name), type, shape, shapeSignature: this.signature(shape) });
    return { tensor, shape, type };
  }

  /** An activation tensor (batch first). */
  activation(name: string, shape: readonly number[], type: TensorType = TensorType.FLOAT32): Value {
    const tensor = this.builder.tensor({ name: this.name(name), type, shape, shapeSignature: this.signature(shape) });
    return { tensor, shape, type };
  }

  /** A tensor without a batch dimension and without data: LSTM state. */
  variable(name: string, shape: readonly number[]): number {
    return this.builder.tensor({ name: this.name(name), type: TensorType.FLOAT32, shape, isVariable: true });
  }

  /** A float32 constant; `key` (default: the name) dedupes constants asked for twice. */
  weights(name: string, shape: readonly number[], data: Float32Array, key: string = name): number {
    const known = this.constants.get(key);
    if (known !== undefined) return known;
    const tensor = this.builder.tensor({ name: this.name(name), type: TensorType.FLOAT32, shape, data });
    this.constants.set(key, tensor);
    return tensor;
  }

  /** An int32 constant vector (shapes, axes, begin/size). */
  ints(name: string, values: readonly number[]): number {
    return this.builder.tensor({ name: this.name(name), type: TensorType.INT32, shape: [values.length], data: Int32Array.from(values) });
  }

  op(code: BuiltinOperator, inputs: readonly number[], outputs: readonly number[], options: BuiltinOptions | null = null, spec: OpSpec = {}): void {
    this.builder.op(code, inputs, outputs, { ...spec, options });
  }

  build(description: string): Graph {
    return this.builder.build(description);
  }
}

// ---------------------------------------------------------------------------------------------
// Weight layouts: tfjs (Keras) to TFLite.

/** Conv2D kernel [kh, kw, in, out] to TFLite's OHWI [out, kh, kw, in]. */
export function convKernelToOhwi(kernel: Float32Array, shape: readonly number[]): Float32Array {
  const [kh, kw, cin, cout] = shape as [number, number, number, number];
  const out = new Float32Array(kernel.length);
  for (let h = 0; h < kh; h++) {
    for (let w = 0; w < kw; w++) {
      for (let i = 0; i < cin; i++) {
        const src = ((h * kw + w) * cin + i) * cout;
        for (let o = 0; o < cout; o++) out[((o * kh + h) * kw + w) * cin + i] = kernel[src + o]!;
      }
    }
  }
  return out;
}

/** A [rows, cols] matrix transposed (Dense kernel [in, units] to FULLY_CONNECTED [units, in]). */
export function transpose2d(matrix: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = matrix[r * cols + c]!;
  return out;
}

/** Columns [first, first + count) of a [rows, cols] matrix, transposed to [count, rows]. */
export function columnsTransposed(matrix: Float32Array, rows: number, cols: number, first: number, count: number): Float32Array {
  const out = new Float32Array(rows * count);
  for (let r = 0; r < rows; r++) for (let c = 0; c < count; c++) out[c * rows + r] = matrix[r * cols + first + c]!;
  return out;
}

/** Output size of a convolution or pool along one axis (Keras' and TFLite's rule). */
export function outputSize(input: number, kernel: number, stride: number, dilation: number, padding: 'same' | 'valid'): number {
  if (padding === 'same') return Math.ceil(input / stride);
  const effective = (kernel - 1) * dilation + 1;
  return input < effective ? 0 : Math.floor((input - effective) / stride) + 1;
}
