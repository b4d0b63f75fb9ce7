// Activation memory planning (one arena, tensors that are alive together never overlap) and
// dynamic batch (a -1 first dimension takes any multiple of the static rows; the results equal
// one run per row).
import { readFileSync } from 'node:fs';
import t from 'tap';

import { InvalidArgumentError } from '../../lib/errors.js';
import type { Subgraph } from '../../lib/ir/graph.js';
import { readModel } from '../../lib/tflite/read.js';
import { planMemory } from '../../lib/runtime/memory-plan.js';
import { loadModel, type TensorData } from '../../lib/runtime/session.js';
import { byteSize, isConstantTensor, runShape } from '../../lib/runtime/tensors.js';
import { sharedModels, sharedSkip } from '../fixtures/shared.js';
import { tinyGraph } from '../fixtures/tiny-model.js';

/** [first, last] step of every tensor, as the planner defines lifetimes. */
function lifetimes(subgraph: Subgraph): { first: number; last: number }[] {
  const end = subgraph.operators.length;
  const spans = subgraph.tensors.map(() => ({ first: Infinity, last: -Infinity }));
  const touch = (i: number, step: number): void => {
    const s = spans[i];
    if (s === undefined) return;
    s.first = Math.min(s.first, step);
    s.last = Math.max(s.last, step);
  };
  subgraph.inputs.forEach((i) => touch(i, -1));
  subgraph.operators.forEach((op, step) => [...op.inputs, ...op.outputs].forEach((i) => touch(i, step)));
  subgraph.outputs.forEach((i) => touch(i, end));
  spans.forEach((s, i) => {
    if (subgraph.tensors[i]!.isVariable || s.first === Infinity) {
      touch(i, -1);
      touch(i, end);
    }
  });
  return spans;
}

t.test('no two tensors alive at the same step share arena bytes (every shared model)', { skip: sharedSkip('models') }, async (t) => {
  for (const path of sharedModels()) {
    const graph = readModel(new Uint8Array(readFileSync(path)));
    const subgraph = graph.subgraphs[0]!;
    const produced = new Set<number>(subgraph.inputs);
    subgraph.operators.forEach((op) => op.outputs.forEach((o) => produced.add(o)));
    const constant = subgraph.tensors.map((x, i) => isConstantTensor(graph, x, produced.has(i)));
    const bytes = subgraph.tensors.map((x) => byteSize(x.type, runShape(x, null), x.name));
    const plan = planMemory(subgraph, bytes, constant);
    const spans = lifetimes(subgraph);
    const placed = subgraph.tensors.map((_, i) => i).filter((i) => plan.offsets[i]! >= 0 && bytes[i]! > 0);
    let clashes = 0;
    for (const a of placed) {
      for (const b of placed) {
        if (a >= b) continue;
        const live = spans[a]!.first <= spans[b]!.last && spans[b]!.first <= spans[a]!.last;
        const overlap = plan.offsets[a]! < plan.offsets[b]! + bytes[b]! && plan.offsets[b]! < plan.offsets[a]! + bytes[a]!;
        if (live && overlap) clashes++;
      }
      t.equal(plan.offsets[a]! % 64, 0);
      t.ok(plan.offsets[a]! + bytes[a]! <= plan.arenaBytes);
    }
    t.equal(clashes, 0, `${path}: no live tensors overlap`);
    t.ok(plan.arenaBytes <= Math.ceil(plan.separateBytes / 64) * 64 + 64 * placed.length, `${path}: arena ${plan.arenaBytes} B vs ${plan.separateBytes} B separate`);
  }
});

t.test('a chain of ops reuses memory: the arena is smaller than one buffer per tensor', async (t) => {
  const session = await loadModel(tinyGraph(), { worker: false });
  t.ok(session.memory.arenaBytes > 0);
  t.ok(session.memory.arenaBytes <= session.memory.separateBytes + 128);
});

t.test('dynamic batch: k rows give the k single-row results (model that cannot be planned at batch k: slices)', async (t) => {
  // tinyGraph's input is [-1, 4] but its outputs are a fixed [1, 3]: batch plans fail, so the
  // runner runs the static plan per row.
  for (const worker of [false, true]) {
    const session = await loadModel(tinyGraph(), { worker });
    const rows = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * 2);
    const [batched] = (await session.run([rows])) as [Int8Array];
    t.equal(batched.length, 9);
    for (let r = 0; r < 3; r++) {
      const [single] = (await session.run([rows.slice(r * 4, r * 4 + 4)])) as [Int8Array];
      t.same(Array.from(batched.subarray(r * 3, r * 3 + 3)), Array.from(single), `worker ${worker}, row ${r}`);
    }
    await t.rejects(session.run([new Float32Array(6)]), InvalidArgumentError);
    await t.rejects(session.run([new Float32Array(0)]), InvalidArgumentError);
    await session.close();
  }
});

t.test('dynamic batch on real models: batch plans equal single rows bit for bit', { skip: sharedSkip('models') }, async (t) => {
  for (const name of ['ic_resnet8_int8_official.tflite', 'ic_resnet8_float.tflite', 'ad01_fc_autoencoder_int8_official.tflite']) {
    const path = sharedModels().find((p) => p.endsWith(`/${name}`));
    if (path === undefined) continue;
    const session = await loadModel(new Uint8Array(readFileSync(path)), { worker: false });
    const info = session.inputs[0]!;
    const k = 3;
    const rows: TensorData =
      info.dtype === 'float32'
        ? Float32Array.from({ length: info.length * k }, (_, i) => Math.sin(i * 0.37))
        : Int8Array.from({ length: info.length * k }, (_, i) => ((i * 37) % 255) - 128);
    const [batched] = await session.run([rows]);
    for (let r = 0; r < k; r++) {
      const [single] = await session.run([rows.slice(r * info.length, (r + 1) * info.length)]);
      t.same(Array.from(batched!.subarray(r * single!.length, (r + 1) * single!.length)), Array.from(single!), `${name} row ${r}`);
    }
    await session.close();
  }
});
