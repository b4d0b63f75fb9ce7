// `litequant convert model.json -o model.tflite [--json]` (spawned from dist/, as users run it):
// the file is the bytes fromTfjs gives; --json; errors are one line, exit code 1, and leave no
// file (a previous one is kept). `litequant quantize model.json` converts on the fly, and the
// quantize() API takes the in-memory LayersModel.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import { packageRoot } from '../../lib/native/loader.js';
import { writeNpyFile } from '../../lib/npy.js';
import { quantize } from '../../lib/quantize/quantize.js';
import { loadModel } from '../../lib/runtime/session.js';
import { fromTfjs } from '../../lib/tfjs/convert.js';
import { readModel } from '../../lib/tflite/read.js';
import { TensorType } from '../../lib/tflite/schema.js';
import { predict, randomInputs, saveArtifacts, seedWeights, tf, writeModelDir } from './fixtures.js';

const cli = join(packageRoot, 'dist', 'cli', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'litequant-tfjs-cli-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const at = (name: string): string => join(work, name);
const litequant = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

const L = tf.layers;
// A small CNN: conv + BN + relu, pooling, dense softmax.
const model = tf.sequential({
  layers: [
    L.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, padding: 'same', name: 'conv' }),
    L.batchNormalization({ name: 'bn' }),
    L.activation({ activation: 'relu', name: 'relu' }),
    L.maxPooling2d({ poolSize: 2, name: 'pool' }),
    L.flatten({ name: 'flat' }),
    L.dropout({ rate: 0.2, name: 'drop' }),
    L.dense({ units: 10, activation: 'softmax', name: 'probs' }),
  ],
});
seedWeights(model, 3);
const modelJson = writeModelDir(await saveArtifacts(model), at('web_model'), { shards: 2 });

t.test('convert writes the fromTfjs bytes and says what it made', async (t) => {
  const out = at('model.tflite');
  const run = litequant('convert', modelJson, '-o', out);
  t.equal(run.status, 0, `exit 0 (stderr: ${run.stderr.trim()})`);
  t.ok(readFileSync(out).equals(Buffer.from(await fromTfjs(modelJson))), 'the file is what fromTfjs gives');
  t.match(run.stdout, /web_model\/model\.json -> .*model\.tflite: [\d,]+ bytes, [\d,]+ parameters, 5 ops/, 'sizes');
  t.match(run.stdout, /ops +CONV_2D, FULLY_CONNECTED, MAX_POOL_2D, RESHAPE, SOFTMAX\n/, 'ops (BatchNormalization folded, relu fused, Dropout gone)');
  t.match(run.stdout, /input +conv_input float32\[-1, 8, 8, 1\]/, 'input with its dynamic batch');
  t.match(run.stdout, /output +probs float32\[-1, 10\]/, 'output');

  const json = litequant('convert', at('web_model'), '-o', at('dir.tflite'), '--json');
  t.equal(json.status, 0, 'a directory works too');
  const parsed = JSON.parse(json.stdout) as { bytes: number; ops: { op: string; count: number }[]; inputs: { name: string; shape: number[] }[] };
  t.equal(parsed.bytes, readFileSync(at('dir.tflite')).length, '--json: bytes');
  t.same(parsed.inputs, [{ name: 'conv_input', dtype: 'FLOAT32', shape: [-1, 8, 8, 1] }], '--json: inputs');
  t.equal(parsed.ops.length, 5, '--json: ops');
});

t.test('convert errors: one line, exit 1, no file left and a previous one kept', async (t) => {
  const out = at('kept.tflite');
  writeFileSync(out, 'previous');
  const missing = litequant('convert', at('nothing/model.json'), '-o', out);
  t.equal(missing.status, 1, 'missing model.json: exit 1');
  t.match(missing.stderr, /^litequant: Cannot read TensorFlow\.js model file '.*nothing\/model\.json': ENOENT \(no such file\) \[ERR_LITEQUANT_INVALID_ARGUMENT\]\n$/);

  const unsupported = tf.sequential({ layers: [L.dense({ inputShape: [3], units: 2 }), L.leakyReLU({ name: 'leaky' })] });
  const bad = writeModelDir(await saveArtifacts(unsupported), at('unsupported'));
  const refused = litequant('convert', bad, '-o', out);
  t.equal(refused.status, 1, 'unsupported layer: exit 1');
  t.match(refused.stderr, /1 layer cannot be converted to TFLite:\n +LeakyReLU 'leaky': no TFLite conversion for this layer class/, 'the layer is named');
  t.match(refused.stderr, /\[ERR_LITEQUANT_UNSUPPORTED_OPERATOR\]/, 'with its code');

  writeFileSync(at('broken.json'), '{');
  const broken = litequant('convert', at('broken.json'), '-o', out);
  t.equal(broken.status, 1, 'invalid JSON: exit 1');
  t.match(broken.stderr, /broken\.json is not valid JSON.*\[ERR_LITEQUANT_MODEL_FORMAT\]/);

  t.equal(readFileSync(out, 'utf8'), 'previous', 'the previous file is untouched');
  t.same(readdirSync(work).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');

  const noOutput = litequant('convert', modelJson);
  t.equal(noOutput.status, 1, 'no -o: exit 1');
  t.match(noOutput.stderr, /required option '-o, --output <file>'/, 'no -o: says so');
  const unwritable = litequant('convert', modelJson, '-o', at('no/such/dir/m.tflite'));
  t.equal(unwritable.status, 1, 'unwritable output: exit 1');
  t.match(unwritable.stderr, /Cannot write .*m\.tflite': ENOENT/, 'unwritable output: says why');
  t.notOk(existsSync(at('no')), 'unwritable output: nothing created');
  unsupported.dispose();
});

t.test('quantize takes a model.json (CLI) and a LayersModel (API)', async (t) => {
  const samples = Array.from({ length: 16 }, (_, s) => randomInputs(model, s)[0] as Float32Array);
  const data = new Float32Array(16 * 64);
  samples.forEach((s, i) => data.set(s, i * 64));
  writeNpyFile(at('calibration.npy'), { dtype: 'f4', shape: [16, 8, 8, 1], data });

  const out = at('int8.tflite');
  const run = litequant('quantize', modelJson, '-o', out, '--mode', 'int8', '--calibration', at('calibration.npy'), '--json');
  t.equal(run.status, 0, `quantize model.json: exit 0 (stderr: ${run.stderr.trim()})`);
  const cliBytes = readFileSync(out);
  const graph = readModel(cliBytes);
  t.ok(
    graph.subgraphs[0]!.tensors.some((x) => x.type === TensorType.INT8),
    'the CLI result has int8 tensors',
  );

  const result = await quantize(model as never, { mode: 'int8', calibration: samples.map((s) => [s]) });
  t.ok(Buffer.from(result.model).equals(cliBytes), 'quantize(LayersModel) gives the bytes the CLI wrote for its model.json');
  t.equal(result.report.sizeBefore, (await fromTfjs(model)).byteLength, 'sizeBefore is the converted float model');

  // The int8 model stays close to tfjs: same class on every sample, probabilities within 0.05.
  const session = await loadModel(result.model, { worker: false });
  let agree = 0;
  let worst = 0;
  for (const s of samples) {
    const want = predict(model, [s])[0]!;
    const got = ((await session.run([s])) as Float32Array[])[0]!;
    const argmax = (v: ArrayLike<number>) => Array.from(v).reduce((best, x, i, all) => (x > all[best]! ? i : best), 0);
    if (argmax(want) === argmax(got)) agree++;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i]! - got[i]!));
  }
  await session.close();
  t.ok(agree >= 15, `int8 and tfjs agree on the class of ${agree} of 16 samples`);
  t.ok(worst < 0.05, `int8 probabilities within ${worst.toFixed(4)} of tfjs`);

  await t.rejects(quantize({} as never, { mode: 'dynamic' }), { message: /Expected a Uint8Array \(\.tflite bytes\), a Graph or a tf\.LayersModel for model/ });
});

t.teardown(() => model.dispose());
