// The graph IR: a TFLite model as readonly plain data. Tensors, operators, operator codes,
// buffers and subgraphs refer to each other by integer index, exactly as in the file, so a pass
// can copy what it does not change and `writeModel(readModel(bytes))` reproduces the model.
//
// Conventions
// - Names follow the schema in camelCase (`zeroPoint`, `quantizedDimension`); enums are the
//   numeric values of lib/tflite/schema.ts (`TensorType.INT8`). Values outside the known enum
//   (from a newer schema) pass through unchanged.
// - Absent vs empty. Scalars read as the schema default when absent; writeModel omits values
//   equal to the default (flatc's JSON dump does the same, so the two forms are equivalent).
//   Strings read as '' when absent and are written only when non-empty. Vectors are arrays and
//   are written only when non-empty, except where the file format gives absence a meaning or
//   converters emit both forms; those fields are `| null`, with null = absent in the file:
//   Tensor.shapeSignature, Tensor.quantization, Tensor.sparsity, Operator.intermediates,
//   Operator.customOptions, Operator.builtinOptions(2), Graph.signatureDefs, and every vector
//   inside a generically decoded table (builtin options, sparsity, variant subtypes).
//   Always written, even when empty: Graph.operatorCodes/subgraphs/buffers, Subgraph.tensors/
//   inputs/outputs/operators, Tensor.shape, Operator.inputs/outputs.
// - Integers are numbers. Quantization zero points are stored as int64 but are numbers here
//   (readModel rejects one outside ±2^53); int64 fields of builtin options stay bigint because
//   they can hold arbitrary 64-bit values (random seeds).
// - Buffer data and custom options are Uint8Array views into the bytes given to readModel, not
//   copies: the graph is only as immutable as those bytes.
import type {
  BuiltinOperator,
  BuiltinOptions,
  BuiltinOptions2,
  CustomOptionsFormat,
  QuantizationDetails,
  SparsityParameters,
  TensorType,
  VariantSubType,
} from '../tflite/schema.js';

export interface Graph {
  /** Model.version: the schema version the file was written for (3). */
  readonly version: number;
  readonly description: string;
  readonly operatorCodes: readonly OperatorCode[];
  /** Subgraph 0 is the main graph. */
  readonly subgraphs: readonly Subgraph[];
  /** Buffer 0 is, by convention, the empty buffer that tensors without data point to. */
  readonly buffers: readonly ModelBuffer[];
  readonly metadata: readonly Metadata[];
  /** Model.metadata_buffer: deprecated list of buffer indices, kept for round trips. */
  readonly metadataBuffer: readonly number[];
  /** null: the file has no signature_defs vector (an empty one is []). */
  readonly signatureDefs: readonly SignatureDef[] | null;
  readonly externalBufferGroups: readonly ExternalBufferGroup[];
  readonly externalBuffers: readonly ExternalBuffer[];
}

export interface OperatorCode {
  /** The real op: max(builtin_code, deprecated_builtin_code), as the TFLite runtime resolves it. */
  readonly builtinCode: BuiltinOperator;
  /**
   * The two stored fields. Older converters fill only the int8 deprecated_builtin_code (127 =
   * PLACEHOLDER_FOR_GREATER_OP_CODES for codes above 126). writeModel writes them as given when
   * they still resolve to builtinCode, otherwise the canonical pair (see operatorCode()).
   */
  readonly rawBuiltinCode: number;
  readonly rawDeprecatedBuiltinCode: number;
  /** The custom op name when builtinCode is CUSTOM; '' otherwise. */
  readonly customCode: string;
  readonly version: number;
}

export interface Subgraph {
  readonly name: string;
  readonly tensors: readonly Tensor[];
  /** Tensor indices. */
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  /** In execution order. */
  readonly operators: readonly Operator[];
  /** Index into the model's debug metadata; -1 = none. */
  readonly debugMetadataIndex: number;
}

export interface Tensor {
  readonly name: string;
  readonly type: TensorType;
  /** Dimensions; [] for a scalar or (with hasRank false) a tensor of unknown rank. */
  readonly shape: readonly number[];
  /** The shape with -1 for unknown (dynamic) dimensions; null = same as shape. */
  readonly shapeSignature: readonly number[] | null;
  /** Index into Graph.buffers; 0 = no data. */
  readonly buffer: number;
  /** null: no quantization table in the file (an empty table is a Quantization with [] arrays). */
  readonly quantization: Quantization | null;
  /** A state tensor (e.g. an LSTM's): its buffer, if any, holds the initial value. */
  readonly isVariable: boolean;
  readonly sparsity: SparsityParameters | null;
  readonly hasRank: boolean;
  /** Subtypes of a VARIANT tensor. */
  readonly variantTensors: readonly VariantSubType[];
  /** Id of an entry of Graph.externalBuffers holding the data; 0 = none. */
  readonly externalBuffer: number;
}

/** real = scale × (q − zeroPoint), per tensor (one entry) or per channel along quantizedDimension. */
export interface Quantization {
  /** Float range recorded by the converter (for importing back into TensorFlow). */
  readonly min: readonly number[];
  readonly max: readonly number[];
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  readonly quantizedDimension: number;
  /** Custom, blockwise or multi-axis quantization; null for plain affine quantization. */
  readonly details: QuantizationDetails | null;
}

export interface Operator {
  /** Index into Graph.operatorCodes. */
  readonly opcodeIndex: number;
  /** Tensor indices; -1 marks an omitted optional input. */
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  /** Tensor indices of intermediate results (integer LSTM gates); null = absent in the file. */
  readonly intermediates: readonly number[] | null;
  /** The options table for the op, tagged with its table name (`kind: 'Conv2DOptions'`). */
  readonly builtinOptions: BuiltinOptions | null;
  /** Options of StableHLO-style ops (the schema's second union). */
  readonly builtinOptions2: BuiltinOptions2 | null;
  /** Opaque options of a custom op (usually a FlexBuffer). */
  readonly customOptions: Uint8Array | null;
  readonly customOptionsFormat: CustomOptionsFormat;
  /**
   * The custom options live outside the flatbuffer (large_custom_options_offset/size, the
   * layout of models over 2 GB); writeModel appends them after the flatbuffer again.
   */
  readonly largeCustomOptions: boolean;
  readonly mutatingVariableInputs: readonly boolean[];
  readonly debugMetadataIndex: number;
}

export interface ModelBuffer {
  /** The bytes (a view into the model file); empty for activations and the sentinel buffer. */
  readonly data: Uint8Array;
  /**
   * The data lives after the flatbuffer, found through Buffer.offset/size (models over 2 GB)
   * instead of inline in Buffer.data. writeModel keeps this placement, and moves every buffer
   * out of line when the inline data would not fit a flatbuffer.
   */
  readonly external: boolean;
}

export interface Metadata {
  readonly name: string;
  /** Index into Graph.buffers. */
  readonly buffer: number;
}

export interface SignatureDef {
  readonly signatureKey: string;
  readonly subgraphIndex: number;
  readonly inputs: readonly TensorMap[];
  readonly outputs: readonly TensorMap[];
}

export interface TensorMap {
  readonly name: string;
  /** Index into the tensors of the signature's subgraph. */
  readonly tensorIndex: number;
}

export interface ExternalBufferGroup {
  readonly name: string;
}

/** Constant data stored outside the model file (in a group's weight file). */
export interface ExternalBuffer {
  readonly id: number;
  /** Index into Graph.externalBufferGroups. */
  readonly group: number;
  readonly offset: number;
  readonly length: number;
  readonly packing: string;
}

// Largest value deprecated_builtin_code can hold; greater codes are stored as this placeholder.
const PLACEHOLDER_FOR_GREATER_OP_CODES = 127;

/** An OperatorCode with the stored fields filled the way current converters write them. */
export function operatorCode(builtinCode: BuiltinOperator, version = 1, customCode = ''): OperatorCode {
  return {
    builtinCode,
    rawBuiltinCode: builtinCode,
    rawDeprecatedBuiltinCode: Math.min(builtinCode, PLACEHOLDER_FOR_GREATER_OP_CODES),
    customCode,
    version,
  };
}

/** max(builtin_code, deprecated_builtin_code): how the runtime resolves an operator code. */
export function resolveBuiltinCode(rawBuiltinCode: number, rawDeprecatedBuiltinCode: number): number {
  return Math.max(rawBuiltinCode, rawDeprecatedBuiltinCode);
}

// Bits per element of each TensorType (0: no fixed size: STRING, RESOURCE, VARIANT).
const TENSOR_TYPE_BITS: readonly number[] = [
  32, // FLOAT32
  16, // FLOAT16
  32, // INT32
  8, // UINT8
  64, // INT64
  0, // STRING
  8, // BOOL
  16, // INT16
  64, // COMPLEX64
  8, // INT8
  64, // FLOAT64
  128, // COMPLEX128
  64, // UINT64
  0, // RESOURCE
  0, // VARIANT
  32, // UINT32
  16, // UINT16
  4, // INT4
  16, // BFLOAT16
  2, // INT2
  4, // UINT4
  8, // FLOAT8_E4M3FN
  8, // FLOAT8_E5M2
];

/** Bits per element of a tensor type; 0 for types without a fixed size or unknown types. */
export function tensorTypeBits(type: TensorType): number {
  return TENSOR_TYPE_BITS[type] ?? 0;
}

/**
 * Bytes a dense constant of this type and shape occupies (sub-byte types packed), or undefined
 * when the type has no fixed size or a dimension is negative.
 */
export function denseByteSize(type: TensorType, shape: readonly number[]): number | undefined {
  const bits = tensorTypeBits(type);
  if (bits === 0) return undefined;
  let count = 1;
  for (const dim of shape) {
    if (dim < 0) return undefined;
    count *= dim;
  }
  return Math.ceil((count * bits) / 8);
}
