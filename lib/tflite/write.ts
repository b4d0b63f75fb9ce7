// writeModel: Graph → TFLite flatbuffer bytes.
//
// Needs: a Graph whose values fit their schema types (checked here: a value that does not fit
// throws InvalidArgumentError naming the field; index consistency is ir/verify's job). Guarantees:
// the "TFL3" identifier; buffer data 16-byte aligned from the start of the file (and the returned
// array's byteOffset a multiple of 16, so typed-array views over weights work); buffers, tensors
// and operators in the graph's order; fields equal to their default omitted, so `flatc --json` of
// readModel → writeModel output matches the input's. Buffers marked `external` (and large custom
// options) are appended after the flatbuffer and located by offset/size, the layout of models over
// 2 GB; when the inline data would not fit a flatbuffer, every buffer is placed that way.
import { Builder } from 'flatbuffers';

import { expected, InvalidArgumentError } from '../errors.js';
import {
  resolveBuiltinCode,
  type Graph,
  type ModelBuffer,
  type Operator,
  type OperatorCode,
  type Quantization,
  type SignatureDef,
  type Subgraph,
  type Tensor,
} from '../ir/graph.js';
import { FILE_IDENTIFIER, Slot, type ScalarType } from './schema.js';
import {
  checkScalar,
  createBytes,
  createOffsetVector,
  createScalarVector,
  encodeTable,
  encodeUnion,
  tableDef,
} from './table-codec.js';

// A flatbuffer addresses at most 2 GiB; keep room for everything that is not buffer data.
const INLINE_DATA_LIMIT = 2 ** 31 - 2 ** 26;
const DATA_ALIGNMENT = 16;
const PLACEHOLDER_OFFSET = 1n;

// Data to append after the flatbuffer, and where (bytes from the end of the builder's output) the
// uint64 offset field that must point at it was written.
interface Appended {
  readonly data: Uint8Array;
  readonly offsetFieldFromEnd: number;
}

/** Serializes a Graph to .tflite bytes. Throws InvalidArgumentError for values that do not fit. */
export function writeModel(graph: Graph): Uint8Array {
  if (typeof graph !== 'object' || graph === null) throw expected('a Graph object', 'graph', graph);
  const inlineData = graph.buffers.reduce((sum, buf) => sum + (buf.external ? 0 : buf.data.length), 0);
  const allExternal = inlineData > INLINE_DATA_LIMIT;

  const b = new Builder(estimateSize(graph, allExternal));
  const appended: Appended[] = [];

  // Buffers first: the builder fills from the back, so the bulk data ends up at the file's end.
  const buffers = graph.buffers.map((buf, i) => writeBuffer(b, buf, `graph.buffers[${i}]`, allExternal || buf.external, appended));
  const operatorCodes = graph.operatorCodes.map((oc, i) => writeOperatorCode(b, oc, `graph.operatorCodes[${i}]`));
  const subgraphs = graph.subgraphs.map((sg, i) => writeSubgraph(b, sg, `graph.subgraphs[${i}]`, appended));
  const metadata = graph.metadata.map((md, i) => {
    const name = optionalString(b, md.name, `graph.metadata[${i}].name`);
    b.startObject(tableDef('Metadata').numSlots);
    if (name) b.addFieldOffset(Slot.Metadata.name, name, 0);
    b.addFieldInt32(Slot.Metadata.buffer, u32(md.buffer, `graph.metadata[${i}].buffer`), 0);
    return b.endObject();
  });
  const signatureDefs = graph.signatureDefs?.map((sd, i) => writeSignatureDef(b, sd, `graph.signatureDefs[${i}]`));
  const groups = graph.externalBufferGroups.map((g, i) => {
    const name = optionalString(b, g.name, `graph.externalBufferGroups[${i}].name`);
    b.startObject(tableDef('ExternalBufferGroup').numSlots);
    if (name) b.addFieldOffset(Slot.ExternalBufferGroup.name, name, 0);
    return b.endObject();
  });
  const externalBuffers = graph.externalBuffers.map((eb, i) => {
    const param = `graph.externalBuffers[${i}]`;
    const packing = optionalString(b, eb.packing, `${param}.packing`);
    const S = Slot.ExternalBuffer;
    b.startObject(tableDef('ExternalBuffer').numSlots);
    b.addFieldInt32(S.id, u32(eb.id, `${param}.id`), 0);
    b.addFieldInt32(S.group, u32(eb.group, `${param}.group`), 0);
    b.addFieldInt64(S.offset, u64(eb.offset, `${param}.offset`), 0n);
    b.addFieldInt64(S.length, u64(eb.length, `${param}.length`), 0n);
    if (packing) b.addFieldOffset(S.packing, packing, 0);
    return b.endObject();
  });

  const M = Slot.Model;
  const fields: [number, number][] = [
    [M.buffers, createOffsetVector(b, buffers)],
    [M.operator_codes, createOffsetVector(b, operatorCodes)],
    [M.subgraphs, createOffsetVector(b, subgraphs)],
  ];
  const description = optionalString(b, graph.description, 'graph.description');
  if (description) fields.push([M.description, description]);
  if (graph.metadataBuffer.length > 0) fields.push([M.metadata_buffer, createScalarVector(b, graph.metadataBuffer, 'int32', 'graph.metadataBuffer')]);
  if (metadata.length > 0) fields.push([M.metadata, createOffsetVector(b, metadata)]);
  if (signatureDefs !== undefined) fields.push([M.signature_defs, createOffsetVector(b, signatureDefs)]);
  if (groups.length > 0) fields.push([M.external_buffer_groups, createOffsetVector(b, groups)]);
  if (externalBuffers.length > 0) fields.push([M.external_buffers, createOffsetVector(b, externalBuffers)]);
  b.startObject(tableDef('Model').numSlots);
  b.addFieldInt32(M.version, u32(graph.version, 'graph.version'), 0);
  for (const [slot, offset] of fields) b.addFieldOffset(slot, offset, 0);
  b.finish(b.endObject(), FILE_IDENTIFIER);

  const flatbuffer = b.asUint8Array();
  if (appended.length === 0) {
    // The builder's array may be larger than the model; drop the slack when it is large.
    return flatbuffer.buffer.byteLength > flatbuffer.length * 1.25 + 65536 ? flatbuffer.slice() : flatbuffer;
  }
  return appendOutOfLine(flatbuffer, appended);
}

function appendOutOfLine(flatbuffer: Uint8Array, appended: readonly Appended[]): Uint8Array {
  const align = (n: number): number => Math.ceil(n / DATA_ALIGNMENT) * DATA_ALIGNMENT;
  let size = align(flatbuffer.length);
  const positions = appended.map((a) => {
    const at = size;
    size = align(at + a.data.length);
    return at;
  });
  const out = new Uint8Array(size);
  out.set(flatbuffer);
  const view = new DataView(out.buffer);
  appended.forEach((a, i) => {
    const at = positions[i]!;
    out.set(a.data, at);
    view.setBigUint64(flatbuffer.length - a.offsetFieldFromEnd, BigInt(at), true);
  });
  return out;
}

function writeBuffer(b: Builder, buf: ModelBuffer, param: string, external: boolean, appended: Appended[]): number {
  if (!(buf.data instanceof Uint8Array)) throw expected('a Uint8Array', `${param}.data`, buf.data);
  const S = Slot.Buffer;
  if (external) {
    b.startObject(tableDef('Buffer').numSlots);
    b.addFieldInt64(S.size, BigInt(buf.data.length), 0n);
    // A placeholder, patched once the flatbuffer's size (where the data will go) is known.
    b.addFieldInt64(S.offset, PLACEHOLDER_OFFSET, 0n);
    appended.push({ data: buf.data, offsetFieldFromEnd: b.offset() });
    return b.endObject();
  }
  const data = buf.data.length > 0 ? createBytes(b, buf.data, DATA_ALIGNMENT) : 0;
  b.startObject(tableDef('Buffer').numSlots);
  if (data) b.addFieldOffset(S.data, data, 0);
  return b.endObject();
}

// Older converters fill only deprecated_builtin_code (an int8, 127 for codes above 126).
function writeOperatorCode(b: Builder, oc: OperatorCode, param: string): number {
  const S = Slot.OperatorCode;
  const customCode = optionalString(b, oc.customCode, `${param}.customCode`);
  const keepRaw = resolveBuiltinCode(oc.rawBuiltinCode, oc.rawDeprecatedBuiltinCode) === oc.builtinCode;
  const builtin = keepRaw ? oc.rawBuiltinCode : oc.builtinCode;
  const deprecated = keepRaw ? oc.rawDeprecatedBuiltinCode : Math.min(oc.builtinCode, 127);
  b.startObject(tableDef('OperatorCode').numSlots);
  b.addFieldInt8(S.deprecated_builtin_code, scalar(deprecated, 'int8', `${param}.rawDeprecatedBuiltinCode`), 0);
  if (customCode) b.addFieldOffset(S.custom_code, customCode, 0);
  b.addFieldInt32(S.version, scalar(oc.version, 'int32', `${param}.version`), 1);
  b.addFieldInt32(S.builtin_code, scalar(builtin, 'int32', `${param}.builtinCode`), 0);
  return b.endObject();
}

function writeSubgraph(b: Builder, sg: Subgraph, param: string, appended: Appended[]): number {
  const S = Slot.SubGraph;
  const tensors = createOffsetVector(b, sg.tensors.map((t, i) => writeTensor(b, t, `${param}.tensors[${i}]`)));
  const inputs = createScalarVector(b, sg.inputs, 'int32', `${param}.inputs`);
  const outputs = createScalarVector(b, sg.outputs, 'int32', `${param}.outputs`);
  const operators = createOffsetVector(b, sg.operators.map((op, i) => writeOperator(b, op, `${param}.operators[${i}]`, appended)));
  const name = optionalString(b, sg.name, `${param}.name`);
  b.startObject(tableDef('SubGraph').numSlots);
  b.addFieldOffset(S.tensors, tensors, 0);
  b.addFieldOffset(S.inputs, inputs, 0);
  b.addFieldOffset(S.outputs, outputs, 0);
  b.addFieldOffset(S.operators, operators, 0);
  if (name) b.addFieldOffset(S.name, name, 0);
  b.addFieldInt32(S.debug_metadata_index, scalar(sg.debugMetadataIndex, 'int32', `${param}.debugMetadataIndex`), -1);
  return b.endObject();
}

function writeTensor(b: Builder, t: Tensor, param: string): number {
  const S = Slot.Tensor;
  const shape = createScalarVector(b, t.shape, 'int32', `${param}.shape`);
  const name = optionalString(b, t.name, `${param}.name`);
  const quantization = t.quantization === null ? 0 : writeQuantization(b, t.quantization, `${param}.quantization`);
  const sparsity = t.sparsity === null ? 0 : encodeTable(b, t.sparsity, tableDef('SparsityParameters'), `${param}.sparsity`);
  const shapeSignature = t.shapeSignature === null ? 0 : createScalarVector(b, t.shapeSignature, 'int32', `${param}.shapeSignature`);
  const variantDef = tableDef('VariantSubType');
  const variantTensors = t.variantTensors.length === 0
    ? 0
    : createOffsetVector(b, t.variantTensors.map((v, i) => encodeTable(b, v, variantDef, `${param}.variantTensors[${i}]`)));
  b.startObject(tableDef('Tensor').numSlots);
  b.addFieldOffset(S.shape, shape, 0);
  b.addFieldInt8(S.type, scalar(t.type, 'int8', `${param}.type`), 0);
  b.addFieldInt32(S.buffer, u32(t.buffer, `${param}.buffer`), 0);
  if (name) b.addFieldOffset(S.name, name, 0);
  if (quantization) b.addFieldOffset(S.quantization, quantization, 0);
  b.addFieldInt8(S.is_variable, bool(t.isVariable, `${param}.isVariable`), 0);
  if (sparsity) b.addFieldOffset(S.sparsity, sparsity, 0);
  if (shapeSignature) b.addFieldOffset(S.shape_signature, shapeSignature, 0);
  b.addFieldInt8(S.has_rank, bool(t.hasRank, `${param}.hasRank`), 0);
  if (variantTensors) b.addFieldOffset(S.variant_tensors, variantTensors, 0);
  b.addFieldInt32(S.external_buffer, u32(t.externalBuffer, `${param}.externalBuffer`), 0);
  return b.endObject();
}

function writeQuantization(b: Builder, q: Quantization, param: string): number {
  const S = Slot.QuantizationParameters;
  const vector = (values: readonly number[], key: string): number =>
    values.length === 0 ? 0 : createScalarVector(b, values, 'float32', `${param}.${key}`);
  const min = vector(q.min, 'min');
  const max = vector(q.max, 'max');
  const scale = vector(q.scale, 'scale');
  const zeroPoint = q.zeroPoint.length === 0
    ? 0
    : createScalarVector(b, q.zeroPoint.map((z, i) => {
      if (!Number.isSafeInteger(z)) throw expected('a safe integer', `${param}.zeroPoint[${i}]`, z);
      return BigInt(z);
    }), 'int64', `${param}.zeroPoint`);
  const details = q.details === null ? null : encodeUnion(b, q.details, 'QuantizationDetails', `${param}.details`);
  b.startObject(tableDef('QuantizationParameters').numSlots);
  if (min) b.addFieldOffset(S.min, min, 0);
  if (max) b.addFieldOffset(S.max, max, 0);
  if (scale) b.addFieldOffset(S.scale, scale, 0);
  if (zeroPoint) b.addFieldOffset(S.zero_point, zeroPoint, 0);
  if (details) {
    b.addFieldInt8(S.details_type, details.tag, 0);
    b.addFieldOffset(S.details, details.offset, 0);
  }
  b.addFieldInt32(S.quantized_dimension, scalar(q.quantizedDimension, 'int32', `${param}.quantizedDimension`), 0);
  return b.endObject();
}

function writeOperator(b: Builder, op: Operator, param: string, appended: Appended[]): number {
  const S = Slot.Operator;
  const inputs = createScalarVector(b, op.inputs, 'int32', `${param}.inputs`);
  const outputs = createScalarVector(b, op.outputs, 'int32', `${param}.outputs`);
  const intermediates = op.intermediates === null ? 0 : createScalarVector(b, op.intermediates, 'int32', `${param}.intermediates`);
  const options = op.builtinOptions === null ? null : encodeUnion(b, op.builtinOptions, 'BuiltinOptions', `${param}.builtinOptions`);
  const options2 = op.builtinOptions2 === null ? null : encodeUnion(b, op.builtinOptions2, 'BuiltinOptions2', `${param}.builtinOptions2`);
  if (op.customOptions !== null && !(op.customOptions instanceof Uint8Array)) {
    throw expected('a Uint8Array or null', `${param}.customOptions`, op.customOptions);
  }
  if (op.largeCustomOptions && op.customOptions === null) {
    throw new InvalidArgumentError(`${param}.largeCustomOptions is true but ${param}.customOptions is null`);
  }
  const customOptions = op.customOptions === null || op.largeCustomOptions ? 0 : createBytes(b, op.customOptions);
  const mutating = op.mutatingVariableInputs.length === 0
    ? 0
    : createScalarVector(b, op.mutatingVariableInputs, 'bool', `${param}.mutatingVariableInputs`);
  b.startObject(tableDef('Operator').numSlots);
  b.addFieldInt32(S.opcode_index, u32(op.opcodeIndex, `${param}.opcodeIndex`), 0);
  b.addFieldOffset(S.inputs, inputs, 0);
  b.addFieldOffset(S.outputs, outputs, 0);
  if (options) {
    b.addFieldInt8(S.builtin_options_type, options.tag, 0);
    b.addFieldOffset(S.builtin_options, options.offset, 0);
  }
  if (customOptions) b.addFieldOffset(S.custom_options, customOptions, 0);
  b.addFieldInt8(S.custom_options_format, scalar(op.customOptionsFormat, 'int8', `${param}.customOptionsFormat`), 0);
  if (mutating) b.addFieldOffset(S.mutating_variable_inputs, mutating, 0);
  if (intermediates) b.addFieldOffset(S.intermediates, intermediates, 0);
  if (op.largeCustomOptions && op.customOptions !== null) {
    b.addFieldInt64(S.large_custom_options_size, BigInt(op.customOptions.length), 0n);
    b.addFieldInt64(S.large_custom_options_offset, PLACEHOLDER_OFFSET, 0n);
    appended.push({ data: op.customOptions, offsetFieldFromEnd: b.offset() });
  }
  if (options2) {
    b.addFieldInt8(S.builtin_options_2_type, options2.tag, 0);
    b.addFieldOffset(S.builtin_options_2, options2.offset, 0);
  }
  b.addFieldInt32(S.debug_metadata_index, scalar(op.debugMetadataIndex, 'int32', `${param}.debugMetadataIndex`), -1);
  return b.endObject();
}

function writeSignatureDef(b: Builder, sd: SignatureDef, param: string): number {
  const S = Slot.SignatureDef;
  const maps = (list: SignatureDef['inputs'], key: string): number =>
    createOffsetVector(b, list.map((tm, i) => {
      const name = optionalString(b, tm.name, `${param}.${key}[${i}].name`);
      b.startObject(tableDef('TensorMap').numSlots);
      if (name) b.addFieldOffset(Slot.TensorMap.name, name, 0);
      b.addFieldInt32(Slot.TensorMap.tensor_index, u32(tm.tensorIndex, `${param}.${key}[${i}].tensorIndex`), 0);
      return b.endObject();
    }));
  const inputs = sd.inputs.length === 0 ? 0 : maps(sd.inputs, 'inputs');
  const outputs = sd.outputs.length === 0 ? 0 : maps(sd.outputs, 'outputs');
  const key = optionalString(b, sd.signatureKey, `${param}.signatureKey`);
  b.startObject(tableDef('SignatureDef').numSlots);
  if (inputs) b.addFieldOffset(S.inputs, inputs, 0);
  if (outputs) b.addFieldOffset(S.outputs, outputs, 0);
  if (key) b.addFieldOffset(S.signature_key, key, 0);
  b.addFieldInt32(S.subgraph_index, u32(sd.subgraphIndex, `${param}.subgraphIndex`), 0);
  return b.endObject();
}

// ---------------------------------------------------------------------------------------------

function optionalString(b: Builder, value: string, param: string): number {
  if (typeof value !== 'string') throw expected('a string', param, value);
  return value === '' ? 0 : b.createString(value);
}

function scalar(value: number, type: ScalarType, param: string): number {
  checkScalar(value, type, param);
  return value;
}

function u32(value: number, param: string): number {
  return scalar(value, 'uint32', param);
}

function u64(value: number, param: string): bigint {
  if (!Number.isSafeInteger(value) || value < 0) throw expected('a non-negative safe integer', param, value);
  return BigInt(value);
}

function bool(value: boolean, param: string): number {
  checkScalar(value, 'bool', param);
  return value ? 1 : 0;
}

// An upper bound on the flatbuffer's size, so the builder allocates once (it cannot grow past
// 1 GiB), rounded to 16 so the output's byteOffset stays 16-aligned.
function estimateSize(graph: Graph, allExternal: boolean): number {
  let size = 65536 + 2 * graph.description.length;
  for (const buf of graph.buffers) size += 48 + (allExternal || buf.external ? 0 : buf.data.length + DATA_ALIGNMENT);
  for (const oc of graph.operatorCodes) size += 48 + 3 * oc.customCode.length;
  for (const sg of graph.subgraphs) {
    size += 96 + 3 * sg.name.length + 4 * (sg.inputs.length + sg.outputs.length);
    for (const t of sg.tensors) {
      const q = t.quantization;
      size += 160 + 3 * t.name.length + 4 * (t.shape.length + (t.shapeSignature?.length ?? 0));
      if (q !== null) size += 64 + 4 * (q.min.length + q.max.length + q.scale.length) + 8 * q.zeroPoint.length + 4096 * Number(q.details !== null);
      if (t.sparsity !== null || t.variantTensors.length > 0) size += 4096 + 8 * t.shape.length;
    }
    for (const op of sg.operators) {
      size += 1024 + 4 * (op.inputs.length + op.outputs.length + (op.intermediates?.length ?? 0) + op.mutatingVariableInputs.length);
      if (op.customOptions !== null && !op.largeCustomOptions) size += op.customOptions.length + 8;
    }
  }
  size += 256 * (graph.metadata.length + (graph.signatureDefs?.length ?? 0) + graph.externalBuffers.length + graph.externalBufferGroups.length);
  for (const sd of graph.signatureDefs ?? []) size += 128 * (sd.inputs.length + sd.outputs.length);
  return Math.ceil(size / DATA_ALIGNMENT) * DATA_ALIGNMENT;
}
