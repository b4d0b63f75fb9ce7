// The Keras model config (as tfjs and Keras serialize it) as a graph of layer calls.
//
// - Sequential: { class_name: 'Sequential', config: { layers: [{ class_name, config }] } } (or
//   config as the bare list, older Keras). The input is an explicit InputLayer or comes from the
//   first layer's batch_input_shape / input_shape; it is named '<first layer>_input', as tfjs
//   names it.
// - Functional ('Model', 'Functional'): layers with inbound_nodes; each node is one call of the
//   layer, its inputs given as [layer, node, tensor, kwargs] (tfjs, Keras 2) or as
//   { args: [...keras tensors with keras_history] } (Keras 3). input_layers / output_layers
//   name the model's inputs and outputs. A layer called more than once (shared weights) gives
//   one call per node.
// Calls come out in an order where every call follows the calls it reads from, restricted to
// what the outputs need. Layers with more than one output tensor are not supported (no layer the
// converter knows has one), so a reference to tensor index > 0 is an error.
import { describeValue, ModelFormatError } from '../errors.js';

export interface KerasLayer {
  readonly className: string;
  readonly name: string;
  readonly config: Readonly<Record<string, unknown>>;
}

/** A Keras tensor: output `index` of call `node` of layer `layer`. */
export interface TensorRef {
  readonly layer: string;
  readonly node: number;
  readonly index: number;
}

export interface LayerCall {
  readonly layer: KerasLayer;
  readonly node: number;
  readonly inputs: readonly TensorRef[];
  readonly output: TensorRef;
}

export interface ModelInput {
  readonly layer: KerasLayer;
  readonly ref: TensorRef;
  /** Including the batch dimension; null for an unknown size. */
  readonly batchShape: readonly (number | null)[];
  readonly dtype: string;
}

export interface KerasModel {
  readonly name: string;
  readonly inputs: readonly ModelInput[];
  readonly outputs: readonly TensorRef[];
  /** Every call the outputs depend on (InputLayers excluded), in dependency order. */
  readonly calls: readonly LayerCall[];
}

export const refKey = (ref: TensorRef): string => `${ref.layer}:${ref.node}:${ref.index}`;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function layerOf(entry: unknown, i: number, origin: string): KerasLayer & { readonly raw: Record<string, unknown> } {
  if (!isObject(entry) || typeof entry['class_name'] !== 'string') {
    throw new ModelFormatError(`${origin}: layer ${i} of the model config has no class_name`);
  }
  const config = isObject(entry['config']) ? entry['config'] : {};
  const name = typeof entry['name'] === 'string' ? entry['name'] : typeof config['name'] === 'string' ? config['name'] : null;
  if (name === null) throw new ModelFormatError(`${origin}: layer ${i} (${entry['class_name']}) has no name`);
  return { className: entry['class_name'], name, config, raw: entry };
}

function batchShapeOf(config: Readonly<Record<string, unknown>>): (number | null)[] | null {
  const shape = config['batch_input_shape'] ?? config['batch_shape'];
  if (Array.isArray(shape)) return shape as (number | null)[];
  const inputShape = config['input_shape'];
  if (Array.isArray(inputShape)) return [null, ...(inputShape as (number | null)[])];
  return null;
}

function checkShape(shape: readonly unknown[], layer: string, origin: string): void {
  if (shape.length === 0 || !shape.every((d) => d === null || (Number.isInteger(d) && (d as number) >= 0))) {
    throw new ModelFormatError(`${origin}: input layer '${layer}' has batch shape ${JSON.stringify(shape)}, expected [batch, ...dims] of integers or null`);
  }
}

function modelInput(layer: KerasLayer, shape: (number | null)[] | null, origin: string): ModelInput {
  if (shape === null) throw new ModelFormatError(`${origin}: input layer '${layer.name}' has no batch_input_shape`);
  checkShape(shape, layer.name, origin);
  const dtype = typeof layer.config['dtype'] === 'string' ? layer.config['dtype'] : 'float32';
  return { layer, ref: { layer: layer.name, node: 0, index: 0 }, batchShape: shape, dtype };
}

/** Parses the Keras model config of a Sequential or functional model. */
export function parseKerasModel(topology: unknown, origin: string): KerasModel {
  if (!isObject(topology) || typeof topology['class_name'] !== 'string') {
    throw new ModelFormatError(`${origin}: the model topology has no class_name (expected a Keras Sequential or functional model config)`);
  }
  const className = topology['class_name'];
  const config = topology['config'];
  if (className === 'Sequential') return parseSequential(config, origin);
  if (className === 'Model' || className === 'Functional') return parseFunctional(config, origin);
  throw new ModelFormatError(`${origin}: the model is a '${className}'; litequant converts Sequential and functional (Model) Layers models`);
}

function parseSequential(config: unknown, origin: string): KerasModel {
  const list = Array.isArray(config) ? config : isObject(config) ? config['layers'] : undefined;
  if (!Array.isArray(list)) throw new ModelFormatError(`${origin}: the Sequential model config has no layers array`);
  const name = isObject(config) && typeof config['name'] === 'string' ? config['name'] : 'sequential';
  const layers = list.map((entry, i) => layerOf(entry, i, origin));
  const first = layers[0];
  if (first === undefined) throw new ModelFormatError(`${origin}: the Sequential model has no layers`);
  let input: ModelInput;
  let rest: KerasLayer[];
  if (first.className === 'InputLayer') {
    input = modelInput(first, batchShapeOf(first.config), origin);
    rest = layers.slice(1);
  } else {
    const shape = batchShapeOf(first.config);
    if (shape === null) {
      throw new ModelFormatError(`${origin}: the first layer '${first.name}' of the Sequential model has no batch_input_shape (the model was never built)`);
    }
    const dtype = typeof first.config['dtype'] === 'string' ? first.config['dtype'] : 'float32';
    const inputLayer: KerasLayer = { className: 'InputLayer', name: `${first.name}_input`, config: { batch_input_shape: shape, dtype } };
    input = modelInput(inputLayer, shape, origin);
    rest = layers;
  }
  const calls: LayerCall[] = [];
  let previous = input.ref;
  for (const layer of rest) {
    const output = { layer: layer.name, node: 0, index: 0 };
    calls.push({ layer, node: 0, inputs: [previous], output });
    previous = output;
  }
  checkUniqueNames([input.layer, ...rest], origin);
  return { name, inputs: [input], outputs: [previous], calls };
}

function checkUniqueNames(layers: readonly KerasLayer[], origin: string): void {
  const seen = new Set<string>();
  for (const layer of layers) {
    if (seen.has(layer.name)) throw new ModelFormatError(`${origin}: two layers are named '${layer.name}'`);
    seen.add(layer.name);
  }
}

/** [layer, node, tensor] (optionally with kwargs after it) or a Keras 3 keras_history holder. */
function parseRef(value: unknown, where: string, origin: string): TensorRef {
  let triple: unknown = value;
  if (isObject(value)) {
    const history = isObject(value['config']) ? value['config']['keras_history'] : undefined;
    triple = history;
  }
  if (Array.isArray(triple) && typeof triple[0] === 'string' && Number.isInteger(triple[1]) && Number.isInteger(triple[2])) {
    return { layer: triple[0], node: triple[1] as number, index: triple[2] as number };
  }
  throw new ModelFormatError(`${origin}: ${where} is ${describeValue(value)}, expected [layer name, node index, tensor index]`);
}

/** The input refs of one inbound node in either serialization. */
function parseNode(node: unknown, where: string, origin: string): TensorRef[] {
  if (Array.isArray(node)) return node.map((ref, k) => parseRef(ref, `${where} input ${k}`, origin));
  if (isObject(node) && Array.isArray(node['args'])) {
    const refs: TensorRef[] = [];
    const visit = (arg: unknown): void => {
      if (Array.isArray(arg)) arg.forEach(visit);
      else if (isObject(arg) && arg['class_name'] === '__keras_tensor__') refs.push(parseRef(arg, `${where} input ${refs.length}`, origin));
    };
    node['args'].forEach(visit);
    return refs;
  }
  throw new ModelFormatError(`${origin}: ${where} is ${describeValue(node)}, expected a list of inbound tensors`);
}

/** input_layers / output_layers: a list of [layer, node, tensor] or (one tensor) the triple itself. */
function parseRefList(value: unknown, field: string, origin: string): TensorRef[] {
  if (!Array.isArray(value)) throw new ModelFormatError(`${origin}: the model config has no ${field} list`);
  if (typeof value[0] === 'string') return [parseRef(value, field, origin)];
  return value.map((ref, i) => parseRef(ref, `${field}[${i}]`, origin));
}

function parseFunctional(config: unknown, origin: string): KerasModel {
  if (!isObject(config) || !Array.isArray(config['layers'])) throw new ModelFormatError(`${origin}: the functional model config has no layers array`);
  const name = typeof config['name'] === 'string' ? config['name'] : 'model';
  const layers = config['layers'].map((entry, i) => layerOf(entry, i, origin));
  checkUniqueNames(layers, origin);
  const byName = new Map(layers.map((l) => [l.name, l]));

  // Every call (layer, node) with its inputs.
  const callsByKey = new Map<string, LayerCall>();
  for (const layer of layers) {
    if (layer.className === 'InputLayer') continue;
    const nodes = layer.raw['inbound_nodes'];
    if (!Array.isArray(nodes)) throw new ModelFormatError(`${origin}: layer '${layer.name}' has no inbound_nodes`);
    nodes.forEach((node, n) => {
      const inputs = parseNode(node, `inbound node ${n} of layer '${layer.name}'`, origin);
      const output = { layer: layer.name, node: n, index: 0 };
      callsByKey.set(refKey(output), { layer, node: n, inputs, output });
    });
  }

  const inputs = parseRefList(config['input_layers'], 'input_layers', origin).map((ref) => {
    const layer = byName.get(ref.layer);
    if (layer === undefined || layer.className !== 'InputLayer') {
      throw new ModelFormatError(`${origin}: input_layers names '${ref.layer}', which is not an InputLayer of the model`);
    }
    return modelInput(layer, batchShapeOf(layer.config), origin);
  });
  const outputs = parseRefList(config['output_layers'], 'output_layers', origin);
  const inputKeys = new Set(inputs.map((i) => refKey(i.ref)));

  // Depth-first from the outputs: each call after the calls it reads.
  const ordered: LayerCall[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (ref: TensorRef, from: string): void => {
    const layer = byName.get(ref.layer);
    if (layer === undefined) throw new ModelFormatError(`${origin}: ${from} reads layer '${ref.layer}', which the model does not have`);
    if (ref.index !== 0) {
      throw new ModelFormatError(`${origin}: ${from} reads output ${ref.index} of layer '${ref.layer}'; litequant converts layers with one output`);
    }
    if (layer.className === 'InputLayer') {
      if (!inputKeys.has(refKey({ ...ref, node: 0 }))) {
        throw new ModelFormatError(`${origin}: ${from} reads input layer '${ref.layer}', which is not in input_layers`);
      }
      return;
    }
    const key = refKey(ref);
    const call = callsByKey.get(key);
    if (call === undefined) throw new ModelFormatError(`${origin}: ${from} reads node ${ref.node} of layer '${ref.layer}', which has no such node`);
    const seen = state.get(key);
    if (seen === 'done') return;
    if (seen === 'visiting') throw new ModelFormatError(`${origin}: the layer graph has a cycle through layer '${ref.layer}'`);
    state.set(key, 'visiting');
    for (const input of call.inputs) visit(input, `layer '${layer.name}'`);
    state.set(key, 'done');
    ordered.push(call);
  };
  outputs.forEach((ref, i) => visit(ref, `output_layers[${i}]`));
  return { name, inputs, outputs, calls: ordered };
}
