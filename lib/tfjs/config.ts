// What every layer rule shares: the Unsupported signal, the context a rule converts in, reading
// layer configs (with ModelFormatError for malformed values), and activations (which ones
// convert, which fuse into the op before them, and the standalone ops).
import { ModelFormatError } from '../errors.js';
import { builtinOptions } from '../ir/builder.js';
import { ActivationFunctionType, BuiltinOperator, Padding } from '../tflite/schema.js';
import type { TfjsWeight } from './artifacts.js';
import type { Emitter, Value } from './emit.js';
import type { KerasLayer, LayerCall, TensorRef } from './topology.js';

/** A layer (or a configuration of it) that has no TFLite equivalent here; the message is the reason. */
export class Unsupported extends Error {}

export interface ConvertContext {
  readonly emit: Emitter;
  /** A weight of the layer by its Keras name ('kernel'); a missing one is a ModelFormatError. */
  weight(layer: KerasLayer, param: string): TfjsWeight;
  /** The one call that reads `ref` (once), when nothing else reads it and it is not a model output. */
  soleConsumer(ref: TensorRef): LayerCall | null;
  /** Marks a later call as done by the ops of this one (a folded BatchNormalization, a fused ReLU). */
  absorb(call: LayerCall): void;
  /** The converted value of a Keras tensor. */
  define(ref: TensorRef, value: Value): void;
}

export interface LayerRule {
  /** Throws Unsupported for a configuration the rule cannot convert. */
  readonly check?: (layer: KerasLayer) => void;
  readonly convert: (call: LayerCall, inputs: readonly Value[], ctx: ConvertContext) => void;
}

// ---------------------------------------------------------------------------------------------
// Reading layer configs

export function where(layer: KerasLayer): string {
  return `${layer.className} layer '${layer.name}'`;
}

export function num(layer: KerasLayer, key: string, fallback?: number): number {
  const value = layer.config[key];
  if ((value === undefined || value === null) && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ModelFormatError(`${where(layer)}: ${key} is ${JSON.stringify(value) ?? 'missing'}, expected a number`);
  }
  return value;
}

export function int(layer: KerasLayer, key: string, fallback?: number): number {
  const value = num(layer, key, fallback);
  if (!Number.isInteger(value)) throw new ModelFormatError(`${where(layer)}: ${key} is ${value}, expected an integer`);
  return value;
}

export function str(layer: KerasLayer, key: string, fallback: string): string {
  const value = layer.config[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string') throw new ModelFormatError(`${where(layer)}: ${key} is ${JSON.stringify(value)}, expected a string`);
  return value;
}

export function bool(layer: KerasLayer, key: string, fallback: boolean): boolean {
  const value = layer.config[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new ModelFormatError(`${where(layer)}: ${key} is ${JSON.stringify(value)}, expected true or false`);
  return value;
}

/** kernel_size, strides...: one integer for both axes, or [h, w]. */
export function pair(layer: KerasLayer, key: string, fallback?: readonly [number, number]): [number, number] {
  const value = layer.config[key];
  if ((value === undefined || value === null) && fallback !== undefined) return [...fallback];
  const list = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(list) || list.length !== 2 || !list.every((v) => Number.isInteger(v) && (v as number) > 0)) {
    throw new ModelFormatError(`${where(layer)}: ${key} is ${JSON.stringify(value) ?? 'missing'}, expected a positive integer or two`);
  }
  return [list[0] as number, list[1] as number];
}

export function channelsLast(layer: KerasLayer): void {
  const format = str(layer, 'data_format', 'channels_last');
  if (format !== 'channels_last') {
    throw new Unsupported(`data_format '${format}': TFLite is channels_last (NHWC); build the model with dataFormat 'channelsLast'`);
  }
}

export function paddingOf(layer: KerasLayer): 'same' | 'valid' {
  const padding = str(layer, 'padding', 'valid');
  if (padding !== 'same' && padding !== 'valid') throw new Unsupported(`padding '${padding}' (TFLite has 'same' and 'valid')`);
  return padding;
}

export const TFLITE_PADDING = { same: Padding.SAME, valid: Padding.VALID } as const;

/** An axis of a rank-`rank` tensor, negative counting from the end (Keras' convention). */
export function axisOf(layer: KerasLayer, key: string, fallback: number, rank: number): number {
  let value = layer.config[key];
  if (Array.isArray(value) && value.length === 1) value = value[0];
  const axis = value === undefined || value === null ? fallback : value;
  if (!Number.isInteger(axis) || (axis as number) < -rank || (axis as number) >= rank) {
    throw new ModelFormatError(`${where(layer)}: ${key} is ${JSON.stringify(value)}, expected an axis of a rank-${rank} tensor`);
  }
  return (axis as number) < 0 ? (axis as number) + rank : (axis as number);
}

export function count(shape: readonly number[]): number {
  return shape.reduce((a, d) => a * d, 1);
}

export function checkWeightShape(layer: KerasLayer, w: TfjsWeight, shape: readonly number[]): void {
  if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
    throw new ModelFormatError(`${where(layer)}: weight '${w.name}' has shape [${w.shape.join(', ')}] but the layer needs [${shape.join(', ')}]`);
  }
}

// ---------------------------------------------------------------------------------------------
// Activations

export type Activation = 'linear' | 'relu' | 'relu6' | 'sigmoid' | 'tanh' | 'softmax';

export const ACTIVATION_OPS: Readonly<Record<Exclude<Activation, 'linear'>, BuiltinOperator>> = {
  relu: BuiltinOperator.RELU,
  relu6: BuiltinOperator.RELU6,
  sigmoid: BuiltinOperator.LOGISTIC,
  tanh: BuiltinOperator.TANH,
  softmax: BuiltinOperator.SOFTMAX,
};

/** The fused_activation_function an activation becomes, or null when it needs its own op. */
export const FUSED: Readonly<Partial<Record<Activation, ActivationFunctionType>>> = {
  linear: ActivationFunctionType.NONE,
  relu: ActivationFunctionType.RELU,
  relu6: ActivationFunctionType.RELU6,
};

export function activationName(value: unknown, what: string): Activation {
  let name = value;
  if (name !== null && typeof name === 'object' && typeof (name as { class_name?: unknown }).class_name === 'string') {
    name = (name as { class_name: string }).class_name; // Keras 3 serializes some as objects
  }
  if (name === undefined || name === null) return 'linear';
  if (typeof name === 'string') {
    const lower = name.toLowerCase();
    if (lower === 'linear' || lower === 'relu' || lower === 'relu6' || lower === 'sigmoid' || lower === 'tanh' || lower === 'softmax') return lower;
  }
  throw new Unsupported(`${what} ${JSON.stringify(name)} (converted activations: linear, relu, relu6, sigmoid, tanh, softmax)`);
}

/** The activation of an activation layer (Activation, ReLU, Softmax), or null for other layers. */
export function activationLayerKind(layer: KerasLayer): Activation | null {
  switch (layer.className) {
    case 'Activation':
      return activationName(layer.config['activation'], 'activation');
    case 'ReLU': {
      const slope = num(layer, 'negative_slope', 0);
      const threshold = num(layer, 'threshold', 0);
      if (slope !== 0 || threshold !== 0) throw new Unsupported(`negative_slope ${slope} / threshold ${threshold} (only the plain ReLU converts)`);
      const max = layer.config['max_value'];
      if (max === undefined || max === null) return 'relu';
      if (max === 6) return 'relu6';
      throw new Unsupported(`max_value ${JSON.stringify(max)} (TFLite has RELU and RELU6: max_value null or 6)`);
    }
    case 'Softmax':
      return 'softmax';
    default:
      return null;
  }
}

/** The activation layer reading `ref` alone, when it is relu or relu6 (to fuse). */
export function fusableActivation(ref: TensorRef, ctx: ConvertContext): { call: LayerCall; fused: ActivationFunctionType } | null {
  const next = ctx.soleConsumer(ref);
  if (next === null) return null;
  let kind: Activation | null;
  try {
    kind = activationLayerKind(next.layer);
  } catch {
    return null; // an unsupported activation layer: reported by its own rule
  }
  const fused = kind === null ? undefined : FUSED[kind];
  return fused === undefined || kind === 'linear' ? null : { call: next, fused };
}

/** Emits a standalone activation op from `input` into a new tensor named `name`. */
export function emitActivation(kind: Activation, input: Value, name: string, ctx: ConvertContext, softmaxAxis?: number): Value {
  if (kind === 'linear') return input;
  const rank = input.shape.length;
  if (kind === 'softmax' && (softmaxAxis ?? rank - 1) !== rank - 1) {
    throw new Unsupported(`softmax over axis ${softmaxAxis} of a rank-${rank} tensor (TFLite's SOFTMAX is over the last axis)`);
  }
  const out = ctx.emit.activation(name, input.shape);
  const options = kind === 'softmax' ? builtinOptions('SoftmaxOptions', { beta: 1 }) : null;
  ctx.emit.op(ACTIVATION_OPS[kind], [input.tensor], [out.tensor], options);
  return out;
}
