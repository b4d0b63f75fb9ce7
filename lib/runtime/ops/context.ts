// What every op compiler receives, and the small helpers they share.
import { InvalidArgumentError, ModelFormatError } from '../../errors.js';
import type { Operator } from '../../ir/graph.js';
import type { FusedActivation } from '../../native/layer-params.js';
import { ActivationFunctionType, TensorType } from '../../tflite/schema.js';
import type { QuantParams } from '../reference-ops/common.js';
import type { PlanTensor, TensorData } from '../tensors.js';

/** One operator being compiled: its tensors (inputs may be absent: null) and where it sits. */
export interface OpContext {
  readonly code: number;
  readonly op: Operator;
  readonly ins: readonly (PlanTensor | null)[];
  readonly outs: readonly PlanTensor[];
  /** The operator's intermediate tensors (the integer LSTM's calibrated gate scales); [] when none. */
  readonly intermediates: readonly (PlanTensor | null)[];
  /** ins[0] and outs[0]: every op compiled here has both. */
  readonly input: PlanTensor;
  readonly output: PlanTensor;
  /** "operator 3 (ADD) of subgraph 0", for error messages. */
  readonly where: string;
  /** Threads per native call. */
  readonly threads: number;
  /** Copies an op's result into outs[0]; a length mismatch is a ModelFormatError. */
  readonly put: (source: TensorData) => void;
  /** Set while calibrating (PlanOptions.observeIntermediate): `(slot, values)` per time step. */
  readonly observeIntermediate?: ((slot: number, values: Float32Array) => void) | undefined;
}

/** A compiled operator: a closure over its buffers. */
export interface Compiled {
  readonly impl: string;
  readonly run: () => void;
}

/** Compiles one operator, or returns null when the op/dtypes/options are not supported. */
export type OpCompiler = (ctx: OpContext) => Compiled | null;

export function quant(t: PlanTensor, where: string): QuantParams {
  if (t.quantization === null) throw new InvalidArgumentError(`Expected quantization parameters for tensor ${t.index} of ${where} but received none`);
  return t.quantization;
}

/** Copies an op's result into its output buffer; a length mismatch is a shape error in the model. */
export function copyInto(target: TensorData, source: TensorData, where: string): void {
  if (source.length !== target.length) {
    throw new ModelFormatError(`${where}: the op gives ${source.length} elements, its output tensor holds ${target.length}`);
  }
  (target as Float32Array).set(source as Float32Array);
}

/** The values of a constant int32 tensor (axes, paddings, permutations); null otherwise. */
export function constInts(t: PlanTensor | null): number[] | null {
  return t !== null && t.constant && t.type === TensorType.INT32 ? Array.from(t.data as Int32Array) : null;
}

/** Types the data-movement ops copy. */
export function isDataType(type: TensorType): boolean {
  return type === TensorType.FLOAT32 || type === TensorType.INT8 || type === TensorType.INT16 || type === TensorType.INT32;
}

/** int8 or int16: the quantized activation types. */
export function isQuantizedType(type: TensorType): boolean {
  return type === TensorType.INT8 || type === TensorType.INT16;
}

/** Per-tensor or per-channel weight scales (all of them). */
export function weightScales(t: PlanTensor, where: string): number[] {
  quant(t, where);
  return [...t.scales];
}

/** The native int8 kernels take symmetric weights (zero point 0), as TFLite's int8 spec says. */
export function symmetric(t: PlanTensor): boolean {
  return t.zeroPoints.every((zp) => zp === 0);
}

export function fusedActivation(activation: ActivationFunctionType, where: string): FusedActivation {
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
