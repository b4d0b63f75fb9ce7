// Mutated models (bit flips, truncation, edited offsets and lengths) must give either a
// valid graph or a ModelFormatError, quickly and with bounded memory; never a crash, a
// hang or another kind of exception. A graph that reads must also write back.
// LITEQUANT_FUZZ_ITERATIONS sets the mutations per model (default 1500).
import { readFileSync } from 'node:fs';
import t from 'tap';

import { ModelFormatError } from '../../lib/errors.js';
import { readModel } from '../../lib/tflite/read.js';
import { writeModel } from '../../lib/tflite/write.js';
import { sharedModels, sharedName, sharedSkip } from '../fixtures/shared.js';

const iterations = Number(process.env['LITEQUANT_FUZZ_ITERATIONS'] ?? 1500);

// A small deterministic generator (mulberry32), so a failure names a reproducible seed.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

type Mutation = { kind: string; bytes: Uint8Array };

// Offsets and lengths sit in the first part of a file written by the TFLite converter
// (tables before the large buffers), so most edits aim at the structure there.
function mutate(original: Uint8Array, random: () => number): Mutation {
  const bytes = original.slice();
  const n = bytes.length;
  const structure = Math.min(n, 4096);
  const pos = (limit: number) => Math.floor(random() * limit);
  const choice = pos(6);
  if (choice === 0) {
    const flips = 1 + pos(8);
    for (let i = 0; i < flips; i++) bytes[pos(n)]! ^= 1 << pos(8);
    return { kind: `${flips} bit flips`, bytes };
  }
  if (choice === 1) {
    const flips = 1 + pos(4);
    for (let i = 0; i < flips; i++) bytes[pos(structure)]! ^= 1 << pos(8);
    return { kind: `${flips} bit flips in the header`, bytes };
  }
  if (choice === 2) {
    const at = pos(n);
    return { kind: `truncated to ${at}`, bytes: bytes.subarray(0, at) };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = pos(Math.max(1, (structure >> 2) - 1)) << 2;
  const old = view.getUint32(at, true);
  const values = [0, 0xffffffff, 0x7fffffff, 0x80000000, old + 4, old - 4, old * 2, pos(2 ** 32), n, n - 4];
  const value = values[pos(values.length)]!;
  view.setUint32(at, value >>> 0, true);
  return { kind: `u32 at 0x${at.toString(16)} ${old} -> ${value >>> 0}`, bytes };
}

t.test('mutated shared models give valid graphs or ModelFormatError', { skip: sharedSkip('models') }, async (t) => {
  const models = sharedModels();
  t.ok(models.length > 0, 'found shared models');
  for (const path of models) {
    const original = new Uint8Array(readFileSync(path));
    const seed = original.length;
    const random = rng(seed);
    let valid = 0;
    let rejected = 0;
    let slowest = 0;
    const started = performance.now();
    for (let i = 0; i < iterations; i++) {
      const m = mutate(original, random);
      const t0 = performance.now();
      try {
        const graph = readModel(m.bytes);
        writeModel(graph);
        valid++;
      } catch (error) {
        if (!(error instanceof ModelFormatError)) {
          t.fail(`${sharedName(path)} seed ${seed} iteration ${i} (${m.kind}): ${(error as Error).stack}`);
          return;
        }
        rejected++;
      }
      slowest = Math.max(slowest, performance.now() - t0);
    }
    // A generous bound: a read of these files takes milliseconds; a hang or a quadratic
    // blow-up on a corrupt length would take far longer.
    t.ok(slowest < 2000, `${sharedName(path)}: slowest mutation ${slowest.toFixed(1)} ms`);
    t.comment(
      `${sharedName(path)}: ${iterations} mutations, ${valid} valid, ${rejected} ModelFormatError, ` +
        `${(performance.now() - started).toFixed(0)} ms, slowest ${slowest.toFixed(1)} ms`,
    );
  }
  t.ok(process.memoryUsage().heapUsed < 1.5e9, 'heap stayed bounded');
});
