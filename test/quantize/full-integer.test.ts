// Full-integer quantization (lib/quantize/full-integer.ts through quantize()) on builder-made
// float models with one operator per case. All the cases are one model (independent subgraphs),
// quantized once per mode, so one oracle call per mode checks them all:
// - structure: every tensor between the edges is int8/int16 (biases int32/int64), bias scales
//   equal fround(s_in·s_w) exactly, per-channel axes and one scale per channel, fixed output
//   ranges, same-scale outputs, inputs of CONCATENATION/SELECT_V2 at the output's parameters,
//   op versions;
// - numbers: our runtime's outputs equal the official runtime's (LiteRT) bit for bit on the same
//   quantized file, on samples outside the calibration set.
// Then the options: exclude, ops without a kernel (float islands), strict, io int8/uint8/int16,
// perChannel: false, a bias that would overflow int32, already-quantized models.
import t, { type Test } from 'tap';

import { InvalidArgumentError, UnsupportedOperatorError } from '../../lib/errors.js';
import { builtinOptions, GraphBuilder } from '../../lib/ir/builder.js';
import type { Graph, Tensor } from '../../lib/ir/graph.js';
import { activationParams, quantizeFullInteger } from '../../lib/quantize/full-integer.js';
import { builtinName, GraphEditor } from '../../lib/quantize/graph-edit.js';
import { opProperty, quantizableOps } from '../../lib/quantize/op-properties.js';
import { resolveOptions, type ModeOutput } from '../../lib/quantize/options.js';
import { quantize } from '../../lib/quantize/quantize.js';
import type { QuantizeOptions, QuantizeResult, TensorRange } from '../../lib/quantize/types.js';
import { loadModel } from '../../lib/runtime/session.js';
import { readModel } from '../../lib/tflite/read.js';
import { ActivationFunctionType as Act, BuiltinOperator as Op, Padding, TensorType } from '../../lib/tflite/schema.js';
import { writeModel } from '../../lib/tflite/write.js';
import { randF32 } from '../fixtures/op-suite.js';
import { runOracle } from '../fixtures/oracle.js';

const f32 = Math.fround;
type Data = Float32Array | Int8Array | Uint8Array | Int16Array | Int32Array;
type InputSpec = readonly [number, number] | 'bool';

/** One case: a float subgraph (names prefixed), the value range of each of its graph inputs. */
interface Case {
  readonly name: string;
  readonly op: Op;
  readonly inputs: readonly InputSpec[];
  readonly build: (b: GraphBuilder, p: string) => { inputs: number[]; outputs: number[] };
  /** Quantized in int16x8 (default true); otherwise left float with 'no int16x8 kernel'. */
  readonly int16?: boolean;
}

let seed = 1;
const input = (b: GraphBuilder, name: string, shape: number[], type: TensorType = TensorType.FLOAT32): number => b.tensor({ name, type, shape });
const act = (b: GraphBuilder, name: string, shape: number[]): number => b.tensor({ name, type: TensorType.FLOAT32, shape });
const weights = (b: GraphBuilder, name: string, shape: number[], lo = -1, hi = 1): number =>
  b.tensor({ name, type: TensorType.FLOAT32, shape, data: randF32(shape.reduce((a, d) => a * d, 1), seed++, lo, hi) });
const ints = (b: GraphBuilder, name: string, values: number[], shape = [values.length]): number =>
  b.tensor({ name, type: TensorType.INT32, shape, data: Int32Array.from(values) });

/** A case with one op: graph inputs x0..xn (shapes), constants made by `extra`, one output. */
function single(
  name: string,
  op: Op,
  shapes: number[][],
  ranges: InputSpec[],
  outShape: number[],
  extra: (b: GraphBuilder, p: string) => number[] = () => [],
  options: Parameters<GraphBuilder['op']>[3] = {},
  int16 = true,
): Case {
  return {
    name,
    op,
    inputs: ranges,
    int16,
    build: (b, p) => {
      const xs = shapes.map((s, i) => input(b, `${p}x${i}`, s, ranges[i] === 'bool' ? TensorType.BOOL : TensorType.FLOAT32));
      const consts = extra(b, p);
      const y = act(b, `${p}out`, outShape);
      b.op(op, [...xs, ...consts], [y], options);
      return { inputs: xs, outputs: [y] };
    },
  };
}

const pool = (filter: number, stride: number) =>
  builtinOptions('Pool2DOptions', { padding: Padding.VALID, strideH: stride, strideW: stride, filterHeight: filter, filterWidth: filter });

const CASES: Case[] = [
  single('CONV_2D (RELU, per-channel)', Op.CONV_2D, [[1, 6, 6, 3]], [[-2, 2]], [1, 6, 6, 4], (b, p) => [weights(b, `${p}w`, [4, 3, 3, 3]), weights(b, `${p}b`, [4])], {
    options: builtinOptions('Conv2DOptions', { padding: Padding.SAME, strideH: 1, strideW: 1, fusedActivationFunction: Act.RELU }),
  }),
  single('DEPTHWISE_CONV_2D (multiplier 2)', Op.DEPTHWISE_CONV_2D, [[1, 6, 6, 3]], [[-1, 3]], [1, 3, 3, 6], (b, p) => [weights(b, `${p}w`, [1, 3, 3, 6]), weights(b, `${p}b`, [6])], {
    options: builtinOptions('DepthwiseConv2DOptions', { padding: Padding.SAME, strideH: 2, strideW: 2, depthMultiplier: 2 }),
  }),
  single('FULLY_CONNECTED', Op.FULLY_CONNECTED, [[2, 16]], [[-3, 1]], [2, 5], (b, p) => [weights(b, `${p}w`, [5, 16], -0.5, 0.5), weights(b, `${p}b`, [5])], {
    options: builtinOptions('FullyConnectedOptions', { fusedActivationFunction: Act.RELU6 }),
  }),
  single('FULLY_CONNECTED (no bias)', Op.FULLY_CONNECTED, [[1, 8]], [[-1, 1]], [1, 3], (b, p) => [weights(b, `${p}w`, [3, 8]), -1], {
    options: builtinOptions('FullyConnectedOptions'),
  }),
  single('BATCH_MATMUL (constant rhs)', Op.BATCH_MATMUL, [[1, 4, 8]], [[-2, 2]], [1, 4, 6], (b, p) => [weights(b, `${p}rhs`, [1, 8, 6])], {
    options: builtinOptions('BatchMatMulOptions'),
  }),
  single('BATCH_MATMUL (two activations)', Op.BATCH_MATMUL, [[1, 3, 5], [1, 5, 4]], [[-1, 1], [-4, 2]], [1, 3, 4], () => [], {
    options: builtinOptions('BatchMatMulOptions'),
  }),
  single('ADD (inputs at different scales)', Op.ADD, [[1, 4, 4, 3], [1, 4, 4, 3]], [[-1, 1], [-10, 6]], [1, 4, 4, 3], () => [], {
    options: builtinOptions('AddOptions'),
  }),
  single('ADD (constant operand)', Op.ADD, [[2, 6]], [[0, 3]], [2, 6], (b, p) => [weights(b, `${p}c`, [6], -2, 0.5)], { options: builtinOptions('AddOptions') }),
  single('SUB (broadcast)', Op.SUB, [[2, 3, 4], [4]], [[-5, 5], [0, 1]], [2, 3, 4], () => [], { options: builtinOptions('SubOptions') }),
  single('MUL', Op.MUL, [[3, 7], [3, 7]], [[-2, 2], [-0.5, 3]], [3, 7], () => [], { options: builtinOptions('MulOptions') }),
  single('MUL (scalar constant)', Op.MUL, [[3, 7]], [[-2, 2]], [3, 7], (b, p) => [b.tensor({ name: `${p}c`, type: TensorType.FLOAT32, shape: [], data: Float32Array.of(0.044715) })], {
    options: builtinOptions('MulOptions'),
  }),
  single('SQUARED_DIFFERENCE', Op.SQUARED_DIFFERENCE, [[2, 9], [2, 9]], [[-1, 2], [-2, 1]], [2, 9], () => [], { options: builtinOptions('SquaredDifferenceOptions') }, false),
  single('RSQRT', Op.RSQRT, [[2, 10]], [[0.05, 4]], [2, 10]),
  single('AVERAGE_POOL_2D', Op.AVERAGE_POOL_2D, [[1, 6, 6, 2]], [[-1, 5]], [1, 3, 3, 2], () => [], { options: pool(2, 2) }),
  single('MAX_POOL_2D', Op.MAX_POOL_2D, [[1, 6, 6, 2]], [[-3, 1]], [1, 2, 2, 2], () => [], { options: pool(3, 3) }),
  single('MEAN', Op.MEAN, [[1, 4, 5, 3]], [[-2, 6]], [1, 1, 1, 3], (b, p) => [ints(b, `${p}axes`, [1, 2])], { options: builtinOptions('ReducerOptions', { keepDims: true }) }),
  single('RESHAPE', Op.RESHAPE, [[1, 4, 3, 2]], [[-1, 7]], [1, 24], (b, p) => [ints(b, `${p}shape`, [1, 24])], { options: builtinOptions('ReshapeOptions', { newShape: [1, 24] }) }),
  single('SQUEEZE', Op.SQUEEZE, [[1, 5, 1, 3]], [[-2, 2]], [5, 3], () => [], { options: builtinOptions('SqueezeOptions', { squeezeDims: [0, 2] }) }),
  single('EXPAND_DIMS', Op.EXPAND_DIMS, [[4, 6]], [[0, 2]], [4, 1, 6], (b, p) => [ints(b, `${p}axis`, [1], [])], { options: builtinOptions('ExpandDimsOptions') }),
  single('TRANSPOSE', Op.TRANSPOSE, [[1, 4, 6]], [[-4, 4]], [1, 6, 4], (b, p) => [ints(b, `${p}perm`, [0, 2, 1])], { options: builtinOptions('TransposeOptions') }),
  single('CONCATENATION (inputs at different scales, a constant)', Op.CONCATENATION, [[1, 3, 2], [1, 3, 4]], [[-1, 1], [0, 20]], [1, 3, 9], (b, p) => [weights(b, `${p}c`, [1, 3, 3], -3, 3)], {
    options: builtinOptions('ConcatenationOptions', { axis: 2 }),
  }),
  single('PAD', Op.PAD, [[1, 3, 3, 2]], [[0.5, 3]], [1, 5, 4, 2], (b, p) => [ints(b, `${p}pad`, [0, 0, 1, 1, 0, 1, 0, 0], [4, 2])], { options: builtinOptions('PadOptions') }),
  single('PADV2 (constant value)', Op.PADV2, [[1, 3, 2]], [[-2, 2]], [1, 5, 4], (b, p) => [ints(b, `${p}pad`, [0, 0, 1, 1, 1, 1], [3, 2]), b.tensor({ name: `${p}value`, type: TensorType.FLOAT32, shape: [], data: Float32Array.of(-1.5) })], {
    options: builtinOptions('PadV2Options'),
  }),
  single('SLICE', Op.SLICE, [[2, 5, 4]], [[-6, 2]], [1, 3, 2], (b, p) => [ints(b, `${p}begin`, [1, 1, 2]), ints(b, `${p}size`, [1, 3, 2])], { options: builtinOptions('SliceOptions') }),
  single('GATHER', Op.GATHER, [[6, 4]], [[-1, 1]], [3, 4], (b, p) => [ints(b, `${p}idx`, [5, 0, 2])], { options: builtinOptions('GatherOptions', { axis: 0 }) }),
  single('SELECT_V2', Op.SELECT_V2, [[2, 5], [2, 5], [2, 5]], ['bool', [-1, 1], [-8, 0]], [2, 5], () => [], { options: builtinOptions('SelectV2Options') }),
  single('SOFTMAX', Op.SOFTMAX, [[2, 10]], [[-4, 4]], [2, 10], () => [], { options: builtinOptions('SoftmaxOptions', { beta: 1 }) }),
  single('LOGISTIC', Op.LOGISTIC, [[3, 8]], [[-6, 6]], [3, 8]),
  single('TANH', Op.TANH, [[3, 8]], [[-3, 3]], [3, 8]),
  single('RELU', Op.RELU, [[3, 8]], [[-3, 5]], [3, 8]),
  single('RELU6', Op.RELU6, [[3, 8]], [[-3, 9]], [3, 8]),
  single('RELU_N1_TO_1', Op.RELU_N1_TO_1, [[3, 8]], [[-3, 3]], [3, 8], () => [], {}, false),
  {
    // Inputs written by quantized ops at other parameters: requantized (int8 -> int8 QUANTIZE).
    name: 'CONCATENATION after RELU and TANH',
    op: Op.CONCATENATION,
    inputs: [[-2, 2], [-3, 3]],
    build: (b, p) => {
      const x0 = input(b, `${p}x0`, [2, 4]);
      const x1 = input(b, `${p}x1`, [2, 3]);
      const r = act(b, `${p}relu`, [2, 4]);
      b.op(Op.RELU, [x0], [r]);
      const h = act(b, `${p}tanh`, [2, 3]);
      b.op(Op.TANH, [x1], [h]);
      const y = act(b, `${p}out`, [2, 7]);
      b.op(Op.CONCATENATION, [r, h], [y], { options: builtinOptions('ConcatenationOptions', { axis: 1 }) });
      return { inputs: [x0, x1], outputs: [y] };
    },
  },
  {
    name: 'SELECT_V2 after RELU6 and LOGISTIC',
    op: Op.SELECT_V2,
    inputs: ['bool', [-2, 8], [-3, 3]],
    build: (b, p) => {
      const c = input(b, `${p}cond`, [3, 4], TensorType.BOOL);
      const x0 = input(b, `${p}x0`, [3, 4]);
      const x1 = input(b, `${p}x1`, [3, 4]);
      const r = act(b, `${p}relu6`, [3, 4]);
      b.op(Op.RELU6, [x0], [r]);
      const l = act(b, `${p}logistic`, [3, 4]);
      b.op(Op.LOGISTIC, [x1], [l]);
      const y = act(b, `${p}out`, [3, 4]);
      b.op(Op.SELECT_V2, [c, r, l], [y], { options: builtinOptions('SelectV2Options') });
      return { inputs: [c, x0, x1], outputs: [y] };
    },
  },
];

interface Suite {
  readonly graph: Graph;
  readonly bytes: Uint8Array;
  /** Per graph input, its spec. */
  readonly specs: InputSpec[];
}

function suite(cases: readonly Case[]): Suite {
  const b = new GraphBuilder();
  const inputs: number[] = [];
  const outputs: number[] = [];
  const specs: InputSpec[] = [];
  cases.forEach((c, k) => {
    const io = c.build(b, `c${k}_`);
    inputs.push(...io.inputs);
    outputs.push(...io.outputs);
    specs.push(...c.inputs);
  });
  const graph = b.build();
  const full: Graph = { ...graph, subgraphs: [{ ...graph.subgraphs[0]!, inputs, outputs }] };
  return { graph: full, bytes: writeModel(full), specs };
}

/** Deterministic samples: one array per graph input, uniform in its range (bool: random 0/1). */
function samples(specs: readonly InputSpec[], graph: Graph, count: number, first: number): Data[][] {
  const sg = graph.subgraphs[0]!;
  return Array.from({ length: count }, (_, s) =>
    specs.map((spec, i) => {
      const n = sg.tensors[sg.inputs[i]!]!.shape.reduce((a, d) => a * d, 1);
      const r = randF32(n, 1000 * (first + s) + i + 1, 0, 1);
      if (spec === 'bool') return Uint8Array.from(r, (v) => (v < 0.5 ? 1 : 0));
      return Float32Array.from(r, (v) => spec[0] + (spec[1] - spec[0]) * v);
    }),
  );
}

/** Our runtime's and the official runtime's outputs on the same file, compared bit for bit. */
async function checkAgainstOracle(t: Test, model: Uint8Array, inputs: readonly (readonly Data[])[], label: string, floatTolerance = 0): Promise<void> {
  const { outputs } = await runOracle(model, inputs, { runtime: 'litert' });
  const session = await loadModel(model, { worker: false });
  let bad = 0;
  let total = 0;
  let first = '';
  try {
    for (const [s, sample] of inputs.entries()) {
      const ours = (await session.run(sample as never)) as Data[];
      for (const [o, theirs] of outputs[s]!.entries()) {
        const mine = ours[o]!;
        const exact = theirs.dtype !== 'float32' || floatTolerance === 0;
        for (let i = 0; i < theirs.data.length; i++) {
          const a = Number(theirs.data[i]);
          const g = Number(mine[i]);
          total++;
          if (exact ? a !== g : Math.abs(a - g) > floatTolerance * Math.max(1, Math.abs(a))) {
            bad++;
            if (first === '') first = `sample ${s} output ${o} (${session.outputs[o]?.name}) [${i}]: official ${a}, ours ${g}`;
          }
        }
      }
    }
  } finally {
    await session.close();
  }
  t.equal(bad, 0, `${label}: ${total} output values equal the official runtime's ${floatTolerance === 0 ? 'bit for bit' : `within ${floatTolerance}`}${first ? ` (first difference: ${first})` : ''}`);
}

// ---------------------------------------------------------------------------------------------
// Structure checks on a quantized graph.

interface View {
  readonly graph: Graph;
  readonly tensors: readonly Tensor[];
  readonly ops: readonly { code: Op; name: string; version: number; inputs: readonly number[]; outputs: readonly number[] }[];
  producer(t: number): number;
}

function view(graph: Graph): View {
  const sg = graph.subgraphs[0]!;
  const ops = sg.operators.map((op) => {
    const code = graph.operatorCodes[op.opcodeIndex]!;
    return { code: code.builtinCode as Op, name: builtinName(code.builtinCode), version: code.version, inputs: op.inputs, outputs: op.outputs };
  });
  return { graph, tensors: sg.tensors, ops, producer: (t) => ops.findIndex((op) => op.outputs.includes(t)) };
}

const scale0 = (t: Tensor): number => t.quantization!.scale[0]!;
const zp0 = (t: Tensor): number => t.quantization!.zeroPoint[0]!;
const sameParams = (a: Tensor, b: Tensor): boolean => scale0(a) === scale0(b) && zp0(a) === zp0(b);

/** The expected version of each quantized op (op_version.cc, see op-properties.ts). */
function expectedVersion(code: Op, dtype: 'int8' | 'int16', v: View, index: number): number {
  const op = v.ops[index]!;
  const int16 = dtype === 'int16';
  switch (code) {
    case Op.CONV_2D:
      return int16 ? 4 : 3;
    case Op.DEPTHWISE_CONV_2D:
      return int16 ? 5 : 3;
    case Op.FULLY_CONNECTED:
      return int16 ? 7 : op.inputs.length === 2 ? 6 : 4;
    case Op.ADD:
      return int16 ? 3 : 2;
    case Op.SUB:
      return int16 ? 5 : 2;
    case Op.MUL: {
      if (int16) return 4;
      const [a, b] = op.inputs.map((t) => scale0(v.tensors[t]!));
      return (a! * b!) / scale0(v.tensors[op.outputs[0]!]!) >= 1 ? 3 : 2;
    }
    case Op.TRANSPOSE:
      return int16 ? 5 : 2;
    case Op.SLICE:
    case Op.GATHER:
      return int16 ? 4 : 2;
    case Op.RESHAPE:
    case Op.SQUEEZE:
    case Op.EXPAND_DIMS:
    case Op.SELECT_V2:
    case Op.RELU_N1_TO_1:
      return 1;
    case Op.SQUARED_DIFFERENCE:
      return 2;
    default:
      return int16 ? 3 : 2;
  }
}

function checkStructure(t: Test, result: QuantizeResult, dtype: 'int8' | 'int16', floatOps: ReadonlySet<number> = new Set()): void {
  const graph = readModel(result.model);
  const v = view(graph);
  const actType = dtype === 'int16' ? TensorType.INT16 : TensorType.INT8;
  const biasType = dtype === 'int16' ? TensorType.INT64 : TensorType.INT32;
  const sg = graph.subgraphs[0]!;
  const problems: string[] = [];
  const isConst = (i: number): boolean => (graph.buffers[v.tensors[i]!.buffer]?.data.length ?? 0) > 0;
  const floatOutputs = new Set<number>();
  v.ops.forEach((op, k) => {
    if (floatOps.has(k)) op.outputs.forEach((o) => floatOutputs.add(o));
  });

  let checkedBias = 0;
  let checkedSame = 0;
  let checkedFixed = 0;
  v.ops.forEach((op, k) => {
    const where = `op ${k} ${op.name} (${v.tensors[op.outputs[0]!]?.name})`;
    if (op.code === Op.QUANTIZE || op.code === Op.DEQUANTIZE || floatOps.has(k)) return;
    // Every tensor between the edges is quantized: real-valued tensors are int8/int16 (weights int8, biases int32/int64).
    const property = opProperty(op.code)!;
    op.inputs.forEach((x, slot) => {
      if (x < 0) return;
      const tensor = v.tensors[x]!;
      const role = property.inputs[slot] ?? property.restInputs ?? { kind: 'other' };
      if (role.kind === 'other') return;
      const want = role.kind === 'weight' ? TensorType.INT8 : role.kind === 'bias' ? biasType : actType;
      if (tensor.type !== want) problems.push(`${where}: input ${slot} '${tensor.name}' is type ${tensor.type}, expected ${want}`);
      if (tensor.quantization === null || tensor.quantization.scale.length === 0) problems.push(`${where}: input ${slot} has no quantization`);
    });
    const y = v.tensors[op.outputs[0]!]!;
    if (y.type !== actType) problems.push(`${where}: output is type ${y.type}`);
    if (dtype === 'int16' && zp0(y) !== 0) problems.push(`${where}: int16 output zero point ${zp0(y)}`);
    if (dtype === 'int8' && (zp0(y) < -128 || zp0(y) > 127)) problems.push(`${where}: zero point ${zp0(y)}`);

    // Weights per channel along the table's axis, biases at fround(s_in·s_w[c]).
    const weightSlot = property.inputs.findIndex((r) => r.kind === 'weight');
    if (weightSlot >= 0) {
      const role = property.inputs[weightSlot]!;
      const w = v.tensors[op.inputs[weightSlot]!]!;
      const axis = role.kind === 'weight' ? role.axis! : 0;
      if (w.quantization!.quantizedDimension !== axis || w.quantization!.scale.length !== w.shape[axis]) {
        problems.push(`${where}: weights quantized along ${w.quantization!.quantizedDimension} with ${w.quantization!.scale.length} scales, expected axis ${axis} (${w.shape[axis]})`);
      }
      if (w.quantization!.zeroPoint.some((z) => z !== 0)) problems.push(`${where}: weights not symmetric`);
      const bias = op.inputs[2] ?? -1;
      if (bias >= 0) {
        const sIn = scale0(v.tensors[op.inputs[0]!]!);
        const bq = v.tensors[bias]!.quantization!;
        w.quantization!.scale.forEach((sw, c) => {
          if (bq.scale[c] !== f32(sIn * sw)) problems.push(`${where}: bias scale[${c}] ${bq.scale[c]} != fround(${sIn}·${sw})`);
        });
        if (bq.zeroPoint.some((z) => z !== 0)) problems.push(`${where}: bias zero point`);
        checkedBias++;
      }
    }
    // Fixed output parameters.
    if (property.output.kind === 'fixed') {
      const fixed = property.output[dtype];
      if (scale0(y) !== f32(fixed.scale) || zp0(y) !== fixed.zeroPoint) problems.push(`${where}: output ${scale0(y)}/${zp0(y)}, expected ${fixed.scale}/${fixed.zeroPoint}`);
      checkedFixed++;
    }
    // Same scale in and out.
    if (property.output.kind === 'same-as-input') {
      const x = v.tensors[op.inputs[0]!]!;
      if (!sameParams(x, y)) problems.push(`${where}: output ${scale0(y)}/${zp0(y)} != input ${scale0(x)}/${zp0(x)}`);
      checkedSame++;
    }
    op.inputs.forEach((x, slot) => {
      const role = property.inputs[slot] ?? property.restInputs;
      if (role?.kind === 'same-as-output' && x >= 0 && !sameParams(v.tensors[x]!, y)) problems.push(`${where}: input ${slot} not at the output's parameters`);
    });
    // Versions.
    const want = expectedVersion(op.code, dtype, v, k);
    if (op.version !== want) problems.push(`${where}: version ${op.version}, expected ${want}`);
  });

  // Float tensors only at the edges (graph inputs/outputs, QUANTIZE inputs, DEQUANTIZE outputs) and in float islands.
  sg.tensors.forEach((tensor, i) => {
    if (tensor.type !== TensorType.FLOAT32 || isConst(i)) return;
    const p = v.producer(i);
    const edge = sg.inputs.includes(i) || (p >= 0 && v.ops[p]!.code === Op.DEQUANTIZE) || floatOutputs.has(i);
    if (!edge) problems.push(`float tensor ${i} '${tensor.name}' between the edges`);
  });
  // The float constants the quantized ops used are gone.
  const unusedFloat = sg.tensors.filter((tensor, i) => tensor.type === TensorType.FLOAT32 && isConst(i)).length;
  const floatConstsAllowed = [...floatOps].some((k) => v.ops[k]!.inputs.some((x) => x >= 0 && isConst(x)));
  if (unusedFloat > 0 && !floatConstsAllowed) problems.push(`${unusedFloat} float constants left`);

  t.same(problems, [], `structure (${dtype}): ${v.ops.length} ops; ${checkedBias} biases, ${checkedFixed} fixed ranges, ${checkedSame} same-scale outputs checked`);
}

// ---------------------------------------------------------------------------------------------

t.test('activation parameters follow TFLite', async (t) => {
  t.same(activationParams({ min: 0, max: 255 }, 'int8'), { scale: 1, zeroPoint: -128, min: 0, max: 255 }, 'raw pixels: scale 1, zp -128 (the official ResNet twin)');
  const p = activationParams({ min: 0.5, max: 2 }, 'int8');
  t.equal(p.min, 0, 'the range is widened to include 0');
  t.equal(p.zeroPoint, -128);
  t.equal(p.scale, f32(2 / 255));
  const q = activationParams({ min: -1, max: 3 }, 'int8');
  t.equal(q.scale, f32(4 / 255));
  t.equal(q.zeroPoint, Math.round(-128 + 1 / f32(4 / 255)), 'zero point rounded from the minimum');
  t.ok(Math.abs(q.scale * (-128 - q.zeroPoint) - -1) < q.scale, 'min representable within a step');
  t.same(activationParams({ min: -3, max: 2 }, 'int16'), { scale: f32(3 / 32767), zeroPoint: 0, min: -3, max: 2 }, 'int16: symmetric, max|x| / 32767');
  t.same(activationParams({ min: 0, max: 0 }, 'int8'), { scale: 1, zeroPoint: 0, min: 0, max: 0 }, 'an empty range gets scale 1');
  t.same(activationParams({ min: 2, max: 5 }, 'int8').zeroPoint, -128);
  t.same(activationParams({ min: -5, max: -2 }, 'int8').zeroPoint, 127, 'all-negative range: zp at the top');
});

t.test('the op-property table', async (t) => {
  const names = quantizableOps().map(builtinName).sort();
  for (const op of ['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'BATCH_MATMUL', 'ADD', 'SUB', 'MUL', 'SOFTMAX', 'LOGISTIC', 'TANH', 'CONCATENATION', 'RESHAPE', 'MAX_POOL_2D', 'AVERAGE_POOL_2D']) {
    t.ok(names.includes(op), `${op} is in the table`);
  }
  t.same(opProperty(Op.CONV_2D)!.inputs[1], { kind: 'weight', axis: 0 }, 'CONV_2D: per-channel along axis 0 (OHWI)');
  t.same(opProperty(Op.DEPTHWISE_CONV_2D)!.inputs[1], { kind: 'weight', axis: 3 }, 'DEPTHWISE_CONV_2D: axis 3 (1HWC)');
  t.same(opProperty(Op.FULLY_CONNECTED)!.inputs[1], { kind: 'weight', axis: 0 }, 'FULLY_CONNECTED: axis 0');
  t.equal(opProperty(Op.SQUARED_DIFFERENCE)!.int16, false, 'no int16 SQUARED_DIFFERENCE in TFLite');
  t.equal(opProperty(Op.EXP), null, 'EXP: no quantized kernel here');
  // Every case in this file exercises one table op: nothing in the table goes untested (ops
  // with a special rule have their own file: lstm.test.ts).
  const tested = new Set(CASES.map((c) => builtinName(c.op)));
  const own = quantizableOps().filter((code) => opProperty(code)!.special !== undefined).map(builtinName);
  t.same(own, ['UNIDIRECTIONAL_SEQUENCE_LSTM'], 'the LSTM has a special rule');
  t.same(names.filter((n) => !tested.has(n) && !own.includes(n)), [], 'every op of the table has a case');
});

const SUITE = suite(CASES);
const CALIBRATION = samples(SUITE.specs, SUITE.graph, 12, 0);
const EVALUATION = samples(SUITE.specs, SUITE.graph, 3, 100);

for (const mode of ['int8', 'int16x8'] as const) {
  t.test(`every table op, ${mode}: structure, and bit-exact with the official runtime`, async (t) => {
    const dtype = mode === 'int8' ? 'int8' : 'int16';
    const result = await quantize(SUITE.bytes, { mode, calibration: CALIBRATION });
    // How each op was quantized: int16x8 leaves the ops without an int16 kernel float.
    const expectFloat = SUITE.graph.subgraphs[0]!.operators.map((op) => mode === 'int16x8' && !opProperty(SUITE.graph.operatorCodes[op.opcodeIndex]!.builtinCode)!.int16);
    const hows = result.report.ops.map((o) => o.how);
    t.same(hows, expectFloat.map((f) => (f ? 'float (no int16x8 kernel)' : mode)), 'ops quantized as expected');
    t.same(
      result.diagnostics.map((d) => d.code),
      expectFloat.filter((f) => f).map(() => 'op-left-float'),
      'diagnostics: one op-left-float per op without a kernel, nothing else',
    );
    const v = view(readModel(result.model));
    const floatOps = new Set(v.ops.flatMap((op, k) => (op.code !== Op.QUANTIZE && op.code !== Op.DEQUANTIZE && v.tensors[op.outputs[0]!]!.type === TensorType.FLOAT32 ? [k] : [])));
    t.equal(floatOps.size, expectFloat.filter((f) => f).length, 'float ops in the quantized graph: the ones without a kernel');
    checkStructure(t, result, dtype, floatOps);
    // CONCATENATION: the inputs at other parameters than the output are requantized by QUANTIZE ops.
    const requantize = v.ops.filter((op) => op.code === Op.QUANTIZE && v.tensors[op.inputs[0]!]!.type !== TensorType.FLOAT32);
    const readers = requantize.map((q) => v.ops.find((op) => op.inputs.includes(q.outputs[0]!))?.name);
    t.ok(
      requantize.length >= 2 && readers.every((r) => r === 'CONCATENATION' || r === 'SELECT_V2'),
      `${requantize.length} requantizing QUANTIZE ops, feeding ${readers.join(', ')} (inputs written by quantized ops at other parameters)`,
    );
    t.ok(result.report.sizeAfter > 0 && result.report.calibration?.samples === CALIBRATION.length, 'report: size and calibration');
    t.ok(result.report.tensors.length > 0 && result.report.tensors.every((r) => r.scale.length > 0), 'report: tensors with their scales');
    await checkAgainstOracle(t, result.model, EVALUATION, `${mode} suite`);
  });
}

// ---------------------------------------------------------------------------------------------
// Options and edge cases on a small network: CONV_2D -> MAX_POOL_2D -> RESHAPE -> FC -> SOFTMAX.

function smallNet(): Graph {
  const b = new GraphBuilder();
  const x = input(b, 'image', [1, 8, 8, 2]);
  const c = act(b, 'conv', [1, 8, 8, 4]);
  b.op(Op.CONV_2D, [x, weights(b, 'conv/w', [4, 3, 3, 2]), weights(b, 'conv/b', [4])], [c], {
    options: builtinOptions('Conv2DOptions', { padding: Padding.SAME, strideH: 1, strideW: 1, fusedActivationFunction: Act.RELU }),
  });
  const m = act(b, 'pool', [1, 4, 4, 4]);
  b.op(Op.MAX_POOL_2D, [c], [m], { options: pool(2, 2) });
  const r = act(b, 'flat', [1, 64]);
  b.op(Op.RESHAPE, [m, ints(b, 'shape', [1, 64])], [r], { options: builtinOptions('ReshapeOptions', { newShape: [1, 64] }) });
  const f = act(b, 'logits', [1, 10]);
  b.op(Op.FULLY_CONNECTED, [r, weights(b, 'fc/w', [10, 64], -0.3, 0.3), weights(b, 'fc/b', [10])], [f], { options: builtinOptions('FullyConnectedOptions') });
  const s = act(b, 'probs', [1, 10]);
  b.op(Op.SOFTMAX, [f], [s], { options: builtinOptions('SoftmaxOptions', { beta: 1 }) });
  const g = b.build();
  return { ...g, subgraphs: [{ ...g.subgraphs[0]!, inputs: [x], outputs: [s] }] };
}

const NET = smallNet();
const NET_BYTES = writeModel(NET);
const NET_CAL = samples([[-1, 1]], NET, 10, 0);
const NET_EVAL = samples([[-1, 1]], NET, 3, 50);

t.test('exclude: the excluded op stays float between DEQUANTIZE and QUANTIZE', async (t) => {
  for (const exclude of [['MAX_POOL_2D'], [1], [/^pool$/]] as QuantizeOptions['exclude'][]) {
    const result = await quantize(NET_BYTES, { mode: 'int8', calibration: NET_CAL, exclude });
    const v = view(readModel(result.model));
    const pool = v.ops.findIndex((op) => op.code === Op.MAX_POOL_2D);
    t.equal(v.tensors[v.ops[pool]!.inputs[0]!]!.type, TensorType.FLOAT32, `exclude ${String(exclude)}: MAX_POOL_2D reads float`);
    t.equal(v.ops[pool - 1]!.code, Op.DEQUANTIZE, 'a DEQUANTIZE feeds it');
    t.equal(v.ops[pool + 1]!.code, Op.QUANTIZE, 'a QUANTIZE follows it');
    t.same(result.report.ops.map((o) => o.how), ['int8', 'float (excluded)', 'int8', 'int8', 'int8']);
    t.match(result.diagnostics, [{ code: 'op-left-float', level: 'info', op: 1 }]);
    checkStructure(t, result, 'int8', new Set([pool]));
  }
  const result = await quantize(NET_BYTES, { mode: 'int8', calibration: NET_CAL, exclude: ['MAX_POOL_2D'] });
  await checkAgainstOracle(t, result.model, NET_EVAL, 'int8 with a float MAX_POOL_2D');
});

t.test('an op without a kernel in the mode stays float (int16x8 SQUARED_DIFFERENCE); strict makes it an error', async (t) => {
  // x -> ADD -> SQUARED_DIFFERENCE -> MUL: the float op sits between quantized ones.
  const b = new GraphBuilder();
  const x = input(b, 'x', [2, 6]);
  const y = input(b, 'y', [2, 6]);
  const a = act(b, 'sum', [2, 6]);
  b.op(Op.ADD, [x, y], [a], { options: builtinOptions('AddOptions') });
  const d = act(b, 'sqdiff', [2, 6]);
  b.op(Op.SQUARED_DIFFERENCE, [a, x], [d], { options: builtinOptions('SquaredDifferenceOptions') });
  const m = act(b, 'scaled', [2, 6]);
  b.op(Op.MUL, [d, y], [m], { options: builtinOptions('MulOptions') });
  const g = b.build();
  const graph: Graph = { ...g, subgraphs: [{ ...g.subgraphs[0]!, inputs: [x, y], outputs: [m] }] };
  const bytes = writeModel(graph);
  const specs: InputSpec[] = [[-1, 1], [0, 2]];
  const cal = samples(specs, graph, 8, 0);
  const result = await quantize(bytes, { mode: 'int16x8', calibration: cal });
  t.same(result.report.ops.map((o) => o.how), ['int16x8', 'float (no int16x8 kernel)', 'int16x8']);
  t.match(result.diagnostics, [{ code: 'op-left-float', level: 'warning', op: 1, message: /SQUARED_DIFFERENCE/ }]);
  const v = view(readModel(result.model));
  t.same(
    v.ops.map((op) => op.name),
    ['QUANTIZE', 'QUANTIZE', 'ADD', 'DEQUANTIZE', 'SQUARED_DIFFERENCE', 'QUANTIZE', 'MUL', 'DEQUANTIZE'],
    'DEQUANTIZE/QUANTIZE around the float op',
  );
  checkStructure(t, result, 'int16', new Set([4]));
  await checkAgainstOracle(t, result.model, samples(specs, graph, 3, 40), 'int16x8 with a float island');

  const error = await quantize(bytes, { mode: 'int16x8', calibration: cal, strict: true }).then(
    () => null,
    (e: unknown) => e,
  );
  t.type(error, UnsupportedOperatorError, 'strict: UnsupportedOperatorError');
  t.match(error, { op: 'SQUARED_DIFFERENCE', index: 1, message: /operator 1 \(SQUARED_DIFFERENCE: no int16x8 kernel\)/ });
  // Exclusions are the user's choice: strict does not refuse them.
  const excluded = await quantize(bytes, { mode: 'int16x8', calibration: cal, strict: true, exclude: ['SQUARED_DIFFERENCE'] });
  t.equal(excluded.report.ops[1]!.how, 'float (excluded)');
});

t.test('ops outside the table (EXP): left float, named by strict', async (t) => {
  // quantizeFullInteger directly, with ranges given by hand (our runtime has no EXP to calibrate it).
  const b = new GraphBuilder();
  const x = input(b, 'x', [4]);
  const e = act(b, 'e', [4]);
  b.op(Op.EXP, [x], [e]);
  const r = act(b, 'r', [4]);
  b.op(Op.RELU, [e], [r]);
  const l = act(b, 'l', [4]);
  b.op(Op.LOG, [r], [l]);
  const g = b.build();
  const graph: Graph = { ...g, subgraphs: [{ ...g.subgraphs[0]!, inputs: [x], outputs: [l] }] };
  const ranges = new Map<number, TensorRange>([
    [x, { min: -1, max: 1 }],
    [e, { min: 0, max: 3 }],
    [r, { min: 0, max: 3 }],
    [l, { min: -1, max: 1 }],
  ]);
  const options = resolveOptions({ mode: 'int8', calibration: [] });
  const out: ModeOutput = { diagnostics: [], ops: [], tensors: [] };
  const editor = new GraphEditor(graph);
  quantizeFullInteger(editor, ranges, options, out);
  const v = view(editor.build());
  t.same(v.ops.map((op) => op.name), ['EXP', 'QUANTIZE', 'RELU', 'DEQUANTIZE', 'LOG']);
  t.same(out.ops.map((o) => o.how), ['float (no int8 kernel)', 'int8', 'float (no int8 kernel)']);
  t.same(out.diagnostics.map((d) => [d.code, d.op]), [['op-left-float', 0], ['op-left-float', 2]]);
  t.equal(v.graph.subgraphs[0]!.inputs.map((i) => v.tensors[i]!.name)[0], 'x', 'graph input kept');
  const strict = resolveOptions({ mode: 'int8', calibration: [], strict: true });
  t.throws(
    () => quantizeFullInteger(new GraphEditor(graph), ranges, strict, { diagnostics: [], ops: [], tensors: [] }),
    { name: 'UnsupportedOperatorError', op: 'EXP', index: 0, message: /operator 0 \(EXP: no int8 kernel\), operator 2 \(LOG: no int8 kernel\)/ },
    'strict names every op without a kernel',
  );
});

t.test('io int8 / uint8 / int16: the model takes and returns integers', async (t) => {
  const float = await quantize(NET_BYTES, { mode: 'int8', calibration: NET_CAL });
  for (const io of ['int8', 'uint8'] as const) {
    const result = await quantize(NET_BYTES, { mode: 'int8', calibration: NET_CAL, io });
    const graph = readModel(result.model);
    const v = view(graph);
    const sg = graph.subgraphs[0]!;
    const inT = sg.tensors[sg.inputs[0]!]!;
    const outT = sg.tensors[sg.outputs[0]!]!;
    const type = io === 'int8' ? TensorType.INT8 : TensorType.UINT8;
    t.equal(inT.type, type, `${io}: input type`);
    t.equal(outT.type, type, `${io}: output type`);
    t.equal(inT.name, 'image', 'input keeps its name');
    t.equal(outT.name, 'probs', 'output keeps its name');
    // With float I/O the first op is QUANTIZE: its output holds the input's parameters.
    const floatIo = readModel(float.model).subgraphs[0]!;
    const qIn = floatIo.tensors[floatIo.operators[0]!.outputs[0]!]!;
    if (io === 'int8') {
      t.same(v.ops.map((op) => op.name), ['CONV_2D', 'MAX_POOL_2D', 'RESHAPE', 'FULLY_CONNECTED', 'SOFTMAX'], 'no QUANTIZE/DEQUANTIZE');
      t.same([scale0(inT), zp0(inT)], [scale0(qIn), zp0(qIn)], 'input parameters as with float I/O');
      t.same([scale0(outT), zp0(outT)], [f32(1 / 256), -128]);
    } else {
      t.same(v.ops.map((op) => op.name), ['QUANTIZE', 'CONV_2D', 'MAX_POOL_2D', 'RESHAPE', 'FULLY_CONNECTED', 'SOFTMAX', 'QUANTIZE'], 'QUANTIZE uint8 -> int8 and int8 -> uint8 at the edges');
      t.same([scale0(inT), zp0(inT)], [scale0(qIn), zp0(qIn) + 128], 'uint8 input: same scale, zero point + 128');
      t.same([scale0(outT), zp0(outT)], [f32(1 / 256), 0]);
      t.equal(v.tensors[v.ops[0]!.outputs[0]!]!.type, TensorType.INT8);
    }
    checkStructure(t, result, 'int8');
    const inputs = NET_EVAL.map(([x]) => [io === 'int8' ? Int8Array.from(x!, (_, i) => ((i * 37) % 256) - 128) : Uint8Array.from(x!, (_, i) => (i * 53) % 256)]);
    await checkAgainstOracle(t, result.model, inputs, `io ${io}`);
  }
  const int16 = await quantize(NET_BYTES, { mode: 'int16x8', calibration: NET_CAL, io: 'int16' });
  const sg = readModel(int16.model).subgraphs[0]!;
  t.same([sg.tensors[sg.inputs[0]!]!.type, sg.tensors[sg.outputs[0]!]!.type], [TensorType.INT16, TensorType.INT16], 'io int16 with int16x8');
  await checkAgainstOracle(t, int16.model, [[Int16Array.from({ length: 128 }, (_, i) => (i * 997) % 30000 - 15000)]], 'io int16');
  await t.rejects(quantize(NET_BYTES, { mode: 'int8', calibration: NET_CAL, io: 'int16' }), InvalidArgumentError, "io 'int16' needs mode int16x8");
  await t.rejects(quantize(NET_BYTES, { mode: 'int16x8', calibration: NET_CAL, io: 'uint8' }), InvalidArgumentError, "io 'uint8' needs mode int8");
});

t.test('perChannel: false gives one weight scale per tensor', async (t) => {
  const result = await quantize(NET_BYTES, { mode: 'int8', calibration: NET_CAL, perChannel: false });
  const v = view(readModel(result.model));
  for (const op of v.ops.filter((o) => o.code === Op.CONV_2D || o.code === Op.FULLY_CONNECTED)) {
    const w = v.tensors[op.inputs[1]!]!;
    const bias = v.tensors[op.inputs[2]!]!;
    t.equal(w.quantization!.scale.length, 1, `${op.name}: one weight scale`);
    t.same(bias.quantization!.scale, [f32(scale0(v.tensors[op.inputs[0]!]!) * scale0(w))], `${op.name}: one bias scale = fround(s_in·s_w)`);
  }
  await checkAgainstOracle(t, result.model, NET_EVAL, 'per-tensor weights');
});

t.test('a bias that would overflow int32 widens that channel\'s weight scale', async (t) => {
  const b = new GraphBuilder();
  const x = input(b, 'x', [1, 4]);
  const y = act(b, 'y', [1, 3]);
  const w = b.tensor({ name: 'w', type: TensorType.FLOAT32, shape: [3, 4], data: Float32Array.of(0.01, -0.02, 0.005, 0.01, 1, 2, -1, 0.5, 0.001, 0.002, -0.003, 0.001) });
  const bias = b.tensor({ name: 'bias', type: TensorType.FLOAT32, shape: [3], data: Float32Array.of(50, 0.1, -30) });
  b.op(Op.FULLY_CONNECTED, [x, w, bias], [y], { options: builtinOptions('FullyConnectedOptions') });
  const g = b.build();
  const graph: Graph = { ...g, subgraphs: [{ ...g.subgraphs[0]!, inputs: [x], outputs: [y] }] };
  // Inputs within ±1e-4: s_in ≈ 8e-7; channel 0 (s_w ≈ 1.6e-4) and 2 (2.4e-5) overflow at 50 and -30.
  const specs: InputSpec[] = [[-1e-4, 1e-4]];
  const result = await quantize(writeModel(graph), { mode: 'int8', calibration: samples(specs, graph, 6, 0) });
  const widened = result.diagnostics.filter((d) => d.code === 'bias-scale-widened');
  t.equal(widened.length, 1, 'one diagnostic');
  t.match(widened[0], { level: 'warning', op: 0, tensor: 'bias', message: /channel 0.*channel 2/ });
  const v = view(readModel(result.model));
  const fc = v.ops.find((op) => op.code === Op.FULLY_CONNECTED)!;
  const sIn = scale0(v.tensors[fc.inputs[0]!]!);
  const wq = v.tensors[fc.inputs[1]!]!.quantization!;
  const bt = v.tensors[fc.inputs[2]!]!;
  t.equal(wq.scale[1], f32(2 / 127), 'channel 1 keeps max|w| / 127');
  t.ok(wq.scale[0]! > f32(0.02 / 127) && wq.scale[2]! > f32(0.003 / 127), 'channels 0 and 2 widened');
  t.same(bt.quantization!.scale, wq.scale.map((s) => f32(sIn * s)), 'bias scales = fround(s_in·s_w) with the widened scales');
  const readBack = readModel(result.model);
  const biasData = new Int32Array(readBack.buffers[bt.buffer]!.data.slice().buffer);
  t.ok(Array.from(biasData).every((q) => Math.abs(q) <= 2 ** 31 - 1), 'every bias fits int32');
  t.ok(Math.abs(biasData[0]! * bt.quantization!.scale[0]! - 50) < 1e-3 * 50, 'channel 0 bias still represents 50');
  checkStructure(t, result, 'int8');
  await checkAgainstOracle(t, result.model, samples(specs, graph, 3, 30), 'widened bias');
});

t.test('bad input: an already-quantized model, a wrong io, a missing calibration', async (t) => {
  const int8 = await quantize(NET_BYTES, { mode: 'int8', calibration: NET_CAL });
  await t.rejects(quantize(int8.model, { mode: 'int8', calibration: NET_CAL }), { name: 'InvalidArgumentError', message: /Expected a float model for model but received a quantized one/ });
  await t.rejects(quantize(int8.model, { mode: 'dynamic' }), InvalidArgumentError, 'any mode refuses it');
  await t.rejects(quantize(NET_BYTES, { mode: 'int8' }), { name: 'InvalidArgumentError', message: /calibration/ });
  await t.rejects(quantize(new Uint8Array(8) as Uint8Array, { mode: 'dynamic' }), { code: 'ERR_LITEQUANT_MODEL_FORMAT' });
  await t.rejects(quantize({} as Graph, { mode: 'dynamic' }), { name: 'InvalidArgumentError', message: /Expected a Uint8Array/ });
});

t.test('a result our runtime has no kernel for is returned with a not-verified note', async (t) => {
  const b = new GraphBuilder();
  const x = input(b, 'x', [4]);
  const e = act(b, 'e', [4]);
  b.op(Op.EXP, [x], [e]);
  const g = b.build();
  const bytes = writeModel({ ...g, subgraphs: [{ ...g.subgraphs[0]!, inputs: [x], outputs: [e] }] });
  const result = await quantize(bytes, { mode: 'float16' });
  t.match(result.diagnostics, [{ code: 'not-verified', level: 'info', message: /no EXP kernel/ }]);
});

t.test('quantize() takes a Graph, reports progress, stops on abort', async (t) => {
  const events: string[] = [];
  const result = await quantize(NET, { mode: 'int8', calibration: NET_CAL, onProgress: (e) => events.push(`${e.phase}:${e.done}`) });
  t.ok(result.report.sizeBefore > result.report.sizeAfter, `size ${result.report.sizeBefore} -> ${result.report.sizeAfter}`);
  t.ok(events.includes('calibrate:0') && events.includes('quantize:1') && events.includes('write:1'), `progress events: ${[...new Set(events)].join(' ')}`);
  t.same(result.report.ops.map((o) => o.op), ['CONV_2D', 'MAX_POOL_2D', 'RESHAPE', 'FULLY_CONNECTED', 'SOFTMAX']);
  const names = result.report.tensors.map((r) => r.name);
  t.ok(names.includes('conv/w') && names.includes('conv/b') && names.includes('probs_int8'), 'report names weights, biases and activations');
  const conv = result.report.tensors.find((r) => r.name === 'conv/w')!;
  t.equal(conv.axis, 0);
  t.equal(conv.scale.length, 4);
  const controller = new AbortController();
  controller.abort();
  await t.rejects(quantize(NET, { mode: 'int8', calibration: NET_CAL, signal: controller.signal }), { name: 'AbortError' });
});
