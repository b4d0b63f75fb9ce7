// The native full-integer LSTM (lib/native/lstm-qs8.ts, wired into ops/lstm.ts's integer branch)
// against the TypeScript reference createLstmInteger, bit for bit: every combination of the
// integer options (CIFG, peephole, layer norm, projection narrower or wider than the cell, clips,
// time-major, batch > 1, zero points) in builder-made models, under both integer rules ('builtin'
// and tfjs-tflite's 'builtin-2023'), on the selected instruction-set path and on the C++
// reference path. That the reference equals TFLite is test/runtime/lstm.test.ts's (the oracle,
// and mnist_lstm_int8_official, which runs natively there).
import t from 'tap';

import { InvalidArgumentError } from '../../lib/errors.js';
import { capabilities, selectIsa } from '../../lib/native/index.js';
import { lstmQs8Table, packLstmQs8, type LstmQs8Weights } from '../../lib/native/lstm-qs8.js';
import { gemmlowp16 } from '../../lib/runtime/reference-ops/fixed-point.js';
import type { OpCompiler } from '../../lib/runtime/ops/context.js';
import { OP_COMPILERS } from '../../lib/runtime/ops/index.js';
import { lstmCompiler, type LstmCompileOptions } from '../../lib/runtime/ops/lstm.js';
import { loadModel } from '../../lib/runtime/session.js';
import { nativeLstmInteger } from '../../lib/runtime/ops/lstm-qs8-native.js';
import { deriveLstmInteger, type LstmIntegerKernel, type LstmIntegerParams } from '../../lib/runtime/reference-ops/lstm.js';
import { BuiltinOperator as Op } from '../../lib/tflite/schema.js';
import { lstmGraph, lstmSamples, type LstmCase } from '../fixtures/lstm-models.js';
import { compare, suiteModel, type TensorData } from '../fixtures/op-suite.js';

/** Every integer option combination the runtime accepts (a peephole needs n_output <= n_cell). */
function integerCases(): LstmCase[] {
  const cases: LstmCase[] = [];
  let k = 0;
  for (const cifg of [false, true]) {
    for (const peephole of [false, true]) {
      for (const layerNorm of [false, true]) {
        for (const projection of ['none', 'narrow', 'wide'] as const) {
          if (peephole && projection === 'wide') continue;
          for (const timeMajor of [false, true]) {
            for (const clips of [false, true]) {
              k++;
              const nCell = layerNorm && k % 2 === 0 ? 8 : 6;
              const nOutput = projection === 'none' ? nCell : projection === 'narrow' ? nCell - 3 : nCell + 2;
              const name = [
                cifg ? 'CIFG' : 'input gate',
                peephole ? 'peephole' : '',
                layerNorm ? `layer norm (n_cell ${nCell})` : '',
                projection === 'none' ? '' : `projection ${nOutput} ${projection === 'narrow' ? '<' : '>'} ${nCell}`,
                timeMajor ? 'time-major' : 'batch-major',
                clips ? 'clips' : '',
              ]
                .filter((s) => s !== '')
                .join(', ');
              cases.push({
                name,
                kind: 'int8',
                batch: 1 + (k % 3),
                time: 3 + (k % 4),
                nInput: 3 + (k % 5),
                nCell,
                nOutput,
                projection: projection !== 'none',
                projectionBias: projection !== 'none' && k % 2 === 1,
                cifg,
                peephole,
                layerNorm,
                timeMajor,
                ...(clips ? { cellClip: 0.3, projClip: 0.06, cellShift: -11 } : {}),
                // Non-zero hidden zero points make the two integer rules differ without a projection.
                hiddenZeroPoint: [0, 3, -5][k % 3]!,
                inputZeroPoint: [0, 4, -2][(k + 1) % 3]!,
              });
            }
          }
        }
      }
    }
  }
  // Longer sequences: the native input GEMM runs in chunks of about 20 rows ahead of the steps.
  for (const timeMajor of [false, true]) {
    cases.push({ name: `36 rows (batch 3, 12 steps), peephole + projection, ${timeMajor ? 'time' : 'batch'}-major`, kind: 'int8', batch: 3, time: 12, nInput: 5, nCell: 9, nOutput: 7, peephole: true, projectionBias: true, timeMajor, hiddenZeroPoint: 2 });
  }
  return cases;
}

const CASES = integerCases();

async function runWith(bytes: Uint8Array, compiler: OpCompiler, samples: readonly (readonly TensorData[])[]): Promise<{ outputs: TensorData[][]; impls: string[] }> {
  const registry = OP_COMPILERS as Map<number, OpCompiler>;
  const current = registry.get(Op.UNIDIRECTIONAL_SEQUENCE_LSTM)!;
  registry.set(Op.UNIDIRECTIONAL_SEQUENCE_LSTM, compiler);
  let session;
  try {
    session = await loadModel(bytes, { worker: false });
  } finally {
    registry.set(Op.UNIDIRECTIONAL_SEQUENCE_LSTM, current);
  }
  try {
    const outputs: TensorData[][] = [];
    for (const sample of samples) outputs.push((await session.run(sample as never)) as TensorData[]);
    return { outputs, impls: session.steps.map((s) => s.impl) };
  } finally {
    await session.close();
  }
}

t.test(`${CASES.length} integer LSTMs: native equals the TypeScript reference bit for bit, both rules, every built path`, async (t) => {
  const { bytes, built, sampleCount } = suiteModel(
    CASES.map((c, k) => ({ name: c.name, graph: (b, prefix) => lstmGraph(b, prefix, { ...c, stateOutputs: true }, k + 1), samples: lstmSamples(c, k + 1), expected: () => new Float32Array(0) })),
  );
  const caseSamples = CASES.map((c, k) => lstmSamples(c, k + 1));
  const samples = Array.from({ length: sampleCount }, (_, s) => caseSamples.flatMap((cs) => [...(cs[Math.min(s, cs.length - 1)] ?? [])]));
  const selected = capabilities().selected;
  const paths = selected === 'reference' ? ['reference'] : [selected, 'reference'];
  for (const kernel of ['builtin', 'builtin-2023'] as const satisfies readonly LstmIntegerKernel[]) {
    const reference = await runWith(bytes, lstmCompiler(kernel, { nativeInteger: false } satisfies LstmCompileOptions), samples);
    for (const path of paths) {
      selectIsa(path as never);
      let native;
      try {
        native = await runWith(bytes, lstmCompiler(kernel), samples);
      } finally {
        selectIsa(selected);
      }
      await t.test(`${kernel} rule, ${path} path`, async (tt) => {
        built.forEach(({ outputOffset }, k) => {
          const c = CASES[k]!;
          tt.match(native.impls[k], new RegExp(`^native lstm \\(int8x8→16${kernel === 'builtin' ? '' : `, ${kernel}`}, .*lstm_qs8__`), `${c.name}: runs natively`);
          tt.match(reference.impls[k], /^reference lstm/);
          // The output, then the final output state and cell state.
          let bad = 0;
          let total = 0;
          let first = '';
          for (let s = 0; s < sampleCount; s++) {
            for (let o = 0; o < 3; o++) {
              const want = reference.outputs[s]![outputOffset + o]! as ArrayLike<number>;
              const r = compare(want, native.outputs[s]![outputOffset + o]! as ArrayLike<number>, 0);
              total += want.length;
              bad += r.bad;
              if (r.bad > 0 && first === '') first = `sample ${s}, output ${o}: ${r.first}`;
            }
          }
          tt.equal(bad, 0, bad === 0 ? `${c.name}: ${total} values equal` : `${c.name}: ${bad} of ${total} differ (first: ${first})`);
        });
      });
    }
  }
});

t.test('the integer rules differ where they should, natively too', async (t) => {
  // No projection and hidden zero point 3: h = MBQM(o·tanh(c)) ± 3.
  const c: LstmCase = { name: 'rules', kind: 'int8', batch: 1, time: 4, nInput: 3, nCell: 5, hiddenZeroPoint: 3 };
  const { bytes } = suiteModel([{ name: c.name, graph: (b, prefix) => lstmGraph(b, prefix, c, 9), samples: [], expected: () => new Float32Array(0) }]);
  const samples = lstmSamples(c, 9);
  const current = await runWith(bytes, lstmCompiler('builtin'), samples);
  const old = await runWith(bytes, lstmCompiler('builtin-2023'), samples);
  t.not(compare(current.outputs[0]![0]! as ArrayLike<number>, old.outputs[0]![0]! as ArrayLike<number>, 0).bad, 0);
});

// ---------------------------------------------------------------------------------------------
// The layer API's checks.

function weights(nIn: number, nCell: number): LstmQs8Weights {
  const unit = { multiplier: 1 << 30, shift: -10 };
  const gain = { multiplier: 1 << 30, shift: 4 };
  const gate = <T>(f: () => T) => [f(), f(), f(), f()] as const;
  const table = new Int16Array(65536).map((_, i) => i - 32768);
  return {
    inputWeights: gate(() => new Int8Array(nCell * nIn).fill(3)),
    recurrentWeights: gate(() => new Int8Array(nCell * nCell).fill(-2)),
    inputBias: gate(() => new Int32Array(nCell)),
    recurrentBias: gate(() => new Int32Array(nCell)),
    inputScale: gate(() => gain),
    recurrentScale: gate(() => gain),
    peephole: [null, null, null, null],
    peepholeScale: gate(() => unit),
    layerNorm: null,
    layerNormBias: null,
    layerNormScale: gate(() => unit),
    varianceGuard: gate(() => 1),
    projection: null,
    projectionBias: null,
    projectionScale: unit,
    hiddenScale: { multiplier: 1 << 30, shift: -14 },
    hiddenOutputZeroPoint: 0,
    hiddenZeroPoint: 0,
    outputStateZeroPoint: 0,
    cellShift: -12,
    cellClip: 0,
    projClip: 0,
    tables: { sigmoid: table, tanhGate: table, tanhCell: table },
  };
}

t.test('packLstmQs8 runs a sequence and checks its arguments', (t) => {
  const options = { maxTime: 3, batch: 2, inputSize: 4, cellSize: 5, outputSize: 5 };
  const lstm = packLstmQs8(options, weights(4, 5));
  t.match(lstm.kernel, /lstm_qs8__/);
  const x = new Int8Array(3 * 2 * 4).map((_, i) => (i * 37) % 200 - 100);
  const h = new Int8Array(10);
  const c = new Int16Array(10);
  const y = new Int8Array(30);
  lstm.run(x, h, c, y);
  t.same(Array.from(h), Array.from(y.subarray(5, 10)).concat(Array.from(y.subarray(25, 30))), 'the output state holds each batch row\'s last h');
  t.ok(y.some((v) => v !== 0), 'the outputs are not all zero');

  t.throws(() => lstm.run(x, h, c, new Int8Array(29)), { name: 'InvalidArgumentError', message: /Expected length 30 for output but received length 29/ });
  const shared = new Int8Array(40);
  t.throws(() => lstm.run(x, shared.subarray(0, 10), c, shared.subarray(5, 35)), InvalidArgumentError, 'overlapping state and output are refused');
  t.throws(() => packLstmQs8({ ...options, threads: 0 }, weights(4, 5)), { message: /Expected an integer between 1 and 256 for threads but received 0/ });
  t.throws(() => packLstmQs8(options, { ...weights(4, 5), hiddenScale: { multiplier: 1 << 30, shift: -32 } }), { message: /for hiddenScale\.shift but received -32/ });
  t.throws(() => packLstmQs8(options, { ...weights(4, 5), cellShift: -8 }), { message: /cellShift/ });
  t.throws(() => packLstmQs8({ ...options, cellSize: 6 }, weights(4, 5)), { name: 'InvalidArgumentError', message: /Expected length 24 for arrays\[0\]/ });
  const w = weights(4, 5);
  t.throws(
    () => packLstmQs8(options, { ...w, peephole: [null, new Int16Array(5), null, null] }),
    { name: 'InvalidArgumentError', message: /peephole weights must be present for every gate/ },
    'peephole weights for one gate only',
  );
  t.throws(
    () => packLstmQs8({ ...options, outputSize: 4 }, { ...w, recurrentWeights: [new Int8Array(20), new Int8Array(20), new Int8Array(20), new Int8Array(20)] }),
    { message: /n_output 4 differs from n_cell 5 without a projection/ },
  );
  t.end();
});

t.test('what the kernel cannot represent falls back to the reference with the reason', (t) => {
  const gates = <T>(f: () => T) => [f(), f(), f(), f()] as const;
  const p: LstmIntegerParams = {
    dims: { maxTime: 2, batch: 1, inputSize: 3, cellSize: 4, outputSize: 4, timeMajor: false },
    inputWeights: gates(() => new Int8Array(12).fill(1)),
    recurrentWeights: gates(() => new Int8Array(16).fill(1)),
    peephole: [null, null, null, null],
    bias: gates(() => new Int32Array(4)),
    layerNorm: null,
    projection: null,
    projectionBias: null,
    scales: {
      input: { scale: 1 / 128, zeroPoint: 0 },
      outputState: { scale: 1 / 128, zeroPoint: 0 },
      cellStateScale: 2 ** -12,
      outputScale: 1 / 128,
      inputWeights: gates(() => 0.01),
      recurrentWeights: gates(() => 0.01),
      peephole: [null, null, null, null],
      layerNorm: null,
      projection: null,
      gateScales: null,
      hidden: { scale: 1 / 128, zeroPoint: 0 },
    },
    cellClip: 0,
    projClip: 0,
  };
  const d = deriveLstmInteger(p);
  t.ok('run' in nativeLstmInteger(p, d, 'builtin', 1), 'a plain LSTM runs natively');
  // Input weight scales of 2^40 give the input multiplier a left shift past 31, which TFLite
  // computes (in 64 bits) and this kernel does not.
  const huge = deriveLstmInteger({ ...p, scales: { ...p.scales, inputWeights: gates(() => 2 ** 40) } });
  const r = nativeLstmInteger(p, huge, 'builtin', 1);
  t.match('fallback' in r ? r.fallback : '', /the input scale \(2\^\d+\) is outside the kernel's shifts -31..31/);
  t.end();
});

t.test('the native int16 sigmoid/tanh tables equal the TypeScript gemmlowp functions at every input', (t) => {
  for (const kind of ['logistic', 'tanh'] as const) {
    for (let integerBits = 0; integerBits <= 7; integerBits++) {
      const native = new Int16Array(65536);
      lstmQs8Table(kind, integerBits, native);
      const f = kind === 'logistic' ? gemmlowp16.logistic : gemmlowp16.tanh;
      let bad = 0;
      let first = '';
      for (let x = -32768; x < 32768; x++) {
        const want = f(x, integerBits);
        if (native[x + 32768] !== want) {
          if (bad === 0) first = ` (first: x ${x}, native ${native[x + 32768]}, TypeScript ${want})`;
          bad++;
        }
      }
      t.equal(bad, 0, `${kind}, ${integerBits} integer bits: ${bad} of 65536 differ${first}`);
    }
  }
  t.throws(() => lstmQs8Table('tanh', 8, new Int16Array(65536)), /integerBits/);
  t.throws(() => lstmQs8Table('tanh', 3, new Int16Array(100)), /out/);
  t.end();
});
