// Every shared model (../shared/models) in our runtime against the official runtime (the WASM
// oracle, test/fixtures/oracle.ts) on real data (../shared/data):
// - int8 and int16x8 outputs bit-identical (the int16x8 seanet models also equal their golden CSVs);
// - float outputs within 1e-6 + 1e-5·|y| (numpy.allclose's rule: XNNPACK sums in another order
//   than our kernels; an output near zero carries the rounding of the larger partial sums);
// - the hybrid (dynamic-range) autoencoder: the two official runtimes differ on it (LiteRT's
//   XNNPACK quantizes rows by its own rule, tfjs-tflite runs TFLite's builtin hybrid kernel). Ours
//   reproduces the builtin kernel: bit-identical to tfjs-tflite, and no further from LiteRT than
//   tfjs-tflite is (the tolerance is measured on the same windows in each run and printed).
// The LSTM twins (mnist_lstm_*) run against tfjs-tflite: LiteRT.js refuses variable tensors.
// Runs on the calling thread (worker: false): session.test.ts covers the worker backend.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import t, { type Test } from 'tap';

import type { Graph } from '../../lib/ir/graph.js';
import { loadModel } from '../../lib/runtime/session.js';
import { readModel } from '../../lib/tflite/read.js';
import { writeModel } from '../../lib/tflite/write.js';
import { readNpy } from '../../lib/npy.js';
import { randF32 } from '../fixtures/op-suite.js';
import { runOracle, type OracleRuntime, type OracleTensor } from '../fixtures/oracle.js';
import { sharedModels, sharedPath, sharedSkip } from '../fixtures/shared.js';

const SAMPLES = 4;
const RTOL = 1e-5;
const ATOL = 1e-6;

type Data = Float32Array | Int8Array | Int16Array;

function readShared(...parts: string[]): Uint8Array {
  return new Uint8Array(readFileSync(sharedPath(...parts)));
}

function npySamples(file: string, count: number): Float32Array[] {
  const npy = readNpy(readShared('data', file));
  const per = npy.shape.slice(1).reduce((a, d) => a * d, 1);
  return Array.from({ length: count }, (_, s) => Float32Array.from(npy.data.subarray(s * per, (s + 1) * per) as ArrayLike<number>));
}

/** N(0, 1) values (Box-Muller over the fixtures' deterministic uniform generator). */
function normal(n: number, seed: number): Float32Array {
  const u = randF32(2 * n, seed, 1e-7, 1);
  return Float32Array.from({ length: n }, (_, i) => Math.sqrt(-2 * Math.log(u[2 * i]!)) * Math.cos(2 * Math.PI * u[2 * i + 1]!));
}

/** Compares our outputs with the oracle's: float within tolerance, integers exactly. */
function compareOutputs(t: Test, ours: readonly (readonly Data[])[], theirs: readonly (readonly OracleTensor[])[], label = ''): void {
  for (const [s, want] of theirs.entries()) {
    const got = ours[s]!;
    t.equal(got.length, want.length, `${label}sample ${s}: output count`);
    for (const [o, w] of want.entries()) {
      const g = got[o]!;
      t.equal(g.length, w.data.length, `${label}sample ${s} output ${o}: length`);
      if (w.dtype === 'float32') {
        const wd = w.data as Float32Array;
        let worst = 0;
        let worstAbs = 0;
        for (let i = 0; i < wd.length; i++) {
          const err = Math.abs(g[i]! - wd[i]!);
          worst = Math.max(worst, err / (ATOL + RTOL * Math.abs(wd[i]!)));
          worstAbs = Math.max(worstAbs, err);
        }
        t.ok(worst <= 1, `${label}sample ${s} output ${o}: max |error| ${worstAbs.toExponential(2)}, ${worst.toFixed(3)} of the allowed ${RTOL}·|y| + ${ATOL}`);
      } else {
        const diff = Array.from(w.data as Int8Array).filter((v, i) => v !== g[i]).length;
        t.equal(diff, 0, `${label}sample ${s} output ${o}: ${diff} of ${w.data.length} ${w.dtype} values differ`);
      }
    }
  }
}

/** Runs every sample (one array per model input) through our runtime. */
async function runOurs(model: Uint8Array, samples: readonly (readonly Data[])[]): Promise<{ outputs: Data[][]; impls: string[] }> {
  const session = await loadModel(model, { worker: false });
  try {
    const outputs: Data[][] = [];
    for (const sample of samples) outputs.push((await session.run(sample as never)) as Data[]);
    return { outputs, impls: session.steps.map((s) => `${s.op}: ${s.impl}`) };
  } finally {
    await session.close();
  }
}

/** Float samples quantized to an int8 input's scale and zero point (the twins' int8 I/O). */
function quantizeSamples(model: Uint8Array, samples: readonly Float32Array[]): Data[] {
  const input = readModel(model).subgraphs[0]!;
  const tensor = input.tensors[input.inputs[0]!]!;
  const scale = tensor.quantization?.scale[0];
  if (scale === undefined) return [...samples];
  const zp = tensor.quantization?.zeroPoint[0] ?? 0;
  return samples.map((x) => Int8Array.from(x, (v) => Math.min(127, Math.max(-128, Math.round(v / scale) + zp))));
}

// ---------------------------------------------------------------------------------------------
// float and int8 twins against LiteRT.

interface Family {
  readonly data: string | null;
  readonly variants: readonly string[];
  readonly samples: () => Float32Array[];
}

const FAMILIES: Record<string, Family> = {
  ic_resnet8: { data: 'cifar10_200_x.npy', variants: ['float', 'int8_official'], samples: () => npySamples('cifar10_200_x.npy', SAMPLES) },
  hello_world_sine: { data: null, variants: ['float', 'int8_official'], samples: () => [0.5, Math.PI, 4, 6].map((x) => Float32Array.of(x)) },
  ad01_fc_autoencoder: {
    data: 'toycar_196_x.npy',
    variants: ['float', 'int8_official', 'int8_floatio_official'],
    samples: () => npySamples('toycar_196_x.npy', SAMPLES),
  },
  vww_mobilenetv1_025_96: {
    data: 'cifar10_200_96x96_x.npy',
    variants: ['float', 'int8_official'],
    samples: () => npySamples('cifar10_200_96x96_x.npy', SAMPLES).map((x) => x.map((v) => v / 255)),
  },
};

/** Models compared by the tests below, by file name; the coverage test checks the list. */
const covered = new Set<string>();

for (const [family, { data, variants, samples }] of Object.entries(FAMILIES)) {
  for (const variant of variants) {
    const file = `${family}_${variant}.tflite`;
    covered.add(file);
    t.test(`${file} equals LiteRT`, { skip: sharedSkip('models', file) || (data !== null && sharedSkip('data', data)) }, async (t) => {
      const bytes = readShared('models', file);
      const inputs = quantizeSamples(bytes, samples()).map((x) => [x]);
      const [ours, theirs] = await Promise.all([runOurs(bytes, inputs), runOracle(bytes, inputs, { runtime: 'litert' })]);
      compareOutputs(t, ours.outputs, theirs.outputs);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// The LSTM twins against tfjs-tflite (test/runtime/lstm.test.ts compares 200 digits and the
// LSTM's own outputs).

for (const variant of ['float', 'int8_official']) {
  const file = `mnist_lstm_${variant}.tflite`;
  covered.add(file);
  t.test(`${file} equals tfjs-tflite`, { skip: sharedSkip('models', file) || sharedSkip('data', 'mnist_2000_x.npy') }, async (t) => {
    const bytes = readShared('models', file);
    const digits = npySamples('mnist_2000_x.npy', SAMPLES).map((x) => x.map((v) => v / 255));
    const inputs = quantizeSamples(bytes, digits).map((x) => [x]);
    const [ours, theirs] = await Promise.all([runOurs(bytes, inputs), runOracle(bytes, inputs, { runtime: 'tfjs-tflite' })]);
    t.match(ours.impls[0], /UNIDIRECTIONAL_SEQUENCE_LSTM: (native|reference) lstm/);
    compareOutputs(t, ours.outputs, theirs.outputs);
  });
}

// ---------------------------------------------------------------------------------------------
// The transformer feed-forward block: BATCH_MATMUL, FULLY_CONNECTED (keep_num_dims), MUL, ADD,
// TANH on N(0, 1) inputs. Its last FULLY_CONNECTED has all-zero test weights (the output is 0
// for every input), so the comparison also exposes the intermediate tensors as outputs: both
// BATCH_MATMULs, the TANH and the product the last layer reads.

const GELU = 'litert_ff_gelu_float.tflite';
covered.add(GELU);

/** The graph with extra subgraph outputs (by tensor name) and no signature (which fixes the output count). */
function withOutputs(graph: Graph, names: readonly string[]): Uint8Array {
  const subgraph = graph.subgraphs[0]!;
  const extra = names.map((name) => {
    const index = subgraph.tensors.findIndex((x) => x.name === name);
    if (index < 0) throw new Error(`no tensor ${name}`);
    return index;
  });
  return writeModel({ ...graph, signatureDefs: null, subgraphs: [{ ...subgraph, outputs: [...subgraph.outputs, ...extra] }, ...graph.subgraphs.slice(1)] });
}

t.test(`${GELU} equals LiteRT (output and intermediates)`, { skip: sharedSkip('models', GELU) }, async (t) => {
  const graph = readModel(readShared('models', GELU));
  const prefix = 'jit(wrapper)/jit(main)/GatedFeedForward/';
  const bytes = withOutputs(graph, ['dot_general', 'dot_general1', 'tanh', 'mul4'].map((n) => prefix + n));
  const inputs = [1, 2].map((seed) => [normal(64 * 128, seed)]);
  const [ours, theirs] = await Promise.all([runOurs(bytes, inputs), runOracle(bytes, inputs, { runtime: 'litert' })]);
  t.match(ours.impls.filter((s) => s.startsWith('BATCH_MATMUL')), [/native f32/, /native f32/], 'both BATCH_MATMULs on the packed native GEMM');
  compareOutputs(t, ours.outputs, theirs.outputs);
  // The intermediates are not trivially zero.
  t.ok(Math.max(...Array.from(theirs.outputs[0]![4]!.data as Float32Array, Math.abs)) > 0.01, 'the last layer reads non-zero values');
});

// ---------------------------------------------------------------------------------------------
// int16x8: the seanet layers against their golden CSVs and LiteRT, bit for bit.

function csv(file: string): Int16Array {
  return Int16Array.from(readFileSync(sharedPath('models', 'int16x8', file), 'utf8').trim().split(/[,\s]+/).map(Number));
}

for (const [name, inputCount] of [['seanet_conv0', 1], ['seanet_conv10', 1], ['seanet_add0', 2]] as const) {
  const file = `${name}.tflite`;
  covered.add(file);
  t.test(`int16x8/${file} equals its golden CSV and LiteRT`, { skip: sharedSkip('models', 'int16x8', file) }, async (t) => {
    const bytes = readShared('models', 'int16x8', file);
    const inputs = [Array.from({ length: inputCount }, (_, i) => csv(`${name}_input${i}_int16.csv`))];
    const [ours, theirs] = await Promise.all([runOurs(bytes, inputs), runOracle(bytes, inputs, { runtime: 'litert' })]);
    const golden = csv(`${name}_golden_int16.csv`);
    const got = ours.outputs[0]![0]!;
    t.equal(got.length, golden.length, 'golden length');
    const diff = golden.filter((v, i) => v !== got[i]).length;
    t.equal(diff, 0, `${diff} of ${golden.length} values differ from the golden CSV`);
    compareOutputs(t, ours.outputs, theirs.outputs, 'LiteRT ');
    t.match(ours.impls[0], name === 'seanet_add0' ? /ADD/ : /CONV_2D: native int16x8 conv2d/);
  });
}

// ---------------------------------------------------------------------------------------------
// Hybrid: the dynamic-range autoencoder on every ToyCar window, in both official runtimes.

const DYNRANGE = 'ad01_fc_autoencoder_dynrange_official.tflite';
covered.add(DYNRANGE);

interface Diff {
  /** max |a - b| over every value. */
  maxAbs: number;
  /** max |a - b| / |b| over values with |b| >= 1e-3 (smaller ones say nothing relative). */
  maxRel: number;
  /** max over windows of |MSE_a - MSE_b|, the anomaly score (MSE of the reconstruction vs the input). */
  maxScore: number;
}

function diff(a: readonly Float32Array[], b: readonly Float32Array[], inputs: readonly Float32Array[]): Diff {
  const d: Diff = { maxAbs: 0, maxRel: 0, maxScore: 0 };
  a.forEach((x, s) => {
    const y = b[s]!;
    const input = inputs[s]!;
    let mseA = 0;
    let mseB = 0;
    for (let i = 0; i < x.length; i++) {
      const e = Math.abs(x[i]! - y[i]!);
      d.maxAbs = Math.max(d.maxAbs, e);
      if (Math.abs(y[i]!) >= 1e-3) d.maxRel = Math.max(d.maxRel, e / Math.abs(y[i]!));
      mseA += (x[i]! - input[i]!) ** 2;
      mseB += (y[i]! - input[i]!) ** 2;
    }
    d.maxScore = Math.max(d.maxScore, Math.abs(mseA - mseB) / x.length);
  });
  return d;
}

const show = (d: Diff): string => `max abs ${d.maxAbs.toPrecision(3)}, max rel ${d.maxRel.toPrecision(3)}, max score diff ${d.maxScore.toPrecision(3)}`;

t.test(`${DYNRANGE}: bit-identical to tfjs-tflite, within the LiteRT–tfjs-tflite difference of LiteRT`, {
  skip: sharedSkip('models', DYNRANGE) || sharedSkip('data', 'toycar_196_x.npy'),
}, async (t) => {
  const bytes = readShared('models', DYNRANGE);
  const windows = npySamples('toycar_196_x.npy', 196);
  const inputs = windows.map((x) => [x]);
  const oracle = async (runtime: OracleRuntime) =>
    (await runOracle(bytes, inputs, { runtime, timeoutMs: 180_000 })).outputs.map((o) => o[0]!.data as Float32Array);
  const [ours, litert, tfjs] = await Promise.all([runOurs(bytes, inputs), oracle('litert'), oracle('tfjs-tflite')]);
  t.ok(ours.impls.every((s) => /native hybrid fully-connected \(symmetric rows\)/.test(s)), 'every layer on the hybrid kernel, symmetric rows (the op options)');
  const y = ours.outputs.map((o) => o[0] as Float32Array);

  const runtimes = diff(tfjs, litert, windows);
  const vsLitert = diff(y, litert, windows);
  const vsTfjs = diff(y, tfjs, windows);
  t.comment(`${windows.length} windows: tfjs-tflite vs LiteRT: ${show(runtimes)}`);
  t.comment(`ours vs LiteRT: ${show(vsLitert)}; ours vs tfjs-tflite: ${show(vsTfjs)}`);
  t.equal(vsTfjs.maxAbs, 0, 'ours equal tfjs-tflite (TFLite builtin hybrid kernel) bit for bit');
  t.ok(vsLitert.maxAbs <= runtimes.maxAbs, `max |ours - LiteRT| ${vsLitert.maxAbs.toPrecision(3)} <= max |tfjs-tflite - LiteRT| ${runtimes.maxAbs.toPrecision(3)}`);
  t.ok(vsLitert.maxRel <= runtimes.maxRel, `max relative ${vsLitert.maxRel.toPrecision(3)} <= ${runtimes.maxRel.toPrecision(3)}`);
  t.ok(vsLitert.maxScore <= runtimes.maxScore, `max anomaly-score difference ${vsLitert.maxScore.toPrecision(3)} <= ${runtimes.maxScore.toPrecision(3)}`);
  const mean = (outs: readonly Float32Array[]) =>
    outs.reduce((sum, x, s) => sum + x.reduce((a, v, i) => a + (v - windows[s]![i]!) ** 2, 0) / x.length, 0) / outs.length;
  const [mOurs, mLitert, mTfjs] = [mean(y), mean(litert), mean(tfjs)];
  t.comment(`mean reconstruction MSE: ours ${mOurs.toFixed(4)}, LiteRT ${mLitert.toFixed(4)}, tfjs-tflite ${mTfjs.toFixed(4)}`);
  t.ok(Math.abs(mOurs - mLitert) <= Math.abs(mTfjs - mLitert) + 1e-9, 'mean anomaly score as close to LiteRT as tfjs-tflite is');
});

// ---------------------------------------------------------------------------------------------

t.test('every shared model is compared here', { skip: sharedSkip('models') }, (t) => {
  const missing = sharedModels()
    .map((path) => basename(path))
    .filter((file) => !covered.has(file));
  t.same(missing, [], 'models without a comparison');
  t.end();
});
