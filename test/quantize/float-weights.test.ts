// The weight modes (lib/quantize/float-weights.ts): dynamic range (hybrid), float16, weight-only.
// - Structure on builder-made layers (FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D, BATCH_MATMUL;
//   a weight shared with an op without a hybrid kernel; a weight under minWeightElements; an
//   excluded op): types, scales and axes, op versions (TFLite's op_version.cc), DEQUANTIZE ops.
// - The files run in the official runtimes (the WASM oracle) and in ours:
//   float16 / weight-only outputs within 1e-6 + 1e-5·max|y| of the oracle's (float compute on the
//   same dequantized weights); hybrid outputs as test/runtime/models.test.ts compares them: the
//   two official runtimes differ on hybrid layers (LiteRT's XNNPACK quantizes rows its own way),
//   so ours must be no further from LiteRT than tfjs-tflite (TFLite's builtin kernels) is, plus
//   float rounding. Where tfjs-tflite cannot load the file (per-channel hybrid FULLY_CONNECTED
//   is version 12, TFLite 2.17) or our kernel is not TFLite's (DEPTHWISE_CONV_2D: ours runs the
//   float kernel on weights dequantized at load), within 2 % of the output's largest |y|, the
//   hybrid tolerance of test/runtime/ops.test.ts.
// - Real models (../shared): the AD autoencoder's reconstruction MSE against the official
//   dynamic-range twin, sizes, and every float model × every mode loads and runs officially.
// The modes are called directly on a GraphEditor; one test goes through quantize(). The hybrid
// LSTM's own tests are in lstm.test.ts.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import t, { type Test } from 'tap';

import { GraphBuilder, builtinOptions } from '../../lib/ir/builder.js';
import type { Graph } from '../../lib/ir/graph.js';
import { readNpy } from '../../lib/npy.js';
import { quantizeDynamic, quantizeFloat16, quantizeWeightOnly } from '../../lib/quantize/float-weights.js';
import { GraphEditor } from '../../lib/quantize/graph-edit.js';
import { quantize } from '../../lib/quantize/quantize.js';
import { resolveOptions, type ModeOutput } from '../../lib/quantize/options.js';
import type { QuantizeOptions } from '../../lib/quantize/types.js';
import { loadModel } from '../../lib/runtime/session.js';
import { float16ToFloat32 } from '../../lib/native/tensor-utils.js';
import { ActivationFunctionType as Act, BuiltinOperator as Op, Padding, TensorType } from '../../lib/tflite/schema.js';
import { readModel } from '../../lib/tflite/read.js';
import { writeModel } from '../../lib/tflite/write.js';
import { randF32 } from '../fixtures/op-suite.js';
import { runOracle, type OracleRuntime } from '../fixtures/oracle.js';
import { sharedModels, sharedPath, sharedSkip } from '../fixtures/shared.js';

type WeightMode = 'dynamic' | 'float16' | 'weight-only';
const MODES: readonly WeightMode[] = ['dynamic', 'float16', 'weight-only'];
const RTOL = 1e-5;
const ATOL = 1e-6;
/** Hybrid outputs where only LiteRT runs the file, or our kernel is not TFLite's: × max |y|. */
const HYBRID_TOLERANCE = 0.02;

interface Quantized {
  readonly graph: Graph;
  readonly bytes: Uint8Array;
  readonly out: ModeOutput;
}

function quantizeWith(model: Graph | Uint8Array, mode: WeightMode, extra: Partial<QuantizeOptions> = {}): Quantized {
  const editor = new GraphEditor(model instanceof Uint8Array ? readModel(model) : model);
  const out: ModeOutput = { diagnostics: [], ops: [], tensors: [] };
  const options = resolveOptions({ mode, ...extra });
  (mode === 'dynamic' ? quantizeDynamic : mode === 'float16' ? quantizeFloat16 : quantizeWeightOnly)(editor, options, out);
  const graph = editor.build();
  return { graph, bytes: writeModel(graph), out };
}

/** Values whose magnitude differs by output channel (so per-channel scales matter). */
function channelled(shape: readonly number[], axis: number, seed: number): Float32Array {
  const n = shape.reduce((a, d) => a * d, 1);
  const inner = shape.slice(axis + 1).reduce((a, d) => a * d, 1);
  const channels = shape[axis]!;
  return randF32(n, seed, -1, 1).map((v, i) => v * (0.05 + (Math.floor(i / inner) % channels) * 0.1));
}

// ---------------------------------------------------------------------------------------------
// Builder models.

function fcModel(opts: { units?: number; inSize?: number; exclude?: boolean; bias?: boolean } = {}): Graph {
  const units = opts.units ?? 32;
  const inSize = opts.inSize ?? 64;
  const b = new GraphBuilder();
  const x = b.input({ name: 'x', type: TensorType.FLOAT32, shape: [3, inSize] });
  const w = b.tensor({ name: 'fc/weights', type: TensorType.FLOAT32, shape: [units, inSize], data: channelled([units, inSize], 0, 1) });
  const bias = b.tensor({ name: 'fc/bias', type: TensorType.FLOAT32, shape: [units], data: randF32(units, 2, -0.5, 0.5) });
  const y = b.tensor({ name: 'fc/out', type: TensorType.FLOAT32, shape: [3, units] });
  b.op(Op.FULLY_CONNECTED, opts.bias === false ? [x, w] : [x, w, bias], [y], {
    options: builtinOptions('FullyConnectedOptions', { fusedActivationFunction: Act.RELU }),
  });
  b.output(y);
  return b.build();
}

/** CONV_2D, DEPTHWISE_CONV_2D and BATCH_MATMUL side by side (three inputs, three outputs). */
function convModel(): Graph {
  const b = new GraphBuilder();
  const f = TensorType.FLOAT32;
  const x1 = b.input({ name: 'conv/in', type: f, shape: [1, 10, 10, 8] });
  const cw = b.tensor({ name: 'conv/filter', type: f, shape: [16, 3, 3, 8], data: channelled([16, 3, 3, 8], 0, 3) });
  const cb = b.tensor({ name: 'conv/bias', type: f, shape: [16], data: randF32(16, 4, -0.2, 0.2) });
  const y1 = b.tensor({ name: 'conv/out', type: f, shape: [1, 5, 5, 16] });
  b.op(Op.CONV_2D, [x1, cw, cb], [y1], {
    options: builtinOptions('Conv2DOptions', { padding: Padding.SAME, strideH: 2, strideW: 2, fusedActivationFunction: Act.RELU }),
  });
  const x2 = b.input({ name: 'dw/in', type: f, shape: [1, 6, 6, 64] });
  const dw = b.tensor({ name: 'dw/filter', type: f, shape: [1, 3, 3, 128], data: channelled([1, 3, 3, 128], 3, 5) });
  const db = b.tensor({ name: 'dw/bias', type: f, shape: [128], data: randF32(128, 6, -0.2, 0.2) });
  const y2 = b.tensor({ name: 'dw/out', type: f, shape: [1, 6, 6, 128] });
  b.op(Op.DEPTHWISE_CONV_2D, [x2, dw, db], [y2], {
    options: builtinOptions('DepthwiseConv2DOptions', { padding: Padding.SAME, strideH: 1, strideW: 1, depthMultiplier: 2 }),
  });
  const x3 = b.input({ name: 'bmm/lhs', type: f, shape: [2, 5, 64] });
  const rhs = b.tensor({ name: 'bmm/rhs', type: f, shape: [64, 32], data: channelled([64, 32], 0, 7) });
  const y3 = b.tensor({ name: 'bmm/out', type: f, shape: [2, 5, 32] });
  b.op(Op.BATCH_MATMUL, [x3, rhs], [y3], { options: builtinOptions('BatchMatMulOptions', {}) });
  b.output(y1, y2, y3);
  return b.build();
}

/** A FULLY_CONNECTED whose weights an ADD also reads (no hybrid ADD: it needs a DEQUANTIZE). */
function sharedModel(): Graph {
  const b = new GraphBuilder();
  const f = TensorType.FLOAT32;
  const x = b.input({ name: 'x', type: f, shape: [3, 64] });
  const other = b.input({ name: 'other', type: f, shape: [32, 64] });
  const w = b.tensor({ name: 'shared/weights', type: f, shape: [32, 64], data: channelled([32, 64], 0, 8) });
  const bias = b.tensor({ name: 'fc/bias', type: f, shape: [32], data: randF32(32, 9, -0.5, 0.5) });
  const y = b.tensor({ name: 'fc/out', type: f, shape: [3, 32] });
  const z = b.tensor({ name: 'add/out', type: f, shape: [32, 64] });
  b.op(Op.FULLY_CONNECTED, [x, w, bias], [y], { options: builtinOptions('FullyConnectedOptions', {}) });
  b.op(Op.ADD, [other, w], [z], { options: builtinOptions('AddOptions', {}) });
  b.output(y, z);
  return b.build();
}

/** Two FULLY_CONNECTED layers reading the same weights (for exclusion), then a small one. */
function twoLayerModel(): Graph {
  const b = new GraphBuilder();
  const f = TensorType.FLOAT32;
  const x = b.input({ name: 'x', type: f, shape: [2, 64] });
  const w = b.tensor({ name: 'square/weights', type: f, shape: [64, 64], data: channelled([64, 64], 0, 10) });
  const h1 = b.tensor({ name: 'layer0/out', type: f, shape: [2, 64] });
  const h2 = b.tensor({ name: 'layer1/out', type: f, shape: [2, 64] });
  const small = b.tensor({ name: 'small/weights', type: f, shape: [8, 64], data: channelled([8, 64], 0, 11) });
  const y = b.tensor({ name: 'layer2/out', type: f, shape: [2, 8] });
  const fc = { options: builtinOptions('FullyConnectedOptions', { fusedActivationFunction: Act.RELU }) };
  b.op(Op.FULLY_CONNECTED, [x, w, -1], [h1], fc);
  b.op(Op.FULLY_CONNECTED, [h1, w, -1], [h2], fc);
  b.op(Op.FULLY_CONNECTED, [h2, small, -1], [y], fc);
  b.output(y);
  return b.build();
}

function inputsOf(graph: Graph, seed: number): Float32Array[] {
  const sg = graph.subgraphs[0]!;
  return sg.inputs.map((i, k) => randF32(sg.tensors[i]!.shape.reduce((a, d) => a * d, 1), seed + k, -1, 2));
}

// ---------------------------------------------------------------------------------------------
// Running and comparing.

async function runOurs(bytes: Uint8Array, samples: readonly Float32Array[][]): Promise<{ outputs: Float32Array[][]; impls: string[] }> {
  const session = await loadModel(bytes, { worker: false });
  try {
    const outputs: Float32Array[][] = [];
    for (const sample of samples) outputs.push((await session.run(sample)) as Float32Array[]);
    return { outputs, impls: session.steps.map((s) => `${s.op}: ${s.impl}`) };
  } finally {
    await session.close();
  }
}

async function runOfficial(bytes: Uint8Array, samples: readonly Float32Array[][], runtime: OracleRuntime): Promise<Float32Array[][]> {
  const { outputs } = await runOracle(bytes, samples, { runtime, timeoutMs: 180_000 });
  return outputs.map((o) => o.map((x) => x.data as Float32Array));
}

/**
 * Float compute on the same weights: every value within ATOL + RTOL·max|y| of the oracle's (max
 * over the output). Relative to the output's scale, not to each value: the kernels sum in
 * another order than XNNPACK, and where a sum cancels to near zero the difference is that of
 * the large partial sums (the float models themselves show it: up to 4x of RTOL·|y| on random
 * inputs, 5e-7 of max|y|).
 */
function checkClose(t: Test, ours: Float32Array[][], theirs: Float32Array[][], label: string): void {
  let worst = 0;
  let count = 0;
  theirs.forEach((sample, s) =>
    sample.forEach((want, o) => {
      const got = ours[s]?.[o];
      if (got?.length !== want.length) worst = Infinity; // a missing output or a wrong length fails
      const bound = ATOL + RTOL * want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      for (let i = 0; i < want.length; i++) {
        const d = Math.abs((got?.[i] ?? NaN) - want[i]!) / bound;
        worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
      }
      count += want.length;
    }),
  );
  t.ok(worst <= 1, `${label}: ${count} values within ${RTOL}·max|y| + ${ATOL} of the official runtime (worst ${worst.toFixed(3)} of it)`);
}

/**
 * Hybrid outputs, per graph output: |ours - LiteRT| <= max|tfjs-tflite - LiteRT| (the measured
 * difference between the two official runtimes) + float rounding; with `loose` (or no
 * tfjs-tflite run), <= HYBRID_TOLERANCE·max|y|.
 */
function checkHybrid(t: Test, ours: Float32Array[][], litert: Float32Array[][], tfjs: Float32Array[][] | null, label: string, loose: ReadonlySet<number> = new Set()): void {
  const outputs = litert[0]!.length;
  for (let o = 0; o < outputs; o++) {
    let maxY = 0;
    let oursVsLitert = 0;
    let runtimes = 0;
    litert.forEach((sample, s) => {
      const want = sample[o]!;
      const got = ours[s]![o]!;
      for (let i = 0; i < want.length; i++) {
        maxY = Math.max(maxY, Math.abs(want[i]!));
        oursVsLitert = Math.max(oursVsLitert, Math.abs(got[i]! - want[i]!));
        if (tfjs !== null) runtimes = Math.max(runtimes, Math.abs(tfjs[s]![o]![i]! - want[i]!));
      }
    });
    const bound =
      tfjs === null || loose.has(o) ? HYBRID_TOLERANCE * maxY : runtimes + ATOL + RTOL * maxY;
    const how = tfjs === null || loose.has(o) ? `${HYBRID_TOLERANCE}·max|y|` : `max |tfjs-tflite - LiteRT| ${runtimes.toPrecision(3)} + rounding`;
    t.ok(oursVsLitert <= bound, `${label} output ${o}: max |ours - LiteRT| ${oursVsLitert.toPrecision(3)} <= ${bound.toPrecision(3)} (${how})`);
  }
}

function tensorNamed(graph: Graph, name: string) {
  const found = graph.subgraphs[0]!.tensors.find((x) => x.name === name);
  if (found === undefined) throw new Error(`no tensor ${name}`);
  return found;
}

function opsOf(graph: Graph): { name: string; version: number; inputs: string[]; outputs: string[] }[] {
  const sg = graph.subgraphs[0]!;
  const names = Object.fromEntries(Object.entries(Op).map(([k, v]) => [v, k]));
  return sg.operators.map((op) => {
    const code = graph.operatorCodes[op.opcodeIndex]!;
    return {
      name: names[code.builtinCode] ?? String(code.builtinCode),
      version: code.version,
      inputs: op.inputs.map((i) => (i < 0 ? '-' : sg.tensors[i]!.name)),
      outputs: op.outputs.map((i) => sg.tensors[i]!.name),
    };
  });
}

/** The float values an int8 tensor stands for. */
function dequantized(graph: Graph, name: string): Float32Array {
  const tensor = tensorNamed(graph, name);
  const bytes = graph.buffers[tensor.buffer]!.data;
  const q = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  const scales = tensor.quantization!.scale;
  const axis = tensor.quantization!.quantizedDimension;
  const inner = tensor.shape.slice(axis + 1).reduce((a, d) => a * d, 1);
  return Float32Array.from(q, (v, i) => v * scales[scales.length === 1 ? 0 : Math.floor(i / inner) % tensor.shape[axis]!]!);
}

function floatData(graph: Graph, name: string): Float32Array {
  const bytes = graph.buffers[tensorNamed(graph, name).buffer]!.data;
  return new Float32Array(bytes.slice().buffer);
}

// ---------------------------------------------------------------------------------------------
// dynamic: structure.

t.test('dynamic: FULLY_CONNECTED hybrid, per-channel (version 12) and per-tensor (version 3)', (t) => {
  const model = fcModel();
  const original = floatData(model, 'fc/weights');
  for (const perChannel of [true, false]) {
    const { graph, out } = quantizeWith(model, 'dynamic', { perChannel });
    const w = tensorNamed(graph, 'fc/weights');
    const label = perChannel ? 'per-channel' : 'per-tensor';
    t.equal(w.type, TensorType.INT8, `${label}: weights int8`);
    t.equal(w.quantization!.scale.length, perChannel ? 32 : 1, `${label}: scales`);
    t.equal(w.quantization!.quantizedDimension, 0, `${label}: axis 0`);
    t.ok(w.quantization!.zeroPoint.every((z) => z === 0), `${label}: symmetric`);
    const q = new Int8Array(graph.buffers[w.buffer]!.data.slice().buffer);
    t.ok(q.every((v) => v >= -127 && v <= 127), `${label}: values in [-127, 127]`);
    const back = dequantized(graph, 'fc/weights');
    const scales = w.quantization!.scale;
    t.ok(back.every((v, i) => Math.abs(v - original[i]!) <= scales[perChannel ? Math.floor(i / 64) : 0]! / 2 + 1e-7), `${label}: within half a step of the float weights`);
    t.equal(tensorNamed(graph, 'fc/bias').type, TensorType.FLOAT32, `${label}: bias stays float32`);
    t.same(opsOf(graph).map((o) => [o.name, o.version]), [['FULLY_CONNECTED', perChannel ? 12 : 3]], `${label}: op version`);
    const fcOptions = graph.subgraphs[0]!.operators[0]!.builtinOptions;
    t.equal(fcOptions?.kind === 'FullyConnectedOptions' && fcOptions.asymmetricQuantizeInputs, false, `${label}: asymmetric_quantize_inputs left false (as the official dynamic twin)`);
    t.same(out.ops, [{ index: 0, op: 'FULLY_CONNECTED', how: `hybrid, int8 weights ${perChannel ? 'per channel (axis 0)' : 'per tensor'}` }], `${label}: op report`);
    t.equal(out.tensors.length, 1, `${label}: one tensor report`);
    t.match(out.tensors[0], { name: 'fc/weights', type: 'INT8', axis: perChannel ? 0 : null, scale: scales });
    t.same(out.diagnostics, [], `${label}: no diagnostics`);
  }
  // No bias: version 6 per tensor (op_version.cc: two inputs), still 12 per channel.
  t.same(opsOf(quantizeWith(fcModel({ bias: false }), 'dynamic', { perChannel: false }).graph).map((o) => o.version), [6], 'no bias, per-tensor: version 6');
  t.same(opsOf(quantizeWith(fcModel({ bias: false }), 'dynamic').graph).map((o) => o.version), [12], 'no bias, per-channel: version 12');
  t.end();
});

t.test('dynamic: CONV_2D (axis 0), DEPTHWISE_CONV_2D (axis 3), BATCH_MATMUL (per tensor): types and versions', (t) => {
  for (const perChannel of [true, false]) {
    const { graph } = quantizeWith(convModel(), 'dynamic', { perChannel });
    const label = perChannel ? 'per-channel' : 'per-tensor';
    const conv = tensorNamed(graph, 'conv/filter');
    const dw = tensorNamed(graph, 'dw/filter');
    const rhs = tensorNamed(graph, 'bmm/rhs');
    t.same([conv.type, dw.type, rhs.type], [TensorType.INT8, TensorType.INT8, TensorType.INT8], `${label}: weights int8`);
    t.same([conv.quantization!.scale.length, conv.quantization!.quantizedDimension], perChannel ? [16, 0] : [1, 0], `${label}: CONV_2D scales`);
    // TFLite's hybrid depthwise kernel reads one scale per channel: per channel even with perChannel: false.
    t.same([dw.quantization!.scale.length, dw.quantization!.quantizedDimension], [128, 3], `${label}: DEPTHWISE_CONV_2D scales (always per channel)`);
    t.same(rhs.quantization!.scale.length, 1, `${label}: BATCH_MATMUL per tensor`);
    t.same([tensorNamed(graph, 'conv/bias').type, tensorNamed(graph, 'dw/bias').type], [TensorType.FLOAT32, TensorType.FLOAT32], `${label}: biases float32`);
    t.same(
      opsOf(graph).map((o) => [o.name, o.version]),
      [
        ['CONV_2D', perChannel ? 5 : 2],
        ['DEPTHWISE_CONV_2D', 6],
        ['BATCH_MATMUL', 1],
      ],
      `${label}: hybrid versions`,
    );
  }
  t.end();
});

t.test('dynamic: a weight also read by an op without a hybrid kernel gets a DEQUANTIZE in front of that op', (t) => {
  const { graph, out } = quantizeWith(sharedModel(), 'dynamic');
  const ops = opsOf(graph);
  t.same(
    ops.map((o) => [o.name, o.version, o.inputs]),
    [
      ['DEQUANTIZE', 5, ['shared/weights']],
      ['FULLY_CONNECTED', 12, ['x', 'shared/weights', 'fc/bias']],
      ['ADD', 1, ['other', 'shared/weights_dequantized']],
    ],
    'FULLY_CONNECTED reads the int8 weights, ADD their float32 view (per-channel DEQUANTIZE: version 5)',
  );
  t.equal(tensorNamed(graph, 'shared/weights_dequantized').type, TensorType.FLOAT32);
  t.match(out.diagnostics, [{ level: 'info', code: 'dequantize-inserted', op: 1, tensor: 'shared/weights' }]);
  t.end();
});

t.test('dynamic: small weights stay float; excluded ops stay float and read the original weights', (t) => {
  const { graph, out } = quantizeWith(twoLayerModel(), 'dynamic', { exclude: [1] });
  t.same(
    opsOf(graph).map((o) => [o.name, o.version, o.inputs[1]]),
    [
      ['FULLY_CONNECTED', 12, 'square/weights'],
      ['FULLY_CONNECTED', 1, 'square/weights_float'],
      ['FULLY_CONNECTED', 1, 'small/weights'],
    ],
    'layer 0 hybrid; layer 1 (excluded) on a float32 copy; layer 2 (512 weights < 1024) float',
  );
  t.equal(tensorNamed(graph, 'square/weights').type, TensorType.INT8);
  t.same(floatData(graph, 'square/weights_float'), floatData(twoLayerModel(), 'square/weights'), 'the excluded layer reads the original values');
  t.equal(tensorNamed(graph, 'small/weights').type, TensorType.FLOAT32);
  t.same(
    out.ops.map((o) => [o.index, o.how]),
    [
      [0, 'hybrid, int8 weights per channel (axis 0)'],
      [1, 'float (excluded)'],
      [2, 'float (small weights)'],
    ],
  );
  t.match(out.diagnostics, [
    { level: 'info', code: 'weight-left-float', tensor: 'small/weights', message: /512 elements, fewer than options.minWeightElements \(1024\)/ },
    { level: 'info', code: 'op-left-float', op: 1, message: /excluded/ },
  ]);
  // minWeightElements lowers the threshold; exclusion by name pattern or op name.
  const all = quantizeWith(twoLayerModel(), 'dynamic', { minWeightElements: 0, exclude: [/layer1/] });
  t.same(opsOf(all.graph).map((o) => o.version), [12, 1, 12], 'minWeightElements 0: the small layer too; /layer1/ excluded');
  const none = quantizeWith(twoLayerModel(), 'dynamic', { exclude: ['FULLY_CONNECTED'] });
  t.same(opsOf(none.graph).map((o) => [o.version, o.inputs[1]]), [[1, 'square/weights'], [1, 'square/weights'], [1, 'small/weights']], 'every layer excluded: model unchanged');
  t.equal(none.out.tensors.length, 0);
  t.end();
});

t.test('dynamic: an op with weights but no hybrid kernel stays float (an error with strict)', (t) => {
  const b = new GraphBuilder();
  const f = TensorType.FLOAT32;
  const shape = b.tensor({ name: 'shape', type: TensorType.INT32, shape: [4], data: Int32Array.of(1, 8, 8, 16) });
  const w = b.tensor({ name: 'tconv/weights', type: f, shape: [16, 3, 3, 32], data: randF32(4608, 12) });
  const x = b.input({ name: 'x', type: f, shape: [1, 4, 4, 32] });
  const y = b.tensor({ name: 'y', type: f, shape: [1, 8, 8, 16] });
  b.op(Op.TRANSPOSE_CONV, [shape, w, x], [y], { options: builtinOptions('TransposeConvOptions', { padding: Padding.SAME, strideH: 2, strideW: 2 }) });
  b.output(y);
  const { graph, out } = quantizeWith(b.build(), 'dynamic');
  t.equal(tensorNamed(graph, 'tconv/weights').type, TensorType.FLOAT32, 'weights stay float32');
  t.match(out.diagnostics, [{ level: 'info', code: 'op-left-float', op: 0, message: /TRANSPOSE_CONV stays float: the runtime has no hybrid kernel/ }]);
  t.same(out.ops, [{ index: 0, op: 'TRANSPOSE_CONV', how: 'float (no hybrid kernel)' }]);
  t.throws(() => quantizeWith(b.build(), 'dynamic', { strict: true }), { code: 'ERR_LITEQUANT_UNSUPPORTED_OPERATOR', message: /TRANSPOSE_CONV \(operator 0\)/ });
  // weight-only and float16 do convert it (float compute through DEQUANTIZE).
  t.equal(tensorNamed(quantizeWith(b.build(), 'weight-only').graph, 'tconv/weights').type, TensorType.INT8);
  t.equal(tensorNamed(quantizeWith(b.build(), 'float16').graph, 'tconv/weights').type, TensorType.FLOAT16);
  t.end();
});

t.test('weights with NaN/Infinity, or beyond float16, stay float32 with a warning; an aborted signal throws', (t) => {
  const bad = fcModel();
  const w = bad.subgraphs[0]!.tensors.find((x) => x.name === 'fc/weights')!;
  const values = new Float32Array(bad.buffers[w.buffer]!.data.slice().buffer);
  values[5] = Number.NaN;
  const nanModel = { ...bad, buffers: bad.buffers.map((b, i) => (i === w.buffer ? { ...b, data: new Uint8Array(values.buffer) } : b)) };
  for (const mode of MODES) {
    const { graph, out } = quantizeWith(nanModel, mode);
    t.equal(tensorNamed(graph, 'fc/weights').type, TensorType.FLOAT32, `${mode}: NaN weights stay float32`);
    t.match(out.diagnostics, [{ level: 'warning', code: 'weight-left-float', tensor: 'fc/weights', message: /NaN or Infinity/ }], `${mode}: warning`);
  }
  values[5] = 70000;
  const hugeModel = { ...bad, buffers: bad.buffers.map((b, i) => (i === w.buffer ? { ...b, data: new Uint8Array(values.buffer) } : b)) };
  const huge = quantizeWith(hugeModel, 'float16');
  t.equal(tensorNamed(huge.graph, 'fc/weights').type, TensorType.FLOAT32, 'float16: |w| > 65504 stays float32');
  t.equal(tensorNamed(huge.graph, 'fc/bias').type, TensorType.FLOAT16, 'float16: the bias still converts');
  t.match(huge.out.diagnostics, [{ level: 'warning', code: 'weight-left-float', message: /exceed float16's range/ }]);

  const controller = new AbortController();
  controller.abort();
  t.throws(() => quantizeWith(fcModel(), 'dynamic', { signal: controller.signal }), { name: 'AbortError' });
  t.end();
});

// ---------------------------------------------------------------------------------------------
// float16 and weight-only: structure.

t.test('float16: weights and biases stored as float16 behind DEQUANTIZE (version 3)', (t) => {
  const model = convModel();
  const { graph, out } = quantizeWith(model, 'float16');
  const ops = opsOf(graph);
  const dequantize = ops.filter((o) => o.name === 'DEQUANTIZE');
  t.same(
    dequantize.map((o) => [o.version, o.inputs[0]]),
    [
      [3, 'conv/filter'],
      [3, 'conv/bias'],
      [3, 'dw/filter'],
      [3, 'dw/bias'],
      [3, 'bmm/rhs'],
    ],
    'one DEQUANTIZE per constant, first in the graph',
  );
  t.same(ops.slice(5).map((o) => [o.name, o.version, o.inputs.slice(1)]), [
    ['CONV_2D', 1, ['conv/filter_dequantized', 'conv/bias_dequantized']],
    ['DEPTHWISE_CONV_2D', 1, ['dw/filter_dequantized', 'dw/bias_dequantized']],
    ['BATCH_MATMUL', 1, ['bmm/rhs_dequantized']],
  ]);
  for (const name of ['conv/filter', 'conv/bias', 'dw/filter', 'dw/bias', 'bmm/rhs']) {
    const tensor = tensorNamed(graph, name);
    const bytes = graph.buffers[tensor.buffer]!.data;
    const back = float16ToFloat32(new Uint16Array(bytes.slice().buffer));
    const want = floatData(model, name);
    const ok = tensor.type === TensorType.FLOAT16 && tensor.quantization === null && back.every((v, i) => Math.abs(v - want[i]!) <= Math.abs(want[i]!) * 2 ** -11 + 2 ** -24);
    t.ok(ok, `${name}: float16, round to nearest`);
  }
  t.equal(out.tensors.length, 5);
  t.same(out.ops.map((o) => o.how), ['float, float16 weights, dequantized', 'float, float16 weights, dequantized', 'float, float16 weights, dequantized']);
  t.end();
});

t.test('weight-only: int8 weights behind DEQUANTIZE (per channel: version 5), biases float32', (t) => {
  const { graph, out } = quantizeWith(convModel(), 'weight-only');
  const ops = opsOf(graph);
  t.same(
    ops.map((o) => [o.name, o.version, o.inputs.slice(0, 2)]),
    [
      ['DEQUANTIZE', 5, ['conv/filter']],
      ['DEQUANTIZE', 5, ['dw/filter']],
      ['DEQUANTIZE', 5, ['bmm/rhs']],
      ['CONV_2D', 1, ['conv/in', 'conv/filter_dequantized']],
      ['DEPTHWISE_CONV_2D', 1, ['dw/in', 'dw/filter_dequantized']],
      ['BATCH_MATMUL', 1, ['bmm/lhs', 'bmm/rhs_dequantized']],
    ],
  );
  t.same(
    ['conv/filter', 'dw/filter', 'bmm/rhs'].map((n) => [tensorNamed(graph, n).quantization!.scale.length, tensorNamed(graph, n).quantization!.quantizedDimension]),
    [
      [16, 0],
      [128, 3],
      [32, 1],
    ],
    'per-channel axes: CONV_2D 0, DEPTHWISE_CONV_2D 3, BATCH_MATMUL the columns of its right-hand side',
  );
  t.equal(tensorNamed(graph, 'conv/bias').type, TensorType.FLOAT32);
  t.same(out.ops.map((o) => o.how), [
    'float, int8 weights per channel (axis 0), dequantized',
    'float, int8 weights per channel (axis 3), dequantized',
    'float, int8 weights per channel (axis 1), dequantized',
  ]);
  const perTensor = quantizeWith(convModel(), 'weight-only', { perChannel: false });
  t.same(opsOf(perTensor.graph).slice(0, 3).map((o) => o.version), [2, 2, 2], 'per tensor: DEQUANTIZE version 2');
  t.end();
});

t.test('through quantize(): each weight mode on a builder model', async (t) => {
  const bytes = writeModel(convModel());
  for (const mode of MODES) {
    const { model, diagnostics, report } = await quantize(bytes, { mode });
    t.equal(report.mode, mode);
    t.ok(report.sizeAfter < report.sizeBefore, `${mode}: ${report.sizeBefore} B -> ${report.sizeAfter} B`);
    t.equal(report.ops.length, 3, `${mode}: the three layers reported`);
    t.equal(report.tensors.length, mode === 'float16' ? 5 : 3, `${mode}: converted tensors reported`);
    t.same(diagnostics, [], `${mode}: no diagnostics`);
    t.same(model, quantizeWith(convModel(), mode).bytes, `${mode}: the same bytes as the mode alone`);
  }
});

// ---------------------------------------------------------------------------------------------
// The files run in the official runtimes and in ours.

t.test('builder models × modes: official runtimes and ours', async (t) => {
  const cases: { name: string; model: Graph; opts?: Partial<QuantizeOptions>; loose?: number[] }[] = [
    // DEPTHWISE_CONV_2D (output 1): ours runs the float kernel on weights dequantized at load.
    { name: 'CONV_2D + DEPTHWISE_CONV_2D + BATCH_MATMUL', model: convModel(), loose: [1] },
    { name: 'CONV_2D + DEPTHWISE_CONV_2D + BATCH_MATMUL per-tensor', model: convModel(), opts: { perChannel: false }, loose: [1] },
    { name: 'FULLY_CONNECTED', model: fcModel() },
    { name: 'FULLY_CONNECTED per-tensor', model: fcModel(), opts: { perChannel: false } },
    { name: 'shared weight (FULLY_CONNECTED + ADD)', model: sharedModel() },
    { name: 'shared weight per-tensor', model: sharedModel(), opts: { perChannel: false } },
    { name: 'excluded and small layers', model: twoLayerModel(), opts: { exclude: [1] } },
  ];
  for (const c of cases) {
    const samples = [inputsOf(c.model, 20), inputsOf(c.model, 30)];
    for (const mode of MODES) {
      if (mode !== 'dynamic' && c.opts?.perChannel === false) continue;
      const { bytes, graph } = quantizeWith(c.model, mode, c.opts);
      const label = `${c.name}, ${mode}`;
      // Per-channel hybrid FULLY_CONNECTED (version 12) needs TFLite 2.17: tfjs-tflite (2023) refuses it.
      const fcV12 = opsOf(graph).some((o) => o.name === 'FULLY_CONNECTED' && o.version === 12);
      const [ours, litert, tfjs] = await Promise.all([
        runOurs(bytes, samples),
        runOfficial(bytes, samples, 'litert'),
        fcV12 ? Promise.resolve(null) : runOfficial(bytes, samples, 'tfjs-tflite'),
      ]);
      if (mode === 'dynamic') {
        t.ok(ours.impls.some((s) => /hybrid/.test(s)), `${label}: ours runs hybrid kernels (${ours.impls.join('; ')})`);
        checkHybrid(t, ours.outputs, litert, tfjs, label, new Set(c.loose ?? []));
      } else {
        t.ok(
          ours.impls.filter((s) => s.startsWith('DEQUANTIZE')).every((s) => /folded at load/.test(s)),
          `${label}: every DEQUANTIZE of a constant folded at load in ours`,
        );
        t.notOk(ours.impls.some((s) => /hybrid|int8/.test(s)), `${label}: float kernels in ours`);
        checkClose(t, ours.outputs, litert, `${label} vs LiteRT`);
        if (tfjs !== null) checkClose(t, ours.outputs, tfjs, `${label} vs tfjs-tflite`);
      }
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Real models (../shared).

function readShared(...parts: string[]): Uint8Array {
  return new Uint8Array(readFileSync(sharedPath(...parts)));
}

const AD = 'ad01_fc_autoencoder_float.tflite';
const AD_TWIN = 'ad01_fc_autoencoder_dynrange_official.tflite';

interface Diff {
  /** max |a - b| over every value. */
  readonly maxAbs: number;
  /** max over windows of |MSE_a - MSE_b|: the anomaly score (reconstruction error of the window). */
  readonly maxScore: number;
}

/** Differences between two runs on the same windows, as test/runtime/models.test.ts measures them. */
function diff(a: readonly Float32Array[][], b: readonly Float32Array[][], windows: readonly Float32Array[]): Diff {
  let maxAbs = 0;
  let maxScore = 0;
  a.forEach((outs, s) => {
    const x = outs[0]!;
    const y = b[s]![0]!;
    const input = windows[s]!;
    let mseA = 0;
    let mseB = 0;
    for (let i = 0; i < x.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(x[i]! - y[i]!));
      mseA += (x[i]! - input[i]!) ** 2;
      mseB += (y[i]! - input[i]!) ** 2;
    }
    maxScore = Math.max(maxScore, Math.abs(mseA - mseB) / x.length);
  });
  return { maxAbs, maxScore };
}

const show = (d: Diff): string => `max abs ${d.maxAbs.toPrecision(3)}, max score difference ${d.maxScore.toPrecision(3)}`;

t.test('AD autoencoder dynamic: reconstruction MSE on the 196 ToyCar windows vs the official dynamic-range twin', {
  skip: sharedSkip('models', AD) || sharedSkip('models', AD_TWIN) || sharedSkip('data', 'toycar_196_x.npy'),
}, async (t) => {
  const npy = readNpy(readShared('data', 'toycar_196_x.npy'));
  const data = npy.data as Float32Array;
  const windows = Array.from({ length: 196 }, (_, s) => data.slice(s * 640, (s + 1) * 640));
  const samples = windows.map((w) => [w]);
  // The anomaly score of a window: mean squared error of its reconstruction; averaged over windows.
  const meanMse = (outs: Float32Array[][]) =>
    outs.reduce((sum, o, s) => sum + o[0]!.reduce((a, v, i) => a + (v - windows[s]![i]!) ** 2, 0) / 640, 0) / outs.length;
  const float = readShared('models', AD);
  const twinBytes = readShared('models', AD_TWIN);
  const perTensor = quantizeWith(float, 'dynamic', { perChannel: false });
  const perChannel = quantizeWith(float, 'dynamic');
  const [twin, ptLitert, pcLitert, floatLitert, ptTfjs, ptOurs, pcOurs] = await Promise.all([
    runOfficial(twinBytes, samples, 'litert'),
    runOfficial(perTensor.bytes, samples, 'litert'),
    runOfficial(perChannel.bytes, samples, 'litert'),
    runOfficial(float, samples, 'litert'),
    runOfficial(perTensor.bytes, samples, 'tfjs-tflite'),
    runOurs(perTensor.bytes, samples).then((r) => r.outputs),
    runOurs(perChannel.bytes, samples).then((r) => r.outputs),
  ]);
  const m = { twin: meanMse(twin), pt: meanMse(ptLitert), pc: meanMse(pcLitert), float: meanMse(floatLitert) };
  t.comment(`LiteRT mean MSE: float ${m.float.toFixed(4)}, official twin ${m.twin.toFixed(4)}, ours per-tensor ${m.pt.toFixed(4)}, ours per-channel ${m.pc.toFixed(4)}`);
  t.comment(`our runtime mean MSE: per-tensor ${meanMse(ptOurs).toFixed(4)}, per-channel ${meanMse(pcOurs).toFixed(4)}; tfjs-tflite per-tensor ${meanMse(ptTfjs).toFixed(4)}`);
  t.ok(Math.abs(m.pt - m.twin) <= 0.01 * m.twin, `per-tensor (the twin's layout): ${m.pt.toFixed(4)} within 1 % of the twin's ${m.twin.toFixed(4)}`);
  t.ok(m.pc <= m.twin * 1.01, `per-channel (default): ${m.pc.toFixed(4)} no worse than the twin's ${m.twin.toFixed(4)} (+1 %)`);
  t.same(
    opsOf(perTensor.graph).map((o) => [o.name, o.version]),
    opsOf(readModel(twinBytes)).map((o) => [o.name, o.version]),
    "per-tensor: the twin's ops and versions (FULLY_CONNECTED v3)",
  );

  // Ours against the official runtimes, as test/runtime/models.test.ts compares the twin: ours is
  // TFLite's builtin hybrid kernel (tfjs-tflite) bit for bit, and no further from LiteRT than
  // tfjs-tflite is. tfjs-tflite cannot load the per-channel file (FULLY_CONNECTED v12): ours is
  // held to the difference the two official runtimes show on the per-tensor file.
  const runtimes = diff(ptTfjs, ptLitert, windows);
  const pt = diff(ptOurs, ptLitert, windows);
  const pc = diff(pcOurs, pcLitert, windows);
  t.comment(`tfjs-tflite vs LiteRT (per-tensor): ${show(runtimes)}; ours vs LiteRT: per-tensor ${show(pt)}, per-channel ${show(pc)}`);
  t.equal(diff(ptOurs, ptTfjs, windows).maxAbs, 0, "per-tensor: ours equal tfjs-tflite (TFLite's builtin hybrid kernel) bit for bit");
  for (const [name, d] of [['per-tensor', pt], ['per-channel', pc]] as const) {
    t.ok(d.maxAbs <= runtimes.maxAbs, `${name}: max |ours - LiteRT| ${d.maxAbs.toPrecision(3)} <= max |tfjs-tflite - LiteRT| ${runtimes.maxAbs.toPrecision(3)}`);
    t.ok(d.maxScore <= runtimes.maxScore, `${name}: max anomaly-score difference ${d.maxScore.toPrecision(3)} <= ${runtimes.maxScore.toPrecision(3)}`);
  }
});

const SIZE_MODELS: { file: string; twin: string }[] = [
  { file: 'ic_resnet8_float.tflite', twin: 'ic_resnet8_int8_official.tflite' },
  { file: 'vww_mobilenetv1_025_96_float.tflite', twin: 'vww_mobilenetv1_025_96_int8_official.tflite' },
  { file: AD, twin: AD_TWIN },
];

// The issue asks dynamic >= 3.9x smaller than float for these three. Not reachable: the biases
// stay float32 (hybrid kernels take float biases), TFLite leaves weights under 1024 elements in
// float, and tensor names and per-channel parameters (a float32 scale and an int64 zero point
// per channel) weigh the same in every file. The official twins do not reach it either
// (AD dynamic 3.872x, ResNet-8 int8 3.23x, VWW int8 2.60x). Checked instead: per-tensor dynamic
// no larger than the official quantized twin; per channel, at most 20 bytes per channel more;
// float16 ≈ 2x. The ratios are printed.
t.test('sizes: dynamic and weight-only vs float and the official quantized twins, float16 ≈ 2x', { skip: sharedSkip('models') }, (t) => {
  for (const { file, twin } of SIZE_MODELS) {
    const float = readShared('models', file);
    const official = readShared('models', twin).length;
    const ratio = (n: number) => (float.length / n).toFixed(3);
    const dynamic = quantizeWith(float, 'dynamic');
    const channels = dynamic.out.tensors.reduce((n, x) => n + (x.scale.length > 1 ? x.scale.length : 0), 0);
    const sizes = {
      dynamic: dynamic.bytes.length,
      dynamicPerTensor: quantizeWith(float, 'dynamic', { perChannel: false }).bytes.length,
      dynamicAll: quantizeWith(float, 'dynamic', { minWeightElements: 0, perChannel: false }).bytes.length,
      weightOnly: quantizeWith(float, 'weight-only').bytes.length,
      float16: quantizeWith(float, 'float16').bytes.length,
    };
    t.comment(
      `${file} (${float.length} B): dynamic ${ratio(sizes.dynamic)}x (per-tensor ${ratio(sizes.dynamicPerTensor)}x, ` +
        `per-tensor with minWeightElements 0 ${ratio(sizes.dynamicAll)}x), weight-only ${ratio(sizes.weightOnly)}x, float16 ${ratio(sizes.float16)}x; ` +
        `official ${twin} ${ratio(official)}x`,
    );
    t.ok(sizes.dynamicPerTensor <= official, `${file}: dynamic per-tensor ${sizes.dynamicPerTensor} B <= official ${twin} ${official} B`);
    t.ok(sizes.dynamic <= sizes.dynamicPerTensor + 20 * channels, `${file}: per-channel dynamic ${sizes.dynamic} B <= per-tensor + 20 B x ${channels} channels`);
    t.ok(sizes.weightOnly <= sizes.dynamic * 1.02, `${file}: weight-only ${sizes.weightOnly} B within 2 % of dynamic (the DEQUANTIZE ops)`);
    const f16 = float.length / sizes.float16;
    t.ok(f16 >= 1.85 && f16 <= 2.0, `${file}: float16 ${f16.toFixed(3)}x (≈ 2x)`);
  }
  t.end();
});

/** Two samples of the model's own data (../shared/README.md: preprocessing), or null. */
function realSamples(file: string): Float32Array[][] | null {
  const npy = (name: string, scale: number): Float32Array[][] | null => {
    if (sharedSkip('data', name) !== false) return null;
    const { data, shape } = readNpy(readShared('data', name));
    const per = shape.slice(1).reduce((a, d) => a * d, 1);
    const values = data as ArrayLike<number>;
    return [0, 1].map((s) => [Float32Array.from({ length: per }, (_, i) => values[s * per + i]! * scale)]);
  };
  if (file.startsWith('ic_resnet8')) return npy('cifar10_200_x.npy', 1); // raw pixels 0..255
  if (file.startsWith('vww_')) return npy('cifar10_200_96x96_x.npy', 1 / 255);
  if (file.startsWith('ad01_')) return npy('toycar_196_x.npy', 1);
  if (file.startsWith('mnist_lstm')) return npy('mnist_2000_x.npy', 1 / 255);
  if (file.startsWith('hello_world')) return [[Float32Array.of(1)], [Float32Array.of(4.5)]];
  return null; // litert_ff_gelu: no data (random inputs)
}

t.test('every shared float model × dynamic, float16, weight-only: loads and runs in the official runtime', { skip: sharedSkip('models') }, async (t) => {
  const floats = sharedModels().filter((p) => basename(p).endsWith('_float.tflite'));
  t.ok(floats.length > 0, 'float models found');
  for (const path of floats) {
    const file = basename(path);
    const bytes = new Uint8Array(readFileSync(path));
    const lstm = file.startsWith('mnist_lstm');
    const samples = realSamples(file) ?? [inputsOf(readModel(bytes), 40)];
    for (const mode of MODES) {
      // LiteRT.js refuses variable tensors (every LSTM): tfjs-tflite (2023) runs them, but not the
      // per-channel hybrid FULLY_CONNECTED (version 12): the LSTM model's dynamic file is made per tensor.
      const opts: Partial<QuantizeOptions> = lstm && mode === 'dynamic' ? { perChannel: false } : {};
      const { bytes: q, out } = quantizeWith(bytes, mode, opts);
      const runtime: OracleRuntime = lstm ? 'tfjs-tflite' : 'litert';
      const official = await runOfficial(q, samples, runtime);
      t.ok(official[0]!.every((o) => o.every(Number.isFinite)), `${file} ${mode}${opts.perChannel === false ? ' (per-tensor)' : ''}: runs in ${runtime}, finite outputs`);
      if (lstm && mode === 'dynamic') t.match(out.ops, [{ op: 'UNIDIRECTIONAL_SEQUENCE_LSTM', how: /^hybrid/ }], `${file} ${mode}: the hybrid LSTM`);
      else if (lstm) t.match(out.diagnostics, [{ code: 'op-left-float', message: /UNIDIRECTIONAL_SEQUENCE_LSTM stays float/ }], `${file} ${mode}: the LSTM stays float`);
      const ours = await runOurs(q, samples);
      if (mode === 'dynamic') checkHybrid(t, ours.outputs, official, null, `${file} ${mode} (ours)`);
      else checkClose(t, ours.outputs, official, `${file} ${mode} (ours)`);
    }
  }
});
