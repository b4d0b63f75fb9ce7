// UNIDIRECTIONAL_SEQUENCE_LSTM quantization rules, for both modes that quantize it. The facts
// are TFLite's (tools/optimize/operator_property.cc for LSTM, the MLIR converter's
// prepare_quantize_lstm.h, the calibrator's builtin_logging_ops/lstm.cc, op_version.cc); the
// code is ours.
//
// int8 (full integer, TFLite's 8x8->16 LSTM; op version 1), through the op-property table's
// `special` hook of full-integer.ts:
// - input and output int8 at their calibrated parameters; the output state (input 18) carries
//   the output's parameters (TFLite's restrict_scale {18, 0});
// - the cell state (input 19) int16, zero point 0, scale 2^ceil(log2(max|c|)) / 32768 from the
//   calibrated cell range (TFLite's extend_to_power_of_two); the kernel takes 2^-15 to 2^-9:
//   smaller ranges get 2^-15, wider ones (|c| > 64) leave the LSTM float;
// - the 8 gate matrices and the projection int8 symmetric per tensor (TFLite's LSTM reads one
//   scale); peephole and layer norm coefficients int16 symmetric (max|w| / 32767);
// - gate biases int32 at s_input·s_input_weights (without layer norm) or
//   s_layer_norm·2^-10 (with it); the projection bias at s_projection·s_hidden;
// - the 5 intermediate tensors, shape [0]: gates 0-3 int16 symmetric from the calibrated
//   pre-normalization gate sums with layer norm, float32 without quantization otherwise (unused,
//   as the converter writes them); 4 (hidden, o ⊙ tanh(c)) int8 from its calibrated range with a
//   projection, and the output's parameters without one (the kernel writes the hidden value
//   into the output state at the hidden parameters, so they must be the output's);
// - one deviation from the converter: without a projection the output is symmetric (zero point
//   0; lstmInt8OutputParams says why).
// Calibration ranges come from reference-ops/lstm.ts LSTM_OBSERVED_SLOTS (calibrate.ts).
// The cell state range covers every time step (TFLite's calibrator logs the state tensors only
// before and after the op, i.e. the final state: ours is never narrower).
//
// dynamic (TFLite's hybrid LSTM; op version 2, 3 with asymmetric_quantize_inputs), from
// float-weights.ts: the 8 gate matrices, the projection and the peephole weights int8 symmetric
// per tensor (TFLite's hybrid LSTM refuses per-channel scales); biases, layer norm coefficients,
// the projection bias and the state stay float32. The hybrid kernel needs every weight int8, so
// the size threshold (options.minWeightElements) applies to the LSTM's weights together, not to
// each tensor as TFLite's per-tensor rule does (which leaves small LSTMs, mnist_lstm's among
// them, entirely float).
//
// Variants neither mode can quantize stay float with a reason (an UnsupportedOperatorError under
// options.strict, raised by the calling pass): diagonal recurrent weights, weights that are not
// float32 constants, state tensors that are not the op's own empty variables; (dynamic) weights
// shared with other ops; (int8) activations other than TANH, a peephole with n_output > n_cell,
// a cell state beyond ±64, missing calibration ranges.
import { quantization } from '../ir/builder.js';
import type { Quantization } from '../ir/graph.js';
import { clamp, roundHalfAway } from '../runtime/reference-ops/fixed-point.js';
import { LSTM_OBSERVED_SLOTS } from '../runtime/reference-ops/lstm.js';
import { tensorTypeName } from '../tflite/names.js';
import { ActivationFunctionType, BuiltinOperator, TensorType } from '../tflite/schema.js';
import type { EditableOperator, GraphEditor } from './graph-edit.js';
import type { ModeOutput, ResolvedOptions } from './options.js';
import type { TensorRange } from './types.js';
import { quantizeBias, quantizeWeightsSymmetric } from './weights.js';

const f32 = Math.fround;

// TFLite's input indices (lstm_shared.h).
const INPUT_WEIGHTS = [1, 2, 3, 4] as const;
const RECURRENT_WEIGHTS = [5, 6, 7, 8] as const;
const PEEPHOLE = [9, 10, 11] as const;
const BIAS = [12, 13, 14, 15] as const;
const PROJECTION = 16;
const PROJECTION_BIAS = 17;
const OUTPUT_STATE = 18;
const CELL_STATE = 19;
const LAYER_NORM = [20, 21, 22, 23] as const;
const MATRICES = [...INPUT_WEIGHTS, ...RECURRENT_WEIGHTS, PROJECTION];

/** Names of the intermediate tensors, as TFLite's converter writes them. */
const INTERMEDIATE_NAMES = [
  'input_to_input_intermediate',
  'input_to_forget_intermediate',
  'input_to_cell_intermediate',
  'input_to_output_intermediate',
  'effective_hidden_scale_intermediate',
] as const;

/** Gate biases with layer norm: s_layer_norm · 2^-10 (operator_property.cc). */
const LAYER_NORM_BIAS_FACTOR = 2 ** -10;
/** Without layer norm, the kernel computes gates in Q3.12; the unused CIFG input gate gets the same scale. */
const GATE_SCALE_NO_LAYER_NORM = 2 ** -12;
/** The integer kernel takes cell scales 2^-15 (a cell range of ±1) to 2^-9 (±64). */
const MAX_CELL_SCALE_LOG2 = -9;
const MIN_CELL_BOUND_LOG2 = 0;

/**
 * Hybrid LSTMs quantize x and h per row symmetrically (asymmetric_quantize_inputs false, op
 * version 2). Measured on mnist_lstm in tfjs-tflite (digits 100-1999): both forms 99.21 %
 * (= float) with 100 % top-1 agreement; mean |Δp| from float 1.27e-4 symmetric, 1.29e-4
 * asymmetric (version 3). Symmetric also runs on every TFLite that has a hybrid LSTM.
 */
const HYBRID_ASYMMETRIC_INPUTS = false;

export type LstmQuantizedForm = 'int8' | 'hybrid';

/** The structure of one LSTM (operator_property.cc's OpVariant, plus what our checks need). */
interface LstmVariant {
  readonly inputs: readonly number[];
  readonly cifg: boolean;
  readonly peephole: boolean;
  readonly projection: boolean;
  readonly layerNorm: boolean;
}

function variantOf(inputs: readonly number[]): LstmVariant {
  const at = (i: number): number => inputs[i] ?? -1;
  return {
    inputs,
    cifg: at(INPUT_WEIGHTS[0]) < 0,
    peephole: at(PEEPHOLE[2]) >= 0,
    projection: at(PROJECTION) >= 0,
    layerNorm: inputs.length === 24 && at(LAYER_NORM[1]) >= 0,
  };
}

/** Float constant inputs the form quantizes or reads (weights, biases, peephole, layer norm). */
function constantSlots(v: LstmVariant): number[] {
  return [...MATRICES, ...PEEPHOLE, ...BIAS, PROJECTION_BIAS, ...(v.layerNorm ? LAYER_NORM : [])].filter((s) => (v.inputs[s] ?? -1) >= 0);
}

/** Why the LSTM's tensors do not fit the quantized form, or null (checks both forms share). */
function refuseCommon(editor: GraphEditor, index: number, form: LstmQuantizedForm): string | null {
  const op = editor.operators[index]!;
  const inputs = op.inputs;
  if (inputs.length !== 24 && inputs.length !== 20) return `it has ${inputs.length} inputs (TFLite's LSTM has 20 or 24)`;
  const options = op.builtinOptions;
  if (options !== null && options.kind !== 'UnidirectionalSequenceLSTMOptions') return 'its options are not UnidirectionalSequenceLSTMOptions';
  const v = variantOf(inputs);
  const x = inputs[0] ?? -1;
  if (x < 0 || editor.tensor(x).type !== TensorType.FLOAT32) return 'its input is not float32';
  if (editor.tensor(x).shape.length !== 3) return `its input has rank ${editor.tensor(x).shape.length} (the LSTM kernels take rank 3)`;
  for (const slot of RECURRENT_WEIGHTS) {
    const t = inputs[slot] ?? -1;
    if (t >= 0 && editor.tensor(t).shape.length === 1) return `its recurrent weights are diagonal (input ${slot}: TFLite's ${form} LSTM takes full matrices)`;
  }
  for (const slot of constantSlots(v)) {
    const t = inputs[slot]!;
    const tensor = editor.tensor(t);
    if (!editor.isConstant(t)) return `input ${slot} ('${tensor.name}') is not a constant`;
    if (tensor.type !== TensorType.FLOAT32) return `input ${slot} ('${tensor.name}') is ${tensorTypeName(tensor.type)}, not float32`;
    // The hybrid form converts weights in place; the int8 form writes new tensors.
    const readers = editor.consumers(t).filter((u) => u.op !== index);
    if (form === 'hybrid' && (readers.length > 0 || editor.outputs.includes(t))) {
      return `input ${slot} ('${tensor.name}') is shared with ${readers.length > 0 ? `operator ${readers[0]!.op}` : 'the graph outputs'}`;
    }
  }
  for (const slot of [OUTPUT_STATE, CELL_STATE]) {
    const t = inputs[slot] ?? -1;
    if (t < 0) return `its ${slot === OUTPUT_STATE ? 'output' : 'cell'} state (input ${slot}) is missing`;
    const tensor = editor.tensor(t);
    if (!tensor.isVariable || (editor.buffers[tensor.buffer]?.data.length ?? 0) > 0) {
      return `its state tensor '${tensor.name}' (input ${slot}) is not an empty variable tensor`;
    }
    if (tensor.type !== TensorType.FLOAT32) return `its state tensor '${tensor.name}' is ${tensorTypeName(tensor.type)}, not float32`;
    if (editor.consumers(t).some((u) => u.op !== index) || editor.outputs.includes(t) || editor.inputs.includes(t)) {
      return `its state tensor '${tensor.name}' is read elsewhere`;
    }
  }
  if (op.outputs.length !== 1 || editor.tensor(op.outputs[0]!).type !== TensorType.FLOAT32) return 'its output is not one float32 tensor';
  return null;
}

// -----------------------------------------------------------------------------------------------
// int8

/** What full-integer.ts tells the LSTM rules (see op-properties.ts SpecialRule). */
export interface LstmInt8Context {
  readonly editor: GraphEditor;
  readonly index: number;
  /** The operator's inputs before the pass rewrote any. */
  readonly inputs: readonly number[];
  /** Calibrated ranges of the op's internal values by LSTM_OBSERVED_SLOTS slot. */
  readonly intermediates: ReadonlyMap<number, TensorRange> | undefined;
}

export interface LstmInt8Rewrite extends LstmInt8Context {
  /** The operator, its input 0 and output already replaced by their int8 tensors. */
  readonly op: EditableOperator;
  readonly inputParams: { readonly scale: number; readonly zeroPoint: number };
  readonly outputParams: { readonly scale: number; readonly zeroPoint: number };
  /** TFLite's int8 activation parameters of a range (full-integer.ts activationParams). */
  readonly activationParams: (range: TensorRange) => { readonly scale: number; readonly zeroPoint: number };
  /** Records a rewritten tensor in the report (its quantization is read from the tensor). */
  readonly report: (tensor: number, range: TensorRange | null) => void;
  readonly out: ModeOutput;
}

function maxAbs(range: TensorRange): number {
  return Math.max(Math.abs(range.min), Math.abs(range.max));
}

/**
 * The cell state's scale: the power of two covering the range, over 2^15, at least 2^-15 (the
 * kernel's smallest: a cell range within ±1 gets ±1).
 */
export function cellStateScale(range: TensorRange): number {
  const m = maxAbs(range);
  const exponent = m > 0 ? Math.ceil(Math.log2(m)) : 0;
  return 2 ** (Math.max(exponent, MIN_CELL_BOUND_LOG2) - 15);
}

export interface LstmActivationParams {
  readonly scale: number;
  readonly zeroPoint: number;
  /** The range the parameters cover. */
  readonly min: number;
  readonly max: number;
}

/**
 * The output's parameters without a projection: symmetric (zero point 0, scale max|y| / 127).
 * The output, the output state and the hidden intermediate then share a zero point of 0, which
 * both of TFLite's integer rules treat alike: the 2023 TFLite (tfjs-tflite's, and devices of
 * that time) subtracts the hidden zero point where current TFLite adds it, so an asymmetric
 * output (the converter's rule) is off by 2·zp there. With a projection: the usual parameters.
 */
export function lstmInt8OutputParams(ctx: LstmInt8Context, range: TensorRange): LstmActivationParams | null {
  if (variantOf(ctx.inputs).projection) return null;
  const m = maxAbs(range);
  const scale = m > 0 ? f32(m / 127) : 1;
  return { scale, zeroPoint: 0, min: -128 * scale, max: 127 * scale };
}

/** Why the int8 LSTM cannot be made (TFLite's 8x8->16 kernel), or null. */
export function refuseLstmInt8(ctx: LstmInt8Context): string | null {
  const common = refuseCommon(ctx.editor, ctx.index, 'int8');
  if (common !== null) return common;
  const op = ctx.editor.operators[ctx.index]!;
  const options = op.builtinOptions?.kind === 'UnidirectionalSequenceLSTMOptions' ? op.builtinOptions : null;
  const activation = options?.fusedActivationFunction ?? ActivationFunctionType.NONE;
  if (activation !== ActivationFunctionType.TANH) {
    const label = Object.entries(ActivationFunctionType).find(([, code]) => code === activation)?.[0] ?? String(activation);
    return `its activation is ${label} (the integer LSTM computes tanh)`;
  }
  const v = variantOf(ctx.inputs);
  const nCell = ctx.editor.tensor(ctx.inputs[INPUT_WEIGHTS[3]]!).shape[0]!;
  const nOutput = ctx.editor.tensor(ctx.inputs[OUTPUT_STATE]!).shape.at(-1)!;
  if (v.peephole && nOutput > nCell) return `its peephole runs with n_output ${nOutput} > n_cell ${nCell}, which TFLite's integer kernel reads past`;
  const ranges = ctx.intermediates;
  const need = (slot: number, what: string): string | null => (ranges?.has(slot) === true ? null : `no calibrated range for its ${what}`);
  const cell = ranges?.get(LSTM_OBSERVED_SLOTS.cellState);
  if (cell === undefined) return 'no calibrated range for its cell state';
  const exponent = Math.log2(cellStateScale(cell));
  if (exponent > MAX_CELL_SCALE_LOG2) {
    return `its cell state reaches ±${maxAbs(cell).toPrecision(4)}, beyond the ±64 the integer LSTM's int16 cell state can hold`;
  }
  if (v.projection) {
    const why = need(LSTM_OBSERVED_SLOTS.hidden, 'hidden state (o ⊙ tanh(c))');
    if (why !== null) return why;
  }
  if (v.layerNorm) {
    for (const g of LSTM_OBSERVED_SLOTS.gates) {
      if (g === 0 && v.cifg) continue;
      const why = need(g, `gate ${g} sums (layer norm input)`);
      if (why !== null) return why;
    }
  }
  return null;
}

/** Rewrites an LSTM the pass has decided to quantize: its constants, state and intermediates. */
export function rewriteLstmInt8(ctx: LstmInt8Rewrite): void {
  const { editor, op, inputs: original, out } = ctx;
  const v = variantOf(original);
  const inputs = [...op.inputs];
  const name = (t: number): string => editor.tensor(t).name;
  const values = (t: number): Float32Array => editor.constantData(t, Float32Array);
  const rangeOf = (data: Float32Array): TensorRange => {
    let min = 0;
    let max = 0;
    for (const x of data) {
      if (x < min) min = x;
      if (x > max) max = x;
    }
    return { min, max };
  };
  const add = (t: number, type: TensorType, data: Int8Array | Int16Array | Int32Array, q: Quantization): number => {
    const tensor = editor.tensor(t);
    const index = editor.addTensor({ name: tensor.name, type, shape: tensor.shape, shapeSignature: tensor.shapeSignature, quantization: q, data });
    ctx.report(index, rangeOf(values(t)));
    return index;
  };
  const scaleOf = (t: number): number => editor.tensor(t).quantization!.scale[0]!;

  // Weights: int8 symmetric per tensor.
  for (const slot of MATRICES) {
    const t = original[slot] ?? -1;
    if (t < 0) continue;
    const w = quantizeWeightsSymmetric(values(t), editor.tensor(t).shape, null);
    inputs[slot] = add(t, TensorType.INT8, w.data, quantization({ scale: w.scales[0]!, zeroPoint: 0 }));
  }
  // Peephole and layer norm coefficients: int16 symmetric.
  const int16 = (slot: number): void => {
    const t = original[slot] ?? -1;
    if (t < 0) return;
    const data = values(t);
    const m = maxAbs(rangeOf(data));
    const scale = m > 0 ? f32(m / 32767) : 1;
    const q = Int16Array.from(data, (x) => clamp(roundHalfAway(x / scale), -32767, 32767));
    inputs[slot] = add(t, TensorType.INT16, q, quantization({ scale, zeroPoint: 0 }));
  };
  PEEPHOLE.forEach(int16);
  if (v.layerNorm) LAYER_NORM.forEach(int16);

  // Biases: int32 at their derived scales.
  const bias = (slot: number, sIn: number, sW: number): void => {
    const t = original[slot] ?? -1;
    if (t < 0) return;
    const q = quantizeBias(values(t), sIn, [sW], 32);
    if (q.overflow.length > 0) {
      out.diagnostics.push({
        level: 'warning',
        code: 'bias-clamped',
        message: `Operator ${ctx.index} (UNIDIRECTIONAL_SEQUENCE_LSTM): ${q.overflow.length} values of the bias '${name(t)}' exceed int32 at scale ${q.scales[0]!.toExponential(3)} and were clamped`,
        op: ctx.index,
        tensor: name(t),
      });
    }
    inputs[slot] = add(t, TensorType.INT32, q.data as Int32Array, quantization({ scale: q.scales[0]!, zeroPoint: 0 }));
  };
  for (let g = 0; g < 4; g++) {
    const slot = BIAS[g]!;
    if ((original[slot] ?? -1) < 0) continue;
    if (v.layerNorm) bias(slot, scaleOf(inputs[LAYER_NORM[g]!]!), LAYER_NORM_BIAS_FACTOR);
    else bias(slot, ctx.inputParams.scale, scaleOf(inputs[INPUT_WEIGHTS[g]!]!));
  }

  // Intermediates: gate scales (layer norm), hidden.
  const ranges = ctx.intermediates ?? new Map<number, TensorRange>();
  const intermediate = (g: number, type: TensorType, q: Quantization | null): number =>
    editor.addTensor({ name: INTERMEDIATE_NAMES[g]!, type, shape: [0], quantization: q });
  const intermediates = LSTM_OBSERVED_SLOTS.gates.map((g) => {
    if (!v.layerNorm) return intermediate(g, TensorType.FLOAT32, null);
    const range = ranges.get(g);
    const m = range === undefined ? 0 : maxAbs(range);
    const scale = m > 0 ? f32(m / 32767) : GATE_SCALE_NO_LAYER_NORM;
    const index = intermediate(g, TensorType.INT16, quantization({ scale, zeroPoint: 0 }));
    ctx.report(index, range ?? null);
    return index;
  });
  const hiddenRange = ranges.get(LSTM_OBSERVED_SLOTS.hidden) ?? null;
  const hiddenParams = v.projection ? ctx.activationParams(hiddenRange!) : ctx.outputParams;
  const hidden = intermediate(LSTM_OBSERVED_SLOTS.hidden, TensorType.INT8, quantization({ scale: hiddenParams.scale, zeroPoint: hiddenParams.zeroPoint }));
  ctx.report(hidden, hiddenRange);
  intermediates.push(hidden);
  if (v.projection) bias(PROJECTION_BIAS, hiddenParams.scale, scaleOf(inputs[PROJECTION]!));

  // State: the output state at the output's parameters, the cell state int16 at a power-of-two scale.
  const h = editor.tensor(original[OUTPUT_STATE]!);
  h.type = TensorType.INT8;
  h.quantization = quantization({ scale: ctx.outputParams.scale, zeroPoint: ctx.outputParams.zeroPoint });
  ctx.report(original[OUTPUT_STATE]!, null);
  const cellRange = ranges.get(LSTM_OBSERVED_SLOTS.cellState)!;
  const c = editor.tensor(original[CELL_STATE]!);
  c.type = TensorType.INT16;
  c.quantization = quantization({ scale: cellStateScale(cellRange), zeroPoint: 0 });
  ctx.report(original[CELL_STATE]!, cellRange);

  op.inputs = inputs;
  op.intermediates = intermediates;
}

// -----------------------------------------------------------------------------------------------
// dynamic (hybrid)

export interface LstmHybridResult {
  /** OpReport.how. */
  readonly how: string;
  /** Why it stays float (null when quantized), and the diagnostic's level. */
  readonly reason: string | null;
  readonly level: 'info' | 'warning';
}

/**
 * Makes LSTM operator `index` TFLite's hybrid LSTM in place (weights int8 per tensor, version 2,
 * asymmetric_quantize_inputs as HYBRID_ASYMMETRIC_INPUTS), or says why it stays float.
 */
export function quantizeLstmHybrid(editor: GraphEditor, index: number, options: ResolvedOptions, out: ModeOutput): LstmHybridResult {
  const op = editor.operators[index]!;
  const refused = refuseCommon(editor, index, 'hybrid');
  if (refused !== null) return { how: 'float (no hybrid kernel)', reason: refused, level: 'warning' };
  const v = variantOf(op.inputs);
  const weightSlots = [...MATRICES, ...PEEPHOLE].filter((s) => (op.inputs[s] ?? -1) >= 0);
  const elements = weightSlots.reduce((n, s) => n + editor.tensor(op.inputs[s]!).shape.reduce((a, d) => a * d, 1), 0);
  if (elements < options.minWeightElements) {
    return {
      how: 'float (small weights)',
      reason: `its weights hold ${elements} elements together, fewer than options.minWeightElements (${options.minWeightElements})`,
      level: 'info',
    };
  }
  for (const slot of weightSlots) {
    const t = op.inputs[slot]!;
    const data = editor.constantData(t, Float32Array);
    if (!data.every(Number.isFinite)) return { how: 'float (weights not finite)', reason: `input ${slot} ('${editor.tensor(t).name}') holds NaN or Infinity`, level: 'warning' };
  }
  const done = new Set<number>();
  for (const slot of weightSlots) {
    const t = op.inputs[slot]!;
    if (done.has(t)) continue;
    done.add(t);
    const tensor = editor.tensor(t);
    const data = editor.constantData(t, Float32Array);
    const q = quantizeWeightsSymmetric(data, tensor.shape, null);
    editor.setData(t, TensorType.INT8, q.data);
    tensor.quantization = quantization({ scale: q.scales[0]!, zeroPoint: 0 });
    let min = 0;
    let max = 0;
    for (const x of data) {
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    out.tensors.push({ name: tensor.name, type: 'INT8', shape: [...tensor.shape], min, max, scale: [...q.scales], zeroPoint: [0], axis: null });
  }
  const o = op.builtinOptions;
  if (o?.kind === 'UnidirectionalSequenceLSTMOptions') op.builtinOptions = { ...o, asymmetricQuantizeInputs: HYBRID_ASYMMETRIC_INPUTS };
  editor.setVersion(index, HYBRID_ASYMMETRIC_INPUTS ? 3 : 2);
  const parts = [v.cifg ? 'CIFG' : null, v.peephole ? 'peephole' : null, v.projection ? 'projection' : null, v.layerNorm ? 'layer norm' : null].filter((p) => p !== null);
  return { how: `hybrid, int8 weights per tensor${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`, reason: null, level: 'info' };
}

/** The ops these rules quantize. */
export const LSTM_OPS: ReadonlySet<number> = new Set([BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM]);
