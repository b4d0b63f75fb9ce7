// `litequant bench`: load, first run, latency and the per-op breakdown, in text and JSON, on a
// builder-made model (random or .npy input), and bad input.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import { packageRoot } from '../../lib/native/loader.js';
import { writeNpyFile } from '../../lib/npy.js';
import { writeModel } from '../../lib/tflite/write.js';
import { sharedPath, sharedSkip } from '../fixtures/shared.js';
import { tinyGraph } from '../fixtures/tiny-model.js';

const cli = join(packageRoot, 'dist', 'cli', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'litequant-bench-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

function bench(...args: string[]) {
  return spawnSync(process.execPath, [cli, 'bench', ...args], { encoding: 'utf8' });
}

const tiny = join(work, 'tiny.tflite');
writeFileSync(tiny, writeModel(tinyGraph()));

interface BenchJson {
  threads: number;
  isa: string;
  input: string | string[];
  loadMs: number;
  firstRunMs: number;
  runs: number;
  warmup: number;
  latencyMs: { median: number; p90: number; mean: number; min: number; max: number };
  opsTotalMs: number;
  ops: { index: number; op: string; impl: string; meanMs: number; percent: number }[];
  opTypes: { op: string; count: number; totalMs: number; percent: number }[];
}

t.test('JSON: timings, every op sorted by time, totals per op type', async (t) => {
  const r = bench(tiny, '--runs', '7', '--warmup', '2', '--json');
  t.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout) as BenchJson;
  t.match(s, { threads: 1, runs: 7, warmup: 2, input: 'random (seed 1)' });
  t.ok(s.loadMs > 0 && s.firstRunMs > 0, 'load and first run timed');
  const l = s.latencyMs;
  t.ok(l.min <= l.median && l.median <= l.p90 && l.p90 <= l.max, `min <= median <= p90 <= max: ${JSON.stringify(l)}`);
  t.same(s.ops.map((o) => o.op).sort(), ['FULLY_CONNECTED', 'QUANTIZE']);
  t.same([...s.ops.map((o) => o.index)].sort(), [0, 1]);
  t.ok(s.ops[0]!.meanMs >= s.ops[1]!.meanMs, 'sorted by time');
  t.ok(s.ops.every((o) => typeof o.impl === 'string' && o.impl.length > 0), 'each op names its implementation');
  t.ok(Math.abs(s.ops.reduce((a, o) => a + o.percent, 0) - 100) < 0.1, 'op percentages add up to 100');
  t.same(s.opTypes.map((o) => [o.op, o.count]).sort(), [['FULLY_CONNECTED', 1], ['QUANTIZE', 1]]);
});

t.test('text: what was measured, latency line, per-op and per-type tables; --input data', async (t) => {
  const data = join(work, 'x.npy');
  writeNpyFile(data, { dtype: 'f4', shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i / 4) });
  const r = bench(tiny, '--runs', '5', '--input', data, '--input-scale', '2');
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /measured {3}on the calling thread \(worker: false\), 1 thread per native call, kernels: \w+/);
  t.match(r.stdout, /input {6}sample 0 of '.*x\.npy' float32 \[3, 4\] -> input 0 'input' float32 \[1, 4\]: raw \* 2 \+ 0/);
  t.match(r.stdout, /load {7}[\d.]+ ms/);
  t.match(r.stdout, /first run {2}[\d.]+ ms/);
  t.match(r.stdout, /latency {4}median [\d.]+ ms, p90 [\d.]+ ms {2}\(mean [\d.]+, min [\d.]+, max [\d.]+; 5 runs after 5 warm-up\)/);
  t.match(r.stdout, /Per op: 5 groups of 1 profiled runs, each step's median group mean[^\n]*\n {2}# +op +impl +ms +%\n {2}[01] +(FULLY_CONNECTED|QUANTIZE) /);
  t.match(r.stdout, /Per op type\n {2}op +count +ms +%\n/);
});

t.test('bad input: exit code 1 and a clear message', async (t) => {
  const cases: [string, string[], RegExp][] = [
    ['missing model', [join(work, 'nope.tflite')], /Cannot read model file '.*nope\.tflite': ENOENT \[ERR_LITEQUANT_INVALID_ARGUMENT\]/],
    ['bad --runs', [tiny, '--runs', '0'], /Expected an integer from 1 to 1000000 for --runs but received the string '0'/],
    ['scale without input', [tiny, '--input-scale', '2'], /Expected --input \(the scale and offset apply to its data\) for --input-scale\/--input-offset/],
    ['missing input', [tiny, '--input', join(work, 'nope.npy')], /Cannot read '.*nope\.npy': ENOENT/],
  ];
  const garbage = join(work, 'garbage.tflite');
  writeFileSync(garbage, 'not a model');
  cases.push(['corrupt model', [garbage], /garbage\.tflite: .*\[ERR_LITEQUANT_MODEL_FORMAT\]/]);
  for (const [name, args, pattern] of cases) {
    const r = bench(...args);
    t.equal(r.status, 1, name);
    t.match(r.stderr, pattern, name);
    t.notMatch(r.stderr, /\n\s+at /, `${name}: no stack trace`);
  }
});

t.test('ResNet-8 int8 (shared): every op profiled', { skip: sharedSkip('models', 'ic_resnet8_int8_official.tflite') }, async (t) => {
  const r = bench(sharedPath('models', 'ic_resnet8_int8_official.tflite'), '--runs', '5', '--warmup', '1', '--json');
  t.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout) as BenchJson;
  t.equal(s.ops.length, 16);
  t.same(Object.fromEntries(s.opTypes.map((o) => [o.op, o.count])), { CONV_2D: 9, ADD: 3, AVERAGE_POOL_2D: 1, FULLY_CONNECTED: 1, RESHAPE: 1, SOFTMAX: 1 });
  t.ok(s.latencyMs.median > 0);
});
