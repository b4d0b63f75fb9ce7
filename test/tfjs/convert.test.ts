// fromTfjs: TensorFlow.js Layers models built here with @tensorflow/tfjs (seeded weights), one
// per supported layer plus combined functional models, converted from model.json on disk and
// from the in-memory LayersModel (the same bytes). The converted model's outputs equal tfjs's
// predict() on seeded random inputs, in our runtime and in the official runtime (LiteRT; LSTMs,
// which our runtime cannot run yet, in tfjs-tflite), within 1e-5·|y| + 1e-6. Structure: BatchNorm
// folded, relu/relu6 fused, Dropout gone, SeparableConv2D as two ops, LSTM's 24 inputs and state.
// Errors: unsupported layers all listed; bad or missing model.json and shards; dtypes.
import { mkdtempSync, rmSync, writeFileSync, readFileSync, truncateSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';

import { InvalidArgumentError, UnsupportedOperatorError } from '../../lib/errors.js';
import type { Graph } from '../../lib/ir/graph.js';
import { loadModel } from '../../lib/runtime/session.js';
import { fromTfjs, UnsupportedLayerError } from '../../lib/tfjs/convert.js';
import { builtinOperatorName } from '../../lib/tflite/names.js';
import { readModel } from '../../lib/tflite/read.js';
import { ActivationFunctionType as Act, TensorType } from '../../lib/tflite/schema.js';
import { runOracle, type OracleRuntime } from '../fixtures/oracle.js';
import { predict, randomInputs, saveArtifacts, seedWeights, tf, writeModelDir } from './fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'litequant-tfjs-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

const RTOL = 1e-5;
const ATOL = 1e-6;
let worstAbs = 0;
let worstRel = 0;

const L = tf.layers;
const seq = (layers: tf.layers.Layer[]): tf.LayersModel => tf.sequential({ layers });
const opNames = (graph: Graph): string[] =>
  graph.subgraphs[0]!.operators.map((op) => builtinOperatorName(graph.operatorCodes[op.opcodeIndex]!.builtinCode));
const fusedOf = (graph: Graph, k: number): number | undefined => {
  const options = graph.subgraphs[0]!.operators[k]?.builtinOptions;
  return options !== null && options !== undefined && 'fusedActivationFunction' in options ? options.fusedActivationFunction : undefined;
};

/** Counts the values outside RTOL·|want| + ATOL; records the worst errors. */
function compare(t: Test, label: string, want: readonly Float32Array[], got: readonly ArrayLike<number>[]): void {
  let bad = 0;
  let total = 0;
  let first = '';
  want.forEach((w, o) => {
    const g = got[o];
    if (g === undefined || g.length !== w.length) {
      bad += w.length;
      first ||= `output ${o}: ${g?.length ?? 0} values, tfjs ${w.length}`;
      return;
    }
    for (let i = 0; i < w.length; i++) {
      const d = Math.abs(g[i]! - w[i]!);
      total++;
      worstAbs = Math.max(worstAbs, d);
      if (Math.abs(w[i]!) > 1e-3) worstRel = Math.max(worstRel, d / Math.abs(w[i]!));
      if (!(d <= RTOL * Math.abs(w[i]!) + ATOL)) {
        bad++;
        first ||= `output ${o}[${i}]: tfjs ${w[i]}, converted ${g[i]}`;
      }
    }
  });
  t.equal(bad, 0, bad === 0 ? `${label}: ${total} values match tfjs` : `${label}: ${bad} of ${total} differ (first: ${first})`);
}

interface Case {
  readonly name: string;
  readonly build: () => tf.LayersModel;
  /** The ops of the converted model, in order. */
  readonly ops?: readonly string[];
  readonly structure?: (t: Test, graph: Graph) => void;
  /** Embedding models: inputs are int32 indices below this. */
  readonly vocabulary?: number;
  /** LSTM: not in our runtime; the oracle is tfjs-tflite. */
  readonly lstm?: boolean;
  /** Also run a batch of 3 samples in our runtime (dynamic batch). */
  readonly batch?: boolean;
}

const cases: Case[] = [
  {
    name: 'Dense: relu fused, linear, softmax',
    build: () =>
      seq([
        L.dense({ inputShape: [6], units: 5, activation: 'relu', name: 'fc1' }),
        L.dense({ units: 4, name: 'fc2' }),
        L.dense({ units: 3, activation: 'softmax', name: 'probs' }),
      ]),
    ops: ['FULLY_CONNECTED', 'FULLY_CONNECTED', 'FULLY_CONNECTED', 'SOFTMAX'],
    structure(t, graph) {
      t.equal(fusedOf(graph, 0), Act.RELU, 'fc1: relu fused');
      const tensors = graph.subgraphs[0]!.tensors;
      t.same(tensors[graph.subgraphs[0]!.inputs[0]!]!.shapeSignature, [-1, 6], 'input batch is dynamic');
      t.equal(tensors[graph.subgraphs[0]!.outputs[0]!]!.name, 'probs', 'output named after its layer');
      t.same(graph.signatureDefs?.[0]?.outputs.map((o) => o.name), ['probs'], 'signature output');
    },
    batch: true,
  },
  {
    name: 'Dense on [steps, features] (keep_num_dims), sigmoid, tanh',
    build: () => seq([L.dense({ inputShape: [3, 6], units: 4, activation: 'sigmoid' }), L.dense({ units: 2, activation: 'tanh' })]),
    ops: ['FULLY_CONNECTED', 'LOGISTIC', 'FULLY_CONNECTED', 'TANH'],
  },
  {
    name: 'Conv2D: same + relu6, valid strides 2 without bias, dilation 2',
    build: () =>
      seq([
        L.conv2d({ inputShape: [9, 9, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu6' }),
        L.conv2d({ filters: 5, kernelSize: [3, 2], strides: 2, padding: 'valid', useBias: false }),
        L.conv2d({ filters: 3, kernelSize: 2, dilationRate: 2, padding: 'same', activation: 'relu' }),
      ]),
    ops: ['CONV_2D', 'CONV_2D', 'CONV_2D'],
    structure(t, graph) {
      t.same([0, 1, 2].map((k) => fusedOf(graph, k)), [Act.RELU6, Act.NONE, Act.RELU], 'activations fused');
    },
    batch: true,
  },
  {
    name: 'Conv2D strides 2 same on an even input, tanh',
    build: () => seq([L.conv2d({ inputShape: [8, 6, 2], filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' })]),
    ops: ['CONV_2D', 'TANH'],
  },
  {
    name: 'DepthwiseConv2D: multiplier 2 strides 2 same, multiplier 1 valid + relu',
    build: () =>
      seq([
        L.depthwiseConv2d({ inputShape: [8, 8, 3], kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same' }),
        L.depthwiseConv2d({ kernelSize: [2, 3], activation: 'relu' }),
      ]),
    ops: ['DEPTHWISE_CONV_2D', 'DEPTHWISE_CONV_2D'],
  },
  {
    name: 'SeparableConv2D + BatchNormalization + ReLU6: folded and fused',
    build: () =>
      seq([
        L.separableConv2d({ inputShape: [8, 8, 3], filters: 6, kernelSize: 3, depthMultiplier: 2, padding: 'same', useBias: false, name: 'sep' }),
        L.batchNormalization({ name: 'sep_bn' }),
        L.reLU({ maxValue: 6, name: 'sep_relu6' }),
        L.separableConv2d({ filters: 4, kernelSize: 3, strides: 2, activation: 'relu' }),
      ]),
    ops: ['DEPTHWISE_CONV_2D', 'CONV_2D', 'DEPTHWISE_CONV_2D', 'CONV_2D'],
    structure(t, graph) {
      t.same([0, 1, 2, 3].map((k) => fusedOf(graph, k)), [Act.NONE, Act.RELU6, Act.NONE, Act.RELU], 'relu6 fused into the pointwise conv');
      const names = graph.subgraphs[0]!.tensors.map((x) => x.name);
      t.ok(names.includes('sep_relu6'), 'the fused output is named after the last layer it stands for');
    },
  },
  {
    name: 'BatchNormalization: folded into Conv2D and Dense, standalone after input and pooling',
    build: () =>
      seq([
        L.batchNormalization({ inputShape: [6, 6, 2], name: 'bn_in' }),
        L.conv2d({ filters: 4, kernelSize: 3, name: 'conv' }),
        L.batchNormalization({ name: 'bn_conv' }),
        L.maxPooling2d({ poolSize: 2 }),
        L.batchNormalization({ name: 'bn_pool', center: false }),
        L.flatten(),
        L.dense({ units: 3, name: 'fc' }),
        L.batchNormalization({ name: 'bn_fc', scale: false }),
      ]),
    ops: ['MUL', 'ADD', 'CONV_2D', 'MAX_POOL_2D', 'MUL', 'ADD', 'RESHAPE', 'FULLY_CONNECTED'],
  },
  {
    name: 'Activation layers: relu (fused), tanh, relu6, ReLU, sigmoid, Softmax',
    build: () =>
      seq([
        L.dense({ inputShape: [5], units: 6 }),
        L.activation({ activation: 'relu' }),
        L.activation({ activation: 'tanh' }),
        L.activation({ activation: 'relu6' }),
        L.reLU(),
        L.activation({ activation: 'sigmoid' }),
        L.softmax(),
        L.activation({ activation: 'linear' }),
        L.activation({ activation: 'softmax' }),
      ]),
    ops: ['FULLY_CONNECTED', 'TANH', 'RELU6', 'RELU', 'LOGISTIC', 'SOFTMAX', 'SOFTMAX'],
    structure(t, graph) {
      t.equal(fusedOf(graph, 0), Act.RELU, 'Activation relu fused into the Dense');
    },
  },
  {
    name: 'MaxPooling2D and AveragePooling2D: valid, same, strides',
    build: () =>
      seq([
        L.maxPooling2d({ inputShape: [9, 7, 3], poolSize: 2 }),
        L.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' }),
        L.maxPooling2d({ poolSize: [2, 3], strides: [1, 2], padding: 'same' }),
        L.averagePooling2d({ poolSize: 2, strides: 1 }),
      ]),
    ops: ['MAX_POOL_2D', 'AVERAGE_POOL_2D', 'MAX_POOL_2D', 'AVERAGE_POOL_2D'],
  },
  {
    name: 'GlobalAveragePooling2D, Reshape, Dropout (removed), Flatten, ZeroPadding2D',
    build: () =>
      seq([
        L.zeroPadding2d({ inputShape: [5, 5, 4], padding: [[1, 2], [0, 1]] }),
        L.conv2d({ filters: 6, kernelSize: 3 }),
        L.dropout({ rate: 0.5 }),
        L.globalAveragePooling2d({}),
        L.reshape({ targetShape: [3, 2] }),
        L.dense({ units: 2 }),
        L.flatten(),
      ]),
    ops: ['PAD', 'CONV_2D', 'MEAN', 'RESHAPE', 'FULLY_CONNECTED', 'RESHAPE'],
    batch: true,
  },
  {
    name: 'functional: residual Add with ReLU fused, Multiply',
    build: () => {
      const x = tf.input({ shape: [6, 6, 4], name: 'image' });
      const a = L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'a' }).apply(x) as tf.SymbolicTensor;
      const bn = L.batchNormalization({ name: 'a_bn' }).apply(a) as tf.SymbolicTensor;
      const sum = L.add({ name: 'residual' }).apply([bn, x]) as tf.SymbolicTensor;
      const relu = L.reLU({ name: 'residual_relu' }).apply(sum) as tf.SymbolicTensor;
      const gate = L.conv2d({ filters: 4, kernelSize: 1, activation: 'sigmoid', name: 'gate' }).apply(relu) as tf.SymbolicTensor;
      const product = L.multiply({ name: 'gated' }).apply([relu, gate]) as tf.SymbolicTensor;
      return tf.model({ inputs: x, outputs: product });
    },
    ops: ['CONV_2D', 'ADD', 'CONV_2D', 'LOGISTIC', 'MUL'],
    structure(t, graph) {
      t.equal(fusedOf(graph, 1), Act.RELU, 'ReLU fused into the ADD');
    },
  },
  {
    name: 'functional: Concatenate branches, three outputs, two inputs',
    build: () => {
      const x = tf.input({ shape: [8, 8, 3], name: 'image' });
      const v = tf.input({ shape: [5], name: 'features' });
      const b1 = L.conv2d({ filters: 4, kernelSize: 1, activation: 'relu', name: 'b1' }).apply(x) as tf.SymbolicTensor;
      const b2 = L.conv2d({ filters: 2, kernelSize: 3, padding: 'same', name: 'b2' }).apply(x) as tf.SymbolicTensor;
      const b3 = L.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same', name: 'b3' }).apply(x) as tf.SymbolicTensor;
      const cat = L.concatenate({ name: 'mixed' }).apply([b1, b2, b3]) as tf.SymbolicTensor;
      const pooled = L.globalAveragePooling2d({ name: 'gap' }).apply(cat) as tf.SymbolicTensor;
      const joined = L.concatenate({ axis: 1, name: 'joined' }).apply([pooled, v]) as tf.SymbolicTensor;
      const head = L.dense({ units: 3, activation: 'softmax', name: 'head' }).apply(joined) as tf.SymbolicTensor;
      const aux = L.dense({ units: 2, name: 'aux' }).apply(v) as tf.SymbolicTensor;
      return tf.model({ inputs: [x, v], outputs: [head, aux, cat] });
    },
    structure(t, graph) {
      const sub = graph.subgraphs[0]!;
      t.same(sub.inputs.map((i) => sub.tensors[i]!.name), ['image', 'features'], 'inputs in order');
      t.same(sub.outputs.map((i) => sub.tensors[i]!.name), ['head', 'aux', 'mixed'], 'outputs in order');
    },
    batch: true,
  },
  {
    name: 'functional: a layer called twice (shared weights)',
    build: () => {
      const a = tf.input({ shape: [4], name: 'left' });
      const b = tf.input({ shape: [4], name: 'right' });
      const shared = L.dense({ units: 3, activation: 'relu', name: 'shared' });
      const joined = L.concatenate({ name: 'both' }).apply([shared.apply(a) as tf.SymbolicTensor, shared.apply(b) as tf.SymbolicTensor]) as tf.SymbolicTensor;
      return tf.model({ inputs: [a, b], outputs: L.dense({ units: 2, name: 'out' }).apply(joined) as tf.SymbolicTensor });
    },
    ops: ['FULLY_CONNECTED', 'FULLY_CONNECTED', 'CONCATENATION', 'FULLY_CONNECTED'],
    structure(t, graph) {
      const sub = graph.subgraphs[0]!;
      t.equal(sub.operators[0]!.inputs[1], sub.operators[1]!.inputs[1], 'the shared weights are one tensor');
      t.same(sub.operators.slice(0, 2).map((op) => sub.tensors[op.outputs[0]!]!.name), ['shared', 'shared_1'], 'one output per call');
    },
  },
  {
    name: 'Embedding: GATHER on int32 indices, then Flatten and Dense',
    build: () => seq([L.embedding({ inputDim: 20, outputDim: 4, inputLength: 6 }), L.flatten(), L.dense({ units: 3 })]),
    vocabulary: 20,
    ops: ['GATHER', 'RESHAPE', 'FULLY_CONNECTED'],
    structure(t, graph) {
      const sub = graph.subgraphs[0]!;
      t.equal(sub.tensors[sub.inputs[0]!]!.type, TensorType.INT32, 'the index input is int32');
    },
  },
  {
    name: 'LSTM (return_sequences) then Dense',
    build: () =>
      seq([
        L.lstm({ inputShape: [5, 3], units: 4, returnSequences: true, recurrentActivation: 'sigmoid', name: 'lstm' }),
        L.dense({ units: 2 }),
      ]),
    lstm: true,
    ops: ['UNIDIRECTIONAL_SEQUENCE_LSTM', 'FULLY_CONNECTED'],
    structure(t, graph) {
      const sub = graph.subgraphs[0]!;
      const op = sub.operators[0]!;
      t.equal(op.inputs.length, 24, 'LSTM: 24 inputs');
      t.same([18, 19].map((k) => sub.tensors[op.inputs[k]!]!.isVariable), [true, true], 'output and cell state are variable tensors');
      t.same([9, 10, 11, 16, 17, 20, 21, 22, 23].map((k) => op.inputs[k]), Array(9).fill(-1), 'no peepholes, projection or layer norm');
      const options = op.builtinOptions;
      t.ok(options?.kind === 'UnidirectionalSequenceLSTMOptions' && !options.timeMajor && options.fusedActivationFunction === Act.TANH, 'batch-major, tanh');
    },
  },
  {
    name: 'Embedding + LSTM (last step) + Dense softmax',
    build: () =>
      seq([
        L.embedding({ inputDim: 12, outputDim: 5, inputLength: 7 }),
        L.lstm({ units: 6, recurrentActivation: 'sigmoid' }),
        L.dense({ units: 3, activation: 'softmax' }),
      ]),
    vocabulary: 12,
    lstm: true,
    ops: ['GATHER', 'UNIDIRECTIONAL_SEQUENCE_LSTM', 'SLICE', 'RESHAPE', 'FULLY_CONNECTED', 'SOFTMAX'],
  },
];

const SAMPLES = 3;

for (const [index, c] of cases.entries()) {
  t.test(c.name, async (t) => {
    const model = c.build();
    seedWeights(model, index + 1);
    const dir = join(work, `case${index}`);
    const path = writeModelDir(await saveArtifacts(model), dir, { shards: index % 2 === 0 ? 1 : 3 });
    const bytes = await fromTfjs(path);
    const inMemory = await fromTfjs(model);
    t.ok(Buffer.from(bytes).equals(Buffer.from(inMemory)), 'model.json and the in-memory LayersModel convert to the same bytes');
    const graph = readModel(bytes);
    if (c.ops !== undefined) t.same(opNames(graph), c.ops, `ops: ${opNames(graph).join(', ')}`);
    c.structure?.(t, graph);

    const samples = Array.from({ length: SAMPLES }, (_, s) => randomInputs(model, 100 * index + s, c.vocabulary));
    const want = samples.map((sample) => predict(model, sample));

    if (!c.lstm) {
      const session = await loadModel(bytes, { worker: false });
      for (const [s, sample] of samples.entries()) {
        compare(t, `ours, sample ${s}`, want[s]!, (await session.run(sample)) as Float32Array[]);
      }
      if (c.batch === true) {
        const batched = samples[0]!.map((_, k) => {
          const parts = samples.map((sample) => sample[k]!);
          const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
          parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
          return all;
        });
        const got = (await session.run(batched)) as Float32Array[];
        const wantBatched = want[0]!.map((_, o) => Float32Array.from(want.flatMap((w) => Array.from(w[o]!))));
        compare(t, `ours, batch of ${SAMPLES} (shape_signature -1)`, wantBatched, got);
      }
      await session.close();
    }

    const runtime: OracleRuntime = c.lstm ? 'tfjs-tflite' : 'litert';
    const { outputs } = await runOracle(bytes, samples, { runtime });
    outputs.forEach((sample, s) => compare(t, `${runtime}, sample ${s}`, want[s]!, sample.map((o) => o.data as Float32Array)));
    model.dispose();
  });
}

t.test('Keras formats: model_config wrapper, InputLayer first in a Sequential, Keras 3 inbound nodes', async (t) => {
  const session = async (bytes: Uint8Array, sample: Float32Array[]) => {
    const s = await loadModel(bytes, { worker: false });
    const out = (await s.run(sample)) as Float32Array[];
    await s.close();
    return out;
  };
  // Sequential as Keras' converter writes it: the topology inside model_config, an explicit InputLayer.
  const sequential = seq([L.dense({ inputShape: [4], units: 3, activation: 'relu', name: 'fc' }), L.dense({ units: 2, name: 'out' })]);
  seedWeights(sequential, 11);
  const keras2 = writeModelDir(await saveArtifacts(sequential), join(work, 'keras2'), {
    edit(json) {
      const topology = json['modelTopology'] as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
      const first = topology.config.layers[0]!.config;
      delete first['batch_input_shape'];
      topology.config.layers.unshift({ class_name: 'InputLayer', config: { batch_input_shape: [null, 4], dtype: 'float32', sparse: false, ragged: false, name: 'input_1' } });
      json['modelTopology'] = { keras_version: '2.15.0', backend: 'tensorflow', model_config: topology };
    },
  });
  const fromKeras2 = await fromTfjs(keras2);
  const sub = readModel(fromKeras2).subgraphs[0]!;
  t.equal(sub.tensors[sub.inputs[0]!]!.name, 'input_1', 'the InputLayer names the input');
  const sample = randomInputs(sequential, 1) as Float32Array[];
  t.same(await session(fromKeras2, sample), await session(await fromTfjs(sequential), sample), 'same outputs as the tfjs form');

  // A functional model with Keras 3's inbound nodes ({ args: [keras tensors] }, lists for merges).
  const x = tf.input({ shape: [5], name: 'x' });
  const h = L.dense({ units: 5, name: 'h' }).apply(x) as tf.SymbolicTensor;
  const sum = L.add({ name: 'sum' }).apply([h, x]) as tf.SymbolicTensor;
  const functional = tf.model({ inputs: x, outputs: L.dense({ units: 2, name: 'y' }).apply(sum) as tf.SymbolicTensor });
  seedWeights(functional, 12);
  const kerasTensor = (ref: unknown[]) => ({ class_name: '__keras_tensor__', config: { shape: null, dtype: 'float32', keras_history: ref.slice(0, 3) } });
  const keras3 = writeModelDir(await saveArtifacts(functional), join(work, 'keras3'), {
    edit(json) {
      const config = (json['modelTopology'] as { config: { layers: { inbound_nodes: unknown[][][] }[] } }).config;
      for (const layer of config.layers) {
        layer.inbound_nodes = layer.inbound_nodes.map((node) => ({
          args: node.length === 1 ? [kerasTensor(node[0]!)] : [node.map(kerasTensor)],
          kwargs: {},
        })) as never;
      }
      json['modelTopology'] = { ...(json['modelTopology'] as object), class_name: 'Functional' };
    },
  });
  const sample3 = randomInputs(functional, 2) as Float32Array[];
  t.same(await session(await fromTfjs(keras3), sample3), await session(await fromTfjs(functional), sample3), 'Keras 3 nodes: same outputs');
  sequential.dispose();
  functional.dispose();
});

t.test('quantized weights (uint8, uint16, float16 in the manifest) are dequantized as tfjs loads them', async (t) => {
  const model = seq([L.conv2d({ inputShape: [5, 5, 2], filters: 3, kernelSize: 3, name: 'conv' }), L.flatten(), L.dense({ units: 2, name: 'fc' })]);
  seedWeights(model, 77);
  const artifacts = await saveArtifacts(model);
  // Re-encode each weight as tfjs-converter's --quantize_* would: uint8, uint16, float16, float32.
  const source = new Float32Array(artifacts.weightData as ArrayBuffer);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const kinds = ['uint8', 'float16', 'uint16', 'float32'] as const;
  for (const [k, spec] of (artifacts.weightSpecs ?? []).entries()) {
    const n = spec.shape.reduce((a, d) => a * d, 1);
    const values = source.subarray(offset, offset + n);
    offset += n;
    const kind = kinds[k % kinds.length]!;
    if (kind === 'float32') {
      specs.push(spec);
      chunks.push(new Uint8Array(values.slice().buffer));
    } else if (kind === 'float16') {
      specs.push({ ...spec, quantization: { dtype: 'float16' } });
      const halves = new Uint16Array(n);
      values.forEach((v, i) => (halves[i] = toHalf(v)));
      chunks.push(new Uint8Array(halves.buffer));
    } else {
      const levels = kind === 'uint8' ? 255 : 65535;
      const min = Math.min(...values);
      const scale = (Math.max(...values) - min) / levels || 1;
      specs.push({ ...spec, quantization: { dtype: kind, scale, min } });
      const q = Array.from(values, (v) => Math.round((v - min) / scale));
      chunks.push(kind === 'uint8' ? Uint8Array.from(q) : new Uint8Array(Uint16Array.from(q).buffer));
    }
  }
  const weightData = Buffer.concat(chunks);
  const quantized: tf.io.ModelArtifacts = { ...artifacts, weightSpecs: specs, weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.length) };
  const path = writeModelDir(quantized, join(work, 'quantized'));
  const bytes = await fromTfjs(path);
  const reloaded = await tf.loadLayersModel(tf.io.fromMemory(quantized));
  const session = await loadModel(bytes, { worker: false });
  for (let s = 0; s < 2; s++) {
    const sample = randomInputs(reloaded, s);
    compare(t, `sample ${s}`, predict(reloaded, sample), (await session.run(sample)) as Float32Array[]);
  }
  await session.close();
  t.ok(Buffer.from(bytes).equals(Buffer.from(await fromTfjs(quantized))), 'the same from ModelArtifacts in memory');
});

/** float32 to float16 bits (round to nearest even), for the test's manifest. */
function toHalf(value: number): number {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = ((x >>> 23) & 0xff) - 127 + 15;
  let mantissa = x & 0x7fffff;
  if (exponent <= 0) return sign; // tiny: zero (the test weights are not this small)
  if (exponent >= 31) return sign | 0x7c00;
  const round = mantissa & 0x1fff;
  mantissa >>= 13;
  let h = sign | (exponent << 10) | mantissa;
  if (round > 0x1000 || (round === 0x1000 && (mantissa & 1) === 1)) h++;
  return h;
}

t.test('unsupported layers: one error lists every layer and why', async (t) => {
  const x = tf.input({ shape: [6, 4], name: 'seq_in' });
  const gru = L.gru({ units: 3, returnSequences: true, name: 'my_gru' }).apply(x) as tf.SymbolicTensor;
  const lstm = L.lstm({ units: 3, name: 'default_lstm' }).apply(gru) as tf.SymbolicTensor; // hard_sigmoid gates
  const leaky = L.leakyReLU({ name: 'leaky' }).apply(lstm) as tf.SymbolicTensor;
  const elu = L.dense({ units: 2, activation: 'elu', name: 'elu_dense' }).apply(leaky) as tf.SymbolicTensor;
  const img = tf.input({ shape: [3, 6, 6], name: 'chw' });
  const conv = L.conv2d({ filters: 2, kernelSize: 3, dataFormat: 'channelsFirst', name: 'nchw_conv' }).apply(img) as tf.SymbolicTensor;
  const model = tf.model({ inputs: [x, img], outputs: [elu, conv] });
  const error = await fromTfjs(model).then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(error instanceof UnsupportedLayerError && error instanceof UnsupportedOperatorError, 'an UnsupportedLayerError (an UnsupportedOperatorError)');
  const e = error as UnsupportedLayerError;
  t.equal(e.code, 'ERR_LITEQUANT_UNSUPPORTED_OPERATOR', 'code');
  t.same(
    e.layers.map((l) => `${l.className} ${l.name}`),
    ['GRU my_gru', 'LSTM default_lstm', 'LeakyReLU leaky', 'Dense elu_dense', 'Conv2D nchw_conv'],
    'every unsupported layer, in model order',
  );
  t.match(e.message, /5 layers cannot be converted/, 'the count');
  t.match(e.message, /LSTM 'default_lstm': recurrent_activation "hard_sigmoid".*recurrentActivation: 'sigmoid'/, 'why the default LSTM does not convert, and what to do');
  t.match(e.message, /Conv2D 'nchw_conv': data_format 'channels_first'/, 'channels_first');
  t.match(e.message, /Dense 'elu_dense': activation "elu"/, 'an activation without a TFLite op');
  t.equal(e.op, 'GRU', 'op: the first unsupported class');
  model.dispose();
});

t.test('int32 inputs feed only Embedding layers; Embedding indices are int32', async (t) => {
  const ids = tf.input({ shape: [4], dtype: 'int32', name: 'ids' });
  const direct = L.dense({ units: 2, name: 'int_dense' }).apply(ids) as tf.SymbolicTensor;
  const x = tf.input({ shape: [4], name: 'x' });
  const computed = L.embedding({ inputDim: 5, outputDim: 2, name: 'late_embedding' }).apply(L.dense({ units: 3 }).apply(x)) as tf.SymbolicTensor;
  const model = tf.model({ inputs: [ids, x], outputs: [direct, computed] });
  const error = (await fromTfjs(model).catch((e: unknown) => e)) as UnsupportedLayerError;
  t.same(
    error.layers?.map((l) => `${l.name}: ${l.reason}`),
    [
      'int_dense: an int32 input (only Embedding layers read int32 indices)',
      "late_embedding: float32 indices (TFLite GATHER needs int32 ones: feed the Embedding from a model input of dtype int32, or one that only Embedding layers read)",
    ],
    'both listed with the reason',
  );
  model.dispose();
});

t.test('an input dimension other than the batch must be known', async (t) => {
  const model = seq([L.lstm({ inputShape: [null as unknown as number, 3], units: 2, recurrentActivation: 'sigmoid' })]);
  await t.rejects(fromTfjs(model), { name: 'UnsupportedLayerError', message: /dimension 1 of batch_input_shape \[null,null,3\] is unknown/ }, 'the error says which dimension');
});

t.test('bad model.json, missing and truncated shards, other formats and dtypes', async (t) => {
  const model = seq([L.dense({ inputShape: [4], units: 3, name: 'fc' }), L.dense({ units: 2, name: 'out' })]);
  seedWeights(model, 5);
  const artifacts = await saveArtifacts(model);
  const dirOf = (name: string) => join(work, name);

  await t.rejects(fromTfjs(join(work, 'absent', 'model.json')), { name: 'InvalidArgumentError', message: /Cannot read TensorFlow.js model file .*absent.*ENOENT/ }, 'a missing model.json');

  const corrupt = writeModelDir(artifacts, dirOf('corrupt'));
  writeFileSync(corrupt, '{"modelTopology": {"class_name": ');
  await t.rejects(fromTfjs(corrupt), { name: 'ModelFormatError', message: /is not valid JSON/ }, 'invalid JSON');

  writeFileSync(corrupt, '[1, 2]');
  await t.rejects(fromTfjs(corrupt), { name: 'ModelFormatError', message: /expected a JSON object with modelTopology/ }, 'JSON that is not an object');

  const missing = writeModelDir(artifacts, dirOf('missing'), { shards: 2 });
  unlinkSync(join(dirOf('missing'), 'group1-shard2of2.bin'));
  await t.rejects(fromTfjs(missing), { name: 'ModelFormatError', message: /cannot read weight file '\.\/group1-shard2of2\.bin'.*ENOENT/ }, 'a missing shard');

  const truncated = writeModelDir(artifacts, dirOf('truncated'));
  truncateSync(join(dirOf('truncated'), 'weights.bin'), 40);
  await t.rejects(fromTfjs(truncated), { name: 'ModelFormatError', message: /weight file '\.\/weights\.bin': 40 bytes, but the weights up to 'fc\/kernel' need 48/ }, 'a truncated shard');

  const extra = writeModelDir(artifacts, dirOf('extra'));
  writeFileSync(join(dirOf('extra'), 'weights.bin'), Buffer.concat([readFileSync(join(dirOf('extra'), 'weights.bin')), Buffer.alloc(8)]));
  await t.rejects(fromTfjs(extra), { name: 'ModelFormatError', message: /but the weights listed for them take/ }, 'a shard longer than its weights');

  const graphModel = writeModelDir(artifacts, dirOf('graph'), { edit: (json) => (json['format'] = 'graph-model') });
  await t.rejects(fromTfjs(graphModel), { name: 'ModelFormatError', message: /graph model.*converts Layers models/ }, 'a graph model');

  const int32 = writeModelDir(artifacts, dirOf('int32'), {
    edit: (json) => {
      const manifest = json['weightsManifest'] as { weights: { dtype: string }[] }[];
      manifest[0]!.weights[1]!.dtype = 'int32';
    },
  });
  await t.rejects(fromTfjs(int32), { name: 'ModelFormatError', message: /weight 'fc\/bias' is of dtype "int32"; litequant reads float32 weights/ }, 'an int32 weight');

  const int8 = writeModelDir(artifacts, dirOf('int8'), {
    edit: (json) => {
      const manifest = json['weightsManifest'] as { weights: Record<string, unknown>[] }[];
      manifest[0]!.weights[0]!['quantization'] = { dtype: 'int8', scale: 1, min: 0 };
    },
  });
  await t.rejects(fromTfjs(int8), { name: 'ModelFormatError', message: /weight 'fc\/kernel' is quantized as "int8"/ }, 'an unknown weight quantization');

  const renamed = writeModelDir(artifacts, dirOf('renamed'), {
    edit: (json) => {
      const manifest = json['weightsManifest'] as { weights: { name: string }[] }[];
      manifest[0]!.weights[2]!.name = 'other/kernel';
    },
  });
  await t.rejects(fromTfjs(renamed), { name: 'ModelFormatError', message: /Dense layer 'out' needs the weight 'out\/kernel', which the weights manifest does not have \(it has 'out\/bias'\)/ }, 'a weight missing from the manifest');

  const noTopology = writeModelDir(artifacts, dirOf('notopology'), { edit: (json) => delete json['modelTopology'] });
  await t.rejects(fromTfjs(noTopology), { name: 'ModelFormatError', message: /no modelTopology/ }, 'no modelTopology');

  // The directory stands for its model.json; file: URLs work too.
  const good = writeModelDir(artifacts, dirOf('good'));
  const bytes = await fromTfjs(good);
  t.ok(Buffer.from(await fromTfjs(dirOf('good'))).equals(Buffer.from(bytes)), 'a directory reads its model.json');
  t.ok(Buffer.from(await fromTfjs(new URL(`file://${good}`))).equals(Buffer.from(bytes)), 'a file: URL');
  await t.rejects(fromTfjs('https://example.com/model.json'), { name: 'InvalidArgumentError', message: /litequant reads no URLs/ }, 'a URL');
  await t.rejects(fromTfjs(42 as never), InvalidArgumentError, 'a number');
  model.dispose();
});

t.teardown(() => {
  t.comment(`worst difference from tfjs: ${worstAbs.toExponential(2)} absolute, ${worstRel.toExponential(2)} relative (|y| > 1e-3)`);
});
