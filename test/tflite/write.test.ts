// writeModel: round trips of models built in code, every builtin options table (checked against
// flatc's reading of our bytes), out-of-line buffers and custom options, alignment, and the
// errors for values that do not fit their schema type.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';

import t from 'tap';

import { operatorCode, type Graph, type Operator } from '../../lib/ir/graph.js';
import { FlatReader } from '../../lib/tflite/flatbuffer-reader.js';
import { readModel } from '../../lib/tflite/read.js';
import * as schema from '../../lib/tflite/schema.js';
import { BuiltinOperator, Slot, TABLES, UNIONS, type BuiltinOptions, type BuiltinOptions2, type FieldDef } from '../../lib/tflite/schema.js';
import { writeModel } from '../../lib/tflite/write.js';
import { flatcSkip, sharedPath, sharedSkip } from '../fixtures/shared.js';
import { tensor, tinyGraph } from '../fixtures/tiny-model.js';

t.test('a model built in code round-trips', async (t) => {
  const graph = tinyGraph();
  const bytes = writeModel(graph);
  t.equal(new TextDecoder().decode(bytes.subarray(4, 8)), 'TFL3');
  t.ok(isDeepStrictEqual(readModel(bytes), graph), 'readModel(writeModel(g)) deep-equals g');
  t.equal(bytes.byteOffset % 16, 0, 'output is 16-byte aligned in its ArrayBuffer');
  const again = readModel(bytes);
  for (const buffer of again.buffers.slice(1)) t.equal((buffer.data.byteOffset - bytes.byteOffset) % 16, 0, 'buffer data 16-byte aligned');
  // Float32Array views over written weights work without a copy.
  const weights = again.buffers[1]!.data;
  t.equal(new Float32Array(weights.buffer, weights.byteOffset, 12)[11], 5 / 8);
});

t.test('presence is kept where the IR records it', async (t) => {
  const graph = tinyGraph();
  const sg = graph.subgraphs[0]!;
  const variant: Graph = {
    ...graph,
    description: '',
    signatureDefs: [],
    subgraphs: [{
      ...sg,
      name: '',
      tensors: sg.tensors.map((x, i) => (i === 0 ? { ...x, quantization: { min: [], max: [], scale: [], zeroPoint: [], quantizedDimension: 0, details: null } } : x)),
      operators: sg.operators.map((op) => ({ ...op, intermediates: [], customOptions: new Uint8Array(0) })),
    }],
  };
  t.ok(isDeepStrictEqual(readModel(writeModel(variant)), variant));
  const none: Graph = { ...graph, signatureDefs: null };
  t.equal(readModel(writeModel(none)).signatureDefs, null);
});

t.test('operator codes: raw fields kept when consistent, canonical otherwise', async (t) => {
  const graph = tinyGraph();
  const old = { builtinCode: BuiltinOperator.FULLY_CONNECTED, rawBuiltinCode: 0, rawDeprecatedBuiltinCode: 9, customCode: '', version: 1 };
  const high = operatorCode(BuiltinOperator.STABLEHLO_CASE, 2);
  t.equal(high.rawDeprecatedBuiltinCode, 127);
  const changed = { ...old, builtinCode: BuiltinOperator.QUANTIZE }; // a pass changed the op but not the raw fields
  const read = readModel(writeModel({ ...graph, operatorCodes: [old, high, changed] }));
  t.same(read.operatorCodes[0], old);
  t.same(read.operatorCodes[1], high);
  t.same(read.operatorCodes[2], operatorCode(BuiltinOperator.QUANTIZE, 1));
});

// A value different from the default for every field type, so each field is really written.
function sampleValue(f: FieldDef, salt: number): unknown {
  if (f.kind === 'string') return f.vector ? ['a', `s${salt}`] : `name_${salt}`;
  if (f.enum !== undefined) {
    const values = Object.values((schema as unknown as Record<string, Record<string, number | bigint>>)[f.enum]!);
    const pick = values.find((v) => v !== f.default) ?? values[0];
    return f.vector ? [pick, values[0]] : pick;
  }
  const one = (): unknown => {
    switch (f.type!) {
      case 'bool': return !f.default;
      case 'int8': return -7;
      case 'uint8': return 200;
      case 'int16': return -300;
      case 'uint16': return 60000;
      case 'int32': return -123456 - salt;
      case 'uint32': return 4_000_000_000;
      case 'int64': return -(2n ** 40n) - BigInt(salt);
      case 'uint64': return 2n ** 63n + 5n;
      case 'float32': return 0.5;
      case 'float64': return 0.1;
    }
  };
  if (!f.vector) return one();
  if (f.type === 'uint8') return new Uint8Array([1, 2, 3, salt & 0xff]);
  return [one(), one()];
}

function sampleMember(table: string, salt: number): Record<string, unknown> {
  const value: Record<string, unknown> = { kind: table };
  for (const f of TABLES[table]!.fields) if (!f.deprecated) value[f.key] = sampleValue(f, salt);
  return value;
}

function optionsGraph(): Graph {
  const base = tinyGraph();
  const op = (builtinOptions: BuiltinOptions | null, builtinOptions2: BuiltinOptions2 | null): Operator => ({
    opcodeIndex: 0, inputs: [0], outputs: [0], intermediates: null, builtinOptions, builtinOptions2,
    customOptions: null, customOptionsFormat: 0, largeCustomOptions: false, mutatingVariableInputs: [], debugMetadataIndex: -1,
  });
  const operators: Operator[] = [];
  UNIONS['BuiltinOptions']!.members.forEach((m, i) => operators.push(op(sampleMember(m.table, i) as unknown as BuiltinOptions, null)));
  UNIONS['BuiltinOptions2']!.members.forEach((m, i) => operators.push(op(null, sampleMember(m.table, i) as unknown as BuiltinOptions2)));
  return {
    ...base,
    operatorCodes: [operatorCode(BuiltinOperator.CUSTOM, 1, 'Everything')],
    subgraphs: [{ name: 'options', tensors: [tensor('x', [1])], inputs: [0], outputs: [0], operators, debugMetadataIndex: -1 }],
    signatureDefs: null,
  };
}

t.test('every builtin options table round-trips', async (t) => {
  const graph = optionsGraph();
  const read = readModel(writeModel(graph));
  const ops = graph.subgraphs[0]!.operators;
  t.equal(ops.length, UNIONS['BuiltinOptions']!.members.length + UNIONS['BuiltinOptions2']!.members.length);
  const mismatched = ops.filter((op, i) => !isDeepStrictEqual(read.subgraphs[0]!.operators[i], op));
  t.same(mismatched, [], 'all options equal after the round trip');
});

t.test('flatc reads every builtin options table as we wrote it', { skip: sharedSkip('schema', 'schema.flatc2.fbs') || flatcSkip() }, async (t) => {
  const graph = optionsGraph();
  const dir = mkdtempSync(join(tmpdir(), 'litequant-options-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'options.tflite'), writeModel(graph));
  const run = spawnSync('flatc', ['--json', '--strict-json', '--raw-binary', '-o', dir, sharedPath('schema', 'schema.flatc2.fbs'), '--', join(dir, 'options.tflite')], { encoding: 'utf8' });
  t.equal(run.status, 0, run.stderr);
  const json = JSON.parse(readFileSync(join(dir, 'options.json'), 'utf8')) as { subgraphs: { operators: Record<string, unknown>[] }[] };
  const problems: string[] = [];
  graph.subgraphs[0]!.operators.forEach((op, i) => {
    const dumped = json.subgraphs[0]!.operators[i]!;
    const ours = (op.builtinOptions ?? op.builtinOptions2) as unknown as Record<string, unknown>;
    const suffix = op.builtinOptions === null ? '_2' : '';
    if (dumped[`builtin_options${suffix}_type`] !== ours['kind']) problems.push(`op ${i}: type ${String(dumped[`builtin_options${suffix}_type`])}`);
    const fields = (dumped[`builtin_options${suffix}`] ?? {}) as Record<string, unknown>;
    for (const f of TABLES[ours['kind'] as string]!.fields) {
      if (f.deprecated) continue;
      const expected = expectedJson(f, ours[f.key]);
      if (!isDeepStrictEqual(fields[f.name], expected)) {
        problems.push(`${String(ours['kind'])}.${f.name}: flatc ${JSON.stringify(fields[f.name])}, ours ${JSON.stringify(expected)}`);
      }
    }
  });
  t.same(problems, []);
});

// How flatc --strict-json prints a value we wrote: enums by name, 64-bit integers as numbers;
// absent when it is the default (writeModel omits those, flatc prints present fields only).
function expectedJson(f: FieldDef, value: unknown): unknown {
  if (!f.vector && f.default !== undefined && value === f.default) return undefined;
  const one = (v: unknown): unknown => {
    if (f.enum !== undefined) {
      const e = (schema as unknown as Record<string, Record<string, unknown>>)[f.enum]!;
      return Object.keys(e).find((k) => e[k] === v);
    }
    if (typeof v === 'bigint') return Number(v);
    return v;
  };
  if (value instanceof Uint8Array) return [...value];
  return Array.isArray(value) ? value.map(one) : one(value);
}

t.test('out-of-line buffers and custom options (the >2 GB layout)', async (t) => {
  const graph = tinyGraph();
  const sg = graph.subgraphs[0]!;
  const custom = new Uint8Array([9, 8, 7, 6, 5]);
  const outOfLine: Graph = {
    ...graph,
    buffers: graph.buffers.map((b) => ({ ...b, external: b.data.length > 0 })),
    subgraphs: [{ ...sg, operators: sg.operators.map((op, i) => (i === 1 ? { ...op, customOptions: custom, largeCustomOptions: true } : op)) }],
  };
  const bytes = writeModel(outOfLine);
  const read = readModel(bytes);
  t.ok(isDeepStrictEqual(read, outOfLine), 'round trip keeps data and placement');

  // The data sits after the flatbuffer, 16-byte aligned, where Buffer.offset says.
  const root = new FlatReader(bytes).root('model');
  const buffers = root.tables(Slot.Model.buffers, 'buffers', () => 'buffer')!;
  const weights = buffers[1]!;
  t.notOk(weights.has(Slot.Buffer.data), 'no inline data');
  const offset = Number(weights.uint64(Slot.Buffer.offset, 'offset'));
  t.equal(Number(weights.uint64(Slot.Buffer.size, 'size')), 48);
  t.equal(offset % 16, 0);
  t.ok(offset > root.pos, 'data after the flatbuffer');
  t.same([...bytes.subarray(offset, offset + 48)], [...graph.buffers[1]!.data]);
  t.equal(read.subgraphs[0]!.operators[1]!.largeCustomOptions, true);
  t.same([...read.subgraphs[0]!.operators[1]!.customOptions!], [...custom]);

  // Back to inline.
  const inline = { ...read, buffers: read.buffers.map((b) => ({ ...b, external: false })) };
  t.ok(isDeepStrictEqual(readModel(writeModel(inline)).buffers, inline.buffers));
});

t.test('values that do not fit their field are InvalidArgumentErrors naming the field', async (t) => {
  const graph = tinyGraph();
  const sg = graph.subgraphs[0]!;
  const withTensor = (i: number, change: Record<string, unknown>): Graph =>
    ({ ...graph, subgraphs: [{ ...sg, tensors: sg.tensors.map((x, j) => (j === i ? { ...x, ...change } : x)) }] }) as Graph;
  const code = 'ERR_LITEQUANT_INVALID_ARGUMENT';
  t.throws(() => writeModel(withTensor(1, { buffer: -1 })), { code, message: 'Expected an uint32 integer for graph.subgraphs[0].tensors[1].buffer but received -1' });
  t.throws(() => writeModel(withTensor(1, { shape: [3, 1.5] })), { code, message: /graph\.subgraphs\[0\]\.tensors\[1\]\.shape\[1\]/ });
  t.throws(() => writeModel(withTensor(1, { name: 7 })), { code, message: /tensors\[1\]\.name/ });
  t.throws(() => writeModel(withTensor(4, { quantization: { min: [], max: [], scale: ['x'], zeroPoint: [0.5], quantizedDimension: 0, details: null } })), { code, message: /quantization\.scale\[0\]/ });
  t.throws(() => writeModel(withTensor(4, { quantization: { min: [], max: [], scale: [1], zeroPoint: [2 ** 60], quantizedDimension: 0, details: null } })), { code, message: /quantization\.zeroPoint\[0\]/ });
  const withOp = (change: Record<string, unknown>): Graph =>
    ({ ...graph, subgraphs: [{ ...sg, operators: sg.operators.map((op, j) => (j === 0 ? { ...op, ...change } : op)) }] }) as Graph;
  t.throws(() => writeModel(withOp({ builtinOptions: { kind: 'NoSuchOptions' } })), { code, message: /builtinOptions/ });
  t.throws(() => writeModel(withOp({ builtinOptions: { ...sg.operators[0]!.builtinOptions!, fusedActivationFunction: 300 } })), { code, message: /builtinOptions\.fusedActivationFunction/ });
  t.throws(() => writeModel(withOp({ largeCustomOptions: true })), { code, message: /customOptions is null/ });
  t.throws(() => writeModel({ ...graph, buffers: [{ data: [1, 2] as unknown as Uint8Array, external: false }] }), { code, message: /graph\.buffers\[0\]\.data/ });
});

t.test('sparsity, variant subtypes and quantization details round-trip', async (t) => {
  const graph = tinyGraph();
  const sg = graph.subgraphs[0]!;
  const sparse: Graph = {
    ...graph,
    subgraphs: [{
      ...sg,
      tensors: sg.tensors.map((x, i) => {
        if (i === 1) {
          // Compressed weights: fewer bytes than the dense [3,4] shape needs, which is fine.
          return {
            ...x,
            sparsity: {
              traversalOrder: [0, 1],
              blockMap: null,
              dimMetadata: [
                { format: 0, denseSize: 3, arraySegments: null, arrayIndices: null },
                {
                  format: 1,
                  denseSize: 0,
                  arraySegments: { kind: 'Int32Vector', values: [0, 2, 3, 4] },
                  arrayIndices: { kind: 'Uint8Vector', values: new Uint8Array([0, 3, 1, 2]) },
                },
              ],
            },
          };
        }
        if (i === 3) return { ...x, variantTensors: [{ shape: [2, -1], type: 9, hasRank: true }, { shape: null, type: 0, hasRank: false }] };
        if (i === 4) {
          return { ...x, quantization: { ...x.quantization!, details: { kind: 'BlockwiseQuantization', scales: 1, zeroPoints: 2, blockSize: 32 } } };
        }
        return x;
      }),
    }],
  } as Graph;
  const shortWeights = { data: graph.buffers[1]!.data.subarray(0, 16), external: false };
  const withShort = { ...sparse, buffers: sparse.buffers.map((b, i) => (i === 1 ? shortWeights : b)) };
  t.ok(isDeepStrictEqual(readModel(writeModel(withShort)), withShort));
});
