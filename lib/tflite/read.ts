// readModel: TFLite flatbuffer bytes → Graph.
//
// Needs: the bytes of a whole .tflite file (identifier "TFL3"; files without it are rejected, as
// the TFLite runtime's verifier rejects them). Guarantees: every offset, vtable, vector and string
// is bounds-checked (flatbuffer-reader.ts) and every index is checked against what it indexes
// (opcode, tensor, buffer, subgraph, external buffer), and constant buffers hold at least the bytes
// their tensor's shape and type need; any violation throws ModelFormatError saying what and where.
// Constant data is viewed, not copied: reading costs time in the number of tensors and operators,
// not in the size of the weights.
import { expected } from '../errors.js';
import {
  denseByteSize,
  resolveBuiltinCode,
  type ExternalBuffer,
  type ExternalBufferGroup,
  type Graph,
  type Metadata,
  type ModelBuffer,
  type Operator,
  type OperatorCode,
  type Quantization,
  type SignatureDef,
  type Subgraph,
  type Tensor,
  type TensorMap,
} from '../ir/graph.js';
import { FlatReader, type Table } from './flatbuffer-reader.js';
import { tensorTypeName } from './names.js';
import {
  FILE_IDENTIFIER,
  Slot,
  type BuiltinOperator,
  type BuiltinOptions,
  type BuiltinOptions2,
  type CustomOptionsFormat,
  type QuantizationDetails,
  type SparsityParameters,
  type TensorType,
  type VariantSubType,
} from './schema.js';
import { decodeTable, decodeUnion, tableDef } from './table-codec.js';

const EMPTY = new Uint8Array(0);

// What the subgraphs are checked against.
interface ModelContext {
  readonly reader: FlatReader;
  readonly bufferCount: number;
  readonly operatorCodeCount: number;
  readonly externalBufferIds: ReadonlySet<number>;
}

/** Parses and validates a .tflite file. Throws ModelFormatError on malformed input. */
export function readModel(bytes: Uint8Array): Graph {
  if (!(bytes instanceof Uint8Array)) throw expected('a Uint8Array', 'bytes', bytes);
  const r = new FlatReader(bytes);
  if (bytes.length < 8) r.fail('model', `${bytes.length} bytes is too short for a TFLite model (at least 8)`);
  const identifier = String.fromCharCode(...bytes.subarray(4, 8));
  if (identifier !== FILE_IDENTIFIER) {
    r.fail('model', `file identifier is ${JSON.stringify(identifier)}, expected "${FILE_IDENTIFIER}" (not a TFLite model?)`);
  }
  const m = r.root('model');
  const S = Slot.Model;

  const buffers = (m.tables(S.buffers, 'buffers', (i) => `buffer ${i}`) ?? []).map((t, i) => readBuffer(t, i, r));
  const operatorCodes = (m.tables(S.operator_codes, 'operator_codes', (i) => `operator code ${i}`) ?? []).map(readOperatorCode);
  const externalBufferGroups = (m.tables(S.external_buffer_groups, 'external_buffer_groups', (i) => `external buffer group ${i}`) ?? [])
    .map((t): ExternalBufferGroup => ({ name: t.string(Slot.ExternalBufferGroup.name, 'name') }));
  const externalBuffers = (m.tables(S.external_buffers, 'external_buffers', (i) => `external buffer ${i}`) ?? [])
    .map((t) => readExternalBuffer(t, externalBufferGroups.length));

  const ctx: ModelContext = {
    reader: r,
    bufferCount: buffers.length,
    operatorCodeCount: operatorCodes.length,
    externalBufferIds: new Set(externalBuffers.map((b) => b.id)),
  };
  const subgraphTables = m.tables(S.subgraphs, 'subgraphs', (i) => `subgraph ${i}`) ?? [];
  if (subgraphTables.length === 0) r.fail('model', 'has no subgraphs');
  const subgraphs = subgraphTables.map((t, i) => readSubgraph(t, i, ctx));
  checkConstantSizes(subgraphs, buffers, r);

  const metadata = (m.tables(S.metadata, 'metadata', (i) => `metadata ${i}`) ?? []).map((t, i): Metadata => {
    const buffer = t.uint32(Slot.Metadata.buffer, 'buffer');
    checkBufferIndex(r, `metadata ${i}`, buffer, buffers.length);
    return { name: t.string(Slot.Metadata.name, 'name'), buffer };
  });
  const metadataBuffer = m.int32Vector(S.metadata_buffer, 'metadata_buffer') ?? [];
  metadataBuffer.forEach((b, i) => checkBufferIndex(r, `metadata_buffer entry ${i}`, b, buffers.length));
  const signatureDefs = m.tables(S.signature_defs, 'signature_defs', (i) => `signature def ${i}`)
    ?.map((t, i) => readSignatureDef(t, i, subgraphs, r)) ?? null;

  return {
    version: m.uint32(S.version, 'version'),
    description: m.string(S.description, 'description'),
    operatorCodes,
    subgraphs,
    buffers,
    metadata,
    metadataBuffer,
    signatureDefs,
    externalBufferGroups,
    externalBuffers,
  };
}

function readBuffer(t: Table, index: number, r: FlatReader): ModelBuffer {
  const S = Slot.Buffer;
  const data = t.bytes(S.data, 'data');
  const offset = t.safeUint64(S.offset, 'offset');
  const size = t.safeUint64(S.size, 'size');
  // offset/size locate data after the flatbuffer (models over 2 GB); offsets 0 and 1 mean none
  // (1 is the placeholder converters write before patching).
  if (offset > 1) {
    if (data !== null && data.length > 0) r.fail(`buffer ${index}`, 'has both inline data and an external offset');
    if (offset + size > r.length) {
      r.fail(`buffer ${index}`, `data at file offset ${offset} (${size} bytes) runs past the end of the file (${r.length} bytes)`);
    }
    return { data: r.bytes.subarray(offset, offset + size), external: true };
  }
  return { data: data ?? EMPTY, external: false };
}

function readOperatorCode(t: Table): OperatorCode {
  const S = Slot.OperatorCode;
  const rawDeprecatedBuiltinCode = t.int8(S.deprecated_builtin_code, 'deprecated_builtin_code');
  const rawBuiltinCode = t.int32(S.builtin_code, 'builtin_code');
  return {
    builtinCode: resolveBuiltinCode(rawBuiltinCode, rawDeprecatedBuiltinCode) as BuiltinOperator,
    rawBuiltinCode,
    rawDeprecatedBuiltinCode,
    customCode: t.string(S.custom_code, 'custom_code'),
    version: t.int32(S.version, 'version', 1),
  };
}

function readExternalBuffer(t: Table, groupCount: number): ExternalBuffer {
  const S = Slot.ExternalBuffer;
  const group = t.uint32(S.group, 'group');
  if (group >= groupCount) t.reader.fail(t.where, `group ${group} out of range (model has ${groupCount} external buffer groups)`);
  return {
    id: t.uint32(S.id, 'id'),
    group,
    offset: t.safeUint64(S.offset, 'offset'),
    length: t.safeUint64(S.length, 'length'),
    packing: t.string(S.packing, 'packing'),
  };
}

function readSubgraph(t: Table, index: number, ctx: ModelContext): Subgraph {
  const S = Slot.SubGraph;
  const where = `subgraph ${index}`;
  const tensors = (t.tables(S.tensors, 'tensors', (i) => `tensor ${i} of subgraph ${index}`) ?? []).map((tt) => readTensor(tt, ctx));
  const inputs = t.int32Vector(S.inputs, 'inputs') ?? [];
  const outputs = t.int32Vector(S.outputs, 'outputs') ?? [];
  checkTensorIndices(ctx.reader, where, 'input', inputs, tensors.length, false);
  checkTensorIndices(ctx.reader, where, 'output', outputs, tensors.length, false);
  const operators = (t.tables(S.operators, 'operators', (i) => `operator ${i} of subgraph ${index}`) ?? [])
    .map((ot) => readOperator(ot, tensors.length, ctx));
  return {
    name: t.string(S.name, 'name'),
    tensors,
    inputs,
    outputs,
    operators,
    debugMetadataIndex: t.int32(S.debug_metadata_index, 'debug_metadata_index', -1),
  };
}

function readTensor(t: Table, ctx: ModelContext): Tensor {
  const S = Slot.Tensor;
  const buffer = t.uint32(S.buffer, 'buffer');
  checkBufferIndex(ctx.reader, t.where, buffer, ctx.bufferCount);
  const externalBuffer = t.uint32(S.external_buffer, 'external_buffer');
  if (externalBuffer !== 0 && !ctx.externalBufferIds.has(externalBuffer)) {
    ctx.reader.fail(t.where, `external_buffer ${externalBuffer} is not the id of any of the model's ${ctx.externalBufferIds.size} external buffers`);
  }
  const quantization = t.table(S.quantization, 'quantization');
  const sparsity = t.table(S.sparsity, 'sparsity');
  return {
    name: t.string(S.name, 'name'),
    type: t.int8(S.type, 'type') as TensorType,
    shape: t.int32Vector(S.shape, 'shape') ?? [],
    shapeSignature: t.int32Vector(S.shape_signature, 'shape_signature'),
    buffer,
    quantization: quantization === null ? null : readQuantization(quantization),
    isVariable: t.bool(S.is_variable, 'is_variable'),
    sparsity: sparsity === null ? null : (decodeTable(sparsity, tableDef('SparsityParameters'), false) as unknown as SparsityParameters),
    hasRank: t.bool(S.has_rank, 'has_rank'),
    variantTensors: (t.tables(S.variant_tensors, 'variant_tensors', (i) => `${t.where}: variant_tensors element ${i}`) ?? [])
      .map((vt) => decodeTable(vt, tableDef('VariantSubType'), false) as unknown as VariantSubType),
    externalBuffer,
  };
}

function readQuantization(t: Table): Quantization {
  const S = Slot.QuantizationParameters;
  return {
    min: t.float32Vector(S.min, 'min') ?? [],
    max: t.float32Vector(S.max, 'max') ?? [],
    scale: t.float32Vector(S.scale, 'scale') ?? [],
    zeroPoint: t.safeInt64Vector(S.zero_point, 'zero_point') ?? [],
    quantizedDimension: t.int32(S.quantized_dimension, 'quantized_dimension'),
    details: decodeUnion(t, 'QuantizationDetails', S.details, 'details') as QuantizationDetails | null,
  };
}

function readOperator(t: Table, tensorCount: number, ctx: ModelContext): Operator {
  const S = Slot.Operator;
  const r = ctx.reader;
  const opcodeIndex = t.uint32(S.opcode_index, 'opcode_index');
  if (opcodeIndex >= ctx.operatorCodeCount) {
    r.fail(t.where, `opcode index ${opcodeIndex} out of range (model has ${ctx.operatorCodeCount} operator codes)`);
  }
  const inputs = t.int32Vector(S.inputs, 'inputs') ?? [];
  const outputs = t.int32Vector(S.outputs, 'outputs') ?? [];
  const intermediates = t.int32Vector(S.intermediates, 'intermediates');
  // -1 marks an omitted optional tensor (the runtime accepts it in all three lists).
  checkTensorIndices(r, t.where, 'input', inputs, tensorCount, true);
  checkTensorIndices(r, t.where, 'output', outputs, tensorCount, true);
  checkTensorIndices(r, t.where, 'intermediate', intermediates ?? [], tensorCount, true);

  let customOptions = t.bytes(S.custom_options, 'custom_options');
  const largeOffset = t.safeUint64(S.large_custom_options_offset, 'large_custom_options_offset');
  const largeSize = t.safeUint64(S.large_custom_options_size, 'large_custom_options_size');
  const largeCustomOptions = largeSize > 0;
  if (largeCustomOptions) {
    if (customOptions !== null && customOptions.length > 0) r.fail(t.where, 'has both custom_options and large_custom_options');
    if (largeOffset + largeSize > r.length) {
      r.fail(t.where, `large custom options at file offset ${largeOffset} (${largeSize} bytes) run past the end of the file (${r.length} bytes)`);
    }
    customOptions = r.bytes.subarray(largeOffset, largeOffset + largeSize);
  }
  return {
    opcodeIndex,
    inputs,
    outputs,
    intermediates,
    builtinOptions: decodeUnion(t, 'BuiltinOptions', S.builtin_options, 'builtin_options') as BuiltinOptions | null,
    builtinOptions2: decodeUnion(t, 'BuiltinOptions2', S.builtin_options_2, 'builtin_options_2') as BuiltinOptions2 | null,
    customOptions,
    customOptionsFormat: t.int8(S.custom_options_format, 'custom_options_format') as CustomOptionsFormat,
    largeCustomOptions,
    mutatingVariableInputs: t.boolVector(S.mutating_variable_inputs, 'mutating_variable_inputs') ?? [],
    debugMetadataIndex: t.int32(S.debug_metadata_index, 'debug_metadata_index', -1),
  };
}

function readSignatureDef(t: Table, index: number, subgraphs: readonly Subgraph[], r: FlatReader): SignatureDef {
  const S = Slot.SignatureDef;
  const subgraphIndex = t.uint32(S.subgraph_index, 'subgraph_index');
  const subgraph = subgraphs[subgraphIndex];
  if (subgraph === undefined) r.fail(t.where, `subgraph index ${subgraphIndex} out of range (model has ${subgraphs.length} subgraphs)`);
  const maps = (slot: number, name: string): TensorMap[] =>
    (t.tables(slot, name, (i) => `signature def ${index} ${name} ${i}`) ?? []).map((mt) => {
      const tensorIndex = mt.uint32(Slot.TensorMap.tensor_index, 'tensor_index');
      if (tensorIndex >= subgraph.tensors.length) {
        r.fail(mt.where, `tensor index ${tensorIndex} out of range (subgraph ${subgraphIndex} has ${subgraph.tensors.length} tensors)`);
      }
      return { name: mt.string(Slot.TensorMap.name, 'name'), tensorIndex };
    });
  return {
    signatureKey: t.string(S.signature_key, 'signature_key'),
    subgraphIndex,
    inputs: maps(S.inputs, 'inputs'),
    outputs: maps(S.outputs, 'outputs'),
  };
}

function checkBufferIndex(r: FlatReader, where: string, index: number, count: number): void {
  if (index < 0 || index >= count) r.fail(where, `buffer index ${index} out of range (model has ${count} buffers)`);
}

function checkTensorIndices(
  r: FlatReader,
  where: string,
  what: string,
  indices: readonly number[],
  count: number,
  allowOmitted: boolean,
): void {
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i]!;
    if (index === -1 && allowOmitted) continue;
    if (index < 0 || index >= count) {
      r.fail(where, `${what} ${i} is tensor ${index}, out of range (subgraph has ${count} tensors)`);
    }
  }
}

// A constant (a tensor whose buffer has data) must hold what its shape and type need. Sparse
// tensors store compressed data and STRING/RESOURCE/VARIANT have no fixed element size: skipped.
// A longer buffer is accepted (older converters stored int4 weights one per byte).
function checkConstantSizes(subgraphs: readonly Subgraph[], buffers: readonly ModelBuffer[], r: FlatReader): void {
  subgraphs.forEach((subgraph, s) => {
    subgraph.tensors.forEach((tensor, i) => {
      const size = buffers[tensor.buffer]!.data.length;
      if (size === 0 || tensor.sparsity !== null) return;
      const where = `tensor ${i} of subgraph ${s} ('${tensor.name}')`;
      if (tensor.shape.some((d) => d < 0)) {
        r.fail(where, `has constant data (buffer ${tensor.buffer}) but shape [${tensor.shape.join(',')}] has a negative dimension`);
      }
      const need = denseByteSize(tensor.type, tensor.shape);
      if (need !== undefined && size < need) {
        r.fail(where, `buffer ${tensor.buffer} holds ${size} bytes but shape [${tensor.shape.join(',')}] of ${tensorTypeName(tensor.type)} needs ${need}`);
      }
    });
  });
}
