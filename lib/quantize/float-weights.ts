// The modes that store weights small and need no calibration data:
// - dynamic (TFLite's "dynamic range"): int8 symmetric weights read directly by the ops that have
//   a hybrid kernel (float activations quantized row by row at run time, int32 accumulation):
//   FULLY_CONNECTED and CONV_2D (per channel, or per tensor with perChannel: false),
//   DEPTHWISE_CONV_2D (per channel: its kernel takes nothing else) and BATCH_MATMUL (per
//   tensor); the op version is set to the one TFLite requires for that hybrid kernel. Biases
//   stay float32. Any other reader of a quantized weight reads it through a DEQUANTIZE.
// - float16: every float32 weight and bias of the layers stored as float16, with a DEQUANTIZE
//   (float16 -> float32) feeding the original readers: float compute, half the bytes.
// - weight-only: int8 weights (per channel where the layer has an output-channel axis) with a
//   DEQUANTIZE (int8 -> float32) in front of every reader: float compute, a quarter of the bytes.
// Needs: a GraphEditor on a float model. Guarantees: every changed weight keeps a float32 view
// for every reader that is not a hybrid kernel; excluded ops (options.exclude) read the original
// float32 values; weights with fewer than options.minWeightElements elements stay float32
// (dynamic, weight-only; float16 converts every one). Reads the WEIGHT_OPS table below.
// DEQUANTIZE ops are inserted at the start of the graph (they read constants only).
// The asymmetric_quantize_inputs option of hybrid ops is left as the float model has it (false
// by default), as in the TFLite converter's dynamic-range models.
// dynamic also makes UNIDIRECTIONAL_SEQUENCE_LSTM TFLite's hybrid LSTM (lstm.ts); the other
// recurrent ops, and every recurrent op in float16 / weight-only, stay float.
import { UnsupportedOperatorError } from '../errors.js';
import { quantization } from '../ir/builder.js';
import { float32ToFloat16 } from '../native/tensor-utils.js';
import { BuiltinOperator, FullyConnectedOptionsWeightsFormat, TensorType } from '../tflite/schema.js';
import type { GraphEditor } from './graph-edit.js';
import { LSTM_OPS, quantizeLstmHybrid } from './lstm.js';
import { checkAborted, isExcluded, type ModeOutput, type ResolvedOptions } from './options.js';
import type { TensorReport } from './types.js';
import { quantizeWeightsSymmetric } from './weights.js';

type WeightMode = 'dynamic' | 'float16' | 'weight-only';

interface HybridKernel {
  /** The input slot the hybrid kernel takes as int8. */
  readonly slot: number;
  /**
   * Weight scales the kernel takes: 'any' (per channel, or per tensor with perChannel: false),
   * 'per-channel' only, or 'per-tensor' only.
   */
  readonly scales: 'any' | 'per-channel' | 'per-tensor';
  /** Shape/options conditions of the kernel beyond float input, output and bias. */
  readonly accepts: (editor: GraphEditor, op: number) => boolean;
  /** The op version TFLite requires (tflite/tools/versioning/op_version.cc). */
  readonly version: (editor: GraphEditor, op: number, perChannel: boolean) => number;
}

interface WeightOp {
  /** Input slots read as weights: int8 (dynamic, weight-only) or float16. */
  readonly weights: readonly number[];
  /** Input slots of biases: float16 only (they stay float32 in the int8 modes). */
  readonly biases: readonly number[];
  /** The output-channel axis of the weight in `slot` (per-channel scales), or null. */
  readonly channelAxis: (editor: GraphEditor, op: number, slot: number) => number | null;
  readonly hybrid: HybridKernel | null;
}

function options(editor: GraphEditor, op: number) {
  return editor.operators[op]!.builtinOptions;
}

const rank = (editor: GraphEditor, op: number, slot: number): number => editor.tensor(editor.operators[op]!.inputs[slot]!).shape.length;

/** The op-property table of these modes. */
export const WEIGHT_OPS: ReadonlyMap<number, WeightOp> = new Map<number, WeightOp>([
  [
    BuiltinOperator.FULLY_CONNECTED,
    {
      weights: [1],
      biases: [2],
      channelAxis: () => 0,
      hybrid: {
        slot: 1,
        scales: 'any',
        accepts: (editor, op) => {
          const o = options(editor, op);
          return rank(editor, op, 1) === 2 && (o?.kind !== 'FullyConnectedOptions' || o.weightsFormat === FullyConnectedOptionsWeightsFormat.DEFAULT);
        },
        version: (editor, op, perChannel) => {
          const o = options(editor, op);
          if (perChannel) return 12;
          if (editor.operators[op]!.inputs.length === 2) return 6;
          if (o?.kind === 'FullyConnectedOptions' && o.keepNumDims) return 5;
          if (o?.kind === 'FullyConnectedOptions' && o.asymmetricQuantizeInputs) return 9;
          return 3;
        },
      },
    },
  ],
  [
    BuiltinOperator.CONV_2D,
    {
      weights: [1],
      biases: [2],
      channelAxis: () => 0,
      hybrid: { slot: 1, scales: 'any', accepts: (editor, op) => rank(editor, op, 1) === 4, version: (_e, _o, perChannel) => (perChannel ? 5 : 2) },
    },
  ],
  [
    BuiltinOperator.DEPTHWISE_CONV_2D,
    {
      weights: [1],
      biases: [2],
      channelAxis: () => 3,
      // TFLite's hybrid depthwise kernel (EvalHybridPerChannel) reads one scale per output
      // channel whatever the tensor holds: one scale would read past it (NaN in LiteRT).
      hybrid: { slot: 1, scales: 'per-channel', accepts: (editor, op) => rank(editor, op, 1) === 4, version: (_e, _o, perChannel) => (perChannel ? 6 : 4) },
    },
  ],
  [
    BuiltinOperator.BATCH_MATMUL,
    {
      // Either operand may be constant; the hybrid kernel takes an int8 right-hand side.
      weights: [0, 1],
      biases: [],
      // The columns (N) of the right-hand side [.., K, N] ([.., N, K] with adj_y).
      channelAxis: (editor, op, slot) => {
        if (slot !== 1) return null;
        const o = options(editor, op);
        const adjY = o?.kind === 'BatchMatMulOptions' && o.adjY;
        const r = rank(editor, op, 1);
        return r < 2 ? null : adjY ? r - 2 : r - 1;
      },
      hybrid: {
        slot: 1,
        // TFLite's hybrid BATCH_MATMUL has taken per-channel scales only recently: per tensor.
        scales: 'per-tensor',
        accepts: (editor, op) => rank(editor, op, 1) >= 2,
        version: (editor, op) => {
          const o = options(editor, op);
          return o?.kind === 'BatchMatMulOptions' && o.asymmetricQuantizeInputs ? 4 : 1;
        },
      },
    },
  ],
  // TFLite has a hybrid TRANSPOSE_CONV kernel, our runtime has no TRANSPOSE_CONV: float in dynamic.
  [BuiltinOperator.TRANSPOSE_CONV, { weights: [1], biases: [3], channelAxis: () => 0, hybrid: null }],
]);

/** Recurrent ops: their quantization is its own issue; they stay float in these modes. */
const RECURRENT = new Set<number>([
  BuiltinOperator.LSTM,
  BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM,
  BuiltinOperator.BIDIRECTIONAL_SEQUENCE_LSTM,
  BuiltinOperator.RNN,
  BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_RNN,
  BuiltinOperator.BIDIRECTIONAL_SEQUENCE_RNN,
  BuiltinOperator.SVDF,
]);

/** float16's largest finite value. */
const FLOAT16_MAX = 65504;

/** Dynamic range: int8 weights for the hybrid kernels, DEQUANTIZE for other readers. */
export function quantizeDynamic(editor: GraphEditor, options: ResolvedOptions, out: ModeOutput): void {
  quantizeWeights(editor, options, out, 'dynamic');
}

/** float16 weights and biases behind DEQUANTIZE ops; float compute. */
export function quantizeFloat16(editor: GraphEditor, options: ResolvedOptions, out: ModeOutput): void {
  quantizeWeights(editor, options, out, 'float16');
}

/** int8 weights behind DEQUANTIZE ops; float compute. */
export function quantizeWeightOnly(editor: GraphEditor, options: ResolvedOptions, out: ModeOutput): void {
  quantizeWeights(editor, options, out, 'weight-only');
}

/** One read of a constant by a layer, as a weight or bias it may convert. */
interface Use {
  readonly op: number;
  readonly slot: number;
  readonly axis: number | null;
  /** dynamic: read by the op's hybrid kernel as int8. */
  readonly hybrid: boolean;
  /** The hybrid kernel takes per-channel weights only. */
  readonly perChannelOnly: boolean;
}

/** What happened to an op, for the report (by operator index of the input model). */
type OpOutcome = { how: string; reason?: string; code?: string; level?: 'info' | 'warning' };

function quantizeWeights(editor: GraphEditor, options: ResolvedOptions, out: ModeOutput, mode: WeightMode): void {
  checkAborted(options);
  const opCount = editor.operators.length;
  const excluded = Array.from({ length: opCount }, (_, i) => isExcluded(editor, i, options));
  const outcomes = new Map<number, OpOutcome>();
  const uses = new Map<number, Use[]>();
  const noKernel: number[] = [];

  // 1. Which constants each layer would convert (indices of the input model: nothing is inserted yet).
  for (let op = 0; op < opCount; op++) {
    const code = editor.code(op);
    const name = editor.opName(op);
    if (mode === 'dynamic' && LSTM_OPS.has(code)) {
      if (excluded[op]) {
        outcomes.set(op, { how: 'float (excluded)', code: 'op-left-float', level: 'info', reason: `${name} stays float: excluded by options.exclude` });
        continue;
      }
      const result = quantizeLstmHybrid(editor, op, options, out);
      if (result.reason === null) outcomes.set(op, { how: result.how });
      else {
        outcomes.set(op, { how: result.how, code: 'op-left-float', level: result.level, reason: `${name} stays float: ${result.reason}` });
        if (result.level === 'warning') noKernel.push(op);
      }
      continue;
    }
    if (RECURRENT.has(code)) {
      outcomes.set(op, {
        how: 'float (recurrent)',
        code: 'op-left-float',
        level: 'info',
        reason: `${name} stays float: the ${mode} mode quantizes no recurrent op${mode === 'dynamic' ? ' but UNIDIRECTIONAL_SEQUENCE_LSTM' : ''}`,
      });
      if (mode === 'dynamic' && !excluded[op]) noKernel.push(op);
      continue;
    }
    const spec = WEIGHT_OPS.get(code);
    if (excluded[op]) {
      outcomes.set(op, { how: 'float (excluded)', code: 'op-left-float', level: 'info', reason: `${name} stays float: excluded by options.exclude` });
      continue;
    }
    if (spec === undefined) continue;
    const inputs = editor.operators[op]!.inputs;
    const slots = mode === 'float16' ? [...spec.weights, ...spec.biases] : spec.weights;
    const hybridOk = mode === 'dynamic' && spec.hybrid !== null && hybridReady(editor, op, spec.hybrid);
    let found = false;
    for (const slot of slots) {
      const t = inputs[slot] ?? -1;
      if (t < 0 || !editor.isConstant(t) || editor.tensor(t).type !== TensorType.FLOAT32) continue;
      const hybrid = hybridOk && slot === spec.hybrid!.slot;
      if (mode === 'dynamic' && !hybrid) continue;
      const scales = mode === 'dynamic' ? spec.hybrid!.scales : 'any';
      const perChannel = scales === 'per-channel' || (scales === 'any' && options.perChannel);
      const axis = mode === 'float16' || !perChannel ? null : spec.channelAxis(editor, op, slot);
      const list = uses.get(t) ?? [];
      list.push({ op, slot, axis, hybrid, perChannelOnly: hybrid && scales === 'per-channel' });
      uses.set(t, list);
      found = true;
    }
    if (!found && mode === 'dynamic' && spec.weights.some((s) => (inputs[s] ?? -1) >= 0 && editor.isConstant(inputs[s]!))) {
      const why = spec.hybrid === null ? 'the runtime has no hybrid kernel for it' : 'its inputs, output or bias are not float32, or its shape/options have no hybrid kernel';
      outcomes.set(op, { how: 'float (no hybrid kernel)', code: 'op-left-float', level: 'info', reason: `${name} stays float: ${why}` });
      noKernel.push(op);
    }
  }
  if (options.strict && noKernel.length > 0) {
    const list = noKernel.map((i) => `${editor.opName(i)} (operator ${i})`).join(', ');
    throw new UnsupportedOperatorError(
      editor.opName(noKernel[0]!),
      noKernel[0]!,
      `Expected every layer with weights to get a hybrid kernel (options.strict) but received ${list}: drop strict to leave them in float, or exclude them`,
    );
  }

  // 2. Convert each constant once, and give every other reader a float32 view of it.
  const dequantizeOps: { input: number; output: number; version: number }[] = [];
  const converted = new Map<number, string>(); // op -> how its weights were converted
  const leftFloat = new Map<number, string>(); // op -> why a weight stayed float (short)
  for (const [t, candidates] of uses) {
    checkAborted(options);
    const tensor = editor.tensor(t);
    const values = editor.constantData(t, Float32Array);
    const label = `'${tensor.name}' (${tensor.shape.join('x') || 'scalar'})`;
    const keep = (short: string, why: string, level: 'info' | 'warning'): void => {
      out.diagnostics.push({ level, code: 'weight-left-float', message: `${label} stays float32: ${why}`, op: candidates[0]!.op, tensor: tensor.name });
      for (const u of candidates) leftFloat.set(u.op, short);
    };
    if (mode !== 'float16' && values.length < options.minWeightElements) {
      keep('small weights', `${values.length} elements, fewer than options.minWeightElements (${options.minWeightElements})`, 'info');
      continue;
    }
    const { min, max, finite } = range(values);
    if (!finite) {
      keep('weights not finite', 'it holds NaN or Infinity', 'warning');
      continue;
    }
    if (mode === 'float16' && Math.max(-min, max) > FLOAT16_MAX) {
      keep('weights beyond float16', `|values| up to ${Math.max(-min, max)} exceed float16's range (${FLOAT16_MAX})`, 'warning');
      continue;
    }

    // Readers that disagree on the channel axis share per-tensor scales; a hybrid kernel that
    // takes per-channel scales only then reads the weights through a DEQUANTIZE instead.
    const axes = new Set(candidates.map((u) => u.axis));
    const axis = axes.size === 1 ? candidates[0]!.axis : null;
    const list = axis === null ? candidates.filter((u) => !u.perChannelOnly) : candidates;
    for (const u of candidates.filter((c) => !list.includes(c))) {
      const why = `its hybrid kernel takes per-channel weights only, and ${label} is shared with readers that need other scales`;
      leftFloat.set(u.op, 'shared weights its hybrid kernel cannot take');
      out.diagnostics.push({ level: 'info', code: 'op-left-float', message: `Operator ${u.op}: ${editor.opName(u.op)} stays float: ${why}`, op: u.op, tensor: tensor.name });
    }
    if (list.length === 0) continue;

    // Every reader of the constant (any op, any slot) and whether it stays on the stored data.
    const readers = editor.consumers(t);
    const original = { data: values, type: tensor.type, quantization: tensor.quantization };
    let report: TensorReport;
    let dequantizeVersion: number;
    if (mode === 'float16') {
      editor.setData(t, TensorType.FLOAT16, float32ToFloat16(values));
      tensor.quantization = null;
      report = { name: tensor.name, type: 'FLOAT16', shape: [...tensor.shape], min, max, scale: [], zeroPoint: [], axis: null };
      dequantizeVersion = 3;
    } else {
      const q = quantizeWeightsSymmetric(values, tensor.shape, axis);
      editor.setData(t, TensorType.INT8, q.data);
      tensor.quantization = quantization({ scale: q.scales, zeroPoint: 0, quantizedDimension: axis ?? 0 });
      report = { name: tensor.name, type: 'INT8', shape: [...tensor.shape], min, max, scale: q.scales, zeroPoint: q.scales.map(() => 0), axis };
      dequantizeVersion = q.scales.length > 1 ? 5 : 2;
    }
    out.tensors.push(report);
    const how = mode === 'float16' ? 'float16 weights' : report.scale.length > 1 ? `int8 weights per channel (axis ${report.axis})` : 'int8 weights per tensor';
    for (const u of list) converted.set(u.op, how);

    let dequantized = -1;
    const floatView = (): number => {
      if (dequantized < 0) {
        dequantized = editor.addTensor({ name: `${tensor.name}_dequantized`, type: TensorType.FLOAT32, shape: tensor.shape, shapeSignature: tensor.shapeSignature });
        dequantizeOps.push({ input: t, output: dequantized, version: dequantizeVersion });
      }
      return dequantized;
    };
    let floatCopy = -1;
    const originalView = (): number => {
      if (floatCopy < 0) {
        floatCopy = editor.addTensor({
          name: `${tensor.name}_float`,
          type: original.type,
          shape: tensor.shape,
          shapeSignature: tensor.shapeSignature,
          quantization: original.quantization,
          data: original.data,
        });
      }
      return floatCopy;
    };
    for (const { op, slot } of readers) {
      if (list.some((u) => u.op === op && u.slot === slot && u.hybrid)) continue;
      const replacement = excluded[op] === true ? originalView() : floatView();
      const reader = editor.operators[op]!;
      reader.inputs = reader.inputs.map((i, k) => (k === slot ? replacement : i));
      if (mode === 'dynamic' && excluded[op] !== true) {
        out.diagnostics.push({
          level: 'info',
          code: 'dequantize-inserted',
          message: `${editor.opName(op)} (operator ${op}) has no hybrid kernel for input ${slot}: it reads ${label} through a DEQUANTIZE`,
          op,
          tensor: tensor.name,
        });
      }
    }
    editor.outputs.forEach((o, k) => {
      if (o === t) editor.outputs[k] = floatView();
    });
  }

  // 3. Versions of the hybrid ops, and the report.
  for (let op = 0; op < opCount; op++) {
    const how = converted.get(op);
    const why = leftFloat.get(op);
    if (how !== undefined) {
      const spec = WEIGHT_OPS.get(editor.code(op))!;
      if (mode === 'dynamic') {
        const weight = editor.tensor(editor.operators[op]!.inputs[spec.hybrid!.slot]!);
        const perChannel = (weight.quantization?.scale.length ?? 0) > 1;
        const version = spec.hybrid!.version(editor, op, perChannel);
        editor.setVersion(op, Math.max(version, editor.operatorCodes[editor.operators[op]!.opcodeIndex]!.version));
        out.ops.push({ index: op, op: editor.opName(op), how: `hybrid, ${how}` });
      } else {
        out.ops.push({ index: op, op: editor.opName(op), how: `float, ${how}, dequantized` });
      }
      continue;
    }
    const outcome = outcomes.get(op);
    if (outcome !== undefined) {
      out.ops.push({ index: op, op: editor.opName(op), how: outcome.how });
      if (outcome.reason !== undefined) {
        out.diagnostics.push({ level: outcome.level ?? 'info', code: outcome.code ?? 'op-left-float', message: `Operator ${op}: ${outcome.reason}`, op });
      }
      continue;
    }
    if (why !== undefined) out.ops.push({ index: op, op: editor.opName(op), how: `float (${why})` });
  }

  // 4. The DEQUANTIZE ops, at the start of the graph (their inputs are constants).
  dequantizeOps.forEach(({ input, output, version }, k) => editor.insertOperator(BuiltinOperator.DEQUANTIZE, [input], [output], k, version));
}

/** A hybrid kernel runs the op: float32 input and output, float32 (or no) bias, kernel conditions. */
function hybridReady(editor: GraphEditor, op: number, kernel: HybridKernel): boolean {
  const { inputs, outputs } = editor.operators[op]!;
  const f32 = (t: number | undefined): boolean => t !== undefined && t >= 0 && editor.tensor(t).type === TensorType.FLOAT32;
  const others = inputs.filter((_, slot) => slot !== kernel.slot);
  return others.length > 0 && others.every((t) => t < 0 || f32(t)) && outputs.every(f32) && kernel.accepts(editor, op);
}

function range(values: Float32Array): { min: number; max: number; finite: boolean } {
  let min = Infinity;
  let max = -Infinity;
  let finite = true;
  for (const v of values) {
    if (!Number.isFinite(v)) finite = false;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return values.length === 0 ? { min: 0, max: 0, finite } : { min, max, finite };
}
