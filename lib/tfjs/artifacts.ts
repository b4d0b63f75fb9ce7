// The two things a TensorFlow.js Layers model is made of: the Keras topology (JSON) and the
// named weights. They come from a `model.json` on disk (as `model.save('file://dir')` writes it:
// { modelTopology, weightsManifest: [{ paths, weights }] } with the shard files beside it), from
// an in-memory tf.LayersModel (duck-typed: its save() is called with an IOHandler of ours that
// keeps the artifacts) or from ModelArtifacts already in memory ({ modelTopology, weightSpecs,
// weightData }). Nothing here imports @tensorflow/tfjs.
//
// Weights: float32 as stored; tfjs-converter's quantized weights (uint8/uint16 with scale and
// min, float16) are dequantized to float32 exactly as tfjs does when it loads them (value =
// q * scale + min), so the converted model computes what the tfjs model computes. Any other dtype
// (int32, bool, string, complex64) is a ModelFormatError naming the weight.
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describeValue, expected, InvalidArgumentError, ModelFormatError } from '../errors.js';

/** One entry of a weights manifest (tfjs `WeightsManifestEntry`). */
export interface TfjsWeightSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
  /** tfjs-converter's weight quantization: uint8/uint16 with scale and min, or float16. */
  readonly quantization?: { readonly dtype: string; readonly scale?: number; readonly min?: number } | null;
}

/** What tfjs passes to an IOHandler's save(): the topology and the concatenated weight bytes. */
export interface TfjsModelArtifacts {
  readonly modelTopology: unknown;
  readonly format?: string;
  readonly weightSpecs?: readonly TfjsWeightSpec[];
  /** One buffer, or (tfjs >= 4.10) a list of buffers read as one. */
  readonly weightData?: ArrayBuffer | readonly ArrayBuffer[];
}

/** The part of a tf.LayersModel the converter uses: `save(handler)`. */
export interface TfjsLayersModelLike {
  save(handler: { save(artifacts: TfjsModelArtifacts): Promise<unknown> }, config?: unknown): Promise<unknown>;
  toJSON?(...args: unknown[]): unknown;
}

/** A weight as float32 values in tfjs's layout. */
export interface TfjsWeight {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface TfjsModelSource {
  /** The Keras model config ({ class_name, config }). */
  readonly topology: unknown;
  readonly weights: ReadonlyMap<string, TfjsWeight>;
  /** Where the model came from, for messages: the model.json path or 'the LayersModel'. */
  readonly origin: string;
}

/** A tf.LayersModel (or anything with save(handler)) but not ModelArtifacts. */
export function isTfjsLayersModel(value: unknown): value is TfjsLayersModelLike {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { save?: unknown }).save === 'function' &&
    !(value instanceof Uint8Array)
  );
}

function isArtifacts(value: unknown): value is TfjsModelArtifacts {
  return value !== null && typeof value === 'object' && 'modelTopology' in value && typeof (value as { save?: unknown }).save !== 'function';
}

/** The model a fromTfjs() argument names: a path to model.json, a LayersModel, or ModelArtifacts. */
export async function loadTfjsModel(model: unknown): Promise<TfjsModelSource> {
  if (typeof model === 'string' || model instanceof URL) return loadModelJson(model);
  if (isArtifacts(model)) return fromArtifacts(model, 'the model artifacts');
  if (isTfjsLayersModel(model)) return fromArtifacts(await saveInMemory(model), 'the LayersModel');
  throw expected('a path to a TensorFlow.js model.json, a tf.LayersModel or its ModelArtifacts', 'model', model);
}

/** Runs model.save() with a handler that keeps the artifacts instead of writing them. */
async function saveInMemory(model: TfjsLayersModelLike): Promise<TfjsModelArtifacts> {
  let captured: TfjsModelArtifacts | null = null;
  const handler = {
    save: async (artifacts: TfjsModelArtifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
  };
  try {
    await model.save(handler);
  } catch (error) {
    throw new InvalidArgumentError(`Cannot read the LayersModel: its save() failed: ${(error as Error).message}`, { cause: error });
  }
  if (captured === null) throw expected('a tf.LayersModel whose save(handler) calls handler.save', 'model', model);
  return captured;
}

function weightBuffers(data: TfjsModelArtifacts['weightData']): Uint8Array {
  if (data === undefined || data === null) return new Uint8Array(0);
  const parts = Array.isArray(data) ? (data as readonly ArrayBuffer[]) : [data as ArrayBuffer];
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(new Uint8Array(part), at);
    at += part.byteLength;
  }
  return bytes;
}

function fromArtifacts(artifacts: TfjsModelArtifacts, origin: string): TfjsModelSource {
  checkFormat(artifacts.format, origin);
  const specs = artifacts.weightSpecs ?? [];
  if (!Array.isArray(specs)) throw new ModelFormatError(`${origin}: weightSpecs is ${describeValue(specs)}, expected an array`);
  const weights = new Map<string, TfjsWeight>();
  decodeGroup(specs, weightBuffers(artifacts.weightData), `${origin}'s weight data`, origin, weights);
  return { topology: topologyOf(artifacts.modelTopology, origin), weights, origin };
}

function checkFormat(format: unknown, origin: string): void {
  if (format === undefined || format === null || format === 'layers-model') return;
  if (format === 'graph-model') {
    throw new ModelFormatError(
      `${origin} is a TensorFlow.js graph model (format 'graph-model'); litequant converts Layers models (format 'layers-model', as tf.LayersModel.save writes them)`,
    );
  }
  throw new ModelFormatError(`${origin}: format is ${describeValue(format)}, expected 'layers-model'`);
}

/** The Keras model config inside modelTopology (tfjs writes it bare; Keras' converter nests it in model_config). */
function topologyOf(topology: unknown, origin: string): unknown {
  let value = topology;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch (error) {
      throw new ModelFormatError(`${origin}: modelTopology is a string that is not JSON: ${(error as Error).message}`);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ModelFormatError(`${origin}: modelTopology is ${describeValue(value)}, expected the Keras model config (an object)`);
  }
  const nested = (value as { model_config?: unknown }).model_config;
  return nested !== undefined ? nested : value;
}

// ---------------------------------------------------------------------------------------------
// model.json on disk

function errnoReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file',
    EACCES: 'permission denied',
    EISDIR: 'it is a directory',
    ENOTDIR: 'a component of the path is not a directory',
  };
  return code === undefined ? (error as Error).message : `${code}${reasons[code] !== undefined ? ` (${reasons[code]})` : ''}`;
}

async function loadModelJson(pathOrUrl: string | URL): Promise<TfjsModelSource> {
  let path: string;
  if (pathOrUrl instanceof URL || pathOrUrl.startsWith('file://')) {
    path = fileURLToPath(pathOrUrl);
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(pathOrUrl)) {
    throw expected('a local path to model.json (litequant reads no URLs)', 'model', pathOrUrl);
  } else {
    path = pathOrUrl;
  }
  // A directory stands for its model.json, as tfjs's file:// handler writes it.
  try {
    if ((await stat(path)).isDirectory()) path = join(path, 'model.json');
  } catch {
    // reported by readFile below
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError(`Cannot read TensorFlow.js model file '${path}': ${errnoReason(error)}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch (error) {
    throw new ModelFormatError(`${path} is not valid JSON (${(error as Error).message}); expected a TensorFlow.js model.json`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ModelFormatError(`${path}: expected a JSON object with modelTopology and weightsManifest but found ${describeValue(json)}`);
  }
  const model = json as { modelTopology?: unknown; weightsManifest?: unknown; format?: unknown };
  checkFormat(model.format, path);
  if (model.modelTopology === undefined || model.modelTopology === null) {
    throw new ModelFormatError(`${path}: no modelTopology: not a TensorFlow.js Layers model.json`);
  }
  const manifest = model.weightsManifest ?? [];
  if (!Array.isArray(manifest)) throw new ModelFormatError(`${path}: weightsManifest is ${describeValue(manifest)}, expected an array of { paths, weights }`);

  const weights = new Map<string, TfjsWeight>();
  const dir = dirname(path);
  for (const [g, group] of (manifest as unknown[]).entries()) {
    const entry = group as { paths?: unknown; weights?: unknown } | null;
    if (entry === null || typeof entry !== 'object' || !Array.isArray(entry.paths) || !Array.isArray(entry.weights)) {
      throw new ModelFormatError(`${path}: weightsManifest[${g}] must be an object with arrays 'paths' and 'weights'`);
    }
    const shards: Uint8Array[] = [];
    for (const shard of entry.paths as unknown[]) {
      if (typeof shard !== 'string' || shard === '') throw new ModelFormatError(`${path}: weightsManifest[${g}].paths holds ${describeValue(shard)}, expected file names`);
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(shard) || isAbsolute(shard)) {
        throw new ModelFormatError(`${path}: weight file '${shard}' is not a path relative to model.json`);
      }
      const file = resolve(dir, shard);
      try {
        shards.push(await readFile(file));
      } catch (error) {
        throw new ModelFormatError(`${path}: cannot read weight file '${shard}' (${file}): ${errnoReason(error)}`, { cause: error });
      }
    }
    const bytes = new Uint8Array(shards.reduce((n, s) => n + s.length, 0));
    let at = 0;
    for (const shard of shards) {
      bytes.set(shard, at);
      at += shard.length;
    }
    const files = (entry.paths as string[]).map((p) => `'${p}'`).join(', ');
    decodeGroup(entry.weights as TfjsWeightSpec[], bytes, `weight file${entry.paths.length === 1 ? '' : 's'} ${files}`, path, weights);
  }
  return { topology: topologyOf(model.modelTopology, path), weights, origin: path };
}

// ---------------------------------------------------------------------------------------------
// Weight decoding

function storedBytesPerElement(spec: TfjsWeightSpec): number | null {
  const q = spec.quantization;
  if (q !== undefined && q !== null) return q.dtype === 'uint8' ? 1 : q.dtype === 'uint16' || q.dtype === 'float16' ? 2 : null;
  return spec.dtype === 'float32' ? 4 : null;
}

/** float16 bits to a number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Splits one weight group's bytes by its specs (in order) into float32 weights. */
function decodeGroup(
  specs: readonly TfjsWeightSpec[],
  bytes: Uint8Array,
  where: string,
  origin: string,
  out: Map<string, TfjsWeight>,
): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  for (const [i, spec] of specs.entries()) {
    if (spec === null || typeof spec !== 'object' || typeof spec.name !== 'string' || !Array.isArray(spec.shape)) {
      throw new ModelFormatError(`${origin}: weight spec ${i} of ${where} must be an object with a name and a shape`);
    }
    if (!spec.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new ModelFormatError(`${origin}: weight '${spec.name}' has shape ${JSON.stringify(spec.shape)}, expected non-negative integers`);
    }
    const perElement = storedBytesPerElement(spec);
    if (perElement === null) {
      const q = spec.quantization;
      const what = q !== undefined && q !== null ? `quantized as ${JSON.stringify(q.dtype)}` : `of dtype ${JSON.stringify(spec.dtype)}`;
      throw new ModelFormatError(
        `${origin}: weight '${spec.name}' is ${what}; litequant reads float32 weights (and tfjs-converter's uint8, uint16 and float16 quantized float32 weights)`,
      );
    }
    if (spec.dtype !== 'float32') {
      throw new ModelFormatError(`${origin}: weight '${spec.name}' is a ${JSON.stringify(spec.dtype)} weight quantized as ${JSON.stringify(spec.quantization?.dtype)}; litequant reads float32 weights`);
    }
    const count = spec.shape.reduce((a, d) => a * d, 1);
    const size = count * perElement;
    if (offset + size > bytes.length) {
      throw new ModelFormatError(
        `${origin}: ${where}: ${bytes.length} bytes, but the weights up to '${spec.name}' need ${offset + size} (a truncated or missing shard?)`,
      );
    }
    const data = new Float32Array(count);
    const q = spec.quantization;
    if (q === undefined || q === null) {
      for (let k = 0; k < count; k++) data[k] = view.getFloat32(offset + 4 * k, true);
    } else if (q.dtype === 'float16') {
      for (let k = 0; k < count; k++) data[k] = halfToFloat(view.getUint16(offset + 2 * k, true));
    } else {
      const scale = q.scale;
      const min = q.min;
      if (typeof scale !== 'number' || typeof min !== 'number' || !Number.isFinite(scale) || !Number.isFinite(min)) {
        throw new ModelFormatError(`${origin}: weight '${spec.name}' is quantized as ${q.dtype} without a finite scale and min`);
      }
      for (let k = 0; k < count; k++) {
        const v = q.dtype === 'uint8' ? view.getUint8(offset + k) : view.getUint16(offset + 2 * k, true);
        data[k] = v * scale + min;
      }
    }
    offset += size;
    if (out.has(spec.name)) throw new ModelFormatError(`${origin}: two weights are named '${spec.name}'`);
    out.set(spec.name, { name: spec.name, shape: [...spec.shape], data });
  }
  if (offset !== bytes.length) {
    throw new ModelFormatError(`${origin}: ${where}: ${bytes.length} bytes, but the weights listed for them take ${offset}`);
  }
}
