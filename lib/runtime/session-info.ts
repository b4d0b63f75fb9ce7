// What a Session tells about its inputs and outputs, shared by the main thread and the worker.
import { TensorType } from '../tflite/schema.js';
import type { Plan, PlanTensor, TensorData } from './plan.js';

export type SessionDtype = 'float32' | 'int8' | 'int16' | 'int32' | 'uint8' | 'bool' | 'int64';

export interface SessionTensorInfo {
  readonly name: string;
  readonly dtype: SessionDtype;
  /** The shape a run uses (a -1 batch of the signature is the static batch). */
  readonly shape: readonly number[];
  /** The model's shape_signature (-1 for a dynamic dimension). */
  readonly shapeSignature: readonly number[];
  /** Element count of `shape`: the length a run takes or gives. */
  readonly length: number;
  readonly scale: number | null;
  readonly zeroPoint: number | null;
}

const DTYPES: Partial<Record<TensorType, SessionDtype>> = {
  [TensorType.FLOAT32]: 'float32',
  [TensorType.INT8]: 'int8',
  [TensorType.INT16]: 'int16',
  [TensorType.INT32]: 'int32',
  [TensorType.UINT8]: 'uint8',
  [TensorType.BOOL]: 'bool',
  [TensorType.INT64]: 'int64',
};

/** The typed array class of each dtype (bool as Uint8Array). */
export const ARRAY_TYPES: Readonly<Record<SessionDtype, new (length: number) => TensorData>> = {
  float32: Float32Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  uint8: Uint8Array,
  bool: Uint8Array,
  int64: BigInt64Array,
};

export function describeTensor(t: PlanTensor): SessionTensorInfo {
  return {
    name: t.name,
    dtype: DTYPES[t.type] ?? 'float32',
    shape: t.shape,
    shapeSignature: t.shapeSignature,
    length: t.data.length,
    scale: t.quantization?.scale ?? null,
    zeroPoint: t.quantization?.zeroPoint ?? null,
  };
}

export interface SessionStep {
  readonly index: number;
  readonly op: string;
  readonly impl: string;
}

/** What loadModel tells about a compiled model (sent by the worker as one message). */
export interface SessionInfo {
  readonly inputs: SessionTensorInfo[];
  readonly outputs: SessionTensorInfo[];
  /** The compiled steps: operator index, op name and the implementation that runs it. */
  readonly steps: SessionStep[];
  /** Activation memory at the static batch: the shared arena vs one buffer per tensor. */
  readonly memory: { readonly arenaBytes: number; readonly separateBytes: number };
}

export function describePlan(plan: Plan): SessionInfo {
  return {
    inputs: plan.inputs.map(describeTensor),
    outputs: plan.outputs.map(describeTensor),
    steps: plan.steps.map(({ index, op, impl }) => ({ index, op, impl })),
    memory: plan.memory,
  };
}
