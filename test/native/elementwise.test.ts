// The element-wise binary wrappers: bit-exact with lib/runtime/reference-ops (which equals the
// official runtime) on every supported path, over broadcasts, activations and extreme
// quantization; and argument checks that turn every bad input into a typed error.
import t from 'tap';

import { InvalidArgumentError } from '../../lib/errors.js';
import {
  createFloat32Binary,
  createInt8Binary,
  int8BinaryScalesSupported,
  type BinaryOperation,
  type Int8Quantization,
} from '../../lib/native/elementwise.js';
import { capabilities, selectIsa } from '../../lib/native/index.js';
import type { FusedActivation } from '../../lib/native/layer-params.js';
import { binaryFloat32, binaryQuantized, xnnpackTakesBinary, type BinaryOp } from '../../lib/runtime/reference-ops/elementwise-binary.js';
import { ActivationFunctionType } from '../../lib/tflite/schema.js';

const ACTIVATIONS: [FusedActivation, ActivationFunctionType][] = [
  ['none', ActivationFunctionType.NONE],
  ['relu', ActivationFunctionType.RELU],
  ['relu-n1-to-1', ActivationFunctionType.RELU_N1_TO_1],
  ['relu6', ActivationFunctionType.RELU6],
];
const OPS: [BinaryOperation, BinaryOp][] = [
  ['add', 'ADD'],
  ['sub', 'SUB'],
  ['mul', 'MUL'],
];

const SHAPES: [number[], number[]][] = [
  [[1, 32, 32, 16], [1, 32, 32, 16]],
  [[1, 5, 7, 19], [19]],
  [[19], [1, 5, 7, 19]],
  [[2, 3, 33], []],
  [[], [2, 3, 33]],
  [[1], [1]],
  [[4, 1], [1, 37]],
  [[2, 3, 1, 17], [2, 3, 4, 17]],
  [[2, 1, 4, 1], [1, 3, 1, 5]],
  [[3, 5, 1], [3, 5, 18]],
];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomInt8(n: number, next: () => number): Int8Array {
  const out = new Int8Array(n);
  for (let i = 0; i < n; i++) out[i] = i % 11 === 3 ? -128 : i % 11 === 7 ? 127 : Math.floor(next() * 256) - 128;
  return out;
}

function randomFloat(n: number, next: () => number): Float32Array {
  const specials = [0, -0, NaN, Infinity, -Infinity, 1e-45, 6, -1, 1, 3.4e38];
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = i % 7 === 2 ? specials[Math.floor(i / 7) % specials.length]! : (next() * 2 - 1) * 8;
  return out;
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, d) => a * d, 1);
}

// Scales whose ratios span XNNPACK's range for `op`; zero points at both extremes.
function quantization(op: BinaryOperation, trial: number, next: () => number): [Int8Quantization, Int8Quantization, Int8Quantization] {
  const zp = (k: number) => (k % 3 === 0 ? -128 : k % 3 === 1 ? 127 : Math.floor(next() * 256) - 128);
  const outScale = 2 ** -7 * (1 + 0.37 * (trial % 5));
  const output = { scale: outScale, zeroPoint: zp(Math.floor(trial / 3)) };
  if (op === 'mul') {
    const aScale = outScale * 2 ** (next() * 6 - 3);
    const ratio = trial % 7 === 0 ? 2 ** -16 : 2 ** (next() * 23.8 - 15.9);
    const bScale = trial % 7 === 0 ? 2 ** -16 : (ratio * outScale) / aScale;
    return [{ scale: trial % 7 === 0 ? outScale : aScale, zeroPoint: zp(trial) }, { scale: bScale, zeroPoint: zp(trial + 1) }, output];
  }
  const r = () => 2 ** (next() * 17.8 - 9.9);
  const aScale = trial % 7 === 0 ? outScale * 2 ** -10 : outScale * r();
  const bScale = trial % 7 === 1 ? outScale * 255.9 : outScale * r();
  return [{ scale: aScale, zeroPoint: zp(trial) }, { scale: bScale, zeroPoint: zp(trial + 1) }, output];
}

function sameFloat(x: Float32Array, y: Float32Array): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(x[i]) && Number.isNaN(y[i])) continue;
    if (!Object.is(x[i], y[i])) return false;
  }
  return true;
}

function forEachPath(t: Tap.Test, fn: (isa: string) => void): void {
  const original = capabilities().selected;
  try {
    for (const isa of capabilities().isa) {
      selectIsa(isa);
      fn(isa);
    }
  } finally {
    selectIsa(original);
  }
  t.pass('ran on every supported path');
}

t.test('int8 ADD/SUB/MUL equal the reference ops bit for bit on every path', async (t) => {
  forEachPath(t, (isa) => {
    const next = rng(17);
    let trial = 0;
    let mismatches = 0;
    for (const [aShape, bShape] of SHAPES) {
      for (const [op, refOp] of OPS) {
        for (const [activation, refActivation] of ACTIVATIONS) {
          trial++;
          const [a, b, output] = quantization(op, trial, next);
          if (!xnnpackTakesBinary(refOp, a, b, output)) throw new Error(`test scales out of range: trial ${trial}`);
          const x = randomInt8(size(aShape), next);
          const y = randomInt8(size(bShape), next);
          const binary = createInt8Binary({ op, aShape, bShape, a, b, output, activation });
          const got = binary.run(x, y);
          const want = binaryQuantized(refOp, { data: x, shape: aShape, ...a }, { data: y, shape: bShape, ...b }, {
            output,
            activation: refActivation,
            kernel: 'xnnpack',
          });
          if (Buffer.compare(Buffer.from(got.buffer), Buffer.from(want.data.buffer)) !== 0) {
            mismatches++;
            t.fail(`${isa} ${op} ${activation} [${aShape}] [${bShape}] trial ${trial}`);
          }
          t.same(binary.outputShape, want.shape);
        }
      }
    }
    t.equal(mismatches, 0, `${isa}: int8 results`);
  });
});

t.test('float32 ADD/SUB/MUL equal the reference ops bit for bit on every path', async (t) => {
  forEachPath(t, (isa) => {
    const next = rng(5);
    let mismatches = 0;
    for (const [aShape, bShape] of SHAPES) {
      for (const [op, refOp] of OPS) {
        for (const [activation, refActivation] of ACTIVATIONS) {
          const x = randomFloat(size(aShape), next);
          const y = randomFloat(size(bShape), next);
          const got = createFloat32Binary({ op, aShape, bShape, activation }).run(x, y);
          const want = binaryFloat32(refOp, { data: x, shape: aShape }, { data: y, shape: bShape }, refActivation);
          if (!sameFloat(got, want.data)) {
            mismatches++;
            t.fail(`${isa} ${op} ${activation} [${aShape}] [${bShape}]`);
          }
        }
      }
    }
    t.equal(mismatches, 0, `${isa}: float32 results`);
  });
});

t.test('run writes into the given output, also in place, and allocates nothing else', async (t) => {
  const q = { scale: 0.05, zeroPoint: -3 };
  const binary = createInt8Binary({ op: 'add', aShape: [2, 8], bShape: [8], a: q, b: q, output: q });
  const x = randomInt8(16, rng(1));
  const y = randomInt8(8, rng(2));
  const out = new Int8Array(16);
  t.equal(binary.run(x, y, out), out);
  const inPlace = Int8Array.from(x);
  binary.run(inPlace, y, inPlace);
  t.same(inPlace, out);
  t.equal(binary.kernel.startsWith('qs8_vbinary__'), true);
  t.same(binary.outputShape, [2, 8]);
  const f = createFloat32Binary({ op: 'mul', aShape: [4], bShape: [4], activation: 'relu' });
  const fx = new Float32Array([1, -2, 3, -4]);
  f.run(fx, fx, fx);
  t.same(Array.from(fx), [1, 4, 9, 16]);
  // A partial overlap would read values already overwritten: refused.
  const shared = new Float32Array(8);
  const g = createFloat32Binary({ op: 'add', aShape: [4], bShape: [4] });
  t.throws(() => g.run(shared.subarray(0, 4), shared.subarray(4), shared.subarray(2, 6)), { code: 'ERR_LITEQUANT_INVALID_ARGUMENT' });
});

t.test('int8BinaryScalesSupported matches the reference decision', async (t) => {
  const next = rng(9);
  for (let i = 0; i < 300; i++) {
    const a = { scale: 2 ** (next() * 40 - 20), zeroPoint: 0 };
    const b = { scale: 2 ** (next() * 40 - 20), zeroPoint: 0 };
    const o = { scale: 2 ** (next() * 40 - 20), zeroPoint: 0 };
    for (const [op, refOp] of OPS) t.equal(int8BinaryScalesSupported(op, a, b, o), xnnpackTakesBinary(refOp, a, b, o));
  }
});

t.test('bad options and arrays are typed errors naming the problem', async (t) => {
  const q = { scale: 0.5, zeroPoint: 0 };
  const base = { op: 'add' as const, aShape: [4], bShape: [4], a: q, b: q, output: q };
  const bad = (options: unknown, pattern: RegExp) =>
    t.throws(() => createInt8Binary(options as never), { name: InvalidArgumentError.name, message: pattern });
  bad({ ...base, op: 'div' }, /'add', 'sub' or 'mul' for op/);
  bad({ ...base, aShape: [4, -1] }, /non-negative integers for aShape/);
  bad({ ...base, bShape: [1, 1, 1, 1, 1, 1, 1, 1, 1] }, /at most 8/);
  bad({ ...base, aShape: [3], bShape: [4] }, /broadcastable shapes/);
  bad({ ...base, a: { scale: 0, zeroPoint: 0 } }, /a\.scale/);
  bad({ ...base, b: { scale: 1e-50, zeroPoint: 0 } }, /b\.scale/);
  bad({ ...base, output: { scale: 1, zeroPoint: 128 } }, /output\.zeroPoint/);
  bad({ ...base, activation: 'tanh' }, /activation/);
  bad({ ...base, a: { scale: 512, zeroPoint: 0 } }, /\[2\^-10, 2\^8\)/);
  bad({ ...base, op: 'mul', a: { scale: 2 ** -20, zeroPoint: 0 } }, /\[2\^-16, 2\^8\)/);
  const binary = createInt8Binary(base);
  t.throws(() => binary.run(new Int8Array(3), new Int8Array(4)), { message: /Expected 4 values for a/ });
  t.throws(() => binary.run(new Int8Array(4), new Float32Array(4) as never), { message: /Int8Array for b/ });
  t.throws(() => binary.run(new Int8Array(4), new Int8Array(4), new Int8Array(5)), { message: /4 values for output/ });
  const f = createFloat32Binary({ op: 'sub', aShape: [2], bShape: [] });
  t.throws(() => f.run(new Float32Array(2), new Float32Array(2)), { message: /1 values for b/ });
  t.throws(() => createFloat32Binary({ op: 'sub', aShape: [2], bShape: [], activation: 'sigmoid' as never }), InvalidArgumentError);
});
