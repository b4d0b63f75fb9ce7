// UNIDIRECTIONAL_SEQUENCE_LSTM against the official runtime (tfjs-tflite: LiteRT.js refuses
// models with variable tensors, i.e. every LSTM). The oracle runs each sample on a fresh
// interpreter, and so do we: the state starts from its reset value at every run().
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';

import { builtinOptions, GraphBuilder } from '../../lib/ir/builder.js';
import { loadModel, type Session } from '../../lib/runtime/session.js';
import { ActivationFunctionType as Act, BuiltinOperator as Op } from '../../lib/tflite/schema.js';
import type { Operator, Subgraph, Tensor } from '../../lib/ir/graph.js';
import { planMemory } from '../../lib/runtime/memory-plan.js';
import { byteSize, isConstantTensor, runShape } from '../../lib/runtime/tensors.js';
import { readModel } from '../../lib/tflite/read.js';
import { writeModel } from '../../lib/tflite/write.js';
import { readNpy } from '../../lib/npy.js';
import { compare, suiteModel, type OpCase, type TensorData } from '../fixtures/op-suite.js';
import { loadModel2023, lstmGraph, lstmSamples, type LstmCase } from '../fixtures/lstm-models.js';
import { runOracle } from '../fixtures/oracle.js';
import { sharedPath, sharedSkip } from '../fixtures/shared.js';

type Data = Float32Array | Int8Array | Int16Array;

function readShared(...parts: string[]): Uint8Array {
  return new Uint8Array(readFileSync(sharedPath(...parts)));
}

/** The first `count` MNIST digits as pixel/255 float rows, and their labels. */
function digits(count: number): { x: Float32Array[]; y: number[] } {
  const npy = readNpy(readShared('data', 'mnist_2000_x.npy'));
  const labels = readNpy(readShared('data', 'mnist_2000_y.npy'));
  const per = 28 * 28;
  const x = Array.from({ length: count }, (_, s) => Float32Array.from(npy.data.subarray(s * per, (s + 1) * per) as ArrayLike<number>, (v) => v / 255));
  const y = Array.from(labels.data.subarray(0, count) as ArrayLike<number>, Number);
  return { x, y };
}

/** Float samples quantized to the model's int8 input (the official twin's int8 I/O). */
function quantizeInput(model: Uint8Array, x: Float32Array): Data {
  const sg = readModel(model).subgraphs[0]!;
  const q = sg.tensors[sg.inputs[0]!]!.quantization;
  if (q === null || q.scale.length === 0) return x;
  const scale = q.scale[0]!;
  const zp = q.zeroPoint[0] ?? 0;
  return Int8Array.from(x, (v) => Math.min(127, Math.max(-128, Math.round(v / scale) + zp)));
}

/** The model with the LSTM's output as a second graph output (and no signature, which fixes the outputs). */
function withLstmOutput(bytes: Uint8Array): Uint8Array {
  const graph = readModel(bytes);
  const sg = graph.subgraphs[0]!;
  const lstm = sg.operators.find((op) => graph.operatorCodes[op.opcodeIndex]!.builtinCode === Op.UNIDIRECTIONAL_SEQUENCE_LSTM)!;
  return writeModel({ ...graph, signatureDefs: null, subgraphs: [{ ...sg, outputs: [...sg.outputs, lstm.outputs[0]!] }] });
}

async function runOurs(model: Uint8Array, samples: readonly Data[]): Promise<{ outputs: Data[][]; impls: string[] }> {
  const session = await loadModel(model, { worker: false });
  try {
    const outputs: Data[][] = [];
    for (const x of samples) outputs.push((await session.run([x as Float32Array])) as Data[]);
    return { outputs, impls: session.steps.map((s) => `${s.op}: ${s.impl}`) };
  } finally {
    await session.close();
  }
}

function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

const MNIST_SKIP = sharedSkip('data', 'mnist_2000_x.npy') || sharedSkip('data', 'mnist_2000_y.npy');

t.test('mnist_lstm_float equals tfjs-tflite within 1e-5 relative', { skip: sharedSkip('models', 'mnist_lstm_float.tflite') || MNIST_SKIP }, async (t) => {
  const bytes = withLstmOutput(readShared('models', 'mnist_lstm_float.tflite'));
  const { x, y } = digits(200);
  const [ours, theirs] = await Promise.all([runOurs(bytes, x), runOracle(bytes, x.map((v) => [v]), { runtime: 'tfjs-tflite', timeoutMs: 180_000 })]);
  t.match(ours.impls[0], /UNIDIRECTIONAL_SEQUENCE_LSTM: native lstm \(float32, /);
  for (const [o, what] of [[0, 'class probabilities'], [1, 'LSTM outputs (28 steps × 20)']] as const) {
    let worst = 0;
    let worstAbs = 0;
    ours.outputs.forEach((outs, s) => {
      const g = outs[o]!;
      const w = theirs.outputs[s]![o]!.data as Float32Array;
      for (let i = 0; i < w.length; i++) {
        const err = Math.abs(g[i]! - w[i]!);
        worstAbs = Math.max(worstAbs, err);
        worst = Math.max(worst, err / (1e-6 + 1e-5 * Math.abs(w[i]!)));
      }
    });
    t.ok(worst <= 1, `${what}, 200 digits: max |error| ${worstAbs.toExponential(2)}, ${worst.toFixed(3)} of the allowed 1e-5·|y| + 1e-6`);
  }
  const accuracy = (outs: ArrayLike<number>[]) => outs.filter((o, s) => argmax(o) === y[s]).length / outs.length;
  const oursAcc = accuracy(ours.outputs.map((o) => o[0]!));
  const theirsAcc = accuracy(theirs.outputs.map((o) => o[0]!.data as Float32Array));
  t.comment(`accuracy on the first 200 digits: ours ${oursAcc.toFixed(3)}, tfjs-tflite ${theirsAcc.toFixed(3)}`);
  t.equal(oursAcc, theirsAcc, 'same accuracy as the official runtime');
});

t.test('mnist_lstm_int8_official equals tfjs-tflite bit for bit', { skip: sharedSkip('models', 'mnist_lstm_int8_official.tflite') || MNIST_SKIP }, async (t) => {
  const bytes = withLstmOutput(readShared('models', 'mnist_lstm_int8_official.tflite'));
  const { x, y } = digits(200);
  const inputs = x.map((v) => quantizeInput(bytes, v));
  const [ours, theirs] = await Promise.all([runOurs(bytes, inputs), runOracle(bytes, inputs.map((v) => [v]), { runtime: 'tfjs-tflite', timeoutMs: 180_000 })]);
  t.match(ours.impls[0], /UNIDIRECTIONAL_SEQUENCE_LSTM: native lstm \(int8x8→16, /);
  for (const [o, what] of [[0, 'class scores'], [1, 'LSTM outputs (28 steps × 20)']] as const) {
    let bad = 0;
    let total = 0;
    let first = '';
    ours.outputs.forEach((outs, s) => {
      const g = outs[o]!;
      const w = theirs.outputs[s]![o]!.data as Int8Array;
      for (let i = 0; i < w.length; i++) {
        total++;
        if (g[i] !== w[i]) {
          if (bad === 0) first = `digit ${s} [${i}]: official ${w[i]}, ours ${g[i]}`;
          bad++;
        }
      }
    });
    t.equal(bad, 0, `${what}: ${bad} of ${total} int8 values differ${bad > 0 ? ` (first: ${first})` : ''}`);
  }
  const accuracy = ours.outputs.filter((o, s) => argmax(o[0]!) === y[s]).length / ours.outputs.length;
  const official = theirs.outputs.filter((o, s) => argmax(o[0]!.data as Int8Array) === y[s]).length / theirs.outputs.length;
  t.comment(`int8 accuracy on the first 200 digits: ours ${accuracy.toFixed(3)}, tfjs-tflite ${official.toFixed(3)}`);
});

// ---------------------------------------------------------------------------------------------
// Builder-made LSTMs: one model holds every case (each its own LSTM, state tensors and input),
// run once in our runtime and once in the oracle.

/** int8 cases where TFLite's two integer rules differ: no projection, a non-zero hidden zero point. */
const rulesDiffer = (c: LstmCase): boolean =>
  c.kind === 'int8' && (c.hiddenZeroPoint ?? 0) !== 0 && !(c.projection ?? (c.nOutput ?? c.nCell) !== c.nCell);

async function runSession(session: Session, samples: readonly (readonly TensorData[])[]): Promise<{ outputs: TensorData[][]; impls: string[] }> {
  const outputs: TensorData[][] = [];
  for (const sample of samples) outputs.push((await session.run(sample as never)) as TensorData[]);
  const impls = session.steps.map((s) => s.impl);
  await session.close();
  return { outputs, impls };
}

async function checkLstmCases(t: Test, title: string, cases: readonly LstmCase[]): Promise<void> {
  const opCases: OpCase[] = cases.map((c, k) => ({
    name: c.name,
    graph: (b, prefix) => lstmGraph(b, prefix, c, k + 1),
    samples: lstmSamples(c, k + 1),
    expected: () => new Float32Array(0),
  }));
  const { bytes, built, sampleCount } = suiteModel(opCases);
  const sampleOf = (c: OpCase, s: number) => c.samples[Math.min(s, c.samples.length - 1)] ?? [];
  const samples = Array.from({ length: sampleCount }, (_, s) => opCases.flatMap((c) => [...sampleOf(c, s)]));
  const { outputs } = await runOracle(bytes, samples, { runtime: 'tfjs-tflite', timeoutMs: 180_000 });
  const { outputs: ours, impls } = await runSession(await loadModel2023(bytes), samples);
  const current = await runSession(await loadModel(bytes, { worker: false }), samples);
  await t.test(title, async (tt) => {
    // The runtime's own rule (current TFLite) against the oracle's (2023).
    built.forEach(({ outputOffset }, k) => {
      const c = cases[k]!;
      const same = samples.every((_, s) => compare(ours[s]![outputOffset]! as ArrayLike<number>, current.outputs[s]![outputOffset]! as ArrayLike<number>, 0).bad === 0);
      if (rulesDiffer(c)) tt.notOk(same, `${c.name}: current TFLite's rule (+zp_hidden) differs from the 2023 rule`);
      else tt.ok(same, `${c.name}: the runtime's rule [${current.impls[k]}] equals the 2023 rule here`);
    });
    built.forEach(({ outputOffset }, k) => {
      const c = cases[k]!;
      const tolerance = c.tolerance ?? (c.kind === 'int8' ? 0 : 1e-5);
      let bad = 0;
      let total = 0;
      let worst = 0;
      let first = '';
      for (let s = 0; s < sampleCount; s++) {
        const official = outputs[s]![outputOffset]!.data as ArrayLike<number>;
        const got = ours[s]![outputOffset]! as ArrayLike<number>;
        const r = compare(official, got, tolerance);
        for (let i = 0; i < official.length; i++) worst = Math.max(worst, Math.abs(official[i]! - got[i]!) / Math.max(1, Math.abs(official[i]!)));
        total += official.length;
        if (r.bad > 0 && first === '') first = `sample ${s} ${r.first}`;
        bad += r.bad;
      }
      // The case exercises the arithmetic: its outputs take many values, mostly unsaturated.
      const values = samples.flatMap((_, s) => Array.from(outputs[s]![outputOffset]!.data as ArrayLike<number>));
      const distinct = new Set(values).size;
      const saturated = c.kind === 'int8' ? values.filter((v) => v === 127 || v === -128).length : 0;
      tt.ok(distinct >= Math.min(16, values.length / 4) && saturated <= values.length / 10, `${c.name}: ${distinct} distinct output values, ${saturated} saturated`);
      const how = tolerance === 0 ? 'bit for bit' : `within ${tolerance} (max ${worst.toExponential(2)})`;
      tt.equal(bad, 0, bad === 0 ? `${c.name} [${impls[k]}]: ${total} values equal ${how}` : `${c.name}: ${bad} of ${total} values differ (first: ${first})`);
    });
  });
}

const FLOAT_CASES: LstmCase[] = [
  { name: 'float plain', kind: 'float', batch: 1, time: 5, nInput: 6, nCell: 8 },
  { name: 'float batch 3, batch-major', kind: 'float', batch: 3, time: 4, nInput: 5, nCell: 7 },
  { name: 'float batch 3, time-major', kind: 'float', batch: 3, time: 4, nInput: 5, nCell: 7, timeMajor: true },
  { name: 'float peephole', kind: 'float', batch: 2, time: 4, nInput: 5, nCell: 6, peephole: true },
  { name: 'float CIFG + peephole', kind: 'float', batch: 2, time: 4, nInput: 5, nCell: 6, cifg: true, peephole: true },
  { name: 'float projection (n_output 4 < n_cell 9) with bias and clip 0.05', kind: 'float', batch: 2, time: 5, nInput: 3, nCell: 9, nOutput: 4, projectionBias: true, projClip: 0.05 },
  { name: 'float projection n_output 7 > n_cell 5', kind: 'float', batch: 1, time: 4, nInput: 3, nCell: 5, nOutput: 7 },
  { name: 'float cell clip 0.1', kind: 'float', batch: 2, time: 6, nInput: 4, nCell: 5, cellClip: 0.1 },
  { name: 'float layer norm', kind: 'float', batch: 2, time: 4, nInput: 4, nCell: 8, layerNorm: true },
  { name: 'float layer norm + CIFG + peephole + projection, time-major', kind: 'float', batch: 2, time: 3, nInput: 4, nCell: 8, nOutput: 3, layerNorm: true, cifg: true, peephole: true, timeMajor: true },
  { name: 'float RELU activation', kind: 'float', batch: 1, time: 4, nInput: 4, nCell: 5, activation: Act.RELU },
  { name: 'float legacy 20 inputs', kind: 'float', batch: 1, time: 3, nInput: 4, nCell: 5, inputs20: true },
];

t.test('builder-made float LSTMs equal tfjs-tflite', async (t) => {
  await checkLstmCases(t, 'float', FLOAT_CASES);
});

const INT8_CASES: LstmCase[] = [
  { name: 'int8 plain', kind: 'int8', batch: 1, time: 6, nInput: 6, nCell: 8 },
  { name: 'int8 zero points (input 5, hidden -3), batch 2', kind: 'int8', batch: 2, time: 5, nInput: 5, nCell: 7, inputZeroPoint: 5, hiddenZeroPoint: -3 },
  { name: 'int8 time-major batch 3', kind: 'int8', batch: 3, time: 4, nInput: 5, nCell: 6, timeMajor: true, hiddenZeroPoint: 2 },
  { name: 'int8 peephole', kind: 'int8', batch: 2, time: 5, nInput: 4, nCell: 6, peephole: true },
  { name: 'int8 CIFG + peephole', kind: 'int8', batch: 2, time: 5, nInput: 4, nCell: 6, cifg: true, peephole: true },
  { name: 'int8 cell clip 0.25 (cell scale 2^-11)', kind: 'int8', batch: 2, time: 6, nInput: 4, nCell: 5, cellClip: 0.25, cellShift: -11 },
  { name: 'int8 projection (n_output 4 < n_cell 8), bias, clip 0.08, hidden zp 4', kind: 'int8', batch: 2, time: 5, nInput: 4, nCell: 8, nOutput: 4, projectionBias: true, projClip: 0.08, hiddenZeroPoint: 4 },
  { name: 'int8 projection n_output 6 > n_cell 4', kind: 'int8', batch: 1, time: 4, nInput: 3, nCell: 4, nOutput: 6 },
  { name: 'int8 peephole + projection (n_output 3 < n_cell 6), time-major batch 2', kind: 'int8', batch: 2, time: 4, nInput: 4, nCell: 6, nOutput: 3, peephole: true, timeMajor: true },
  { name: 'int8 layer norm (n_cell 8)', kind: 'int8', batch: 2, time: 5, nInput: 4, nCell: 8, layerNorm: true },
  { name: 'int8 layer norm (n_cell 6, not a power of two)', kind: 'int8', batch: 1, time: 5, nInput: 4, nCell: 6, layerNorm: true },
  { name: 'int8 layer norm + CIFG + peephole + projection', kind: 'int8', batch: 2, time: 4, nInput: 4, nCell: 8, nOutput: 5, layerNorm: true, cifg: true, peephole: true, projectionBias: true },
];

t.test('builder-made integer LSTMs equal tfjs-tflite bit for bit', async (t) => {
  await checkLstmCases(t, 'int8x8→16', INT8_CASES);
});

const HYBRID_CASES: LstmCase[] = [
  { name: 'hybrid symmetric rows', kind: 'hybrid', batch: 2, time: 5, nInput: 6, nCell: 8, tolerance: 1e-5 },
  { name: 'hybrid asymmetric rows, time-major', kind: 'hybrid', batch: 2, time: 5, nInput: 6, nCell: 8, asymmetric: true, timeMajor: true, tolerance: 1e-5 },
  { name: 'hybrid peephole + CIFG + cell clip 0.1', kind: 'hybrid', batch: 2, time: 5, nInput: 4, nCell: 6, peephole: true, cifg: true, cellClip: 0.1, tolerance: 1e-5 },
  { name: 'hybrid projection with bias and clip 0.05, asymmetric', kind: 'hybrid', batch: 2, time: 5, nInput: 4, nCell: 8, nOutput: 5, projectionBias: true, projClip: 0.05, asymmetric: true, tolerance: 1e-5 },
  { name: 'hybrid layer norm', kind: 'hybrid', batch: 1, time: 5, nInput: 4, nCell: 8, layerNorm: true, tolerance: 1e-5 },
];

t.test('builder-made hybrid LSTMs equal tfjs-tflite within float rounding', async (t) => {
  await checkLstmCases(t, 'hybrid', HYBRID_CASES);
});

t.test('diagonal (1-D) recurrent weights equal the diagonal matrices', async (t) => {
  // Current TFLite takes 1-D recurrent weights (diagonal_recurrent_tensors); tfjs-tflite's 2023
  // TFLite refuses them ("recurrent_to_output_weights->dims->size != 2"), so the 1-D form is
  // checked against the same LSTM with diag(w) matrices, which the oracle runs.
  const base: LstmCase = { name: 'diagonal', kind: 'float', batch: 2, time: 5, nInput: 4, nCell: 6, peephole: true };
  const build = (diagonal: 'vector' | 'matrix'): Uint8Array => suiteModel([{ name: diagonal, graph: (b, prefix) => lstmGraph(b, prefix, { ...base, diagonal }, 7), samples: [], expected: () => new Float32Array(0) }]).bytes;
  const samples = lstmSamples(base, 7).map((s) => s[0]!);
  const vector = await runOurs(build('vector'), samples as Data[]);
  const matrix = await runOurs(build('matrix'), samples as Data[]);
  const oracle = await runOracle(build('matrix'), samples.map((x) => [x]), { runtime: 'tfjs-tflite' });
  samples.forEach((_, s) => {
    const want = oracle.outputs[s]![0]!.data as Float32Array;
    t.equal(compare(want, matrix.outputs[s]![0]!, 1e-5).bad, 0, `sample ${s}: the matrix form equals tfjs-tflite`);
    t.equal(compare(want, vector.outputs[s]![0]!, 1e-5).bad, 0, `sample ${s}: the 1-D form equals it within 1e-5`);
  });
});

// ---------------------------------------------------------------------------------------------
// State, memory, batches, errors.

/** A model with one LSTM case. */
function lstmModel(c: LstmCase, seed = 3): Uint8Array {
  return suiteModel([{ name: c.name, graph: (b, prefix) => lstmGraph(b, prefix, c, seed), samples: [], expected: () => new Float32Array(0) }]).bytes;
}

async function runAll(model: Uint8Array, samples: readonly Data[]): Promise<TensorData[][]> {
  const session = await loadModel(model, { worker: false });
  try {
    const outputs: TensorData[][] = [];
    for (const x of samples) outputs.push((await session.run([x as Float32Array])) as TensorData[]);
    return outputs;
  } finally {
    await session.close();
  }
}

t.test('every run starts from the reset state (as a fresh interpreter), in both backends', async (t) => {
  for (const kind of ['float', 'int8'] as const) {
    const c: LstmCase = { name: kind, kind, batch: 1, time: 4, nInput: 3, nCell: 5, hiddenZeroPoint: kind === 'int8' ? 3 : 0, stateOutputs: true };
    const [a, b] = lstmSamples({ ...c, samples: 2 }, 11).map((s) => s[0]! as Data);
    for (const worker of kind === 'float' ? [false, true] : [false]) {
      const session = await loadModel(lstmModel(c), { worker });
      const first = (await session.run([a as Float32Array])) as TensorData[];
      await session.run([b as Float32Array]);
      const again = (await session.run([a as Float32Array])) as TensorData[];
      await session.close();
      t.same(Array.from(again[0]!), Array.from(first[0]!), `${kind}, worker ${worker}: the same input gives the same output after another run`);
      // The state tensors hold the final state: h equals the last output row.
      t.same(Array.from(first[1]!), Array.from(first[0]!.subarray(3 * 5)), `${kind}, worker ${worker}: the output state holds the last step's h`);
    }
  }
});

t.test('a state tensor whose buffer holds data starts from that data (TFLite refuses such models)', async (t) => {
  const c: LstmCase = { name: 'two steps', kind: 'float', batch: 1, time: 2, nInput: 3, nCell: 4, peephole: true, stateOutputs: true };
  const x = lstmSamples(c, 5)[0]![0] as Float32Array;
  const [two] = await runAll(lstmModel(c), [x]);
  // The first step alone, then the second step from the first step's final state.
  const one = { ...c, time: 1 };
  const [first] = await runAll(lstmModel(one), [x.subarray(0, 3)]);
  const resumed = { ...one, initialState: { h: first![1] as Float32Array, c: first![2] as Float32Array } };
  const [second] = await runAll(lstmModel(resumed), [x.subarray(3, 6)]);
  t.same(Array.from(second![0]!), Array.from(two![0]!.subarray(4, 8)), 'step 2 from the stored state equals step 2 of the whole sequence');
  t.same(Array.from(second![2]!), Array.from(two![2]!), 'and leaves the same cell state');
  await t.rejects(runOracle(lstmModel(resumed), [[x.subarray(3, 6)]], { runtime: 'tfjs-tflite' }), { message: /variable tensor with buffer/ }, 'tfjs-tflite refuses it');
});

t.test('the state tensors share no arena bytes with other tensors', { skip: sharedSkip('models', 'mnist_lstm_float.tflite') }, (t) => {
  for (const file of ['mnist_lstm_float.tflite', 'mnist_lstm_int8_official.tflite']) {
    const graph = readModel(readShared('models', file));
    const sg = graph.subgraphs[0]!;
    const produced = new Set<number>(sg.inputs);
    for (const op of sg.operators) for (const o of op.outputs) produced.add(o);
    const bytes = sg.tensors.map((x) => byteSize(x.type, runShape(x, null), x.name));
    const constant = sg.tensors.map((x, i) => isConstantTensor(graph, x, produced.has(i)));
    const plan = planMemory(sg, bytes, constant);
    const variables = sg.tensors.flatMap((x, i) => (x.isVariable ? [i] : []));
    t.equal(variables.length, 2, `${file}: two variable tensors`);
    for (const v of variables) {
      const start = plan.offsets[v]!;
      const end = start + bytes[v]!;
      const overlapping = sg.tensors.flatMap((_, u) => {
        const s = plan.offsets[u]!;
        return u !== v && s >= 0 && bytes[u]! > 0 && s < end && start < s + bytes[u]! ? [u] : [];
      });
      t.ok(start >= 0, `${file}: tensor ${v} (${sg.tensors[v]!.name}) is planned at ${start}`);
      t.same(overlapping, [], `${file}: no tensor overlaps its ${bytes[v]} bytes`);
    }
  }
  t.end();
});

t.test('a dynamic batch runs each row independently', async (t) => {
  for (const dynamicState of [false, true]) {
    const c: LstmCase = { name: 'batch', kind: 'float', batch: 1, time: 3, nInput: 4, nCell: 5, peephole: true };
    const b = new GraphBuilder();
    const { inputs, outputs } = lstmGraph(b, '', c, 9);
    const graph = b.build();
    const sg = graph.subgraphs[0]!;
    const batchDim = (i: number) => (i === inputs[0] || i === outputs[0] || (dynamicState && sg.operators[0]!.inputs.slice(18, 20).includes(i)) ? { ...sg.tensors[i]!, shapeSignature: [-1, ...sg.tensors[i]!.shape.slice(1)] } : sg.tensors[i]!);
    const model = writeModel({ ...graph, subgraphs: [{ ...sg, tensors: sg.tensors.map((_, i) => batchDim(i)), inputs, outputs }] });
    const rows = lstmSamples({ ...c, samples: 3 }, 4).map((s) => s[0]! as Float32Array);
    const session = await loadModel(model, { worker: false });
    const [all] = (await session.run([Float32Array.from(rows.flatMap((r) => Array.from(r)))])) as Float32Array[];
    const single = await Promise.all(rows.map(async (r) => ((await session.run([r])) as Float32Array[])[0]!));
    await session.close();
    t.same(Array.from(all!), single.flatMap((y) => Array.from(y)), `states ${dynamicState ? '[-1, n]: a plan at batch 3' : 'static [1, n]: three slices'}, same rows as one at a time`);
  }
});

t.test('models TFLite cannot run fail at load naming the problem', async (t) => {
  const base: LstmCase = { name: 'int8', kind: 'int8', batch: 1, time: 2, nInput: 3, nCell: 4 };
  const graphOf = (c: LstmCase) => readModel(lstmModel(c));
  const withOp = (graph: ReturnType<typeof graphOf>, f: (op: Operator, sg: Subgraph) => Partial<Operator> | { tensors: Tensor[] }): Uint8Array => {
    const sg = graph.subgraphs[0]!;
    const change = f(sg.operators[0]!, sg);
    if ('tensors' in change) return writeModel({ ...graph, subgraphs: [{ ...sg, tensors: change.tensors as Tensor[] }] });
    return writeModel({ ...graph, subgraphs: [{ ...sg, operators: [{ ...sg.operators[0]!, ...change }] }] });
  };
  const reject = (model: Uint8Array, message: RegExp, what: string) => t.rejects(loadModel(model, { worker: false }), { message }, what);

  await reject(withOp(graphOf(base), () => ({ intermediates: [] })), /an integer LSTM needs 5 intermediate tensors .* but has 0/, 'integer LSTM without intermediates');
  await reject(
    withOp(graphOf(base), (op, sg) => ({ tensors: sg.tensors.map((x, i) => (i === op.inputs[19] ? { ...x, quantization: { ...x.quantization!, scale: [0.0003] } } : x)) })),
    /the cell state scale 0\.0003\d* is not a power of two/,
    'cell state scale not a power of two',
  );
  await reject(
    withOp(graphOf(base), (op, sg) => ({ tensors: sg.tensors.map((x, i) => (i === op.inputs[2] ? { ...x, quantization: { ...x.quantization!, scale: [0.01, 0.01, 0.01, 0.01], zeroPoint: [0, 0, 0, 0] } } : x)) })),
    /expected one scale and zero point 0 for LSTM tensor/,
    'per-channel weights',
  );
  const float: LstmCase = { ...base, kind: 'float' };
  await reject(
    withOp(graphOf(float), (op, sg) => ({ tensors: sg.tensors.map((x, i) => (i === op.inputs[0] || i === op.outputs[0] ? { ...x, shape: [2, x.shape[2]!] } : x)) })),
    /expected a rank-3 input/,
    'rank-2 input',
  );
  await reject(withOp(graphOf(float), (op) => ({ inputs: op.inputs.map((i, k) => (k === 13 ? -1 : i)) })), /the forget gate bias \(input 13\) is missing/, 'missing forget gate bias');
  await reject(withOp(graphOf(float), (op) => ({ inputs: op.inputs.map((i, k) => (k === 5 ? -1 : i)) })), /both its input and recurrent weights, or neither/, 'half a CIFG');
  await reject(
    withOp(graphOf(float), () => ({ builtinOptions: builtinOptions('UnidirectionalSequenceLSTMOptions', { fusedActivationFunction: Act.NONE }) })),
    /expected an LSTM activation among TANH/,
    'activation NONE (TFLite leaves its buffers unwritten)',
  );
});
