// readModel on malformed input: every problem is a ModelFormatError (code
// ERR_LITEQUANT_MODEL_FORMAT) saying what is wrong and where; never a crash, a RangeError from a
// DataView, a hang or unbounded memory.
import { Builder } from 'flatbuffers';
import t, { type Test } from 'tap';

import { LitequantError, ModelFormatError } from '../../lib/errors.js';
import type { Graph, Subgraph } from '../../lib/ir/graph.js';
import { FlatReader, type Table } from '../../lib/tflite/flatbuffer-reader.js';
import { readModel } from '../../lib/tflite/read.js';
import { Slot } from '../../lib/tflite/schema.js';
import { writeModel } from '../../lib/tflite/write.js';
import { tinyGraph } from '../fixtures/tiny-model.js';

const good = writeModel(tinyGraph()).slice();

function mutate(fn: (bytes: Uint8Array, view: DataView) => void, from: Uint8Array = good): Uint8Array {
  const bytes = from.slice();
  fn(bytes, new DataView(bytes.buffer));
  return bytes;
}

function rejects(t: Test, bytes: Uint8Array, message: RegExp | string, what: string): void {
  t.throws(() => readModel(bytes), { name: 'ModelFormatError', code: 'ERR_LITEQUANT_MODEL_FORMAT', message }, what);
}

function withSubgraph(change: (sg: Subgraph) => Subgraph, graph: Graph = tinyGraph()): Uint8Array {
  return writeModel({ ...graph, subgraphs: [change(graph.subgraphs[0]!)] });
}

// Positions inside the good file, found with the reader itself.
const reader = new FlatReader(good);
const root = reader.root('model');
const subgraph0 = root.tables(Slot.Model.subgraphs, 'subgraphs', () => 'subgraph')![0]!;
const tensorTables = subgraph0.tables(Slot.SubGraph.tensors, 'tensors', () => 'tensor')!;
const operator0 = subgraph0.tables(Slot.SubGraph.operators, 'operators', () => 'operator')![0]!;
function vtableOf(table: Table): number {
  return table.pos - new DataView(good.buffer).getInt32(table.pos, true);
}

t.test('the good file reads', async (t) => {
  t.equal(readModel(good).subgraphs[0]!.tensors.length, 5);
});

t.test('arguments that are not bytes', async (t) => {
  t.throws(() => readModel('model.tflite' as unknown as Uint8Array), { code: 'ERR_LITEQUANT_INVALID_ARGUMENT' });
  t.throws(() => readModel(new ArrayBuffer(16) as unknown as Uint8Array), { code: 'ERR_LITEQUANT_INVALID_ARGUMENT' });
});

t.test('file header', async (t) => {
  rejects(t, new Uint8Array(0), 'model: 0 bytes is too short for a TFLite model (at least 8)', 'empty');
  rejects(t, good.subarray(0, 7), /too short/, '7 bytes');
  rejects(t, mutate((b) => b.set([0x54, 0x46, 0x4c, 0x32], 4)), 'model: file identifier is "TFL2", expected "TFL3" (not a TFLite model?)', 'identifier');
  rejects(t, new TextEncoder().encode('{"version": 3, "subgraphs": []}'), /file identifier/, 'JSON instead of a flatbuffer');
  rejects(t, mutate((_, v) => v.setUint32(0, 0xfffffff0, true)), /model: offset at 0x0 points to 0x[0-9a-f]+, past the end of the file/, 'root offset past the end');
  rejects(t, mutate((_, v) => v.setUint32(0, 2, true)), /not 4-byte aligned/, 'misaligned root');
});

t.test('corrupt tables and vtables', async (t) => {
  rejects(t, mutate((_, v) => v.setInt32(root.pos, -0x1000000, true)), /model: table at 0x[0-9a-f]+ has its vtable at 0x[0-9a-f]+, outside the file/, 'vtable past the end');
  rejects(t, mutate((_, v) => v.setInt32(root.pos, root.pos + 8, true)), /outside the file/, 'vtable before the start');
  rejects(t, mutate((_, v) => v.setUint16(vtableOf(root), 3, true)), /corrupt vtable .* \(size 3\)/, 'odd vtable size');
  rejects(t, mutate((_, v) => v.setUint16(vtableOf(root), 0xfffe, true)), /corrupt vtable/, 'vtable size past the end');
  rejects(t, mutate((_, v) => v.setUint16(vtableOf(root) + 2, 0xfff0, true)), /table size 65520 runs past the end/, 'table size past the end');
  rejects(t, mutate((_, v) => v.setUint16(vtableOf(root) + 4 + 2 * Slot.Model.version, 0xfff0, true)), /model: field 'version' at table offset 65520 lies outside the table/, 'field outside its table');
  const tensorVtable = vtableOf(tensorTables[1]!);
  rejects(t, mutate((_, v) => v.setUint16(tensorVtable + 4 + 2 * Slot.Tensor.buffer, 5, true)), /field 'buffer' .* is not 4-byte aligned/, 'misaligned field');
});

t.test('offsets, vectors and strings', async (t) => {
  const buffersVector = root.target(Slot.Model.buffers, 'buffers');
  rejects(t, mutate((_, v) => v.setUint32(buffersVector, 0x7fffffff, true)), /model: field 'buffers': vector of 2147483647 elements of 4 bytes at 0x[0-9a-f]+ runs past the end of the file/, 'absurd vector length');
  rejects(t, mutate((_, v) => v.setUint32(buffersVector, 0xffffffff, true)), /vector of 4294967295 elements/, 'maximal vector length');
  const shape = tensorTables[1]!.target(Slot.Tensor.shape, 'shape');
  rejects(t, mutate((_, v) => v.setUint32(shape, (good.length - shape) / 4, true)), /tensor 1 of subgraph 0: field 'shape': vector of \d+ elements .* runs past the end/, 'vector one element too long');
  const offsetField = root.field(Slot.Model.subgraphs, 4, 'subgraphs');
  rejects(t, mutate((_, v) => v.setUint32(offsetField, 0x7ffffff0, true)), /model: field 'subgraphs': offset at 0x[0-9a-f]+ points to 0x[0-9a-f]+, past the end/, 'offset past the end');

  const name = tensorTables[0]!.target(Slot.Tensor.name, 'name');
  const nameLength = new DataView(good.buffer).getUint32(name, true);
  rejects(t, mutate((b) => { b[name + 4 + nameLength] = 0x41; }), /tensor 0 of subgraph 0: field 'name': string at 0x[0-9a-f]+ lacks its terminating zero byte/, 'string terminator');
  rejects(t, mutate((b) => { b[name + 4] = 0xff; }), /tensor 0 of subgraph 0: field 'name': string at 0x[0-9a-f]+ is not valid UTF-8/, 'invalid UTF-8');
  rejects(t, mutate((_, v) => v.setUint32(name, 0x10000000, true)), /runs past the end/, 'absurd string length');
});

t.test('indices are checked against what they index', async (t) => {
  rejects(t, withSubgraph((sg) => ({ ...sg, tensors: sg.tensors.map((x, i) => (i === 1 ? { ...x, buffer: 99 } : x)) })),
    'tensor 1 of subgraph 0: buffer index 99 out of range (model has 4 buffers)', 'tensor buffer');
  rejects(t, withSubgraph((sg) => ({ ...sg, operators: sg.operators.map((op, i) => (i === 0 ? { ...op, inputs: [0, 99, 2] } : op)) })),
    'operator 0 of subgraph 0: input 1 is tensor 99, out of range (subgraph has 5 tensors)', 'operator input');
  rejects(t, withSubgraph((sg) => ({ ...sg, operators: sg.operators.map((op, i) => (i === 1 ? { ...op, outputs: [-2] } : op)) })),
    'operator 1 of subgraph 0: output 0 is tensor -2, out of range (subgraph has 5 tensors)', 'operator output');
  rejects(t, withSubgraph((sg) => ({ ...sg, operators: sg.operators.map((op, i) => (i === 0 ? { ...op, intermediates: [5] } : op)) })),
    /operator 0 of subgraph 0: intermediate 0 is tensor 5, out of range/, 'intermediate');
  rejects(t, withSubgraph((sg) => ({ ...sg, operators: sg.operators.map((op, i) => (i === 1 ? { ...op, opcodeIndex: 7 } : op)) })),
    'operator 1 of subgraph 0: opcode index 7 out of range (model has 2 operator codes)', 'opcode index');
  rejects(t, withSubgraph((sg) => ({ ...sg, inputs: [-1] })), 'subgraph 0: input 0 is tensor -1, out of range (subgraph has 5 tensors)', 'subgraph input');
  rejects(t, withSubgraph((sg) => ({ ...sg, outputs: [4, 5] })), /subgraph 0: output 1 is tensor 5/, 'subgraph output');

  const graph = tinyGraph();
  rejects(t, writeModel({ ...graph, metadata: [{ name: 'x', buffer: 4 }] }), 'metadata 0: buffer index 4 out of range (model has 4 buffers)', 'metadata buffer');
  rejects(t, writeModel({ ...graph, metadataBuffer: [1, 9] }), /metadata_buffer entry 1: buffer index 9 out of range/, 'metadata_buffer');
  const signature = graph.signatureDefs![0]!;
  rejects(t, writeModel({ ...graph, signatureDefs: [{ ...signature, subgraphIndex: 1 }] }), /signature def 0: subgraph index 1 out of range \(model has 1 subgraphs\)/, 'signature subgraph');
  rejects(t, writeModel({ ...graph, signatureDefs: [{ ...signature, outputs: [{ name: 'y', tensorIndex: 12 }] }] }), /signature def 0 outputs 0: tensor index 12 out of range \(subgraph 0 has 5 tensors\)/, 'signature tensor');
  rejects(t, writeModel({ ...graph, subgraphs: [] }), 'model: has no subgraphs', 'no subgraphs');
  rejects(t, withSubgraph((sg) => ({ ...sg, tensors: sg.tensors.map((x, i) => (i === 0 ? { ...x, externalBuffer: 3 } : x)) })),
    /tensor 0 of subgraph 0: external_buffer 3 is not the id of any of the model's 0 external buffers/, 'external buffer id');

  // -1 (an omitted optional input) is fine in operator lists.
  const optional = readModel(withSubgraph((sg) => ({ ...sg, operators: sg.operators.map((op, i) => (i === 0 ? { ...op, inputs: [0, 1, -1] } : op)) })));
  t.same(optional.subgraphs[0]!.operators[0]!.inputs, [0, 1, -1]);
});

t.test('constant buffers must hold their tensor', async (t) => {
  const graph = tinyGraph();
  const short = { data: graph.buffers[1]!.data.subarray(0, 40), external: false };
  rejects(t, writeModel({ ...graph, buffers: graph.buffers.map((b, i) => (i === 1 ? short : b)) }),
    "tensor 1 of subgraph 0 ('weights'): buffer 1 holds 40 bytes but shape [3,4] of FLOAT32 needs 48", 'short weights');
  rejects(t, withSubgraph((sg) => ({ ...sg, tensors: sg.tensors.map((x, i) => (i === 2 ? { ...x, shape: [-1] } : x)) })),
    /tensor 2 of subgraph 0 \('bias'\): has constant data \(buffer 2\) but shape \[-1\] has a negative dimension/, 'negative dimension');
  // Longer is accepted, as is a tensor whose buffer is empty (an activation).
  t.doesNotThrow(() => readModel(withSubgraph((sg) => ({ ...sg, tensors: sg.tensors.map((x, i) => (i === 1 ? { ...x, shape: [2, 4] } : x)) }))));
});

t.test('union tags and 64-bit values', async (t) => {
  const typeField = operator0.field(Slot.Operator.builtin_options_type, 1, 'builtin_options_type');
  rejects(t, mutate((b) => { b[typeField] = 250; }), "operator 0 of subgraph 0: field 'builtin_options_type' has unknown BuiltinOptions type 250 (this schema knows 126)", 'unknown options');
  const zeroPoint = tensorTables[4]!.table(Slot.Tensor.quantization, 'quantization')!.target(Slot.QuantizationParameters.zero_point, 'zero_point');
  rejects(t, mutate((_, v) => v.setInt32(zeroPoint + 8, 0x7fffffff, true)), /field 'zero_point' element 0 \(\d+\) does not fit a JS number/, 'zero point beyond 2^53');

  const external = writeModel({ ...tinyGraph(), buffers: tinyGraph().buffers.map((b) => ({ ...b, external: b.data.length > 0 })) });
  const ext = new FlatReader(external).root('model').tables(Slot.Model.buffers, 'buffers', () => 'buffer')![1]!;
  const offsetField = ext.field(Slot.Buffer.offset, 8, 'offset');
  rejects(t, mutate((_, v) => v.setBigUint64(offsetField, BigInt(external.length), true), external), /buffer 1: data at file offset \d+ \(48 bytes\) runs past the end of the file/, 'external data past the end');
  rejects(t, mutate((_, v) => v.setBigUint64(offsetField, 2n ** 60n, true), external), /buffer 1: field 'offset' value \d+ is too large/, 'external offset beyond 2^53');
});

t.test('offsets shared to blow up decoding are stopped', async (t) => {
  // One tensor with a 50k-element shape, listed 50k times: a 400 KB file that would decode to
  // 2.5 billion numbers.
  const n = 50_000;
  const b = new Builder(1 << 20);
  b.startVector(4, n, 4);
  for (let i = 0; i < n; i++) b.addInt32(1);
  const shape = b.endVector();
  b.startObject(11);
  b.addFieldOffset(Slot.Tensor.shape, shape, 0);
  const tensor = b.endObject();
  b.startVector(4, n, 4);
  for (let i = 0; i < n; i++) b.addOffset(tensor);
  const tensors = b.endVector();
  b.startObject(6);
  b.addFieldOffset(Slot.SubGraph.tensors, tensors, 0);
  const subgraph = b.endObject();
  b.startObject(3);
  const buffer = b.endObject();
  b.startVector(4, 1, 4);
  b.addOffset(subgraph);
  const subgraphs = b.endVector();
  b.startVector(4, 1, 4);
  b.addOffset(buffer);
  const buffers = b.endVector();
  b.startObject(11);
  b.addFieldOffset(Slot.Model.subgraphs, subgraphs, 0);
  b.addFieldOffset(Slot.Model.buffers, buffers, 0);
  b.finish(b.endObject(), 'TFL3');
  rejects(t, b.asUint8Array(), /decodes to far more objects than its \d+ bytes can hold/, 'shared offsets');
});

// Deterministic PRNG for the fuzz tests.
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function readsOrRejects(bytes: Uint8Array): 'ok' | 'rejected' {
  try {
    readModel(bytes);
    return 'ok';
  } catch (error) {
    if (error instanceof ModelFormatError) return 'rejected';
    throw error;
  }
}

t.test('every truncation is rejected cleanly', async (t) => {
  const outcomes = new Map<string, number>();
  for (let n = 0; n < good.length; n++) {
    const outcome = readsOrRejects(good.slice(0, n));
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  t.equal(outcomes.get('ok') ?? 0, 0, 'no truncated file reads as a model');
  t.equal(outcomes.get('rejected'), good.length);
});

t.test('random corruption never escapes as anything but ModelFormatError', async (t) => {
  const random = mulberry32(12345);
  let rejected = 0;
  const runs = 4000;
  for (let run = 0; run < runs; run++) {
    const bytes = good.slice();
    const flips = 1 + Math.floor(random() * 4);
    for (let i = 0; i < flips; i++) {
      const at = Math.floor(random() * bytes.length);
      // Mostly single bits, sometimes whole bytes set to extreme values.
      bytes[at] = random() < 0.7 ? bytes[at]! ^ (1 << Math.floor(random() * 8)) : [0, 0xff, 0x7f, 0x80][Math.floor(random() * 4)]!;
    }
    let outcome: string;
    try {
      outcome = readsOrRejects(bytes);
    } catch (error) {
      t.fail(`run ${run}: ${error instanceof LitequantError ? error.code : String(error)}`);
      continue;
    }
    if (outcome === 'rejected') rejected++;
  }
  t.ok(rejected > runs / 10, `${rejected} of ${runs} corrupted files rejected, the rest still well-formed`);
});
