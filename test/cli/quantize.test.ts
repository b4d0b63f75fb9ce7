// `litequant quantize`: a builder-made float model quantized in every mode through the CLI
// (spawned, as users run it); the files load and run in our runtime and are the very bytes the
// quantize() API gives for the same samples (read through the same .npy conversion); --json;
// every bad input fails with one line, exit code 1 and nothing left at the output path; Ctrl-C
// exits 130 with nothing left. ResNet-8 on CIFAR-10 (../shared) when it is there.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import { builtinOptions, GraphBuilder } from '../../lib/ir/builder.js';
import type { Graph } from '../../lib/ir/graph.js';
import { packageRoot } from '../../lib/native/loader.js';
import { readNpyFile, writeNpyFile, type NpyArray } from '../../lib/npy.js';
import { quantize } from '../../lib/quantize/quantize.js';
import type { QuantizeOptions, QuantizeReport } from '../../lib/quantize/types.js';
import { loadModel } from '../../lib/runtime/session.js';
import { tensorTypeName } from '../../lib/tflite/names.js';
import { readModel } from '../../lib/tflite/read.js';
import { ActivationFunctionType as Act, BuiltinOperator as Op, TensorType } from '../../lib/tflite/schema.js';
import { writeModel } from '../../lib/tflite/write.js';
import { randF32 } from '../fixtures/op-suite.js';
import { sharedPath, sharedSkip } from '../fixtures/shared.js';
import { tinyGraph } from '../fixtures/tiny-model.js';

const cli = join(packageRoot, 'dist', 'cli', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'litequant-quantize-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

const at = (name: string): string => join(work, name);
function quantizeCli(...args: string[]) {
  return spawnSync(process.execPath, [cli, 'quantize', ...args], { encoding: 'utf8' });
}
function npy(name: string, array: NpyArray): string {
  writeNpyFile(at(name), array);
  return at(name);
}

// mlp: x [1, 64] (batch -1) -> FULLY_CONNECTED 64->32 + RELU (2048 weights: quantized by
// dynamic/weight-only) -> FULLY_CONNECTED 32->10 (320 weights) -> SOFTMAX.
function mlp(): Graph {
  const b = new GraphBuilder();
  const f = TensorType.FLOAT32;
  const x = b.input({ name: 'x', type: f, shape: [1, 64], shapeSignature: [-1, 64] });
  const w1 = b.tensor({ name: 'fc1/weights', type: f, shape: [32, 64], data: randF32(32 * 64, 1, -0.3, 0.3) });
  const b1 = b.tensor({ name: 'fc1/bias', type: f, shape: [32], data: randF32(32, 2, -0.1, 0.1) });
  const h = b.tensor({ name: 'fc1/out', type: f, shape: [1, 32] });
  const w2 = b.tensor({ name: 'fc2/weights', type: f, shape: [10, 32], data: randF32(10 * 32, 3, -0.5, 0.5) });
  const b2 = b.tensor({ name: 'fc2/bias', type: f, shape: [10], data: randF32(10, 4, -0.1, 0.1) });
  const logits = b.tensor({ name: 'fc2/out', type: f, shape: [1, 10] });
  const probs = b.tensor({ name: 'probs', type: f, shape: [1, 10] });
  b.op(Op.FULLY_CONNECTED, [x, w1, b1], [h], { options: builtinOptions('FullyConnectedOptions', { fusedActivationFunction: Act.RELU }) });
  b.op(Op.FULLY_CONNECTED, [h, w2, b2], [logits], { options: builtinOptions('FullyConnectedOptions', {}) });
  b.op(Op.SOFTMAX, [logits], [probs], { options: builtinOptions('SoftmaxOptions', { beta: 1 }) });
  b.output(probs);
  return b.build();
}

const model = at('mlp.tflite');
const modelBytes = writeModel(mlp());
writeFileSync(model, modelBytes);
const N = 40;
const calX = randF32(N * 64, 7, -1, 2);
const calIn = npy('cal.npy', { dtype: 'f4', shape: [N, 64], data: calX });
const sample = (i: number, map: (v: number) => number = (v) => v): Float32Array => Float32Array.from(calX.subarray(i * 64, (i + 1) * 64), map);

async function runModel(bytes: Uint8Array, inputs: Float32Array[]): Promise<Float32Array[]> {
  const session = await loadModel(bytes, { worker: false });
  const outs: Float32Array[] = [];
  for (const x of inputs) {
    const info = session.inputs[0]!;
    let feed: Float32Array | Int8Array | Int16Array | Uint8Array = x;
    if (info.dtype !== 'float32') {
      // int8/uint8/int16 I/O: quantize the sample at the input's parameters.
      const [lo, hi] = info.dtype === 'int8' ? [-128, 127] : info.dtype === 'uint8' ? [0, 255] : [-32768, 32767];
      const q = x.map((v) => Math.min(hi, Math.max(lo, Math.round(v / info.scale!) + info.zeroPoint!)));
      feed = info.dtype === 'int8' ? Int8Array.from(q) : info.dtype === 'uint8' ? Uint8Array.from(q) : Int16Array.from(q);
    }
    const [out] = await session.run([feed]);
    const o = session.outputs[0]!;
    outs.push(o.dtype === 'float32' ? (out as Float32Array) : Float32Array.from(out as ArrayLike<number>, (q) => (q - o.zeroPoint!) * o.scale!));
  }
  await session.close();
  return outs;
}

const maxDiff = (a: readonly Float32Array[], b: readonly Float32Array[]): number =>
  Math.max(...a.map((x, i) => Math.max(...x.map((v, j) => Math.abs(v - b[i]![j]!)))));
const tmpFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.tmp'));
const probe = [0, 1, 2, 3, 4, 5].map((i) => sample(i));

t.test('every mode through the CLI: the file loads and runs in our runtime, close to float', async (t) => {
  const float = await runModel(modelBytes, probe);
  const cases: { mode: string; args: string[]; tol: number; types: TensorType[] }[] = [
    { mode: 'int8', args: ['--calibration', calIn], tol: 0.05, types: [TensorType.INT8, TensorType.INT32] },
    { mode: 'int16x8', args: ['--calibration', calIn], tol: 0.01, types: [TensorType.INT16, TensorType.INT64] },
    { mode: 'dynamic', args: [], tol: 0.05, types: [TensorType.INT8] },
    { mode: 'float16', args: [], tol: 0.005, types: [TensorType.FLOAT16] },
    { mode: 'weight-only', args: [], tol: 0.05, types: [TensorType.INT8] },
  ];
  for (const c of cases) {
    const out = at(`mlp-${c.mode}.tflite`);
    const r = quantizeCli(model, '-o', out, '--mode', c.mode, ...c.args);
    t.equal(r.status, 0, `${c.mode}: ${r.stderr}`);
    t.equal(r.stderr, '', `${c.mode}: no progress bar when piped`);
    t.match(r.stdout, new RegExp(`mlp\\.tflite -> .*mlp-${c.mode}\\.tflite: ${c.mode}, [\\d.]+ KB -> [\\d.]+ KB \\([\\d.]+x smaller\\) in [\\d.]+ s`), `${c.mode}: summary line`);
    t.match(r.stdout, /\n {2}ops {10}\d+ quantized, \d+ left float \(the model has 3 operators\)/, `${c.mode}: ops line`);
    const bytes = new Uint8Array(readFileSync(out));
    t.ok(bytes.length < modelBytes.length, `${c.mode}: smaller (${modelBytes.length} -> ${bytes.length})`);
    const types = new Set(readModel(bytes).subgraphs[0]!.tensors.map((x) => x.type));
    for (const type of c.types) t.ok(types.has(type), `${c.mode}: has ${tensorTypeName(type)} tensors`);
    const got = await runModel(bytes, probe);
    const d = maxDiff(got, float);
    t.ok(d <= c.tol, `${c.mode}: max |probability - float| ${d.toFixed(5)} <= ${c.tol}`);
  }
  const calibrated = quantizeCli(model, '-o', at('mlp-int8.tflite'), '--mode', 'int8', '--calibration', calIn);
  t.match(calibrated.stdout, /calibration {2}40 samples, method minmax, \d+ ms\n {15}'.*cal\.npy' float32 \[40, 64\] -> input 0 'x' float32 \[1, 64\]: raw/);
  t.match(calibrated.stdout, /settings {5}weights per channel, model I\/O float/);
  const dynamic = quantizeCli(model, '-o', at('mlp-dynamic.tflite'), '--mode', 'dynamic');
  t.match(dynamic.stdout, /1 quantized, 1 left float \(the model has 3 operators\)/);
  t.match(dynamic.stdout, /info {5}\[weight-left-float\] op 1: .*320 elements/);
  t.same(tmpFiles(work), [], 'no temp files');
});

t.test('the CLI gives the bytes of the quantize() API on the same samples (scale, offset, --samples, options)', async (t) => {
  const api = async (options: Partial<QuantizeOptions> & Pick<QuantizeOptions, 'mode'>): Promise<Uint8Array> => (await quantize(modelBytes, options)).model;
  const compare = async (name: string, args: string[], options: Partial<QuantizeOptions> & Pick<QuantizeOptions, 'mode'>): Promise<void> => {
    const out = at(`same-${name}.tflite`);
    const r = quantizeCli(model, '-o', out, ...args);
    t.equal(r.status, 0, `${name}: ${r.stderr}`);
    t.same(new Uint8Array(readFileSync(out)), await api(options), `${name}: byte-identical to the API`);
  };
  const scaled = Array.from({ length: 25 }, (_, i) => sample(i, (v) => v * 0.5 + 1));
  await compare('int8-percentile', ['--mode', 'int8', '--calibration', calIn, '--input-scale', '0.5', '--input-offset', '1', '--samples', '25', '--method', 'percentile'], {
    mode: 'int8',
    calibration: scaled,
    method: 'percentile',
  });
  const all = Array.from({ length: N }, (_, i) => sample(i));
  await compare('int8-io-exclude', ['--mode', 'int8', '--calibration', calIn, '--io', 'int8', '--per-tensor', '--exclude', 'SOFTMAX'], {
    mode: 'int8',
    calibration: all,
    io: 'int8',
    perChannel: false,
    exclude: ['SOFTMAX'],
  });
  await compare('int16x8-ema', ['--mode', 'int16x8', '--calibration', calIn, '--method', 'ema', '--io', 'int16'], { mode: 'int16x8', calibration: all, method: 'ema', io: 'int16' });
  await compare('dynamic-min', ['--mode', 'dynamic', '--min-weight-elements', '0', '--exclude', '/fc1/'], { mode: 'dynamic', minWeightElements: 0, exclude: [/fc1/] });
  await compare('weight-only', ['--mode', 'weight-only', '--per-tensor', '--exclude', '0'], { mode: 'weight-only', perChannel: false, exclude: [0] });
  await compare('float16', ['--mode', 'float16'], { mode: 'float16' });

  // --samples beyond the data: all of it, with a note.
  const many = quantizeCli(model, '-o', at('many.tflite'), '--mode', 'int8', '--calibration', calIn, '--samples', '1000');
  t.equal(many.status, 0, many.stderr);
  t.match(many.stdout, /calibration {2}40 samples/);
  t.match(many.stdout, /info {5}\[fewer-samples\] --samples 1000: the calibration data has 40, all used/);
  // An exclusion that matches nothing is a warning, listed first.
  const unmatched = quantizeCli(model, '-o', at('unmatched.tflite'), '--mode', 'dynamic', '--exclude', 'CONV_2D,/nothing-like-this/');
  t.equal(unmatched.status, 0, unmatched.stderr);
  t.match(unmatched.stdout, /\n {2}warning {2}\[exclude-unmatched\] --exclude CONV_2D matches no operator of the model \(its ops: FULLY_CONNECTED, SOFTMAX\)\n {2}warning {2}\[exclude-unmatched\] --exclude \/nothing-like-this\/ matches no operator of the model\n {2}info/);
});

t.test('--json prints { input, output, report, diagnostics }', async (t) => {
  const out = at('json.tflite');
  const r = quantizeCli(model, '-o', out, '--mode', 'int8', '--calibration', calIn, '--samples', '10', '--method', 'minmax', '--json');
  t.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { input: string; output: string; report: QuantizeReport; diagnostics: unknown[] };
  t.same(Object.keys(j), ['input', 'output', 'report', 'diagnostics']);
  t.equal(j.input, model);
  t.equal(j.output, out);
  t.match(j.report, { mode: 'int8', sizeBefore: modelBytes.length, sizeAfter: statSync(out).size, calibration: { samples: 10, method: 'minmax' } });
  t.same(j.report.ops.map((o) => [o.index, o.op, o.how]), [
    [0, 'FULLY_CONNECTED', 'int8'],
    [1, 'FULLY_CONNECTED', 'int8'],
    [2, 'SOFTMAX', 'int8'],
  ]);
  t.ok(j.report.tensors.length > 0 && j.report.tensors.every((x) => typeof x.name === 'string' && Array.isArray(x.scale)), 'tensor records');
  t.ok(typeof j.report.elapsedMs === 'number');
  t.ok(Array.isArray(j.diagnostics));

  const d = quantizeCli(model, '-o', at('json-dyn.tflite'), '--mode', 'dynamic', '--json');
  const dj = JSON.parse(d.stdout) as { report: QuantizeReport; diagnostics: { level: string; code: string; op?: number }[] };
  t.equal(dj.report.calibration, null);
  t.match(dj.diagnostics, [{ level: 'info', code: 'weight-left-float', op: 1 }]);
});

t.test('bad input: one line, exit code 1, nothing left at the output path', async (t) => {
  const dir = at('errors');
  mkdirSync(dir);
  const out = join(dir, 'out.tflite');
  writeFileSync(out, 'previous');
  const check = (name: string, args: string[], pattern: RegExp): void => {
    const r = spawnSync(process.execPath, [cli, 'quantize', ...args], { encoding: 'utf8' });
    t.equal(r.status, 1, `${name}: exit code`);
    t.match(r.stderr, pattern, name);
    t.match(r.stderr, /^litequant: [^\n]* \[ERR_LITEQUANT_[A-Z_]+\]\n$/, `${name}: one line with the error code`);
    t.equal(r.stdout, '', `${name}: nothing on stdout`);
    t.same(readdirSync(dir), ['out.tflite'], `${name}: no temp file left`);
    t.equal(readFileSync(out, 'utf8'), 'previous', `${name}: the previous output is untouched`);
  };
  const garbage = at('garbage.tflite');
  writeFileSync(garbage, 'this is not a flatbuffer at all, just text');
  const quantized = at('quantized.tflite');
  writeFileSync(quantized, writeModel(tinyGraph()));
  const int8 = ['--mode', 'int8', '--calibration', calIn];

  check('missing model', [at('nope.tflite'), '-o', out, ...int8], /Cannot read model file '.*nope\.tflite': ENOENT \[ERR_LITEQUANT_INVALID_ARGUMENT\]/);
  check('corrupt model', [garbage, '-o', out, '--mode', 'dynamic'], /garbage\.tflite: .*\[ERR_LITEQUANT_MODEL_FORMAT\]/);
  check('already quantized', [quantized, '-o', out, '--mode', 'dynamic'], /Expected a float model for model but received a quantized one: .*INT8.*\(quantize the float model instead\)/);
  // Without a model the example is quantized (test/cli/example.test.ts); data for your own model is refused.
  check('no model argument, with data', ['-o', out, ...int8], /--calibration describes your own model's data, but no model was given/);
  check('no -o', [model, '--mode', 'dynamic'], /Expected -o OUT\.tflite \(where the quantized model goes\) but received none/);
  check('no --mode', [model, '-o', out], /Expected --mode \(int8, int16x8, dynamic, float16, weight-only\) but received none/);
  check('bad --mode', [model, '-o', out, '--mode', 'int4'], /Expected one of int8, int16x8, dynamic, float16, weight-only for --mode but received the string 'int4'/);
  check('bad --method', [model, '-o', out, ...int8, '--method', 'max'], /Expected one of minmax, ema, percentile, entropy, mse for --method but received the string 'max'/);
  check('int8 without data', [model, '-o', out, '--mode', 'int8'], /Expected --calibration data\.npy \(representative inputs: one \.npy per model input\) for --mode int8 but received none/);
  check('data for dynamic', [model, '-o', out, '--mode', 'dynamic', '--calibration', calIn, '--samples', '3'], /--calibration, --samples apply only to --mode int8 and int16x8, not to --mode dynamic \(it needs no calibration data\)/);
  check('min weights for int8', [model, '-o', out, ...int8, '--min-weight-elements', '10'], /--min-weight-elements applies only to --mode dynamic and weight-only, not to --mode int8/);
  check('--io int16 with int8', [model, '-o', out, ...int8, '--io', 'int16'], /Expected float, int8 or uint8 with --mode int8 for --io but received the string 'int16'/);
  check('--samples 0', [model, '-o', out, ...int8, '--samples', '0'], /Expected a positive integer for --samples but received the string '0'/);
  check('bad --exclude', [model, '-o', out, '--mode', 'dynamic', '--exclude', 'fc-1'], /Expected an op name \(SOFTMAX\), an operator index \(7\) or a \/regex\/ for --exclude but received the string 'fc-1'/);
  check('bad --exclude regex', [model, '-o', out, '--mode', 'dynamic', '--exclude', '/(/'], /Expected a valid regular expression for --exclude but received \/\(\/: /);
  check('--exclude index', [model, '-o', out, '--mode', 'dynamic', '--exclude', '3'], /Expected an operator index from 0 to 2 for --exclude but received 3 \(the model has 3 operators\)/);
  check('missing data', [model, '-o', out, '--mode', 'int8', '--calibration', at('nope.npy')], /Cannot read '.*nope\.npy': ENOENT/);
  const wrongShape = npy('wrong-shape.npy', { dtype: 'f4', shape: [5, 8, 8], data: new Float32Array(320) });
  check('wrong shape', [model, '-o', out, '--mode', 'int8', '--calibration', wrongShape], /Expected samples of shape \[64\] .* for model input 0 'x' float32 \[1, 64\] but '.*wrong-shape\.npy' has shape \[5, 8, 8\]: samples of \[8, 8\]/);
  const f16 = at('half.npy');
  const header = "{'descr': '<f2', 'fortran_order': False, 'shape': (2, 64), }";
  const bytes = new Uint8Array(128 + 256);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]);
  bytes.set(new TextEncoder().encode(`${header.padEnd(117, ' ')}\n`), 10);
  writeFileSync(f16, bytes);
  check('wrong dtype', [model, '-o', out, '--mode', 'int8', '--calibration', f16], /half\.npy' as a NumPy \.npy file: dtype '<f2' is not supported/);
  const empty = npy('empty.npy', { dtype: 'f4', shape: [0, 64], data: new Float32Array(0) });
  check('empty data', [model, '-o', out, '--mode', 'int8', '--calibration', empty], /empty\.npy' has no samples \(shape \[0, 64\]\)/);
  check('two files for one input', [model, '-o', out, '--mode', 'int8', '--calibration', `${calIn},${calIn}`], /Expected 1 \.npy file for --calibration \(one per model input: 0 'x' float32 \[1, 64\]\) but received 2/);
  const nan = npy('nan.npy', { dtype: 'f4', shape: [N, 64], data: calX.map((v, i) => (i === 30 * 64 + 5 ? NaN : v)) });
  check('NaN in the data', [model, '-o', out, '--mode', 'int8', '--calibration', nan], /'.*nan\.npy'\[30, 5\] is NaN: model input 0 'x' float32 \[1, 64\] takes finite values/);
  const inf = npy('inf.npy', { dtype: 'f4', shape: [N, 64], data: calX.map((v, i) => (i === 7 ? 1e30 : v)) });
  check('Infinity after scaling', [model, '-o', out, '--mode', 'int8', '--calibration', inf, '--input-scale', '1e10'], /'.*inf\.npy'\[0, 7\] is Infinity after scaling/);
  check('unwritable directory', [model, '-o', join(dir, 'missing', 'out.tflite'), '--mode', 'dynamic'], /Cannot write '.*missing\/out\.tflite': ENOENT \(the directory does not exist\)/);
  check('output is a directory', [model, '-o', dir, '--mode', 'dynamic'], /Cannot write '.*errors': it is a directory/);
});

t.test('Ctrl-C during calibration: exit code 130, no output and no temp file left', async (t) => {
  const dir = at('interrupt');
  mkdirSync(dir);
  const n = 60_000;
  const big = npy('big.npy', { dtype: 'f4', shape: [n, 64], data: Float32Array.from({ length: n * 64 }, (_, i) => (i % 11) / 4 - 1) });
  const out = join(dir, 'out.tflite');
  const child = spawn(process.execPath, [cli, 'quantize', model, '-o', out, '--mode', 'int8', '--calibration', big], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // The temp output exists once the command has checked its inputs and started calibrating.
  const started = Date.now();
  let sawTemp = false;
  while (Date.now() - started < 20_000 && child.exitCode === null) {
    if (tmpFiles(dir).length > 0) {
      sawTemp = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  t.ok(sawTemp, 'the command started (its temp file exists)');
  t.equal(child.exitCode, null, 'still running when interrupted (60000 samples take about a second)');
  child.kill('SIGINT');
  const code = await exited;
  t.equal(code, 130, stderr);
  t.match(stderr, /^litequant: interrupted \(SIGINT\); no output written\n$/);
  t.same(readdirSync(dir), [], 'no output, no temp file');
});

t.test('--help lists the modes, the calibration rules and the exit codes', async (t) => {
  const r = spawnSync(process.execPath, [cli, 'quantize', '--help'], { encoding: 'utf8' });
  t.equal(r.status, 0);
  for (const word of ['--mode <mode>', '--calibration <files>', '--input-scale <S>', '--method <method>', '--samples <N>', '--per-tensor', '--io <type>', '--exclude <ops>', '--strict', '--min-weight-elements <N>', '--json']) {
    t.ok(r.stdout.includes(word), word);
  }
  t.match(r.stdout, /float32\(raw \* S \+ O\)/);
  t.match(r.stdout, /130 when interrupted/);
});

t.test(
  'ResNet-8 int8 on 100 CIFAR-10 images (shared): the CLI file is byte-identical to the API on the same samples',
  { skip: sharedSkip('models', 'ic_resnet8_float.tflite') || sharedSkip('data', 'cifar10_200_x.npy') },
  async (t) => {
    const floatModel = sharedPath('models', 'ic_resnet8_float.tflite');
    const data = sharedPath('data', 'cifar10_200_x.npy');
    const out = at('r8-int8.tflite');
    const r = quantizeCli(floatModel, '-o', out, '--mode', 'int8', '--calibration', data, '--samples', '100', '--json');
    t.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { report: QuantizeReport };
    t.match(j.report, { mode: 'int8', calibration: { samples: 100, method: 'minmax' } });
    t.ok(existsSync(out));

    const x = readNpyFile(data);
    const per = 32 * 32 * 3;
    const pixels = x.data as Uint8Array;
    const samples = Array.from({ length: 100 }, (_, i) => Float32Array.from(pixels.subarray(i * per, (i + 1) * per)));
    const api = await quantize(new Uint8Array(readFileSync(floatModel)), { mode: 'int8', calibration: samples });
    const cliBytes = new Uint8Array(readFileSync(out));
    t.equal(cliBytes.length, api.model.length);
    t.ok(Buffer.compare(Buffer.from(cliBytes), Buffer.from(api.model)) === 0, 'byte-identical model');
    t.equal(j.report.sizeAfter, api.report.sizeAfter);
  },
);
