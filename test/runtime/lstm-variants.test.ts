// LSTM (one step) and BIDIRECTIONAL_SEQUENCE_LSTM against the official runtime (tfjs-tflite:
// LiteRT.js refuses variable tensors). All cases live in one builder-made model.
import t from 'tap';

import { builtinOptions, GraphBuilder } from '../../lib/ir/builder.js';
import { loadModel } from '../../lib/runtime/session.js';
import { ActivationFunctionType as Act, BuiltinOperator as Op, LSTMKernelType, TensorType } from '../../lib/tflite/schema.js';
import { writeModel } from '../../lib/tflite/write.js';
import { compare, randF32, randInt16, randInt8, suiteModel, type OpCase, type TensorData } from '../fixtures/op-suite.js';
import { runOracle } from '../fixtures/oracle.js';

type Kind = 'float' | 'hybrid' | 'int8';

interface Direction {
  readonly nCell: number;
  readonly nOutput?: number;
  readonly peephole?: boolean;
  readonly cifg?: boolean;
}

const IN_SCALE = 1 / 64;
const H_SCALE = 1 / 128;

/** The 17 weight tensors of one LSTM direction (TFLite's inputs 1-17), -1 where absent. */
function directionWeights(b: GraphBuilder, prefix: string, kind: Kind, nInput: number, d: Direction, next: () => number): number[] {
  const nOutput = d.nOutput ?? d.nCell;
  const ids = new Array<number>(17).fill(-1);
  const matrix = (name: string, rows: number, cols: number): number => {
    const scale = 0.6 / Math.sqrt(cols);
    if (kind === 'float') return b.tensor({ name: prefix + name, type: TensorType.FLOAT32, shape: [rows, cols], data: randF32(rows * cols, next(), -scale, scale) });
    return b.tensor({ name: prefix + name, type: TensorType.INT8, shape: [rows, cols], data: randInt8(rows * cols, next(), -127, 127), quantization: { scale: scale / 127 } });
  };
  const vector = (name: string, n: number, lo: number, hi: number, peephole: boolean): number => {
    if (kind === 'float' || (kind === 'hybrid' && !peephole)) return b.tensor({ name: prefix + name, type: TensorType.FLOAT32, shape: [n], data: randF32(n, next(), lo, hi) });
    if (kind === 'hybrid') return b.tensor({ name: prefix + name, type: TensorType.INT8, shape: [n], data: randInt8(n, next(), -127, 127), quantization: { scale: 0.4 / 127 } });
    if (peephole) return b.tensor({ name: prefix + name, type: TensorType.INT16, shape: [n], data: randInt16(n, next(), -32767, 32767), quantization: { scale: 0.4 / 32767 } });
    const biasScale = IN_SCALE * 0.004;
    return b.tensor({ name: prefix + name, type: TensorType.INT32, shape: [n], data: Int32Array.from(randF32(n, next(), lo, hi), (v) => Math.round(v / biasScale)), quantization: { scale: biasScale } });
  };
  for (let g = 0; g < 4; g++) {
    if (g === 0 && d.cifg) continue;
    ids[g] = matrix(`wx${g}`, d.nCell, nInput);
    ids[4 + g] = matrix(`wh${g}`, d.nCell, nOutput);
    ids[11 + g] = vector(`b${g}`, d.nCell, g === 1 ? 0.5 : -0.3, g === 1 ? 1.5 : 0.3, false);
    if (d.peephole && g !== 2) ids[8 + (g === 3 ? 2 : g)] = vector(`wc${g}`, d.nCell, -0.4, 0.4, true);
  }
  if (nOutput !== d.nCell) ids[15] = matrix('wp', nOutput, d.nCell);
  return ids;
}

function states(b: GraphBuilder, prefix: string, kind: Kind, batch: number, d: Direction): [number, number] {
  const int8 = kind === 'int8';
  return [
    b.tensor({ name: `${prefix}h`, type: int8 ? TensorType.INT8 : TensorType.FLOAT32, shape: [batch, d.nOutput ?? d.nCell], isVariable: true, ...(int8 ? { quantization: { scale: H_SCALE, zeroPoint: 0 } } : {}) }),
    b.tensor({ name: `${prefix}c`, type: int8 ? TensorType.INT16 : TensorType.FLOAT32, shape: [batch, d.nCell], isVariable: true, ...(int8 ? { quantization: { scale: 2 ** -12 } } : {}) }),
  ];
}

interface CellCase {
  readonly name: string;
  readonly kind: Kind;
  readonly batch: number;
  readonly nInput: number;
  readonly d: Direction;
}

function cellCase(c: CellCase, seed: number): OpCase {
  const int8 = c.kind === 'int8';
  const nOutput = c.d.nOutput ?? c.d.nCell;
  return {
    name: c.name,
    graph: (b, prefix) => {
      let s = seed * 100;
      const next = () => ++s;
      const x = b.tensor({ name: `${prefix}x`, type: int8 ? TensorType.INT8 : TensorType.FLOAT32, shape: [c.batch, c.nInput], ...(int8 ? { quantization: { scale: IN_SCALE, zeroPoint: 0 } } : {}) });
      const w = directionWeights(b, prefix, c.kind, c.nInput, c.d, next);
      const [h, cs] = states(b, prefix, c.kind, c.batch, c.d);
      const y = b.tensor({ name: `${prefix}y`, type: int8 ? TensorType.INT8 : TensorType.FLOAT32, shape: [c.batch, nOutput], ...(int8 ? { quantization: { scale: H_SCALE, zeroPoint: 0 } } : {}) });
      const intermediates = int8
        ? [
            ...[0, 1, 2, 3].map((g) => b.tensor({ name: `${prefix}gate${g}`, type: TensorType.INT16, shape: [0] })),
            b.tensor({ name: `${prefix}hidden`, type: TensorType.INT8, shape: [0], quantization: { scale: nOutput !== c.d.nCell ? 1 / 160 : H_SCALE, zeroPoint: 0 } }),
          ]
        : undefined;
      b.op(Op.LSTM, [x, ...w, h, cs, -1, -1, -1, -1], [y], {
        options: builtinOptions('LSTMOptions', { fusedActivationFunction: Act.TANH, cellClip: 0, projClip: 0, kernelType: LSTMKernelType.FULL, asymmetricQuantizeInputs: false }),
        ...(intermediates ? { intermediates } : {}),
      });
      return { inputs: [x], outputs: [y] };
    },
    samples: [0, 1, 2].map((k) => [int8 ? randInt8(c.batch * c.nInput, seed * 10 + k) : randF32(c.batch * c.nInput, seed * 10 + k, -1, 1)]),
    expected: () => new Float32Array(0),
    tolerance: int8 ? 0 : 1e-5,
  };
}

interface BidiCase {
  readonly name: string;
  readonly kind: 'float' | 'hybrid';
  readonly batch: number;
  readonly time: number;
  readonly nInput: number;
  readonly fw: Direction;
  readonly bw: Direction;
  readonly merge: boolean;
  readonly timeMajor: boolean;
  /** A second input feeding the backward LSTM (stacking without cross links). */
  readonly auxInput?: boolean;
}

function bidiCase(c: BidiCase, seed: number): OpCase {
  const shape = c.timeMajor ? [c.time, c.batch] : [c.batch, c.time];
  const nFw = c.fw.nOutput ?? c.fw.nCell;
  const nBw = c.bw.nOutput ?? c.bw.nCell;
  const n = c.batch * c.time * c.nInput;
  return {
    name: c.name,
    graph: (b, prefix) => {
      let s = seed * 100;
      const next = () => ++s;
      const x = b.tensor({ name: `${prefix}x`, type: TensorType.FLOAT32, shape: [...shape, c.nInput] });
      const aux = c.auxInput ? b.tensor({ name: `${prefix}aux`, type: TensorType.FLOAT32, shape: [...shape, c.nInput] }) : -1;
      const fw = directionWeights(b, `${prefix}fw_`, c.kind, c.nInput, c.fw, next);
      const bw = directionWeights(b, `${prefix}bw_`, c.kind, c.nInput, c.bw, next);
      const fwState = states(b, `${prefix}fw_`, c.kind, c.batch, c.fw);
      const bwState = states(b, `${prefix}bw_`, c.kind, c.batch, c.bw);
      const outs = c.merge
        ? [b.tensor({ name: `${prefix}y`, type: TensorType.FLOAT32, shape: [...shape, nFw + nBw] })]
        : [b.tensor({ name: `${prefix}y_fw`, type: TensorType.FLOAT32, shape: [...shape, nFw] }), b.tensor({ name: `${prefix}y_bw`, type: TensorType.FLOAT32, shape: [...shape, nBw] })];
      b.op(Op.BIDIRECTIONAL_SEQUENCE_LSTM, [x, ...fw, ...bw, ...fwState, ...bwState, aux, ...new Array<number>(8).fill(-1)], outs, {
        options: builtinOptions('BidirectionalSequenceLSTMOptions', {
          fusedActivationFunction: Act.TANH,
          cellClip: 0,
          projClip: 0,
          mergeOutputs: c.merge,
          timeMajor: c.timeMajor,
          asymmetricQuantizeInputs: false,
        }),
      });
      return { inputs: c.auxInput ? [x, aux] : [x], outputs: outs };
    },
    samples: [0, 1].map((k) => (c.auxInput ? [randF32(n, seed * 10 + k, -1, 1), randF32(n, seed * 10 + k + 5, -1, 1)] : [randF32(n, seed * 10 + k, -1, 1)])),
    expected: () => new Float32Array(0),
    tolerance: 1e-5,
  };
}

const CELL_CASES: CellCase[] = [
  { name: 'LSTM float, batch 2', kind: 'float', batch: 2, nInput: 5, d: { nCell: 6 } },
  { name: 'LSTM float peephole + projection', kind: 'float', batch: 2, nInput: 4, d: { nCell: 7, nOutput: 3, peephole: true } },
  { name: 'LSTM hybrid, batch 3', kind: 'hybrid', batch: 3, nInput: 5, d: { nCell: 6 } },
  { name: 'LSTM int8, batch 2', kind: 'int8', batch: 2, nInput: 5, d: { nCell: 6 } },
  { name: 'LSTM int8 CIFG + projection', kind: 'int8', batch: 1, nInput: 4, d: { nCell: 8, nOutput: 4, cifg: true } },
];

const BIDI_CASES: BidiCase[] = [
  { name: 'bidirectional float, merged, time-major', kind: 'float', batch: 2, time: 4, nInput: 5, fw: { nCell: 6 }, bw: { nCell: 6 }, merge: true, timeMajor: true },
  { name: 'bidirectional float, separate outputs, batch-major, projections, bw peephole', kind: 'float', batch: 2, time: 5, nInput: 3, fw: { nCell: 6, nOutput: 3 }, bw: { nCell: 6, nOutput: 3, peephole: true }, merge: false, timeMajor: false },
  { name: 'bidirectional float, aux input feeds the backward LSTM, CIFG', kind: 'float', batch: 1, time: 4, nInput: 4, fw: { nCell: 5, cifg: true }, bw: { nCell: 5 }, merge: true, timeMajor: false, auxInput: true },
  { name: 'bidirectional hybrid, merged, time-major', kind: 'hybrid', batch: 2, time: 4, nInput: 5, fw: { nCell: 6 }, bw: { nCell: 6 }, merge: true, timeMajor: true },
  { name: 'bidirectional hybrid, batch-major', kind: 'hybrid', batch: 3, time: 2, nInput: 4, fw: { nCell: 5, nOutput: 3 }, bw: { nCell: 5, nOutput: 3 }, merge: false, timeMajor: false },
];

t.test('LSTM and BIDIRECTIONAL_SEQUENCE_LSTM equal tfjs-tflite', async (t) => {
  const cases = [...CELL_CASES.map((c, k) => cellCase(c, k + 1)), ...BIDI_CASES.map((c, k) => bidiCase(c, k + 40))];
  const { bytes, built, sampleCount } = suiteModel(cases);
  const sampleOf = (c: OpCase, s: number) => c.samples[Math.min(s, c.samples.length - 1)] ?? [];
  const samples = Array.from({ length: sampleCount }, (_, s) => cases.flatMap((c) => [...sampleOf(c, s)]));
  const oracle = await runOracle(bytes, samples, { runtime: 'tfjs-tflite', timeoutMs: 180_000 });
  const session = await loadModel(bytes, { worker: false });
  const ours: TensorData[][] = [];
  for (const sample of samples) ours.push((await session.run(sample as never)) as TensorData[]);
  const impls = session.steps.map((s) => s.impl);
  await session.close();
  built.forEach(({ c, outputOffset, outputCount }, k) => {
    let bad = 0;
    let total = 0;
    let first = '';
    for (let s = 0; s < sampleCount; s++) {
      for (let o = outputOffset; o < outputOffset + outputCount; o++) {
        const r = compare(oracle.outputs[s]![o]!.data as ArrayLike<number>, ours[s]![o]! as ArrayLike<number>, c.tolerance ?? 0);
        total += ours[s]![o]!.length;
        if (r.bad > 0 && first === '') first = `sample ${s} output ${o - outputOffset}: ${r.first}`;
        bad += r.bad;
      }
    }
    t.equal(bad, 0, bad === 0 ? `${c.name} [${impls[k]}]: ${total} values ${c.tolerance ? `within ${c.tolerance}` : 'bit for bit'}` : `${c.name}: ${bad} of ${total} differ (first: ${first})`);
  });
});

t.test('unsupported LSTM forms are refused at load, naming the op', async (t) => {
  const b = new GraphBuilder();
  const x = b.input({ name: 'x', type: TensorType.FLOAT32, shape: [1, 3, 4] });
  let s = 0;
  const next = () => ++s;
  const fw = directionWeights(b, 'fw_', 'float', 4, { nCell: 4 }, next);
  const bw = directionWeights(b, 'bw_', 'float', 4, { nCell: 4 }, next);
  const auxWeights = [0, 1, 2, 3].map((g) => b.tensor({ name: `aux${g}`, type: TensorType.FLOAT32, shape: [4, 4], data: randF32(16, 90 + g) }));
  const y = b.tensor({ name: 'y', type: TensorType.FLOAT32, shape: [1, 3, 8] });
  b.op(Op.BIDIRECTIONAL_SEQUENCE_LSTM, [x, ...fw, ...bw, ...states(b, 'fw_', 'float', 3, { nCell: 4 }), ...states(b, 'bw_', 'float', 3, { nCell: 4 }), x, ...auxWeights, ...auxWeights], [y], {
    options: builtinOptions('BidirectionalSequenceLSTMOptions', { fusedActivationFunction: Act.TANH, cellClip: 0, projClip: 0, mergeOutputs: true, timeMajor: true, asymmetricQuantizeInputs: false }),
  });
  b.output(y);
  await t.rejects(loadModel(writeModel(b.build()), { worker: false }), { code: 'ERR_LITEQUANT_UNSUPPORTED_OPERATOR', index: 0, message: /aux input weights/ });
});

/** One LSTM op (one step) and the same weights as a time-major sequence LSTM over `time` steps. */
function stepAndSequenceModels(kind: Kind, time: number, batch: number, nInput: number, d: Direction): { step: Uint8Array; sequence: Uint8Array } {
  const build = (sequence: boolean): Uint8Array => {
    const b = new GraphBuilder();
    let s = 700;
    const next = () => ++s;
    const int8 = kind === 'int8';
    const nOutput = d.nOutput ?? d.nCell;
    const quant = int8 ? { quantization: { scale: IN_SCALE, zeroPoint: 0 } } : {};
    const type = int8 ? TensorType.INT8 : TensorType.FLOAT32;
    const x = b.input({ name: 'x', type, shape: sequence ? [time, batch, nInput] : [batch, nInput], ...quant });
    const w = directionWeights(b, '', kind, nInput, d, next);
    const [h, c] = states(b, '', kind, batch, d);
    const y = b.tensor({ name: 'y', type, shape: sequence ? [time, batch, nOutput] : [batch, nOutput], ...(int8 ? { quantization: { scale: H_SCALE, zeroPoint: 0 } } : {}) });
    const intermediates = int8
      ? [...[0, 1, 2, 3].map((g) => b.tensor({ name: `gate${g}`, type: TensorType.INT16, shape: [0] })), b.tensor({ name: 'hidden', type: TensorType.INT8, shape: [0], quantization: { scale: H_SCALE, zeroPoint: 0 } })]
      : undefined;
    const options = sequence
      ? builtinOptions('UnidirectionalSequenceLSTMOptions', { fusedActivationFunction: Act.TANH, cellClip: 0, projClip: 0, timeMajor: true, asymmetricQuantizeInputs: false, diagonalRecurrentTensors: false })
      : builtinOptions('LSTMOptions', { fusedActivationFunction: Act.TANH, cellClip: 0, projClip: 0, kernelType: LSTMKernelType.FULL, asymmetricQuantizeInputs: false });
    b.op(sequence ? Op.UNIDIRECTIONAL_SEQUENCE_LSTM : Op.LSTM, [x, ...w, h, c, -1, -1, -1, -1], [y], { options, ...(intermediates ? { intermediates } : {}) });
    b.output(y);
    return writeModel(b.build());
  };
  return { step: build(false), sequence: build(true) };
}

for (const kind of ['float', 'int8'] as const) {
  t.test(`keepState: a ${kind} LSTM run step by step equals the sequence LSTM; resetState starts over`, async (t) => {
    const [time, batch, nInput] = [6, 2, 5];
    const { step, sequence } = stepAndSequenceModels(kind, time, batch, nInput, { nCell: 7, peephole: true });
    const xs = kind === 'int8' ? randInt8(time * batch * nInput, 5) : randF32(time * batch * nInput, 5, -1, 1);
    const seq = await loadModel(sequence, { worker: false });
    const [whole] = await seq.run([xs as Float32Array]);
    await seq.close();
    const rows = (k: number) => xs.subarray(k * batch * nInput, (k + 1) * batch * nInput) as Float32Array;
    for (const worker of [false, true]) {
      const streaming = await loadModel(step, { worker, keepState: true });
      const pieces: number[] = [];
      for (let k = 0; k < time; k++) pieces.push(...Array.from((await streaming.run([rows(k)]))[0] as ArrayLike<number>));
      const r = compare(whole as ArrayLike<number>, pieces, kind === 'int8' ? 0 : 1e-6);
      t.equal(r.bad, 0, `worker ${worker}: ${time} runs of one step equal the ${time}-step sequence${r.bad ? ` (first: ${r.first})` : ''}`);
      await streaming.resetState();
      const again = (await streaming.run([rows(0)]))[0]!;
      t.same(Array.from(again as ArrayLike<number>), pieces.slice(0, again.length), `worker ${worker}: after resetState() the first step repeats`);
      await streaming.close();
    }
    const independent = await loadModel(step, { worker: false });
    const first = (await independent.run([rows(0)]))[0]!;
    const second = (await independent.run([rows(0)]))[0]!;
    t.same(Array.from(second as ArrayLike<number>), Array.from(first as ArrayLike<number>), 'without keepState every run starts from the reset state');
    await independent.close();
  });
}
