// The op-property table of full-integer quantization (int8 and int16x8): for each builtin op the
// runtime runs quantized, which inputs are activations, weights (and their per-channel axis) or
// biases, what the output's parameters are (own calibrated range, the input's, or a fixed
// range), which inputs must carry the output's parameters, whether int8 and int16x8 kernels
// exist, and the op version the quantized op needs. Passes consult this table instead of
// switching on op types (the shape of TFLite's tools/optimize/operator_property.cc; the facts
// are TFLite's, the table is ours).
//
// Sources of the facts:
// - roles, per-channel axes, fixed ranges, same-scale ops: TFLite's 8-bit quantization spec and
//   the kernels' Prepare checks (SOFTMAX/LOGISTIC output 1/256 zp -128, TANH 1/128 zp 0 in int8;
//   1/32768 zp 0 in int16; AVERAGE/MAX_POOL, RESHAPE, TRANSPOSE, PAD, SLICE, GATHER, CONCATENATION
//   and SELECT_V2 copy quantized values, so their tensors must share the parameters).
// - versions: tools/versioning/op_version.cc GetBuiltinOperatorVersion, for the signatures this
//   quantizer writes. Its CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED int16 cases test
//   `inputs[1] == int16` (the filter), which never holds for 16x8 layers (int8 filters), so they
//   fall through to version 1; we write the version those branches mean (4, 5 and 7: the first
//   runtime versions with 16x8 kernels). The official runtime accepts any registered version,
//   older runtimes refuse a version they do not know: never write one below these.
import type { Operator } from '../ir/graph.js';
import { ActivationFunctionType, BuiltinOperator } from '../tflite/schema.js';
import {
  lstmInt8OutputParams,
  refuseLstmInt8,
  rewriteLstmInt8,
  type LstmActivationParams,
  type LstmInt8Context,
  type LstmInt8Rewrite,
} from './lstm.js';
import type { TensorRange } from './types.js';

/** How one input of a quantized op is treated. */
export type InputRole =
  /** Quantized with its own parameters: the calibrated range, or the data of a constant. */
  | { readonly kind: 'activation' }
  /** Must carry the output's parameters: requantized (QUANTIZE) when it does not. */
  | { readonly kind: 'same-as-output' }
  /** A constant quantized to int8, symmetric ([-127, 127], zero point 0), per channel along axis. */
  | { readonly kind: 'weight'; readonly axis: number | null }
  /** A constant quantized at scale s_in·s_w (zero point 0): int32 (int8 mode) or int64 (int16x8). */
  | { readonly kind: 'bias'; readonly input: number; readonly weight: number }
  /** Not real-valued (shapes, axes, indices, conditions): left as it is. */
  | { readonly kind: 'other' };

export type OutputRule =
  /** The output's own calibrated range. */
  | { readonly kind: 'own' }
  /** The parameters of input `input` (the op copies quantized values). */
  | { readonly kind: 'same-as-input'; readonly input: number }
  /** Parameters the kernel requires, whatever the range. */
  | { readonly kind: 'fixed'; readonly int8: FixedParams; readonly int16: FixedParams };

export interface FixedParams {
  readonly scale: number;
  readonly zeroPoint: number;
}

export type ActivationDtype = 'int8' | 'int16';

/** What a version rule sees of the quantized op. */
export interface VersionContext {
  readonly dtype: ActivationDtype;
  readonly op: Operator;
  /** Shapes of the op's inputs (null for an omitted optional input). */
  readonly inputShapes: readonly (readonly number[] | null)[];
  /** Scales of the quantized inputs and output (MUL's version depends on them). */
  readonly inputScales: readonly (number | null)[];
  readonly outputScale: number | null;
}

export interface OpProperty {
  /** Role of input slot i; slots past the end use `restInputs` (CONCATENATION's inputs). */
  readonly inputs: readonly InputRole[];
  readonly restInputs?: InputRole;
  readonly output: OutputRule;
  /** The official runtime (and ours) has a kernel with these activation types. */
  readonly int8: boolean;
  readonly int16: boolean;
  /** int16x8: ADD/SUB need pot_scale_int16 = false (general scales; TFLite's converter does the same). */
  readonly potScaleInt16Option?: 'AddOptions' | 'SubOptions';
  /** The version the quantized op needs. */
  readonly version: (ctx: VersionContext) => number;
  /**
   * Why this op cannot be quantized in this model (options or inputs the quantized kernels do
   * not take), or null when it can.
   */
  readonly refuse?: (op: Operator, dtype: ActivationDtype, isConstant: (tensor: number) => boolean) => string | null;
  /**
   * Ops whose tensors the roles above cannot describe (the LSTM: state tensors, intermediate
   * tensors, biases at derived scales): the pass quantizes input 0 and output 0 by the roles,
   * then the rule does the rest.
   */
  readonly special?: SpecialRule;
}

export interface SpecialRule {
  /** Why the op cannot be quantized (after the generic checks passed), or null. */
  readonly refuse: (ctx: LstmInt8Context) => string | null;
  readonly rewrite: (ctx: LstmInt8Rewrite) => void;
  /** The output's parameters from its calibrated range, when the rule fixes them (null: the usual ones). */
  readonly outputParams?: (ctx: LstmInt8Context, range: TensorRange) => LstmActivationParams | null;
}

const ACTIVATION: InputRole = { kind: 'activation' };
const SAME: InputRole = { kind: 'same-as-output' };
const OTHER: InputRole = { kind: 'other' };
const OWN: OutputRule = { kind: 'own' };
const SAME_AS_INPUT0: OutputRule = { kind: 'same-as-input', input: 0 };

/** 1/256 zp -128 (int8) and 1/32768 zp 0 (int16): probabilities in [0, 1]. */
const UNIT_INTERVAL: OutputRule = {
  kind: 'fixed',
  int8: { scale: 1 / 256, zeroPoint: -128 },
  int16: { scale: 1 / 32768, zeroPoint: 0 },
};
/** 1/128 zp 0 (int8) and 1/32768 zp 0 (int16): values in [-1, 1]. */
const SYMMETRIC_UNIT: OutputRule = {
  kind: 'fixed',
  int8: { scale: 1 / 128, zeroPoint: 0 },
  int16: { scale: 1 / 32768, zeroPoint: 0 },
};

/** int8 -> a, int16 -> b. */
const byDtype =
  (int8: number, int16: number) =>
  (ctx: VersionContext): number =>
    ctx.dtype === 'int16' ? int16 : int8;

const rank0 = (ctx: VersionContext): number => ctx.inputShapes[0]?.length ?? 0;

const constantWeights =
  (slot: number, what: string) =>
  (op: Operator, _dtype: ActivationDtype, isConstant: (t: number) => boolean): string | null => {
    const t = op.inputs[slot] ?? -1;
    return t >= 0 && isConstant(t) ? null : `its ${what} is not a constant (the quantized kernels take constant ${what})`;
  };

const constantBias =
  (slot: number) =>
  (op: Operator, _dtype: ActivationDtype, isConstant: (t: number) => boolean): string | null => {
    const t = op.inputs[slot] ?? -1;
    return t < 0 || isConstant(t) ? null : 'its bias is not a constant';
  };

function all(...checks: ((op: Operator, dtype: ActivationDtype, isConstant: (t: number) => boolean) => string | null)[]) {
  return (op: Operator, dtype: ActivationDtype, isConstant: (t: number) => boolean): string | null => {
    for (const check of checks) {
      const why = check(op, dtype, isConstant);
      if (why !== null) return why;
    }
    return null;
  };
}

const B = BuiltinOperator;

const TABLE: ReadonlyMap<number, OpProperty> = new Map<number, OpProperty>([
  [
    B.CONV_2D,
    {
      inputs: [ACTIVATION, { kind: 'weight', axis: 0 }, { kind: 'bias', input: 0, weight: 1 }],
      output: OWN,
      int8: true,
      int16: true,
      // Grouped convolution (input channels a multiple of the filter's) is version 6.
      version: (ctx) => {
        const inC = ctx.inputShapes[0]?.[3];
        const filterC = ctx.inputShapes[1]?.[3];
        if (inC !== undefined && filterC !== undefined && inC !== filterC) return 6;
        return ctx.dtype === 'int16' ? 4 : 3;
      },
      refuse: all(constantWeights(1, 'filter'), constantBias(2)),
    },
  ],
  [
    B.DEPTHWISE_CONV_2D,
    {
      inputs: [ACTIVATION, { kind: 'weight', axis: 3 }, { kind: 'bias', input: 0, weight: 1 }],
      output: OWN,
      int8: true,
      int16: true,
      version: byDtype(3, 5),
      refuse: all(constantWeights(1, 'filter'), constantBias(2)),
    },
  ],
  [
    B.FULLY_CONNECTED,
    {
      inputs: [ACTIVATION, { kind: 'weight', axis: 0 }, { kind: 'bias', input: 0, weight: 1 }],
      output: OWN,
      int8: true,
      int16: true,
      version: (ctx) => {
        if (ctx.dtype === 'int16') return 7;
        if (ctx.op.inputs.length === 2) return 6;
        const options = ctx.op.builtinOptions;
        if (options?.kind === 'FullyConnectedOptions' && options.keepNumDims) return 5;
        return 4;
      },
      refuse: all(
        constantWeights(1, 'weights'),
        constantBias(2),
        (op) => {
          const options = op.builtinOptions;
          return options?.kind === 'FullyConnectedOptions' && options.weightsFormat !== 0 ? 'its weights are in a shuffled format' : null;
        },
      ),
    },
  ],
  [
    B.BATCH_MATMUL,
    {
      // A constant rhs is quantized as a constant activation: symmetric (zero point 0), in the
      // activation type (int16x8 BATCH_MATMUL takes int16 operands).
      inputs: [ACTIVATION, ACTIVATION],
      output: OWN,
      int8: true,
      int16: true,
      version: byDtype(2, 3),
    },
  ],
  [
    B.ADD,
    {
      inputs: [ACTIVATION, ACTIVATION],
      output: OWN,
      int8: true,
      int16: true,
      potScaleInt16Option: 'AddOptions',
      version: byDtype(2, 3),
    },
  ],
  [
    B.SUB,
    {
      inputs: [ACTIVATION, ACTIVATION],
      output: OWN,
      int8: true,
      int16: true,
      potScaleInt16Option: 'SubOptions',
      version: (ctx) => {
        if (ctx.dtype === 'int16') return 5;
        const [a, b] = ctx.inputShapes;
        const broadcast = a !== null && b !== null && a !== undefined && b !== undefined && a.join() !== b.join();
        if (broadcast && Math.max(a.length, b.length) > 4) return 3;
        return 2;
      },
    },
  ],
  [
    B.MUL,
    {
      inputs: [ACTIVATION, ACTIVATION],
      output: OWN,
      int8: true,
      int16: true,
      version: (ctx) => {
        if (ctx.dtype === 'int16') return 4;
        const [s1, s2] = ctx.inputScales;
        const so = ctx.outputScale;
        if (s1 && s2 && so && (s1 * s2) / so >= 1) return 3;
        return 2;
      },
    },
  ],
  [
    B.SQUARED_DIFFERENCE,
    // TFLite has no int16 SQUARED_DIFFERENCE kernel.
    { inputs: [ACTIVATION, ACTIVATION], output: OWN, int8: true, int16: false, version: () => 2 },
  ],
  [B.RSQRT, { inputs: [ACTIVATION], output: OWN, int8: true, int16: true, version: byDtype(2, 3) }],
  [B.AVERAGE_POOL_2D, { inputs: [ACTIVATION], output: SAME_AS_INPUT0, int8: true, int16: true, version: byDtype(2, 3) }],
  [B.MAX_POOL_2D, { inputs: [ACTIVATION], output: SAME_AS_INPUT0, int8: true, int16: true, version: byDtype(2, 3) }],
  [
    B.MEAN,
    { inputs: [ACTIVATION, OTHER], output: OWN, int8: true, int16: true, version: byDtype(2, 3), refuse: constantOther(1, 'axes') },
  ],
  [B.RESHAPE, { inputs: [ACTIVATION, OTHER], output: SAME_AS_INPUT0, int8: true, int16: true, version: () => 1 }],
  [B.SQUEEZE, { inputs: [ACTIVATION], output: SAME_AS_INPUT0, int8: true, int16: true, version: () => 1 }],
  [B.EXPAND_DIMS, { inputs: [ACTIVATION, OTHER], output: SAME_AS_INPUT0, int8: true, int16: true, version: () => 1 }],
  [
    B.TRANSPOSE,
    {
      inputs: [ACTIVATION, OTHER],
      output: SAME_AS_INPUT0,
      int8: true,
      int16: true,
      version: (ctx) => (rank0(ctx) > 5 ? 6 : ctx.dtype === 'int16' ? 5 : rank0(ctx) > 4 ? 4 : 2),
      refuse: constantOther(1, 'permutation'),
    },
  ],
  [
    B.CONCATENATION,
    {
      inputs: [],
      restInputs: SAME,
      output: OWN,
      int8: true,
      int16: true,
      version: byDtype(2, 3),
      refuse: (op) => {
        const options = op.builtinOptions;
        return options?.kind === 'ConcatenationOptions' && options.fusedActivationFunction !== ActivationFunctionType.NONE
          ? 'it has a fused activation (the runtimes concatenate without one)'
          : null;
      },
    },
  ],
  [
    B.PAD,
    {
      inputs: [ACTIVATION, OTHER],
      output: SAME_AS_INPUT0,
      int8: true,
      int16: true,
      version: (ctx) => (rank0(ctx) > 4 ? 4 : ctx.dtype === 'int16' ? 3 : 2),
      refuse: constantOther(1, 'paddings'),
    },
  ],
  [
    B.PADV2,
    {
      // constant_values holds a raw quantized value: it carries the output's parameters.
      inputs: [ACTIVATION, OTHER, SAME],
      output: SAME_AS_INPUT0,
      int8: true,
      int16: true,
      version: (ctx) => (rank0(ctx) > 4 ? 4 : ctx.dtype === 'int16' ? 3 : 2),
      refuse: all(constantOther(1, 'paddings'), (op, _d, isConstant) => {
        const t = op.inputs[2] ?? -1;
        return t < 0 || isConstant(t) ? null : 'its constant_values input is not a constant';
      }),
    },
  ],
  [
    B.SLICE,
    {
      inputs: [ACTIVATION, OTHER, OTHER],
      output: SAME_AS_INPUT0,
      int8: true,
      int16: true,
      version: (ctx) => (rank0(ctx) > 4 ? 5 : ctx.dtype === 'int16' ? 4 : 2),
      refuse: all(constantOther(1, 'begin'), constantOther(2, 'size')),
    },
  ],
  [
    B.GATHER,
    {
      inputs: [ACTIVATION, OTHER],
      output: SAME_AS_INPUT0,
      int8: true,
      int16: true,
      version: (ctx) => {
        const options = ctx.op.builtinOptions;
        if (options?.kind === 'GatherOptions' && options.batchDims !== 0) return 5;
        return ctx.dtype === 'int16' ? 4 : 2;
      },
    },
  ],
  [
    B.SELECT_V2,
    // SELECT copies values: both value inputs carry the output's parameters.
    { inputs: [OTHER, SAME, SAME], output: OWN, int8: true, int16: true, version: () => 1 },
  ],
  [B.SOFTMAX, { inputs: [ACTIVATION], output: UNIT_INTERVAL, int8: true, int16: true, version: byDtype(2, 3) }],
  [B.LOGISTIC, { inputs: [ACTIVATION], output: UNIT_INTERVAL, int8: true, int16: true, version: byDtype(2, 3) }],
  [B.TANH, { inputs: [ACTIVATION], output: SYMMETRIC_UNIT, int8: true, int16: true, version: byDtype(2, 3) }],
  [B.RELU, { inputs: [ACTIVATION], output: OWN, int8: true, int16: true, version: byDtype(2, 3) }],
  [B.RELU6, { inputs: [ACTIVATION], output: OWN, int8: true, int16: true, version: byDtype(2, 3) }],
  [
    B.UNIDIRECTIONAL_SEQUENCE_LSTM,
    // TFLite's 8x8->16 integer LSTM (version 1); its 16x8 form (version 5) has no kernel here.
    {
      inputs: [ACTIVATION],
      output: OWN,
      int8: true,
      int16: false,
      version: () => 1,
      special: { refuse: refuseLstmInt8, rewrite: rewriteLstmInt8, outputParams: lstmInt8OutputParams },
    },
  ],
  // TFLite's RELU_N1_TO_1 has int8 and uint8 kernels only.
  [B.RELU_N1_TO_1, { inputs: [ACTIVATION], output: OWN, int8: true, int16: false, version: () => 1 }],
]);

function constantOther(slot: number, what: string) {
  return (op: Operator, _dtype: ActivationDtype, isConstant: (t: number) => boolean): string | null => {
    const t = op.inputs[slot] ?? -1;
    return t < 0 || isConstant(t) ? null : `its ${what} input is not a constant`;
  };
}

/** The op's property, or null when no quantized kernel exists for it. */
export function opProperty(code: number): OpProperty | null {
  return TABLE.get(code) ?? null;
}

/** The role of input slot `slot` of an op with property `property`. */
export function inputRole(property: OpProperty, slot: number): InputRole {
  return property.inputs[slot] ?? property.restInputs ?? OTHER;
}

/** Every builtin op code in the table (for tests and documentation). */
export function quantizableOps(): number[] {
  return [...TABLE.keys()];
}

/** QUANTIZE's version: 2 when it writes int16 (op_version.cc). */
export function quantizeVersion(outputDtype: 'int8' | 'int16' | 'uint8'): number {
  return outputDtype === 'int16' ? 2 : 1;
}

/** DEQUANTIZE's version: 3 for int16 input, 2 for int8, 1 for uint8 (op_version.cc). */
export function dequantizeVersion(inputDtype: 'int8' | 'int16' | 'uint8'): number {
  return inputDtype === 'int16' ? 3 : inputDtype === 'int8' ? 2 : 1;
}
