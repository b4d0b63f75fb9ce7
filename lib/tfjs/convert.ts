// fromTfjs(model): a TensorFlow.js Layers model (model.json + weight shards on disk, or an
// in-memory tf.LayersModel) to a float32 .tflite.
//
// 1. artifacts.ts reads the Keras topology and the weights (no @tensorflow/tfjs needed).
// 2. topology.ts turns the topology into layer calls in dependency order (Sequential or
//    functional), restricted to what the outputs need.
// 3. Identity layers (Dropout and the like, Activation 'linear') are removed by pointing their
//    readers at their input.
// 4. Each call goes through its rule in layers.ts (which fuses BatchNormalization and relu/relu6
//    into the conv/dense before them). Every layer that cannot convert is collected, with the
//    reason, and one UnsupportedLayerError lists them all.
// 5. Model inputs: batch 1 with shape_signature [-1, ...] when the Keras batch is null; an input
//    read only by Embedding layers is int32 (the indices), others float32. Every other dimension
//    must be known. Tensors are named after their Keras layers; a SignatureDef 'serving_default'
//    maps the input and output layer names to the tensors.
import { ModelFormatError, UnsupportedOperatorError } from '../errors.js';
import type { Graph, SignatureDef } from '../ir/graph.js';
import { TensorType } from '../tflite/schema.js';
import { writeModel } from '../tflite/write.js';
import { loadTfjsModel, type TfjsLayersModelLike, type TfjsModelArtifacts, type TfjsModelSource, type TfjsWeight } from './artifacts.js';
import { Emitter, type Value } from './emit.js';
import { isIdentity, LAYER_ALIASES, LAYER_RULES, Unsupported, type ConvertContext } from './layers.js';
import { parseKerasModel, refKey, type KerasLayer, type KerasModel, type LayerCall, type TensorRef } from './topology.js';

/** What fromTfjs accepts: a path (or file: URL) to model.json or its directory, a tf.LayersModel, or ModelArtifacts. */
export type TfjsModelInput = string | URL | TfjsLayersModelLike | TfjsModelArtifacts;

export interface UnsupportedLayer {
  readonly className: string;
  readonly name: string;
  readonly reason: string;
}

/**
 * The TensorFlow.js model has layers (or layer settings) with no TFLite conversion. `layers`
 * lists every one; `op` and `index` (of UnsupportedOperatorError) are the first one's class and
 * its position among the model's layer calls (-1 for an input layer).
 */
export class UnsupportedLayerError extends UnsupportedOperatorError {
  readonly layers: readonly UnsupportedLayer[];
  constructor(layers: readonly UnsupportedLayer[], index: number, origin: string) {
    const list = layers.map((l) => `  ${l.className} '${l.name}': ${l.reason}`).join('\n');
    const n = layers.length;
    super(
      layers[0]?.className ?? '',
      index,
      `${origin}: ${n} layer${n === 1 ? '' : 's'} cannot be converted to TFLite:\n${list}\n` +
        `(converted: ${[...LAYER_RULES.keys()].join(', ')}, InputLayer, Dropout and other inference-time identities)`,
    );
    this.layers = layers;
  }
}

/** Converts a TensorFlow.js Layers model to a float32 .tflite model (the file's bytes). */
export async function fromTfjs(model: TfjsModelInput): Promise<Uint8Array> {
  return writeModel(await tfjsToGraph(model));
}

/** As fromTfjs, but the Graph (before writing). */
export async function tfjsToGraph(model: TfjsModelInput): Promise<Graph> {
  const source = await loadTfjsModel(model);
  return convertSource(source);
}

function ruleName(layer: KerasLayer): string {
  return LAYER_ALIASES[layer.className] ?? layer.className;
}

/** Removes identity calls: every reader of an identity's output reads its input instead. */
function withoutIdentities(model: KerasModel): KerasModel {
  const alias = new Map<string, TensorRef>();
  const resolve = (ref: TensorRef): TensorRef => alias.get(refKey(ref)) ?? ref;
  const calls: LayerCall[] = [];
  for (const call of model.calls) {
    const inputs = call.inputs.map(resolve);
    if (isIdentity(call.layer) && inputs.length === 1) {
      alias.set(refKey(call.output), inputs[0]!);
      continue;
    }
    calls.push({ ...call, inputs });
  }
  return { ...model, calls, outputs: model.outputs.map(resolve) };
}

function convertSource(source: TfjsModelSource): Graph {
  const origin = source.origin;
  const model = withoutIdentities(parseKerasModel(source.topology, origin));
  if (model.calls.length === 0) throw new ModelFormatError(`${origin}: the model has no layers between its inputs and outputs`);

  const readers = new Map<string, LayerCall[]>();
  for (const call of model.calls) {
    for (const ref of call.inputs) {
      const key = refKey(ref);
      readers.set(key, [...(readers.get(key) ?? []), call]);
    }
  }
  const outputKeys = new Set(model.outputs.map(refKey));
  const unsupported: { layer: UnsupportedLayer; index: number }[] = [];
  const report = (layer: KerasLayer, reason: string, index: number): void => {
    if (!unsupported.some((u) => u.layer.name === layer.name)) unsupported.push({ layer: { className: layer.className, name: layer.name, reason }, index });
  };

  // Inputs: the batch may be dynamic; everything else must be known.
  const dynamicBatch = model.inputs.every((i) => i.batchShape[0] === null);
  const emit = new Emitter(dynamicBatch);
  const values = new Map<string, Value>();
  for (const input of model.inputs) {
    const unknown = input.batchShape.slice(1).findIndex((d) => d === null);
    if (unknown >= 0) {
      report(input.layer, `dimension ${unknown + 1} of batch_input_shape ${JSON.stringify(input.batchShape)} is unknown (TFLite needs fixed sizes: give the model a full inputShape)`, -1);
      continue;
    }
    const shape = input.batchShape.map((d) => d ?? 1);
    const embeddingOnly = (readers.get(refKey(input.ref)) ?? []).every((c) => ruleName(c.layer) === 'Embedding');
    let type: TensorType;
    if (input.dtype === 'int32' || (input.dtype === 'float32' && embeddingOnly && readers.has(refKey(input.ref)))) type = TensorType.INT32;
    else if (input.dtype === 'float32') type = TensorType.FLOAT32;
    else {
      report(input.layer, `dtype '${input.dtype}' (inputs are float32, or int32 for Embedding indices)`, -1);
      continue;
    }
    values.set(refKey(input.ref), emit.input(input.layer.name, shape, type));
  }

  const absorbed = new Set<LayerCall>();
  const ctx: ConvertContext = {
    emit,
    weight: (layer, param) => findWeight(source, layer, param),
    soleConsumer(ref) {
      const key = refKey(ref);
      const list = readers.get(key) ?? [];
      const call = list[0];
      if (list.length !== 1 || call === undefined || outputKeys.has(key) || call.inputs.length !== 1) return null;
      return call;
    },
    absorb: (call) => void absorbed.add(call),
    define: (ref, value) => void values.set(refKey(ref), value),
  };

  model.calls.forEach((call, index) => {
    if (absorbed.has(call)) return;
    const rule = LAYER_RULES.get(ruleName(call.layer));
    if (rule === undefined) {
      const nested = ['Sequential', 'Model', 'Functional'].includes(call.layer.className);
      report(call.layer, nested ? 'a nested model (flatten it into one model)' : 'no TFLite conversion for this layer class', index);
      return;
    }
    try {
      rule.check?.(call.layer);
      const inputs = call.inputs.map((ref) => values.get(refKey(ref)));
      if (inputs.some((v) => v === undefined)) return; // an input failed to convert: reported there
      if (ruleName(call.layer) !== 'Embedding' && inputs.some((v) => v!.type !== TensorType.FLOAT32)) {
        throw new Unsupported('an int32 input (only Embedding layers read int32 indices)');
      }
      rule.convert(call, inputs as Value[], ctx);
    } catch (error) {
      if (!(error instanceof Unsupported)) throw error;
      report(call.layer, error.message, index);
    }
  });
  if (unsupported.length > 0) {
    throw new UnsupportedLayerError(
      unsupported.map((u) => u.layer),
      unsupported[0]!.index,
      origin,
    );
  }

  // Outputs (a tensor listed twice is one graph output).
  const outputs: { name: string; tensor: number }[] = [];
  for (const ref of model.outputs) {
    const value = values.get(refKey(ref));
    if (value === undefined) throw new ModelFormatError(`${origin}: output layer '${ref.layer}' produced no tensor`);
    if (outputs.some((o) => o.tensor === value.tensor)) continue;
    outputs.push({ name: ref.layer, tensor: value.tensor });
  }
  const inputs = model.inputs.map((i) => ({ name: i.layer.name, tensor: values.get(refKey(i.ref))!.tensor }));
  if (outputs.some((o) => inputs.some((i) => i.tensor === o.tensor))) {
    throw new ModelFormatError(`${origin}: an output of the model is one of its inputs (nothing to convert)`);
  }
  emit.builder.output(...outputs.map((o) => o.tensor));
  const graph = emit.build(`litequant fromTfjs (${model.name})`);
  const signature: SignatureDef = {
    signatureKey: 'serving_default',
    subgraphIndex: 0,
    inputs: inputs.map((i) => ({ name: i.name, tensorIndex: i.tensor })),
    outputs: uniqueNames(outputs).map((o) => ({ name: o.name, tensorIndex: o.tensor })),
  };
  return { ...graph, signatureDefs: [signature] };
}

function uniqueNames<T extends { name: string }>(list: readonly T[]): T[] {
  const seen = new Set<string>();
  return list.map((item) => {
    let name = item.name;
    for (let k = 1; seen.has(name); k++) name = `${item.name}_${k}`;
    seen.add(name);
    return { ...item, name };
  });
}

/** The weight '<layer>/<param>' (or, from Keras' converter, one unique '.../<layer>/<param>'). */
function findWeight(source: TfjsModelSource, layer: KerasLayer, param: string): TfjsWeight {
  const exact = source.weights.get(`${layer.name}/${param}`);
  if (exact !== undefined) return exact;
  const suffix = `/${layer.name}/${param}`;
  const candidates = [...source.weights.values()].filter((w) => w.name.endsWith(suffix));
  if (candidates.length === 1) return candidates[0]!;
  const own = [...source.weights.keys()].filter((n) => n.startsWith(`${layer.name}/`));
  throw new ModelFormatError(
    `${source.origin}: ${layer.className} layer '${layer.name}' needs the weight '${layer.name}/${param}', which the weights manifest does not have` +
      (own.length > 0 ? ` (it has ${own.map((n) => `'${n}'`).join(', ')})` : ''),
  );
}
