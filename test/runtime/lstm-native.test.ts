// The native float32 and hybrid UNIDIRECTIONAL_SEQUENCE_LSTM (lib/native/lstm.ts through
// ops/lstm.ts) against the TypeScript references on the builder-made models of
// test/fixtures/lstm-models.ts: every combination of CIFG, peephole, projection (none, narrower
// with bias and clip, wider), layer norm and time-major, with cell clips, activations and
// symmetric/asymmetric rows spread over them, on every instruction-set path this machine runs.
// The references run when the plan observes intermediates (calibration), which is how this test
// gets them.
//
// Tolerances (relative to 1 + |y|):
// - float32: 1e-6 + 1e-5·|y| (the native path sums in float with FMA, the reference in double);
// - hybrid on the reference path: bit for bit (the same quantization, int8 sums and float order,
//   and sigmoid/tanh in double as Math.exp/Math.tanh);
// - hybrid on AVX2/NEON: sigmoid/tanh differ by < 3e-7 relative, which can move a value of h
//   across a rounding boundary of the next step's row quantization: that value then moves by one
//   quantization step (max|h|/127 of its row) and the difference decays through the steps. So:
//   99% of the values within 1e-5, all within 2e-3.
import t from 'tap';

import { InvalidArgumentError } from '../../lib/errors.js';
import { packLstmFloat32, type LstmFloat32Weights, type PerGate } from '../../lib/native/lstm.js';
import { readModel } from '../../lib/tflite/read.js';
import { ActivationFunctionType as Act } from '../../lib/tflite/schema.js';
import { callNative, capabilities, native, selectIsa, type IsaPath } from '../../lib/native/index.js';
import { compilePlan, runPlan } from '../../lib/runtime/plan.js';
import { lstmGraph, lstmSamples, type LstmCase } from '../fixtures/lstm-models.js';
import { suiteModel, type OpCase, type TensorData } from '../fixtures/op-suite.js';

function combinations(kind: 'float' | 'hybrid'): LstmCase[] {
  const cases: LstmCase[] = [];
  let k = 0;
  for (const cifg of [false, true]) {
    for (const peephole of [false, true]) {
      for (const projection of ['none', 'narrow', 'wide'] as const) {
        for (const layerNorm of [false, true]) {
          for (const timeMajor of [false, true]) {
            k++;
            const activation = [Act.TANH, Act.TANH, Act.RELU, Act.TANH, Act.RELU6, Act.TANH, Act.RELU_N1_TO_1][k % 7]!;
            const nOutput = projection === 'narrow' ? 5 : projection === 'wide' ? 11 : 9;
            const c: LstmCase = {
              name: `${kind}${cifg ? ' CIFG' : ''}${peephole ? ' peephole' : ''}${projection === 'none' ? '' : ` projection ${projection}`}${layerNorm ? ' layer-norm' : ''}${timeMajor ? ' time-major' : ''} act ${activation}${k % 3 === 0 ? ' cell-clip 0.15' : ''}${kind === 'hybrid' && k % 2 === 0 ? ' asymmetric' : ''}`,
              kind,
              batch: 2,
              time: 5,
              nInput: 6,
              nCell: 9,
              nOutput,
              cifg,
              peephole,
              projection: projection !== 'none',
              projectionBias: projection === 'narrow',
              projClip: projection === 'narrow' ? 0.08 : 0,
              layerNorm,
              timeMajor,
              activation,
              cellClip: k % 3 === 0 ? 0.15 : 0,
              asymmetric: kind === 'hybrid' && k % 2 === 0,
            };
            cases.push(c);
          }
        }
      }
    }
  }
  // SIGN_BIT and the legacy 20-input form, once each.
  cases.push({ name: `${kind} SIGN_BIT`, kind, batch: 1, time: 4, nInput: 4, nCell: 6, activation: Act.SIGN_BIT });
  cases.push({ name: `${kind} legacy 20 inputs`, kind, batch: 1, time: 4, nInput: 4, nCell: 6, inputs20: true });
  return cases;
}

interface Suite {
  readonly cases: readonly LstmCase[];
  readonly graph: ReturnType<typeof readModel>;
  readonly offsets: readonly number[];
  readonly samples: TensorData[][];
}

function suite(cases: readonly LstmCase[]): Suite {
  const opCases: OpCase[] = cases.map((c, k) => ({
    name: c.name,
    graph: (b, prefix) => lstmGraph(b, prefix, c, k + 1),
    samples: lstmSamples(c, k + 1),
    expected: () => new Float32Array(0),
  }));
  const { bytes, built, sampleCount } = suiteModel(opCases);
  const samples = Array.from({ length: sampleCount }, (_, s) => opCases.flatMap((c) => [...c.samples[Math.min(s, c.samples.length - 1)]!]));
  return { cases, graph: readModel(bytes), offsets: built.map((b) => b.outputOffset), samples };
}

function run(s: Suite, reference: boolean): { outputs: TensorData[][]; impls: string[] } {
  const plan = compilePlan(s.graph, reference ? { observeIntermediate: () => {} } : {});
  return { outputs: s.samples.map((x) => runPlan(plan, x)), impls: plan.steps.map((step) => step.impl) };
}

/** Paths this machine runs (the reference path included). */
function paths(): IsaPath[] {
  const caps = capabilities();
  return caps.isa.filter((p) => caps.built.includes(p));
}

for (const kind of ['float', 'hybrid'] as const) {
  t.test(`${kind}: every option combination runs natively and matches the TypeScript reference`, async (t) => {
    const s = suite(combinations(kind));
    const reference = run(s, true);
    t.ok(reference.impls.every((impl) => impl.startsWith('reference lstm')), 'the references run while observing');
    const original = capabilities().selected;
    try {
      for (const path of paths()) {
        selectIsa(path);
        const ours = run(s, false);
        let bad = 0;
        let loose = 0;
        let total = 0;
        let worst = 0;
        let first = '';
        s.cases.forEach((c, k) => {
          t.match(ours.impls[k], kind === 'float' ? /^native lstm \(float32, / : /^native lstm \(hybrid, (a?symmetric) rows, /, `${c.name}: ${ours.impls[k]}`);
          s.samples.forEach((_, n) => {
            const want = reference.outputs[n]![s.offsets[k]!]! as Float32Array;
            const got = ours.outputs[n]![s.offsets[k]!]! as Float32Array;
            for (let i = 0; i < want.length; i++) {
              const e = Math.abs(got[i]! - want[i]!);
              const relative = e / (1 + Math.abs(want[i]!));
              worst = Math.max(worst, relative);
              total++;
              const exact = kind === 'hybrid' && path === 'reference';
              const ok = exact ? Object.is(got[i], want[i]) : kind === 'float' ? e <= 1e-6 + 1e-5 * Math.abs(want[i]!) : relative <= 2e-3;
              if (!ok) {
                bad++;
                if (first === '') first = `${c.name} sample ${n} [${i}]: ${got[i]} vs ${want[i]}`;
              }
              if (relative > 1e-5) loose++;
            }
          });
        });
        const rule = kind === 'float' ? 'within 1e-6 + 1e-5·|y|' : path === 'reference' ? 'equal bit for bit' : 'within 2e-3 (1 + |y|)';
        t.equal(bad, 0, bad === 0 ? `${path}: ${s.cases.length} LSTMs, ${total} values ${rule} (max ${worst.toExponential(2)} relative to 1 + |y|)` : `${path}: ${bad} of ${total} differ (first: ${first})`);
        if (kind === 'hybrid') t.ok(loose * 100 <= total, `${path}: ${loose} of ${total} values beyond 1e-5 (at most 1%)`);
      }
    } finally {
      selectIsa(original);
    }
  });
}

t.test('the final state stays in the state tensors (keepState runs continue the sequence)', async (t) => {
  for (const kind of ['float', 'hybrid'] as const) {
    const c: LstmCase = { name: kind, kind, batch: 1, time: 6, nInput: 3, nCell: 5, peephole: true, stateOutputs: true };
    const whole = suite([c]);
    const half = suite([{ ...c, time: 3 }]);
    const x = whole.samples[0]![0] as Float32Array;
    const all = runPlan(compilePlan(whole.graph), [x]) as Float32Array[];
    const plan = compilePlan(half.graph, { keepState: true });
    const first = runPlan(plan, [x.subarray(0, 9)]) as Float32Array[];
    const second = runPlan(plan, [x.subarray(9, 18)]) as Float32Array[];
    t.match(plan.steps[0]!.impl, /^native lstm/, `${kind}: native`);
    const y = all[0]!;
    t.same(Array.from(first[0]!), Array.from(y.subarray(0, 15)), `${kind}: steps 1-3`);
    t.same(Array.from(second[0]!), Array.from(y.subarray(15, 30)), `${kind}: steps 4-6 continue from the kept state`);
    t.same(Array.from(second[2]!), Array.from(all[2]!), `${kind}: the same final cell state`);
  }
});

t.test('the addon refuses bad arguments with typed errors, never crashing', async (t) => {
  const dims = { maxTime: 3, batch: 1, inputSize: 4, cellSize: 5, outputSize: 5 };
  const m = (rows: number, cols: number): Float32Array => Float32Array.from({ length: rows * cols }, (_, i) => ((i % 7) - 3) / 10);
  const gate = <T>(f: (g: number) => T): PerGate<T> => [f(0), f(1), f(2), f(3)];
  const weights: LstmFloat32Weights = {
    inputWeights: gate(() => m(5, 4)),
    recurrentWeights: gate(() => m(5, 5)),
    peephole: [null, null, null, null],
    bias: gate(() => m(1, 5)),
    layerNorm: null,
    projection: null,
    projectionBias: null,
  };
  const lstm = packLstmFloat32(dims, weights);
  t.match(lstm.kernel, /lstm_f32__/, `packed: ${lstm.kernel}`);
  const io = (): Float32Array[] => [new Float32Array(12), new Float32Array(5), new Float32Array(5), new Float32Array(15)];
  const [x, h, c, y] = io();
  t.doesNotThrow(() => lstm.run(x!, h!, c!, y!), 'a valid run');
  t.throws(() => lstm.run(new Float32Array(11), h!, c!, y!), { code: 'ERR_LITEQUANT_INVALID_ARGUMENT', message: 'Expected length 12 for input but received length 11' });
  t.throws(() => lstm.run(x!, h!, h!, y!), { code: 'ERR_LITEQUANT_INVALID_ARGUMENT', message: /do not overlap/ }, 'overlapping state buffers');
  t.throws(() => lstm.run(x!, h!, c!, new Int8Array(15) as unknown as Float32Array), InvalidArgumentError);
  const run = native().lstmRun as (...args: unknown[]) => void;
  t.throws(() => callNative(() => run({}, x, h, c, y, 1)), { message: /Expected a handle from lstmPack for handle/ });
  t.throws(() => packLstmFloat32(dims, { ...weights, recurrentWeights: [null, ...weights.recurrentWeights.slice(1)] as unknown as PerGate<Float32Array | null> }), {
    code: 'ERR_LITEQUANT_INVALID_ARGUMENT',
    message: /both its input and recurrent weights, or neither \(CIFG\)/,
  });
  t.throws(() => packLstmFloat32(dims, { ...weights, bias: [m(1, 4), ...weights.bias.slice(1)] as unknown as PerGate<Float32Array | null> }), {
    message: 'Expected length 5 for tensors[11] but received length 4',
  });
  t.throws(() => packLstmFloat32({ ...dims, outputSize: 6 }, weights), InvalidArgumentError, 'n_output without a projection');
  t.throws(() => packLstmFloat32({ ...dims, cellClip: -1 }, weights), InvalidArgumentError);
  const pack = native().lstmPack as (...args: unknown[]) => void;
  const tensors = Array.from({ length: 21 }, () => null);
  t.throws(() => callNative(() => pack('hybrid', tensors, new Float32Array(3), { ...dims, timeMajor: false, activation: 'tanh', cellClip: 0, projClip: 0, asymmetric: false })), {
    message: 'Expected length 21 for scales but received length 3',
  });
  t.throws(() => callNative(() => pack('float32', tensors.slice(1), null, {})), { message: /Expected an Array of 21 typed arrays or nulls for tensors/ });
  t.throws(() => callNative(() => pack('float32', tensors, null, { ...dims, timeMajor: false, activation: 'gelu', cellClip: 0, projClip: 0, asymmetric: false })), InvalidArgumentError);
  t.throws(() => callNative(() => pack('float32', tensors, null, { ...dims, timeMajor: false, activation: 'tanh', cellClip: 0, projClip: 0, asymmetric: false })), {
    message: /forget gate's weights or bias are missing/,
  });
});

t.test('threads split only the input GEMM: the same bits for any thread count', async (t) => {
  for (const kind of ['float', 'hybrid'] as const) {
    const s = suite([{ name: kind, kind, batch: 3, time: 40, nInput: 48, nCell: 64, peephole: true, timeMajor: true }]);
    const one = s.samples.map((x) => runPlan(compilePlan(s.graph, { threads: 1 }), x));
    const two = s.samples.map((x) => runPlan(compilePlan(s.graph, { threads: 2 }), x));
    t.same(two, one, `${kind}: threads 2 equals threads 1`);
  }
});
