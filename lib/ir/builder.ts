// Makes graphs in code: tensors, constant buffers, operators with options, quantization.
// Tests use it for tiny single-op fixture models; passes use it for new tensors and ops.
import { expected, InvalidArgumentError } from '../errors.js';
import { decodeTable, tableDef } from '../tflite/table-codec.js';
import type { BuiltinOperator, BuiltinOptions, TensorType } from '../tflite/schema.js';
import { CustomOptionsFormat } from '../tflite/schema.js';
import { tensorTypeName } from '../tflite/names.js';
import {
  denseByteSize,
  operatorCode,
  type Graph,
  type ModelBuffer,
  type Operator,
  type OperatorCode,
  type Quantization,
  type Tensor,
} from './graph.js';

type OptionsOf<K extends BuiltinOptions['kind']> = Extract<BuiltinOptions, { kind: K }>;

/** A builtin options table with every field at its schema default, then `fields`. */
export function builtinOptions<K extends BuiltinOptions['kind']>(
  kind: K,
  fields: Partial<Omit<OptionsOf<K>, 'kind'>> = {},
): OptionsOf<K> {
  return { ...decodeTable(null, tableDef(kind), true), ...fields } as unknown as OptionsOf<K>;
}

export interface QuantizationSpec {
  readonly scale: number | readonly number[];
  readonly zeroPoint?: number | readonly number[];
  /** The channel axis of per-channel parameters. */
  readonly quantizedDimension?: number;
  readonly min?: readonly number[];
  readonly max?: readonly number[];
}

/** Affine quantization parameters; a single zero point is repeated for every scale. */
export function quantization(spec: QuantizationSpec): Quantization {
  const scale = typeof spec.scale === 'number' ? [spec.scale] : [...spec.scale];
  const zp = spec.zeroPoint ?? 0;
  const zeroPoint = typeof zp === 'number' ? scale.map(() => zp) : [...zp];
  if (zeroPoint.length !== scale.length) {
    throw new InvalidArgumentError(
      `Expected ${scale.length} zero points (one per scale) but received ${zeroPoint.length}`,
    );
  }
  return {
    min: spec.min ?? [],
    max: spec.max ?? [],
    scale,
    zeroPoint,
    quantizedDimension: spec.quantizedDimension ?? 0,
    details: null,
  };
}

type TypedArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

export interface TensorSpec {
  readonly name: string;
  readonly type: TensorType;
  readonly shape: readonly number[];
  /** Defaults to none (the shape is static). */
  readonly shapeSignature?: readonly number[] | null;
  readonly quantization?: QuantizationSpec | Quantization | null;
  /** Constant data, in the tensor's element layout (length checked against the shape). */
  readonly data?: TypedArray;
  readonly isVariable?: boolean;
}

export interface OpSpec {
  readonly options?: BuiltinOptions | null;
  readonly version?: number;
  /** For CUSTOM ops. */
  readonly customCode?: string;
  readonly customOptions?: Uint8Array;
  readonly intermediates?: readonly number[];
}

function isQuantization(q: QuantizationSpec | Quantization): q is Quantization {
  return Array.isArray(q.scale) && 'details' in q;
}

export class GraphBuilder {
  private readonly tensors: Tensor[] = [];
  // Buffer 0 is the empty sentinel that tensors without data point to.
  private readonly buffers: ModelBuffer[] = [{ data: new Uint8Array(0), external: false }];
  private readonly operatorCodes: OperatorCode[] = [];
  private readonly operators: Operator[] = [];
  private readonly inputs: number[] = [];
  private readonly outputs: number[] = [];

  /** Adds a tensor (with data, a constant) and returns its index. */
  tensor(spec: TensorSpec): number {
    if (!Array.isArray(spec.shape) || !spec.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw expected('an array of non-negative integers', `shape of tensor '${spec.name}'`, spec.shape);
    }
    let buffer = 0;
    if (spec.data !== undefined) {
      const bytes = new Uint8Array(spec.data.buffer, spec.data.byteOffset, spec.data.byteLength);
      const want = denseByteSize(spec.type, spec.shape);
      if (want !== bytes.length) {
        throw new InvalidArgumentError(
          `Tensor '${spec.name}' (${tensorTypeName(spec.type)} [${spec.shape.join(', ')}]) needs ${want ?? '?'} bytes of data but received ${bytes.length}`,
        );
      }
      buffer = this.buffers.push({ data: bytes.slice(), external: false }) - 1;
    }
    const q = spec.quantization ?? null;
    return (
      this.tensors.push({
        name: spec.name,
        type: spec.type,
        shape: [...spec.shape],
        shapeSignature: spec.shapeSignature ? [...spec.shapeSignature] : null,
        buffer,
        quantization: q === null ? null : isQuantization(q) ? q : quantization(q),
        isVariable: spec.isVariable ?? false,
        sparsity: null,
        hasRank: true,
        variantTensors: [],
        externalBuffer: 0,
      }) - 1
    );
  }

  /** Adds a tensor and marks it as a graph input. */
  input(spec: TensorSpec): number {
    const index = this.tensor(spec);
    this.inputs.push(index);
    return index;
  }

  /** Marks existing tensors as graph outputs. */
  output(...indices: number[]): void {
    for (const i of indices) this.checkTensor(i, 'output');
    this.outputs.push(...indices);
  }

  /** Appends an operator (in execution order); -1 marks an omitted optional input. */
  op(code: BuiltinOperator, inputs: readonly number[], outputs: readonly number[], spec: OpSpec = {}): number {
    inputs.forEach((i) => i === -1 || this.checkTensor(i, 'operator input'));
    outputs.forEach((i) => this.checkTensor(i, 'operator output'));
    const version = spec.version ?? 1;
    const customCode = spec.customCode ?? '';
    let opcodeIndex = this.operatorCodes.findIndex(
      (c) => c.builtinCode === code && c.version === version && c.customCode === customCode,
    );
    if (opcodeIndex < 0) opcodeIndex = this.operatorCodes.push(operatorCode(code, version, customCode)) - 1;
    return (
      this.operators.push({
        opcodeIndex,
        inputs: [...inputs],
        outputs: [...outputs],
        intermediates: spec.intermediates ? [...spec.intermediates] : null,
        builtinOptions: spec.options ?? null,
        builtinOptions2: null,
        customOptions: spec.customOptions ?? null,
        customOptionsFormat: CustomOptionsFormat.FLEXBUFFERS,
        largeCustomOptions: false,
        mutatingVariableInputs: [],
        debugMetadataIndex: -1,
      }) - 1
    );
  }

  build(description = 'litequant builder'): Graph {
    return {
      version: 3,
      description,
      operatorCodes: [...this.operatorCodes],
      subgraphs: [
        {
          name: 'main',
          tensors: [...this.tensors],
          inputs: [...this.inputs],
          outputs: [...this.outputs],
          operators: [...this.operators],
          debugMetadataIndex: -1,
        },
      ],
      buffers: [...this.buffers],
      metadata: [],
      metadataBuffer: [],
      signatureDefs: null,
      externalBufferGroups: [],
      externalBuffers: [],
    };
  }

  private checkTensor(index: number, role: string): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.tensors.length) {
      throw expected(`a tensor index below ${this.tensors.length}`, role, index);
    }
  }
}
