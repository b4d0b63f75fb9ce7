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
  /** The channel axis of per-channel scales (0 when per tensor). */
  readonly quantizedDimension: number;
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
  // IEEE binary16 bit patterns (float16 weights: only DEQUANTIZE reads them).
  [TensorType.FLOAT16]: Int16Array,
};

type ArrayKind = (new (length: number) => TensorData) & (new (buffer: ArrayBuffer, offset: number, length: number) => TensorData) & {
  readonly BYTES_PER_ELEMENT: number;
};

function arrayKind(type: TensorType, where: string): ArrayKind {
  const kind = ARRAY_OF_TYPE[type] as ArrayKind | undefined;
  if (kind === undefined) {
    throw new InvalidArgumentError(`Expected a tensor type the runtime supports for ${where} but received ${typeName(type)}`);
  }
  return kind;
}

export function allocate(type: TensorType, count: number, where: string): TensorData {
  return new (arrayKind(type, where))(count);
}

/** Bytes a tensor of this type and shape takes. */
export function byteSize(type: TensorType, shape: readonly number[], where: string): number {
  return arrayKind(type, where).BYTES_PER_ELEMENT * elementCount(shape);
}

/** A view of `count` elements at `offset` bytes into the arena. */
export function viewOf(type: TensorType, arena: ArrayBuffer, offset: number, count: number, where: string): TensorData {
  return new (arrayKind(type, where))(arena, offset, count);
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

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, d) => a * d, 1);
}

/**
 * The shape a plan runs `t` at: a -1 first dimension of its shape_signature (a dynamic batch)
 * becomes `batch`; any other dynamic dimension runs at its static size (1 when the shape
 * itself says -1).
 */
export function runShape(t: Tensor, batch: number | null): number[] {
  const shape = t.shape.map((d) => (d < 0 ? 1 : d));
  if (batch !== null && shape.length > 0 && t.shapeSignature?.[0] === -1) shape[0] = batch;
  return shape;
}

/** Constants: tensors nothing writes whose buffer holds bytes. */
export function isConstantTensor(graph: Graph, t: Tensor, produced: boolean): boolean {
  return !produced && (graph.buffers[t.buffer]?.data.length ?? 0) > 0;
}

/**
 * The plan tensor of `t` at `shape`: a constant (decoded from its buffer) or an activation
 * whose buffer is `storage`.
 */
export function planTensor(graph: Graph, t: Tensor, index: number, shape: number[], storage: TensorData | null): PlanTensor {
  const where = `tensor ${index} (${t.name}) of subgraph 0`;
  const constant = storage === null;
  const data = constant ? decodeConstant(t.type, graph.buffers[t.buffer]?.data ?? new Uint8Array(0), elementCount(shape), where) : storage;
  const q = t.quantization;
  const quantization = q !== null && q.scale.length > 0 ? { scale: q.scale[0]!, zeroPoint: q.zeroPoint[0] ?? 0 } : null;
  const scales = q?.scale ?? [];
  const zeroPoints = q?.zeroPoint ?? [];
  const shapeSignature = t.shapeSignature ?? t.shape;
  const quantizedDimension = q?.quantizedDimension ?? 0;
  return { index, name: t.name, type: t.type, shape, shapeSignature, data, constant, quantization, scales, zeroPoints, quantizedDimension };
}
