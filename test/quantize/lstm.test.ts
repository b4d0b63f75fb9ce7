// Quantizing UNIDIRECTIONAL_SEQUENCE_LSTM (lib/quantize/lstm.ts): structure (what TFLite's
// converter writes), the official runtime (tfjs-tflite: LiteRT.js refuses variable tensors) on
// builder-made LSTMs of every variant and on mnist_lstm, and the variants that stay float.
import { readFileSync } from 'node:fs';
import t from 'tap';

import { UnsupportedOperatorError } from '../../lib/errors.js';
import { builtinOptions, GraphBuilder } from '../../lib/ir/builder.js';
import type { Graph, Tensor } from '../../lib/ir/graph.js';
import { readNpy } from '../../lib/npy.js';
import { calibrate } from '../../lib/quantize/calibrate.js';
import { resolveOptions } from '../../lib/quantize/options.js';
import { quantize } from '../../lib/quantize/quantize.js';
import type { QuantizeOptions } from '../../lib/quantize/types.js';
import { LSTM_OBSERVED_SLOTS } from '../../lib/runtime/reference-ops/lstm.js';
import { loadModel, type Session } from '../../lib/runtime/session.js';
import { readModel } from '../../lib/tflite/read.js';
import { ActivationFunctionType as Act, BuiltinOperator as Op, TensorType } from '../../lib/tflite/schema.js';
import { writeModel } from '../../lib/tflite/write.js';
import { loadModel2023 } from '../fixtures/lstm-models.js';
import { randF32 } from '../fixtures/op-suite.js';
import { runOracle } from '../fixtures/oracle.js';
import { sharedPath, sharedSkip } from '../fixtures/shared.js';

type Data = Float32Array | Int8Array;

interface FloatLstm {
  readonly name: string;
  readonly batch: number;
  readonly time: number;
  readonly nInput: number;
  readonly nCell: number;
  readonly nOutput?: number;
  readonly timeMajor?: boolean;
  readonly cifg?: boolean;
  readonly peephole?: boolean;
  readonly projectionBias?: boolean;
  readonly layerNorm?: boolean;
  readonly cellClip?: number;
  readonly projClip?: number;
  readonly activation?: Act;
  readonly inputs20?: boolean;
  /** 1-D recurrent weights (diagonal_recurrent_tensors). */
  readonly diagonal?: boolean;
  /** Every gate bias this value (10: gates near 1, so the cell state grows by about 1 a step). */
  readonly bias?: number;
  readonly seed?: number;
}

const G = ['input', 'forget', 'cell', 'output'];

/** A float model: x -> UNIDIRECTIONAL_SEQUENCE_LSTM -> y (variable state tensors, no buffers). */
function floatLstm(c: FloatLstm): Uint8Array {
  const b = new GraphBuilder();
  const nOutput = c.nOutput ?? c.nCell;
  const projection = nOutput !== c.nCell || c.projectionBias === true;
  let seed = (c.seed ?? 1) * 1000;
  const f = (name: string, shape: number[], lo: number, hi: number): number => {
    const n = shape.reduce((a, d) => a * d, 1);
    return b.tensor({ name, type: TensorType.FLOAT32, shape, data: randF32(n, ++seed, lo, hi) });
  };
  const inputShape = c.timeMajor ? [c.time, c.batch, c.nInput] : [c.batch, c.time, c.nInput];
  const x = b.input({ name: 'x', type: TensorType.FLOAT32, shape: inputShape });
  const ins: number[] = new Array(c.inputs20 ? 20 : 24).fill(-1);
  ins[0] = x;
  for (let g = 0; g < 4; g++) {
    if (g === 0 && c.cifg) continue;
    const wx = 0.9 / Math.sqrt(c.nInput);
    const wh = 0.9 / Math.sqrt(nOutput);
    ins[1 + g] = f(`w_x_${G[g]}`, [c.nCell, c.nInput], -wx, wx);
    ins[5 + g] = c.diagonal ? f(`w_h_${G[g]}`, [c.nCell], -0.5, 0.5) : f(`w_h_${G[g]}`, [c.nCell, nOutput], -wh, wh);
    ins[12 + g] = c.bias === undefined ? f(`b_${G[g]}`, [c.nCell], g === 1 ? 0.5 : -0.3, g === 1 ? 1.5 : 0.3) : f(`b_${G[g]}`, [c.nCell], c.bias, c.bias);
    if (c.peephole && g !== 2) ins[9 + (g === 3 ? 2 : g)] = f(`w_c_${G[g]}`, [c.nCell], -0.4, 0.4);
    if (c.layerNorm) ins[20 + g] = f(`ln_${G[g]}`, [c.nCell], 0.5, 1.5);
  }
  if (projection) {
    const wp = 1 / Math.sqrt(c.nCell);
    ins[16] = f('w_p', [nOutput, c.nCell], -wp, wp);
    if (c.projectionBias) ins[17] = f('b_p', [nOutput], -0.2, 0.2);
  }
  ins[18] = b.tensor({ name: 'h', type: TensorType.FLOAT32, shape: [c.batch, nOutput], isVariable: true });
  ins[19] = b.tensor({ name: 'c', type: TensorType.FLOAT32, shape: [c.batch, c.nCell], isVariable: true });
  const y = b.tensor({ name: 'y', type: TensorType.FLOAT32, shape: [...inputShape.slice(0, 2), nOutput] });
  b.op(Op.UNIDIRECTIONAL_SEQUENCE_LSTM, ins, [y], {
    options: builtinOptions('UnidirectionalSequenceLSTMOptions', {
      fusedActivationFunction: c.activation ?? Act.TANH,
      cellClip: c.cellClip ?? 0,
      projClip: c.projClip ?? 0,
      timeMajor: c.timeMajor ?? false,
      diagonalRecurrentTensors: c.diagonal ?? false,
    }),
  });
  b.output(y);
  return writeModel(b.build());
}

function samplesOf(c: FloatLstm, count: number, seed: number): Float32Array[] {
  return Array.from({ length: count }, (_, s) => randF32(c.batch * c.time * c.nInput, seed * 100 + s, -1, 1));
}

async function runAll(session: Session, samples: readonly Data[]): Promise<Data[]> {
  try {
    const outputs: Data[] = [];
    for (const x of samples) outputs.push((await session.run([x as Float32Array]))[0] as Data);
    return outputs;
  } finally {
    await session.close();
  }
}

function lstmOp(graph: Graph) {
  const sg = graph.subgraphs[0]!;
  const op = sg.operators.find((o) => graph.operatorCodes[o.opcodeIndex]!.builtinCode === Op.UNIDIRECTIONAL_SEQUENCE_LSTM)!;
  const tensor = (i: number): Tensor | null => (i < 0 ? null : sg.tensors[i]!);
  return { op, version: graph.operatorCodes[op.opcodeIndex]!.version, tensor, input: (slot: number) => tensor(op.inputs[slot] ?? -1) };
}

const scale = (t: Tensor | null): number => t!.quantization!.scale[0]!;
const f32 = Math.fround;

// ---------------------------------------------------------------------------------------------
// Calibration of the values inside the float LSTM

t.test('calibrate() reports the LSTM\'s gate sums (layer norm), hidden and cell state ranges', async (t) => {
  const cases: [FloatLstm, number[]][] = [
    [{ name: 'plain', batch: 2, time: 5, nInput: 4, nCell: 6 }, [4, 5]],
    [{ name: 'layer norm', batch: 1, time: 5, nInput: 4, nCell: 8, layerNorm: true }, [0, 1, 2, 3, 4, 5]],
    [{ name: 'layer norm + CIFG', batch: 1, time: 5, nInput: 4, nCell: 8, layerNorm: true, cifg: true }, [1, 2, 3, 4, 5]],
  ];
  for (const [c, slots] of cases) {
    const graph = readModel(floatLstm(c));
    const result = await calibrate(graph, resolveOptions({ mode: 'int8', calibration: samplesOf(c, 6, 9) }));
    const inner = result.intermediates.get(0)!;
    t.same([...inner.keys()].sort(), slots, `${c.name}: slots ${slots.join(', ')}`);
    // Without a projection the hidden value is the output.
    const y = graph.subgraphs[0]!.outputs[0]!;
    t.same(inner.get(LSTM_OBSERVED_SLOTS.hidden), result.ranges.get(y), `${c.name}: hidden range = output range`);
    const cell = inner.get(LSTM_OBSERVED_SLOTS.cellState)!;
    t.ok(cell.min < 0 && cell.max > 0 && Math.max(-cell.min, cell.max) < 8, `${c.name}: cell state range [${cell.min.toFixed(3)}, ${cell.max.toFixed(3)}]`);
  }
});

// ---------------------------------------------------------------------------------------------
// Structure

t.test('int8: the converter\'s structure (layer norm, peephole, projection)', async (t) => {
  const c: FloatLstm = { name: 'all', batch: 2, time: 5, nInput: 4, nCell: 8, nOutput: 5, peephole: true, projectionBias: true, layerNorm: true };
  const bytes = floatLstm(c);
  const { model, diagnostics, report } = await quantize(bytes, { mode: 'int8', calibration: samplesOf(c, 8, 1), io: 'int8' });
  t.same(diagnostics, [], 'no diagnostics');
  t.match(report.ops, [{ op: 'UNIDIRECTIONAL_SEQUENCE_LSTM', how: 'int8' }]);
  const l = lstmOp(readModel(model));
  t.equal(l.version, 1, 'version 1 (full integer)');
  const x = l.input(0)!;
  t.equal(x.type, TensorType.INT8, 'input int8');
  for (let g = 0; g < 4; g++) {
    for (const slot of [1 + g, 5 + g]) {
      const w = l.input(slot)!;
      t.ok(w.type === TensorType.INT8 && w.quantization!.scale.length === 1 && w.quantization!.zeroPoint[0] === 0, `input ${slot}: int8, one scale, zero point 0`);
    }
    const ln = l.input(20 + g)!;
    t.equal(ln.type, TensorType.INT16, `layer norm ${g}: int16`);
    const bias = l.input(12 + g)!;
    t.equal(bias.type, TensorType.INT32, `bias ${g}: int32`);
    t.equal(scale(bias), f32(scale(ln) * 2 ** -10), `bias ${g}: scale s_layer_norm · 2^-10`);
    const inter = l.tensor(l.op.intermediates![g]!)!;
    t.ok(inter.type === TensorType.INT16 && inter.shape.length === 1 && inter.shape[0] === 0 && inter.quantization!.zeroPoint[0] === 0, `intermediate ${g}: int16 [0], zero point 0`);
  }
  for (const slot of [9, 10, 11]) t.equal(l.input(slot)!.type, TensorType.INT16, `peephole ${slot}: int16`);
  const hidden = l.tensor(l.op.intermediates![4]!)!;
  t.equal(hidden.type, TensorType.INT8, 'hidden intermediate int8');
  t.equal(scale(l.input(17)), f32(scale(l.input(16)) * scale(hidden)), 'projection bias: s_projection · s_hidden');
  const h = l.input(18)!;
  const cell = l.input(19)!;
  const y = l.tensor(l.op.outputs[0]!)!;
  t.ok(h.isVariable && h.type === TensorType.INT8, 'output state: int8 variable');
  t.same([scale(h), h.quantization!.zeroPoint[0]], [scale(y), y.quantization!.zeroPoint[0]], 'output state carries the output\'s parameters');
  t.ok(cell.isVariable && cell.type === TensorType.INT16 && cell.quantization!.zeroPoint[0] === 0, 'cell state: int16 variable, zero point 0');
  t.ok(Number.isInteger(Math.log2(scale(cell))) && Math.log2(scale(cell)) <= -9, `cell scale 2^${Math.log2(scale(cell))}: a power of two <= 2^-9`);
  const cellReport = report.tensors.find((r) => r.name === 'c')!;
  const m = Math.max(-cellReport.min!, cellReport.max!);
  t.ok(m <= scale(cell) * 32768 && m > scale(cell) * 16384, `the calibrated cell range ±${m.toFixed(3)} fits, and half the scale would not hold it`);
});

t.test('int8 without layer norm: biases at s_input · s_weight, float [0] gate intermediates, hidden = output', async (t) => {
  const c: FloatLstm = { name: 'plain', batch: 1, time: 6, nInput: 5, nCell: 7 };
  const { model } = await quantize(floatLstm(c), { mode: 'int8', calibration: samplesOf(c, 8, 2), io: 'int8' });
  const l = lstmOp(readModel(model));
  for (let g = 0; g < 4; g++) {
    t.equal(scale(l.input(12 + g)), f32(scale(l.input(0)) * scale(l.input(1 + g))), `bias ${g}: s_input · s_input_weights`);
    const inter = l.tensor(l.op.intermediates![g]!)!;
    t.ok(inter.type === TensorType.FLOAT32 && inter.quantization === null, `intermediate ${g}: float32 without quantization (unused)`);
  }
  const hidden = l.tensor(l.op.intermediates![4]!)!;
  const y = l.tensor(l.op.outputs[0]!)!;
  t.same(hidden.quantization!.scale, y.quantization!.scale, 'hidden scale = output scale');
  t.same(hidden.quantization!.zeroPoint, y.quantization!.zeroPoint, 'hidden zero point = output zero point');
  t.equal(y.quantization!.zeroPoint[0], 0, 'output symmetric (zero point 0): both TFLite integer rules agree');
});

t.test('dynamic: int8 per-tensor weights (peephole and projection too), float biases, version 2', async (t) => {
  const c: FloatLstm = { name: 'all', batch: 1, time: 4, nInput: 16, nCell: 32, nOutput: 16, peephole: true, projectionBias: true, layerNorm: true };
  const { model, report } = await quantize(floatLstm(c), { mode: 'dynamic' });
  t.match(report.ops, [{ op: 'UNIDIRECTIONAL_SEQUENCE_LSTM', how: /^hybrid, int8 weights per tensor/ }]);
  const l = lstmOp(readModel(model));
  t.equal(l.version, 2, 'version 2 (hybrid, symmetric inputs)');
  t.match(l.op.builtinOptions, { asymmetricQuantizeInputs: false });
  for (const slot of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 16]) {
    const w = l.input(slot)!;
    t.ok(w.type === TensorType.INT8 && w.quantization!.scale.length === 1 && w.quantization!.zeroPoint[0] === 0, `input ${slot}: int8 per tensor`);
  }
  for (const slot of [0, 12, 13, 14, 15, 17, 18, 19, 20, 21, 22, 23]) t.equal(l.input(slot)!.type, TensorType.FLOAT32, `input ${slot}: float32`);
});

// ---------------------------------------------------------------------------------------------
// The official runtime

const VARIANTS: FloatLstm[] = [
  { name: 'plain', batch: 1, time: 6, nInput: 6, nCell: 8 },
  { name: 'batch 2, time-major, cell clip 0.5', batch: 2, time: 5, nInput: 5, nCell: 7, timeMajor: true, cellClip: 0.5 },
  { name: 'peephole', batch: 2, time: 5, nInput: 4, nCell: 6, peephole: true },
  { name: 'CIFG + peephole', batch: 1, time: 5, nInput: 4, nCell: 6, cifg: true, peephole: true },
  { name: 'projection (n_output 4 < n_cell 8) with bias, proj clip 0.3', batch: 2, time: 5, nInput: 4, nCell: 8, nOutput: 4, projectionBias: true, projClip: 0.3 },
  { name: 'layer norm', batch: 1, time: 5, nInput: 4, nCell: 8, layerNorm: true },
  { name: 'layer norm + CIFG + peephole + projection', batch: 2, time: 4, nInput: 4, nCell: 8, nOutput: 5, layerNorm: true, cifg: true, peephole: true, projectionBias: true },
  { name: 'legacy 20 inputs', batch: 1, time: 4, nInput: 5, nCell: 6, inputs20: true },
];

for (const [k, c] of VARIANTS.entries()) {
  t.test(`${c.name}: int8 and dynamic run in tfjs-tflite and equal our runtime`, async (t) => {
    const bytes = floatLstm({ ...c, seed: k + 1 });
    const calibration = samplesOf(c, 16, k + 1);
    const inputs = samplesOf(c, 4, k + 50);
    const floatOut = await runAll(await loadModel(bytes, { worker: false }), inputs);
    const options: Record<string, QuantizeOptions> = {
      int8: { mode: 'int8', calibration },
      // Tiny test LSTMs: every weight quantized.
      dynamic: { mode: 'dynamic', minWeightElements: 0 },
    };
    for (const [mode, opts] of Object.entries(options)) {
      const { model, diagnostics, report } = await quantize(bytes, opts);
      t.same(diagnostics, [], `${mode}: no diagnostics`);
      t.match(report.ops.find((o) => o.op === 'UNIDIRECTIONAL_SEQUENCE_LSTM')?.how, mode === 'int8' ? 'int8' : /^hybrid/, `${mode}: the LSTM is quantized`);
      const oracle = await runOracle(model, inputs.map((x) => [x]), { runtime: 'tfjs-tflite', timeoutMs: 120_000 });
      const ours = await runAll(mode === 'int8' ? await loadModel2023(model) : await loadModel(model, { worker: false }), inputs);
      let worst = 0;
      let worstFloat = 0;
      let differ = 0;
      inputs.forEach((_, s) => {
        const want = oracle.outputs[s]![0]!.data as Float32Array;
        const got = ours[s]!;
        const ref = floatOut[s]!;
        for (let i = 0; i < want.length; i++) {
          if (want[i] !== got[i]) differ++;
          worst = Math.max(worst, Math.abs(want[i]! - got[i]!));
          worstFloat = Math.max(worstFloat, Math.abs(want[i]! - ref[i]!));
        }
      });
      if (mode === 'int8') t.equal(differ, 0, `int8: our runtime equals tfjs-tflite bit for bit (${differ} values differ)`);
      else t.ok(worst <= 1e-5, `dynamic: our runtime equals tfjs-tflite within 1e-5 (max ${worst.toExponential(2)})`);
      // The quantized LSTM still computes the float LSTM (outputs in about ±1).
      t.ok(worstFloat < (mode === 'int8' ? 0.1 : 0.05), `${mode}: max |official − float| ${worstFloat.toFixed(4)}`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// What stays float

t.test('variants that stay float: a diagnostic, or UnsupportedOperatorError under strict', async (t) => {
  const diagonal: FloatLstm = { name: 'diagonal', batch: 1, time: 4, nInput: 4, nCell: 6, diagonal: true };
  const relu: FloatLstm = { name: 'relu', batch: 1, time: 4, nInput: 4, nCell: 6, activation: Act.RELU };
  const growing: FloatLstm = { name: 'cell state growing to ±70', batch: 1, time: 70, nInput: 2, nCell: 3, bias: 10 };
  const cases: [FloatLstm, QuantizeOptions['mode'], RegExp][] = [
    [diagonal, 'int8', /recurrent weights are diagonal/],
    [diagonal, 'dynamic', /recurrent weights are diagonal/],
    [relu, 'int8', /activation is RELU \(the integer LSTM computes tanh\)/],
    [growing, 'int8', /cell state reaches ±(69|70)\.\d+, beyond the ±64/],
  ];
  for (const [c, mode, why] of cases) {
    const bytes = floatLstm(c);
    const opts: QuantizeOptions = { mode, calibration: samplesOf(c, 4, 3), minWeightElements: 0 };
    const { model, diagnostics, report } = await quantize(bytes, opts);
    t.match(diagnostics, [{ code: 'op-left-float', level: 'warning', message: why, op: 0 }], `${c.name} ${mode}: op-left-float names the reason`);
    t.match(report.ops.find((o) => o.op === 'UNIDIRECTIONAL_SEQUENCE_LSTM')?.how, /^float/, `${c.name} ${mode}: reported float`);
    const l = lstmOp(readModel(model));
    t.equal(l.input(1)!.type, TensorType.FLOAT32, `${c.name} ${mode}: weights stay float32`);
    await t.rejects(quantize(bytes, { ...opts, strict: true }), UnsupportedOperatorError, `${c.name} ${mode}: strict throws UnsupportedOperatorError`);
  }
  // Excluded: float, no error under strict.
  for (const mode of ['int8', 'dynamic'] as const) {
    const excluded = await quantize(floatLstm(relu), { mode, calibration: samplesOf(relu, 2, 6), exclude: ['UNIDIRECTIONAL_SEQUENCE_LSTM'], strict: true });
    t.match(excluded.report.ops.find((o) => o.op === 'UNIDIRECTIONAL_SEQUENCE_LSTM'), { how: 'float (excluded)' }, `${mode}: options.exclude leaves the LSTM float`);
  }
  // The hybrid LSTM takes RELU.
  const { report } = await quantize(floatLstm(relu), { mode: 'dynamic', minWeightElements: 0 });
  t.match(report.ops, [{ how: /^hybrid/ }], 'relu: dynamic makes the hybrid LSTM');
  // Small LSTMs: the threshold counts the LSTM's weights together.
  const small = await quantize(floatLstm(relu), { mode: 'dynamic', minWeightElements: 1024 });
  t.match(small.diagnostics, [{ code: 'op-left-float', level: 'info', message: /weights hold 240 elements together, fewer than options.minWeightElements \(1024\)/ }]);
  // Weights shared with another op.
  const b = readModel(floatLstm(relu));
  const sg = b.subgraphs[0]!;
  const op = sg.operators[0]!;
  const shared = { ...b, subgraphs: [{ ...sg, operators: [{ ...op, inputs: op.inputs.map((x, slot) => (slot === 2 ? op.inputs[1]! : x)) }] }] };
  const sharedResult = await quantize(writeModel(shared), { mode: 'dynamic', minWeightElements: 0 });
  t.match(sharedResult.report.ops, [{ how: /^hybrid/ }], 'a weight read twice by the same LSTM is quantized once');
  const reader = { ...shared, subgraphs: [{ ...shared.subgraphs[0]!, outputs: [...sg.outputs, op.inputs[1]!] }] };
  const readBack = await quantize(writeModel(reader), { mode: 'dynamic', minWeightElements: 0 });
  t.match(readBack.diagnostics, [{ code: 'op-left-float', message: /input 1 \('w_x_input'\) is shared with the graph outputs/ }], 'dynamic: a weight read elsewhere leaves the LSTM float');
});

t.test('int16x8 leaves the LSTM float with a diagnostic', async (t) => {
  const c: FloatLstm = { name: 'plain', batch: 1, time: 4, nInput: 4, nCell: 6 };
  const { diagnostics } = await quantize(floatLstm(c), { mode: 'int16x8', calibration: samplesOf(c, 4, 4) });
  t.match(diagnostics, [{ code: 'op-left-float', message: /no int16x8 kernel/ }]);
});

// ---------------------------------------------------------------------------------------------
// mnist_lstm: calibrate on the first 100 digits, evaluate on the other 1900 in tfjs-tflite.

const MNIST_SKIP =
  sharedSkip('models', 'mnist_lstm_float.tflite') ||
  sharedSkip('models', 'mnist_lstm_int8_official.tflite') ||
  sharedSkip('data', 'mnist_2000_x.npy') ||
  sharedSkip('data', 'mnist_2000_y.npy');

t.test('mnist_lstm: accuracy in the official runtime, int8 bit for bit with ours', { skip: MNIST_SKIP }, async (t) => {
  const shared = (...p: string[]) => new Uint8Array(readFileSync(sharedPath(...p)));
  const npy = readNpy(shared('data', 'mnist_2000_x.npy'));
  const labels = Array.from(readNpy(shared('data', 'mnist_2000_y.npy')).data as ArrayLike<number>, Number);
  const digits = Array.from({ length: 2000 }, (_, s) => Float32Array.from(npy.data.subarray(s * 784, (s + 1) * 784) as ArrayLike<number>, (v) => v / 255));
  const calibration = digits.slice(0, 100);
  const evaluation = digits.slice(100);
  const argmax = (v: ArrayLike<number>): number => {
    let best = 0;
    for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
    return best;
  };
  const toInput = (model: Uint8Array, x: Float32Array): Data => {
    const sg = readModel(model).subgraphs[0]!;
    const q = sg.tensors[sg.inputs[0]!]!.quantization;
    if (q === null || q.scale.length === 0) return x;
    return Int8Array.from(x, (v) => Math.min(127, Math.max(-128, Math.round(v / q.scale[0]!) + q.zeroPoint[0]!)));
  };
  const evaluate = async (model: Uint8Array) => {
    const inputs = evaluation.map((x) => toInput(model, x));
    const { outputs } = await runOracle(model, inputs.map((x) => [x]), { runtime: 'tfjs-tflite', timeoutMs: 600_000 });
    const scores = outputs.map((o) => o[0]!.data as Data);
    return { inputs, scores, accuracy: scores.filter((o, s) => argmax(o) === labels[s + 100]).length / scores.length };
  };
  const float = shared('models', 'mnist_lstm_float.tflite');
  const official = shared('models', 'mnist_lstm_int8_official.tflite');
  const int8 = await quantize(float, { mode: 'int8', calibration, io: 'int8' });
  // tfjs-tflite's 2023 TFLite has no per-channel hybrid FULLY_CONNECTED: per tensor.
  const dynamic = await quantize(float, { mode: 'dynamic', perChannel: false });
  t.same([...int8.diagnostics, ...dynamic.diagnostics], [], 'no diagnostics');

  // The official converter's LSTM, tensor for tensor (the output's parameters are calibrated on
  // other data, and ours are symmetric).
  const oursGraph = readModel(int8.model);
  const officialGraph = readModel(official);
  const [o, w] = [lstmOp(oursGraph), lstmOp(officialGraph)];
  const bytesOf = (g: Graph, t: Tensor | null): string => Buffer.from(g.buffers[t!.buffer]!.data).toString('hex');
  t.equal(o.version, w.version, `version ${w.version}`);
  for (let slot = 0; slot < 24; slot++) {
    const [a, b] = [o.input(slot), w.input(slot)];
    if (b === null) {
      t.equal(a, null, `input ${slot}: absent in both`);
      continue;
    }
    t.equal(a!.type, b.type, `input ${slot}: ${b.type === TensorType.INT8 ? 'int8' : b.type === TensorType.INT16 ? 'int16' : b.type === TensorType.INT32 ? 'int32' : b.type}`);
    if (slot >= 1 && slot <= 15) {
      t.equal(scale(a), scale(b), `input ${slot}: scale ${scale(b)} as the converter's`);
      t.equal(bytesOf(oursGraph, a), bytesOf(officialGraph, b), `input ${slot}: the same quantized values`);
    }
  }
  t.equal(scale(o.input(19)), scale(w.input(19)), 'cell state scale 2^-12 as the converter\'s');
  t.same(
    o.op.intermediates!.map((i) => [o.tensor(i)!.name, o.tensor(i)!.type, o.tensor(i)!.shape]),
    w.op.intermediates!.map((i) => [w.tensor(i)!.name, w.tensor(i)!.type, w.tensor(i)!.shape]),
    'the 5 intermediate tensors: names, types, shapes',
  );

  const floatRun = await evaluate(float);
  const officialRun = await evaluate(official);
  const int8Run = await evaluate(int8.model);
  const hybridRun = await evaluate(dynamic.model);
  const pct = (a: number) => `${(a * 100).toFixed(2)}%`;
  t.comment(
    `accuracy on digits 100-1999 in tfjs-tflite: float ${pct(floatRun.accuracy)} (${float.length} B), official int8 ${pct(officialRun.accuracy)} (${official.length} B), ` +
      `ours int8 ${pct(int8Run.accuracy)} (${int8.model.length} B), ours hybrid ${pct(hybridRun.accuracy)} (${dynamic.model.length} B)`,
  );
  t.ok(int8Run.accuracy >= officialRun.accuracy, `ours int8 ${pct(int8Run.accuracy)} >= official int8 ${pct(officialRun.accuracy)}`);
  t.ok(hybridRun.accuracy >= floatRun.accuracy - 0.005, `ours hybrid ${pct(hybridRun.accuracy)} >= float ${pct(floatRun.accuracy)} - 0.5 points`);

  const ours = await runAll(await loadModel2023(int8.model), int8Run.inputs);
  const differ = ours.filter((o, s) => o.some((v, i) => v !== int8Run.scores[s]![i])).length;
  t.equal(differ, 0, `ours int8 in our runtime equals tfjs-tflite bit for bit on ${ours.length} digits (${differ} differ)`);
});
