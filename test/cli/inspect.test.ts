// `litequant inspect` on real and builder-made models, in text and JSON, and on bad input.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import type { ModelSummary } from '../../lib/ir/summary.js';
import { packageRoot } from '../../lib/native/loader.js';
import { sharedModels, sharedName, sharedPath, sharedSkip } from '../fixtures/shared.js';

const cli = join(packageRoot, 'dist', 'cli', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'litequant-inspect-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

function inspect(...args: string[]) {
  return spawnSync(process.execPath, [cli, 'inspect', ...args], { encoding: 'utf8' });
}

t.test('every shared model inspects, in text and JSON', { skip: sharedSkip('models') }, async (t) => {
  for (const path of sharedModels()) {
    const text = inspect(path);
    t.equal(text.status, 0, `${sharedName(path)}: ${text.stderr}`);
    t.match(text.stdout, /Operators[\s\S]*Subgraph 0[\s\S]*Parameters:[\s\S]*Tensors of subgraph 0/);
    const json = inspect('--json', path);
    t.equal(json.status, 0);
    const s = JSON.parse(json.stdout) as ModelSummary;
    t.ok(s.ops.length > 0 && s.subgraphs.length > 0, `${sharedName(path)}: ops and subgraphs`);
  }
});

t.test('the ResNet-8 int8 twin: op histogram, I/O quantization, parameters', { skip: sharedSkip('models') }, async (t) => {
  const r = inspect('--json', sharedPath('models', 'ic_resnet8_int8_official.tflite'));
  const s = JSON.parse(r.stdout) as ModelSummary;
  const ops = Object.fromEntries(s.ops.map((o) => [o.op, o.count]));
  t.same(ops, { CONV_2D: 9, ADD: 3, AVERAGE_POOL_2D: 1, FULLY_CONNECTED: 1, RESHAPE: 1, SOFTMAX: 1 });
  const input = s.subgraphs[0]?.inputs[0];
  t.same(input?.shape, [-1, 32, 32, 3], 'dynamic batch from shape_signature');
  t.equal(input?.dtype, 'INT8');
  t.same(input?.quantization, { scale: [1], zeroPoint: [-128], axis: null });
  t.equal(s.parameters.byType['INT8']?.count, 77360);
  t.equal(s.parameters.byType['INT32']?.count, 348);
});

t.test('bad input: a clear message and exit code 1, never a stack trace', async (t) => {
  const missing = inspect(join(work, 'nope.tflite'));
  t.equal(missing.status, 1);
  t.match(missing.stderr, /Cannot read model file .*nope\.tflite.*ENOENT \[ERR_LITEQUANT_INVALID_ARGUMENT\]/);
  const garbage = join(work, 'garbage.tflite');
  writeFileSync(garbage, Buffer.from('this is not a flatbuffer at all, just text'));
  const bad = inspect(garbage);
  t.equal(bad.status, 1);
  t.match(bad.stderr, /garbage\.tflite: .*\[ERR_LITEQUANT_MODEL_FORMAT\]/);
  t.notMatch(bad.stderr, /\n\s+at /, 'no stack trace');
  const noArg = spawnSync(process.execPath, [cli, 'inspect'], { encoding: 'utf8' });
  t.not(noArg.status, 0);
  t.match(noArg.stderr, /missing required argument 'model'/);
});
