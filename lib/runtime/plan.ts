// The execution plan: subgraph 0 of a Graph compiled once into a list of steps, one per
// operator, each a closure over preallocated tensor buffers (tensors.ts).
//
// - The implementation of an operator is chosen by ops/index.ts from (builtin op, input and
//   output dtypes): native kernels with weights packed here, once, or lib/runtime/reference-ops.
// - An operator or dtype without an implementation is an UnsupportedOperatorError at load naming
//   the operator, its index and its dtypes.
import { InvalidArgumentError, ModelFormatError, UnsupportedOperatorError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import { BuiltinOperator, TensorType } from '../tflite/schema.js';
import { copyInto, type Compiled } from './ops/context.js';
import { OP_COMPILERS } from './ops/index.js';
import { planMemory } from './memory-plan.js';
import { allocate, byteSize, elementCount, isConstantTensor, planTensor, runShape, typeName, viewOf, type PlanTensor, type TensorData } from './tensors.js';

export type { PlanTensor, TensorData } from './tensors.js';

/** One compiled operator. */
export interface PlanStep {
  /** Operator index in subgraph 0. */
  readonly index: number;
  /** The op's name, e.g. 'CONV_2D'. */
  readonly op: string;
  /** Which implementation runs it, e.g. 'native int8 conv2d (qs8_...)' or 'reference'. */
  readonly impl: string;
  readonly run: () => void;
  /** The tensors the step writes (their data is valid right after run(), until reused). */
  readonly outputs: readonly PlanTensor[];
}

export interface Plan {
  readonly inputs: readonly PlanTensor[];
  readonly outputs: readonly PlanTensor[];
  readonly steps: readonly PlanStep[];
  /** The batch a dynamic (-1) first dimension runs at. */
  readonly batch: number;
  /** Activation memory: the arena's size, and what one buffer per tensor would take. */
  readonly memory: { readonly arenaBytes: number; readonly separateBytes: number };
  /** Variable tensors (LSTM state) and the values a reset gives them. */
  readonly variables: readonly { readonly tensor: PlanTensor; readonly initial: TensorData }[];
  /** Variable tensors keep their values from run to run (else every run starts from a reset). */
  readonly keepState: boolean;
}

export interface PlanOptions {
  /** Threads per native call (1..256, 0 = one per core). Default 1. */
  readonly threads?: number;
  /** Size of a dynamic (-1) batch dimension. Default: the static shape (1 in the file). */
  readonly batch?: number;
  /**
   * Calibration: receives the values an op computes inside itself for its intermediate tensors
   * (the float LSTM's gate pre-activations and hidden output), once per time step. Ops that have
   * such values run their reference implementation when this is set.
   */
  readonly observeIntermediate?: IntermediateObserver;
  /**
   * Keep variable tensors (LSTM state) from one run to the next, as TFLite's interpreter does
   * until ResetVariableTensors. Default false: every run starts from the reset state, so runs
   * are independent.
   */
  readonly keepState?: boolean;
}

/** `(operator index, intermediate slot, values)`: the values are a view valid during the call. */
export type IntermediateObserver = (opIndex: number, slot: number, values: Float32Array) => void;

const OP_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(BuiltinOperator).map(([name, code]) => [code as number, name]),
);

function opName(code: number): string {
  return OP_NAMES.get(code) ?? `builtin ${code}`;
}

/** Compiles subgraph 0 of the graph. Throws UnsupportedOperatorError for unsupported ops/dtypes. */
export function compilePlan(graph: Graph, options: PlanOptions = {}): Plan {
  const threads = options.threads ?? 1;
  const subgraph = graph.subgraphs[0];
  if (subgraph === undefined) throw new ModelFormatError('the model has no subgraph');
  const produced = new Set<number>(subgraph.inputs);
  for (const op of subgraph.operators) for (const o of op.outputs) produced.add(o);

  const batch = options.batch ?? null;
  const shapes = subgraph.tensors.map((t) => runShape(t, batch));
  const constant = subgraph.tensors.map((t, i) => isConstantTensor(graph, t, produced.has(i)));
  // A DEQUANTIZE of a constant (float16 and weight-only models) runs once, here: its output is a
  // constant too (outside the arena), so the layer that reads it packs float weights.
  const folded = new Set<number>();
  subgraph.operators.forEach((op, index) => {
    const input = op.inputs[0] ?? -1;
    const output = op.outputs[0] ?? -1;
    if (graph.operatorCodes[op.opcodeIndex]?.builtinCode === BuiltinOperator.DEQUANTIZE && constant[input] === true && output >= 0) {
      folded.add(index);
      constant[output] = true;
    }
  });
  const foldedOutputs = new Set([...folded].map((i) => subgraph.operators[i]!.outputs[0]!));
  const bytes = subgraph.tensors.map((t, i) => byteSize(t.type, shapes[i]!, `tensor ${i} (${t.name}) of subgraph 0`));
  const memory = planMemory(subgraph, bytes, constant);
  const arena = new ArrayBuffer(memory.arenaBytes);
  const tensors: PlanTensor[] = subgraph.tensors.map((t, index) => {
    const shape = shapes[index]!;
    if (foldedOutputs.has(index)) return { ...planTensor(graph, t, index, shape, allocate(t.type, elementCount(shape), `tensor ${index}`)), constant: true };
    const storage = constant[index] === true ? null : viewOf(t.type, arena, Math.max(0, memory.offsets[index]!), elementCount(shape), `tensor ${index}`);
    return planTensor(graph, t, index, shape, storage);
  });
  const tensorAt = (i: number, where: string): PlanTensor => {
    const t = tensors[i];
    if (t === undefined) throw new ModelFormatError(`${where}: tensor index ${i} out of range`);
    return t;
  };

  const steps = subgraph.operators.map((op, index) => {
    const code = graph.operatorCodes[op.opcodeIndex];
    if (code === undefined) throw new ModelFormatError(`operator ${index}: opcode index ${op.opcodeIndex} out of range`);
    const name = opName(code.builtinCode);
    const where = `operator ${index} (${name}) of subgraph 0`;
    const ins = op.inputs.map((i) => (i < 0 ? null : tensorAt(i, where)));
    const outs = op.outputs.map((i) => tensorAt(i, where));
    const intermediates = (op.intermediates ?? []).map((i) => (i < 0 ? null : tensorAt(i, where)));
    const input = ins[0] ?? null;
    const output = outs[0];
    const compiler = OP_COMPILERS.get(code.builtinCode);
    let step: Compiled | null = null;
    try {
      if (compiler !== undefined && input !== null && output !== undefined) {
        const put = (source: TensorData): void => copyInto(output.data, source, where);
        const observe = options.observeIntermediate;
        const observeIntermediate = observe === undefined ? undefined : (slot: number, values: Float32Array): void => observe(index, slot, values);
        step = compiler({ code: code.builtinCode, op, ins, outs, intermediates, input, output, where, threads, put, observeIntermediate });
      }
    } catch (error) {
      throw withContext(error, index, where);
    }
    if (step === null) {
      const dtypes = `inputs [${ins.map((t) => (t === null ? '-' : typeName(t.type))).join(', ')}], outputs [${outs
        .map((t) => typeName(t.type))
        .join(', ')}]`;
      throw new UnsupportedOperatorError(
        name,
        index,
        `Operator ${index} of subgraph 0 is ${name} with ${dtypes}: the runtime has no implementation for this op with these types`,
      );
    }
    if (folded.has(index)) {
      try {
        step.run();
      } catch (error) {
        throw withContext(error, index, where);
      }
      return { index, op: name, impl: `${step.impl}, folded at load`, run: () => {}, outputs: outs };
    }
    return { index, op: name, impl: step.impl, run: step.run, outputs: outs };
  });

  // Reset values are read before the dry run below writes the state.
  const variables = subgraph.tensors.flatMap((t, i) => (t.isVariable ? [{ tensor: tensors[i]!, initial: initialValue(tensors[i]!) }] : []));
  // One run on the zero-filled inputs: every shape mismatch between an op's result and its
  // output tensor (and any error an op raises on the model's parameters) surfaces here, at load.
  for (const step of steps) {
    try {
      step.run();
    } catch (error) {
      throw withContext(error, step.index, `operator ${step.index} (${step.op}) of subgraph 0`);
    }
  }
  new Uint8Array(arena).fill(0);

  const plan: Plan = {
    inputs: subgraph.inputs.map((i) => tensorAt(i, 'subgraph 0 inputs')),
    outputs: subgraph.outputs.map((i) => tensorAt(i, 'subgraph 0 outputs')),
    steps,
    batch: tensors[subgraph.inputs[0] ?? -1]?.shape[0] ?? 1,
    memory: { arenaBytes: memory.arenaBytes, separateBytes: memory.separateBytes },
    variables,
    keepState: options.keepState ?? false,
  };
  resetState(plan);
  return plan;
}

/**
 * A variable tensor's reset value, as TFLite's ResetVariableTensor: what its buffer holds (a
 * plan-owned copy), else zeros, or the zero point for int8.
 */
function initialValue(t: PlanTensor): TensorData {
  const initial = t.data.slice() as TensorData;
  if (!t.constant) initial.fill(t.type === TensorType.INT8 ? ((t.quantization?.zeroPoint ?? 0) as never) : (0 as never));
  return initial;
}

/** Restores every variable tensor to its reset value. */
export function resetState(plan: Plan): void {
  for (const { tensor, initial } of plan.variables) (tensor.data as Float32Array).set(initial as Float32Array);
}

/**
 * An error raised while packing or running operator `index`: kept when its message already
 * names the operator, otherwise a ModelFormatError that does (the model's parameters are what a
 * kernel refused).
 */
function withContext(error: unknown, index: number, where: string): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof UnsupportedOperatorError) return error.index === index ? error : new UnsupportedOperatorError(error.op, index, message, { cause: error });
  if ((error instanceof ModelFormatError || error instanceof InvalidArgumentError) && message.includes(`operator ${index} `)) {
    return error;
  }
  return new ModelFormatError(`${where}: ${message}`, { cause: error });
}

/**
 * Runs the plan on one array per input (already checked by the caller) and returns copies of
 * the outputs. With `stepMs`, adds each step's wall time (milliseconds) to stepMs[step].
 * `afterStep(step)` is called right after each step, while its outputs are still in the arena
 * (calibration observes every activation this way).
 */
export function runPlan(
  plan: Plan,
  inputs: readonly TensorData[],
  stepMs?: Float64Array,
  afterStep?: (step: PlanStep) => void,
): TensorData[] {
  if (!plan.keepState) resetState(plan);
  plan.inputs.forEach((t, i) => (t.data as Float32Array).set(inputs[i] as Float32Array));
  if (afterStep !== undefined) {
    for (const step of plan.steps) {
      step.run();
      afterStep(step);
    }
  } else if (stepMs === undefined) {
    for (const step of plan.steps) step.run();
  } else {
    plan.steps.forEach((step, i) => {
      const start = performance.now();
      step.run();
      stepMs[i]! += performance.now() - start;
    });
  }
  return plan.outputs.map((t) => t.data.slice() as TensorData);
}
