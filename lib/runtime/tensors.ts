// The plan's tensors: one typed array each, constants decoded (copied, so aligned) from the
// model's buffers, activations allocated at their static shape.
import { InvalidArgumentError, ModelFormatError } from '../errors.js';
import type { Graph, Tensor } from '../ir/graph.js';
import { TensorType } from '../tflite/schema.js';
import type { QuantParams } from './reference-ops/common.js';

export type TensorData = Float32Array | Int8Array | Int16Array | Int32Array | Uint8Array | BigInt64Array;

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

const TYPE_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(TensorType).map(([name, code]) => [code as number, name]),
);

export function typeName(type: number): string {
  return TYPE_NAMES.get(type) ?? `type ${type}`;
}

const ARRAY_OF_TYPE: Partial<Record<TensorType, new (length: number) => TensorData>> = {
  [TensorType.FLOAT32]: Float32Array,
  [TensorType.INT8]: Int8Array,
  [TensorType.INT16]: Int16Array,
  [TensorType.INT32]: Int32Array,
  [TensorType.UINT8]: Uint8Array,
  [TensorType.BOOL]: Uint8Array,
  [TensorType.INT64]: BigInt64Array,
};

export function allocate(type: TensorType, count: number, where: string): TensorData {
  const kind = ARRAY_OF_TYPE[type];
  if (kind === undefined) {
    throw new InvalidArgumentError(`Expected a tensor type the runtime supports for ${where} but received ${typeName(type)}`);
  }
  return new kind(count);
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

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, d) => a * d, 1);
}

/** A -1 (dynamic) dimension runs at 1: the static batch of every shared model. */
export function staticShape(t: Tensor): number[] {
  return t.shape.map((d) => (d < 0 ? 1 : d));
}

/**
 * The plan tensor of `t`: a constant when nothing produces it and its buffer has bytes,
 * otherwise an activation whose buffer is `storage` (when given) or a fresh array.
 */
export function planTensor(graph: Graph, t: Tensor, index: number, produced: boolean, storage?: TensorData): PlanTensor {
  const where = `tensor ${index} (${t.name}) of subgraph 0`;
  const shape = staticShape(t);
  const count = elementCount(shape);
  const bytes = graph.buffers[t.buffer]?.data;
  const constant = !produced && bytes !== undefined && bytes.length > 0;
  const data = constant ? decodeConstant(t.type, bytes, count, where) : (storage ?? allocate(t.type, count, where));
  const q = t.quantization;
  const quantization = q !== null && q.scale.length > 0 ? { scale: q.scale[0]!, zeroPoint: q.zeroPoint[0] ?? 0 } : null;
  const scales = q?.scale ?? [];
  const zeroPoints = q?.zeroPoint ?? [];
  const shapeSignature = t.shapeSignature ?? t.shape;
  return { index, name: t.name, type: t.type, shape, shapeSignature, data, constant, quantization, scales, zeroPoints };
}
