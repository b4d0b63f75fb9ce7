// Full-integer quantization: modes 'int8' (int8 activations) and 'int16x8' (int16 activations,
// int8 weights, int64 biases).
//
// Needs: the float graph in a GraphEditor, calibrated ranges of its float activations (indices
// of the float model's subgraph 0: graph inputs and op outputs), resolved options.
// Guarantees:
// - every op the op-property table (op-properties.ts) marks quantizable, not excluded, and with
//   what its kernel needs (constant weights, ranges), is rewritten to integer tensors: activations
//   at TFLite's parameters (int8: asymmetric over [-128, 127] with the range widened to include 0;
//   int16: symmetric, zero point 0, scale = max|x| / 32767), weights int8 symmetric per channel
//   along the table's axis (per tensor with perChannel: false), biases at s_in·s_w (int32 or
//   int64) with channels whose bias would overflow getting a wider weight scale (diagnostic
//   'bias-scale-widened'), fixed output parameters, same-scale outputs, and inputs that must
//   carry the output's parameters requantized by QUANTIZE ops;
// - the other ops stay float (diagnostic 'op-left-float'; an error with options.strict for ops
//   without a quantized kernel), connected by DEQUANTIZE / QUANTIZE;
// - the model's inputs and outputs are float (options.io 'float': QUANTIZE / DEQUANTIZE at the
//   edges), or int8 / int16 / uint8 (uint8: QUANTIZE uint8 -> int8 after each input and int8 ->
//   uint8 before each output, as TFLite's converter writes them); graph I/O keep their tensor
//   indices, names and signature entries;
// - quantized ops get the version their kernels need; the float constants they used are no
//   longer referenced (editor.build() drops their buffers).
// Reads of the op-property table: input roles, output rule, int8/int16 support, refuse(),
// version(), potScaleInt16Option, special (UNIDIRECTIONAL_SEQUENCE_LSTM: lstm.ts quantizes its
// weights, state and intermediate tensors from the calibrated intermediate ranges).
import { expected, UnsupportedOperatorError } from '../errors.js';
import { builtinOptions } from '../ir/builder.js';
import type { Operator, Quantization } from '../ir/graph.js';
import { quantizeTensor } from '../native/quantize.js';
import { clamp, roundHalfAway } from '../runtime/reference-ops/fixed-point.js';
import { tensorTypeName } from '../tflite/names.js';
import { BuiltinOperator, CustomOptionsFormat, TensorType } from '../tflite/schema.js';
import type { EditableOperator, GraphEditor } from './graph-edit.js';
import {
  dequantizeVersion,
  inputRole,
  opProperty,
  quantizeVersion,
  type ActivationDtype,
  type OpProperty,
} from './op-properties.js';
import { isExcluded, type ModeOutput, type ResolvedOptions } from './options.js';
import type { IntermediateRanges, TensorRange, TensorRanges } from './types.js';
import { quantizeBias, quantizeWeightsSymmetric } from './weights.js';

const f32 = Math.fround;

/** Affine parameters of one activation tensor (per tensor). */
export interface ActivationParams {
  readonly scale: number;
  readonly zeroPoint: number;
  /** The range the parameters cover (0 included). */
  readonly min: number;
  readonly max: number;
}

/**
 * TFLite's activation parameters for a calibrated range: int8 asymmetric over [-128, 127] with
 * the range widened to include 0 (so 0 is exact) and the zero point rounded from the minimum;
 * int16 symmetric (zero point 0, scale = max|x| / 32767). An empty range [0, 0] gets scale 1.
 * Scales are float32, as stored.
 */
export function activationParams(range: TensorRange, dtype: ActivationDtype): ActivationParams {
  const min = Math.min(range.min, 0);
  const max = Math.max(range.max, 0);
  if (dtype === 'int16') {
    const scale = f32(Math.max(-min, max) / 32767);
    return { scale: scale > 0 && Number.isFinite(scale) ? scale : 1, zeroPoint: 0, min, max };
  }
  const scale = f32((max - min) / 255);
  if (!(scale > 0 && Number.isFinite(scale))) return { scale: 1, zeroPoint: 0, min, max };
  const zeroPoint = clamp(roundHalfAway(-128 - min / scale), -128, 127);
  return { scale, zeroPoint, min, max };
}

/** A tensor's representations: float, its own quantized parameters, uint8 (I/O), or requantized. */
type Repr = 'f' | 'q' | 'u' | `r:${number}:${number}`;

interface Decision {
  readonly quantize: boolean;
  /** OpReport.how. */
  readonly how: string;
  readonly property: OpProperty | null;
}

interface ConstantResult {
  readonly index: number;
  readonly scale: number;
  readonly zeroPoint: number;
}

function affine(scale: number | readonly number[], zeroPoint: number | readonly number[], extra: Partial<Quantization> = {}): Quantization {
  const scales = typeof scale === 'number' ? [scale] : [...scale];
  const zps = typeof zeroPoint === 'number' ? scales.map(() => zeroPoint) : [...zeroPoint];
  return { min: [], max: [], scale: scales, zeroPoint: zps, quantizedDimension: 0, details: null, ...extra };
}

function minMax(values: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return values.length === 0 ? { min: 0, max: 0 } : { min, max };
}

/** Symmetric int16 quantization (zero point 0, [-32767, 32767]), rounding half away from zero. */
function quantizeInt16(values: Float32Array, scale: number, zeroPoint = 0): Int16Array {
  const out = new Int16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = clamp(roundHalfAway(values[i]! / scale) + zeroPoint, -32768, 32767);
  return out;
}

export function quantizeFullInteger(
  editor: GraphEditor,
  ranges: TensorRanges,
  options: ResolvedOptions,
  out: ModeOutput,
  intermediates: IntermediateRanges = new Map(),
): void {
  new FullIntegerPass(editor, ranges, options, out, intermediates).run();
}

class FullIntegerPass {
  private readonly dtype: ActivationDtype;
  private readonly actType: TensorType;
  private readonly modeName: string;
  private readonly ioRepr: 'f' | 'q' | 'u';
  /** Inputs of every original operator before any rewrite. */
  private readonly originalInputs: (readonly number[])[];
  private readonly names: string[];
  /** Non-constant float32 tensors of the float model (before any retyping). */
  private readonly floatActivations: Set<number>;
  private readonly producer = new Map<number, number>();
  private readonly graphInputs: Set<number>;
  private readonly graphOutputs: Set<number>;
  private readonly decisions: Decision[] = [];
  private readonly params = new Map<number, ActivationParams>();
  private readonly reprs = new Map<number, Map<Repr, number>>();
  private readonly sources = new Map<number, Repr>();
  /** Conversion ops to place after operator i (-1: before the first operator). */
  private readonly pending = new Map<number, EditableOperator[]>();
  private readonly constants = new Map<string, ConstantResult>();
  private readonly weightCache = new Map<string, { index: number; scales: number[] }>();

  constructor(
    private readonly editor: GraphEditor,
    private readonly ranges: TensorRanges,
    private readonly options: ResolvedOptions,
    private readonly out: ModeOutput,
    private readonly intermediates: IntermediateRanges,
  ) {
    this.dtype = options.mode === 'int16x8' ? 'int16' : 'int8';
    this.actType = this.dtype === 'int16' ? TensorType.INT16 : TensorType.INT8;
    this.modeName = options.mode;
    const io = options.io;
    const allowed = this.dtype === 'int8' ? ['float', 'int8', 'uint8'] : ['float', 'int16'];
    if (!allowed.includes(io)) throw expected(`${allowed.map((a) => `'${a}'`).join(' or ')} with mode '${options.mode}'`, 'options.io', io);
    this.ioRepr = io === 'float' ? 'f' : io === 'uint8' ? 'u' : 'q';
    this.originalInputs = editor.operators.map((op) => [...op.inputs]);
    this.names = editor.operators.map((_, i) => editor.opName(i));
    editor.operators.forEach((op, i) => op.outputs.forEach((t) => this.producer.set(t, i)));
    this.graphInputs = new Set(editor.inputs);
    this.graphOutputs = new Set(editor.outputs);
    this.floatActivations = new Set(
      editor.tensors.flatMap((t, i) => (t.type === TensorType.FLOAT32 && !t.isVariable && !this.isConstant(i) ? [i] : [])),
    );
  }

  run(): void {
    const count = this.editor.operators.length;
    for (let i = 0; i < count; i++) this.decisions.push(this.decide(i));
    this.enforceStrict();
    for (let i = 0; i < count; i++) {
      if (this.decisions[i]!.quantize) this.rewriteQuantized(i);
      else this.rewriteFloat(i);
    }
    // Graph inputs and outputs take the I/O type even when no quantized op touches them.
    for (const t of [...this.editor.inputs, ...this.editor.outputs]) if (this.isFloatActivation(t)) this.ensure(t);
    const ops = this.editor.operators.slice(0, count);
    const ordered: EditableOperator[] = [...(this.pending.get(-1) ?? [])];
    ops.forEach((op, i) => ordered.push(op, ...(this.pending.get(i) ?? [])));
    this.editor.operators.splice(0, this.editor.operators.length, ...ordered);
    this.decisions.forEach((d, i) => this.out.ops.push({ index: i, op: this.names[i]!, how: d.how }));
  }

  // ---------------------------------------------------------------------------------------------
  // Which ops are quantized.

  private isConstant(t: number): boolean {
    const tensor = this.editor.tensor(t);
    return !tensor.isVariable && (this.editor.buffers[tensor.buffer]?.data.length ?? 0) > 0 && !this.producer.has(t) && !this.graphInputs.has(t);
  }

  private isFloatActivation(t: number): boolean {
    return this.floatActivations.has(t);
  }

  /** True when the parameters of activation `t` are known (its range, or its producer's rule). */
  private hasParams(t: number): boolean {
    const p = this.producer.get(t);
    if (p !== undefined && this.decisions[p]?.quantize === true) return true;
    return this.ranges.has(t);
  }

  private decide(i: number): Decision {
    const editor = this.editor;
    const op = editor.operators[i]!;
    const name = editor.opName(i);
    const tensors = [...op.inputs, ...op.outputs].filter((t) => t >= 0);
    if (!tensors.some((t) => editor.tensor(t).type === TensorType.FLOAT32)) {
      return { quantize: false, how: 'unchanged (no float tensors)', property: null };
    }
    const property = opProperty(editor.code(i));
    const leaveFloat = (reason: string, level: 'info' | 'warning'): Decision => {
      this.out.diagnostics.push({
        level,
        code: 'op-left-float',
        message: `Operator ${i} (${name}) stays float32: ${reason}; DEQUANTIZE/QUANTIZE ops connect it to the quantized tensors`,
        op: i,
      });
      return { quantize: false, how: `float (${reason})`, property };
    };
    if (isExcluded(editor, i, this.options)) return leaveFloat('excluded', 'info');
    if (property === null || !property[this.dtype]) return leaveFloat(`no ${this.modeName} kernel`, 'warning');
    const refused =
      property.refuse?.(op, this.dtype, (t) => this.isConstant(t)) ??
      this.checkTensors(op, property) ??
      property.special?.refuse(this.specialContext(i)) ??
      null;
    if (refused !== null) return leaveFloat(refused, 'warning');
    return { quantize: true, how: this.modeName, property };
  }

  /** Why the op's tensors do not fit its quantized kernel, or null. */
  private checkTensors(op: Operator, property: OpProperty): string | null {
    const editor = this.editor;
    for (const [slot, t] of op.inputs.entries()) {
      if (t < 0) continue;
      const role = inputRole(property, slot);
      if (role.kind === 'other') continue;
      const type = editor.tensor(t).type;
      if (type !== TensorType.FLOAT32) return `input ${slot} is ${tensorTypeName(type)}, not float32`;
      if ((role.kind === 'weight' || role.kind === 'bias') && !this.isConstant(t)) return `input ${slot} is not a constant`;
      if (role.kind === 'activation' && !this.isConstant(t) && !this.hasParams(t)) {
        return `no calibrated range for input ${slot} (tensor ${t} '${editor.tensor(t).name}')`;
      }
    }
    if (op.outputs.length !== 1) return `it has ${op.outputs.length} outputs`;
    const y = op.outputs[0]!;
    if (!this.isFloatActivation(y)) return `its output is ${tensorTypeName(editor.tensor(y).type)}, not a float32 activation`;
    if (property.output.kind === 'own' && !this.ranges.has(y)) return `no calibrated range for its output (tensor ${y} '${editor.tensor(y).name}')`;
    return null;
  }

  private specialContext(i: number) {
    return { editor: this.editor, index: i, inputs: this.originalInputs[i]!, intermediates: this.intermediates.get(i) };
  }

  private enforceStrict(): void {
    if (!this.options.strict) return;
    const refused = this.decisions.flatMap((d, i) => (!d.quantize && d.how.startsWith('float (') && d.how !== 'float (excluded)' ? [i] : []));
    if (refused.length === 0) return;
    const list = refused.map((i) => `operator ${i} (${this.names[i]}: ${this.decisions[i]!.how.slice(7, -1)})`).join(', ');
    const first = refused[0]!;
    throw new UnsupportedOperatorError(
      this.editor.opName(first),
      first,
      `Expected every operator to be quantizable to ${this.modeName} (options.strict) but received ${list}`,
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Parameters.

  private fromRange(t: number): ActivationParams {
    const range = this.ranges.get(t);
    if (range === undefined) {
      throw expected('a calibrated range', `tensor ${t} ('${this.editor.tensor(t).name}')`, undefined);
    }
    return activationParams(range, this.dtype);
  }

  /** The quantized parameters of float activation `t` (its 'q' representation). */
  private paramsOf(t: number): ActivationParams {
    const known = this.params.get(t);
    if (known !== undefined) return known;
    let result: ActivationParams;
    const p = this.producer.get(t);
    const decision = p === undefined ? undefined : this.decisions[p];
    const rule = decision?.quantize === true ? decision.property!.output : null;
    if (rule?.kind === 'fixed') {
      const fixed = rule[this.dtype];
      const scale = f32(fixed.scale);
      const qmin = this.dtype === 'int16' ? -32768 : -128;
      const qmax = this.dtype === 'int16' ? 32767 : 127;
      result = { scale, zeroPoint: fixed.zeroPoint, min: scale * (qmin - fixed.zeroPoint), max: scale * (qmax - fixed.zeroPoint) };
    } else if (rule?.kind === 'same-as-input') {
      result = this.inputParams(p!, rule.input);
    } else {
      const special = decision?.quantize === true ? decision.property!.special : undefined;
      const range = this.ranges.get(t);
      result = (range !== undefined ? special?.outputParams?.(this.specialContext(p!), range) : null) ?? this.fromRange(t);
    }
    this.params.set(t, result);
    return result;
  }

  /** The parameters input `slot` of quantized operator `i` is fed at. */
  private inputParams(i: number, slot: number): ActivationParams {
    const x = this.originalInputs[i]![slot]!;
    if (this.isConstant(x)) {
      const c = this.constantActivation(x);
      const qmax = this.dtype === 'int16' ? 32767 : 127;
      return { scale: c.scale, zeroPoint: c.zeroPoint, min: -qmax * c.scale, max: qmax * c.scale };
    }
    return this.paramsOf(x);
  }

  // ---------------------------------------------------------------------------------------------
  // Representations of activation tensors and the conversions between them.

  private reprType(r: Repr): TensorType {
    return r === 'f' ? TensorType.FLOAT32 : r === 'u' ? TensorType.UINT8 : this.actType;
  }

  private reprQuantization(t: number, r: Repr): { quantization: Quantization | null; report: ActivationParams | null } {
    if (r === 'f') return { quantization: null, report: null };
    if (r === 'q' || r === 'u') {
      // The file records the range the parameters cover; the report, the calibrated range.
      const p = this.paramsOf(t);
      const zeroPoint = r === 'u' ? p.zeroPoint + 128 : p.zeroPoint;
      const range = this.ranges.get(t) ?? p;
      return { quantization: affine(p.scale, zeroPoint, { min: [p.min], max: [p.max] }), report: { ...p, zeroPoint, min: range.min, max: range.max } };
    }
    const [, scale, zeroPoint] = r.split(':').map(Number) as [number, number, number];
    const range = this.ranges.get(t);
    return {
      quantization: affine(scale, zeroPoint),
      report: { scale, zeroPoint, min: range?.min ?? Number.NaN, max: range?.max ?? Number.NaN },
    };
  }

  private report(index: number, params: ActivationParams | null, axis: number | null = null): void {
    const t = this.editor.tensor(index);
    const q = t.quantization;
    this.out.tensors.push({
      name: t.name,
      type: tensorTypeName(t.type),
      shape: [...t.shape],
      min: params === null || Number.isNaN(params.min) ? null : params.min,
      max: params === null || Number.isNaN(params.max) ? null : params.max,
      scale: q ? [...q.scale] : [],
      zeroPoint: q ? [...q.zeroPoint] : [],
      axis,
    });
  }

  /** Sets up tensor t's representations: where its producer writes and what its own index holds. */
  private ensure(t: number): Map<Repr, number> {
    const known = this.reprs.get(t);
    if (known !== undefined) return known;
    const map = new Map<Repr, number>();
    this.reprs.set(t, map);
    const p = this.producer.get(t);
    const source: Repr = p === undefined ? this.ioRepr : this.decisions[p]!.quantize ? 'q' : 'f';
    const home: Repr = this.graphInputs.has(t) || this.graphOutputs.has(t) ? this.ioRepr : source;
    this.sources.set(t, source);
    if (home === source) {
      map.set(source, t);
      this.retype(t, source);
    } else {
      // A graph output whose producer writes another type: the producer writes a new tensor,
      // conversions fill the graph output (which keeps its index, name and signature entry).
      map.set(source, this.newTensor(t, source));
      this.derive(t, home, t);
      map.set(home, t);
      this.retype(t, home);
    }
    return map;
  }

  /** The tensor holding representation r of activation t (created with its conversion if new). */
  private reprOf(t: number, r: Repr): number {
    const map = this.ensure(t);
    const found = map.get(r);
    if (found !== undefined) return found;
    const index = this.newTensor(t, r);
    this.derive(t, r, index);
    map.set(r, index);
    return index;
  }

  private retype(t: number, r: Repr): void {
    if (r === 'f') return;
    const tensor = this.editor.tensor(t);
    const { quantization, report } = this.reprQuantization(t, r);
    tensor.type = this.reprType(r);
    tensor.quantization = quantization;
    this.report(t, report);
  }

  private newTensor(t: number, r: Repr): number {
    const base = this.editor.tensor(t);
    const suffix = r === 'f' ? '_float' : r === 'u' ? '_uint8' : r === 'q' ? `_${this.dtype}` : '_requantized';
    const { quantization, report } = this.reprQuantization(t, r);
    const index = this.editor.addTensor({
      name: `${base.name}${suffix}`,
      type: this.reprType(r),
      shape: base.shape,
      shapeSignature: base.shapeSignature,
      quantization,
    });
    if (report !== null) this.report(index, report);
    return index;
  }

  /** Adds the op(s) computing representation r of t into tensor `into`, after t's producer. */
  private derive(t: number, r: Repr, into: number): void {
    const source = this.sources.get(t)!;
    const map = this.reprs.get(t)!;
    // float <-> uint8 goes through the int8 representation (our DEQUANTIZE takes int8/int16).
    const direct = !((source === 'f' && r === 'u') || (source === 'u' && r === 'f'));
    const fromRepr: Repr = direct ? source : 'q';
    const from = direct ? map.get(source)! : this.reprOf(t, 'q');
    const dtypeOf = (x: Repr): 'int8' | 'int16' | 'uint8' => (x === 'u' ? 'uint8' : this.dtype);
    const code = r === 'f' ? BuiltinOperator.DEQUANTIZE : BuiltinOperator.QUANTIZE;
    const version = r === 'f' ? dequantizeVersion(dtypeOf(fromRepr)) : quantizeVersion(dtypeOf(r));
    const op: EditableOperator = {
      opcodeIndex: this.editor.opcode(code, version),
      inputs: [from],
      outputs: [into],
      intermediates: null,
      builtinOptions: null,
      builtinOptions2: null,
      customOptions: null,
      customOptionsFormat: CustomOptionsFormat.FLEXBUFFERS,
      largeCustomOptions: false,
      mutatingVariableInputs: [],
      debugMetadataIndex: -1,
    };
    const at = this.producer.get(t) ?? -1;
    const list = this.pending.get(at) ?? [];
    list.push(op);
    this.pending.set(at, list);
  }

  // ---------------------------------------------------------------------------------------------
  // Constants.

  /** A constant in an activation slot: symmetric (zero point 0) in the activation type, as TFLite quantizes constant operands. */
  private constantActivation(x: number): ConstantResult {
    const key = `a:${x}`;
    const known = this.constants.get(key);
    if (known !== undefined) return known;
    const t = this.editor.tensor(x);
    const values = this.editor.constantData(x, Float32Array);
    let data: Int8Array | Int16Array;
    let scale: number;
    if (this.dtype === 'int8') {
      const w = quantizeWeightsSymmetric(values, t.shape, null);
      data = w.data;
      scale = w.scales[0]!;
    } else {
      const { min, max } = minMax(values);
      const m = Math.max(-min, max);
      scale = m > 0 ? f32(m / 32767) : 1;
      data = quantizeInt16(values, scale);
    }
    const { min, max } = minMax(values);
    const index = this.addConstant(x, data, affine(scale, 0, { min: [min], max: [max] }));
    this.report(index, { scale, zeroPoint: 0, min, max });
    const result = { index, scale, zeroPoint: 0 };
    this.constants.set(key, result);
    return result;
  }

  /** A constant quantized at given parameters (inputs that must carry the output's parameters). */
  private constantAt(x: number, params: ActivationParams): number {
    const key = `c:${x}:${params.scale}:${params.zeroPoint}`;
    const known = this.constants.get(key);
    if (known !== undefined) return known.index;
    const values = this.editor.constantData(x, Float32Array);
    const data =
      this.dtype === 'int8'
        ? quantizeTensor(values, { scale: params.scale, zeroPoint: params.zeroPoint })
        : quantizeInt16(values, params.scale, params.zeroPoint);
    const { min, max } = minMax(values);
    const index = this.addConstant(x, data, affine(params.scale, params.zeroPoint));
    this.report(index, { ...params, min, max });
    this.constants.set(key, { index, scale: params.scale, zeroPoint: params.zeroPoint });
    return index;
  }

  /** A quantized copy of constant x (same name: the float one is dropped when nothing else reads it). */
  private addConstant(x: number, data: Int8Array | Int16Array | Int32Array | BigInt64Array, quantization: Quantization): number {
    const t = this.editor.tensor(x);
    const type =
      data instanceof Int8Array ? TensorType.INT8 : data instanceof Int16Array ? TensorType.INT16 : data instanceof Int32Array ? TensorType.INT32 : TensorType.INT64;
    return this.editor.addTensor({ name: t.name, type, shape: t.shape, shapeSignature: t.shapeSignature, quantization, data });
  }

  /** Weights (and the bias that depends on their scales) of quantized operator i. */
  private quantizeWeightsAndBias(i: number, property: OpProperty, inputs: number[]): void {
    const original = this.originalInputs[i]!;
    const weightSlot = original.findIndex((t, slot) => t >= 0 && inputRole(property, slot).kind === 'weight');
    if (weightSlot < 0) return;
    const role = inputRole(property, weightSlot);
    if (role.kind !== 'weight') return;
    const w = original[weightSlot]!;
    const wTensor = this.editor.tensor(w);
    const axis = this.options.perChannel ? role.axis : null;
    const values = this.editor.constantData(w, Float32Array);
    let weights = quantizeWeightsSymmetric(values, wTensor.shape, axis);
    let scales = [...weights.scales];

    const biasSlot = original.findIndex((t, slot) => t >= 0 && inputRole(property, slot).kind === 'bias');
    const biasRole = biasSlot < 0 ? null : inputRole(property, biasSlot);
    let widened = false;
    if (biasRole?.kind === 'bias') {
      const b = original[biasSlot]!;
      const biasValues = this.editor.constantData(b, Float32Array);
      const channels = axis === null ? 1 : wTensor.shape[axis]!;
      if (axis !== null && biasValues.length !== channels) {
        throw expected(`a bias of ${channels} values (one per output channel)`, `input ${biasSlot} of operator ${i} (${this.names[i]})`, biasValues);
      }
      const sIn = this.inputParams(i, biasRole.input).scale;
      const bits = this.dtype === 'int16' ? 64 : 32;
      // int64 biases of 16x8 layers: TFLite's int64 MultiplyByQuantizedMultiplier takes
      // accumulators within ±2^47, so a bias may use ±2^46 (half of it).
      const limit = bits === 32 ? 2 ** 31 - 1 : 2 ** 46;
      const overflowing = (scaled: readonly number[]): number[] =>
        Array.from(biasValues, (v, c) => (Math.abs(roundHalfAway(v / scaled[c]!)) > limit ? c : -1)).filter((c) => c >= 0);
      let q = quantizeBias(biasValues, sIn, scales, bits);
      const overflow = overflowing(q.scales);
      if (overflow.length > 0) {
        // Widen the weight scale of each overflowing channel until its bias fits (with a
        // margin for float32 rounding), then quantize the weights and the bias again.
        const before = [...scales];
        for (const c of overflow) {
          const k = axis === null ? 0 : c;
          scales[k] = Math.max(scales[k]!, f32((Math.abs(biasValues[c]!) / (sIn * limit)) * (1 + 1e-6)));
        }
        const data =
          axis === null
            ? quantizeTensor(values, { scale: scales[0]!, qmin: -127, qmax: 127 })
            : quantizeTensor(values, { scale: scales, axis, shape: wTensor.shape, qmin: -127, qmax: 127 });
        weights = { ...weights, data, scales };
        widened = true;
        q = quantizeBias(biasValues, sIn, scales, bits);
        const changed = scales.flatMap((s, c) => (s !== before[c] ? [c] : []));
        const shown = changed.slice(0, 8).map((c) => `${axis === null ? 'tensor' : `channel ${c}`}: ${before[c]!.toExponential(3)} -> ${scales[c]!.toExponential(3)}`);
        this.out.diagnostics.push({
          level: 'warning',
          code: 'bias-scale-widened',
          message:
            `Operator ${i} (${this.names[i]}): the bias '${this.editor.tensor(b).name}' would overflow int${bits} at scale s_in·s_w; ` +
            `the weight scale was widened until it fits (${shown.join(', ')}${changed.length > 8 ? `, and ${changed.length - 8} more` : ''})`,
          op: i,
          tensor: this.editor.tensor(b).name,
        });
      }
      const biasScales = axis === null ? [q.scales[0] ?? f32(sIn * scales[0]!)] : q.scales;
      const biasIndex = this.addConstant(b, q.data, affine(biasScales, 0));
      const { min, max } = minMax(biasValues);
      this.report(biasIndex, { scale: Number.NaN, zeroPoint: 0, min, max }, axis === null ? null : 0);
      inputs[biasSlot] = biasIndex;
    }

    const key = `${w}:${axis}`;
    const cached = widened ? undefined : this.weightCache.get(key);
    let index: number;
    if (cached !== undefined) {
      index = cached.index;
    } else {
      const { min, max } = minMax(values);
      index = this.addConstant(w, weights.data, affine(scales, 0, { quantizedDimension: axis ?? 0 }));
      this.report(index, { scale: Number.NaN, zeroPoint: 0, min, max }, axis);
      if (!widened) this.weightCache.set(key, { index, scales });
    }
    inputs[weightSlot] = index;
  }

  // ---------------------------------------------------------------------------------------------
  // Rewrites.

  private rewriteQuantized(i: number): void {
    const editor = this.editor;
    const op = editor.operators[i]!;
    const property = this.decisions[i]!.property!;
    const original = this.originalInputs[i]!;
    const inputs = [...original];
    const y = op.outputs[0]!;
    const outParams = this.paramsOf(y);
    for (const [slot, x] of original.entries()) {
      if (x < 0) continue;
      const role = inputRole(property, slot);
      if (role.kind === 'activation') {
        inputs[slot] = this.isConstant(x) ? this.constantActivation(x).index : this.reprOf(x, 'q');
      } else if (role.kind === 'same-as-output') {
        if (this.isConstant(x)) {
          inputs[slot] = this.constantAt(x, outParams);
        } else {
          const own = this.hasParams(x) ? this.paramsOf(x) : null;
          const same = own !== null && own.scale === outParams.scale && own.zeroPoint === outParams.zeroPoint;
          inputs[slot] = this.reprOf(x, same ? 'q' : `r:${outParams.scale}:${outParams.zeroPoint}`);
        }
      }
    }
    this.quantizeWeightsAndBias(i, property, inputs);
    op.outputs = [this.reprOf(y, 'q')];
    op.inputs = inputs;
    property.special?.rewrite({
      ...this.specialContext(i),
      op,
      inputParams: this.inputParams(i, 0),
      outputParams: outParams,
      activationParams: (range) => activationParams(range, this.dtype),
      report: (t, range) => {
        const q = editor.tensor(t).quantization;
        this.report(t, { scale: q?.scale[0] ?? Number.NaN, zeroPoint: q?.zeroPoint[0] ?? 0, min: range?.min ?? Number.NaN, max: range?.max ?? Number.NaN });
      },
      out: this.out,
    });

    if (this.dtype === 'int16' && property.potScaleInt16Option !== undefined) {
      const kind = property.potScaleInt16Option;
      const options = op.builtinOptions;
      op.builtinOptions = options?.kind === kind ? { ...options, potScaleInt16: false } : builtinOptions(kind, { potScaleInt16: false });
    }
    const scaleOf = (slot: number): number | null => {
      const t = inputs[slot] ?? -1;
      return t >= 0 ? (editor.tensor(t).quantization?.scale[0] ?? null) : null;
    };
    const required = property.version({
      dtype: this.dtype,
      op,
      inputShapes: original.map((t) => (t >= 0 ? editor.tensor(t).shape : null)),
      inputScales: inputs.map((_, slot) => scaleOf(slot)),
      outputScale: outParams.scale,
    });
    const current = editor.operatorCodes[op.opcodeIndex]!.version;
    if (required > current) editor.setVersion(i, required);
  }

  private rewriteFloat(i: number): void {
    const op = this.editor.operators[i]!;
    op.inputs = this.originalInputs[i]!.map((x) => (this.isFloatActivation(x) ? this.reprOf(x, 'f') : x));
    op.outputs = op.outputs.map((y) => (this.isFloatActivation(y) ? this.reprOf(y, 'f') : y));
  }
}
