// Helpers for tests with TensorFlow.js models: deterministic weights, the artifacts tfjs saves
// (captured with an IOHandler: no tfjs-node needed) written to disk as model.json + shards the way
// `model.save('file://dir')` lays them out, and random inputs for a model's input shapes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs';

import { randF32 } from '../fixtures/op-suite.js';

tf.enableProdMode(); // no "install tfjs-node" banner in the test output
await tf.setBackend('cpu');

export { tf };

/**
 * Replaces every weight with seeded uniform values (variances of BatchNormalization in
 * [0.5, 2], gammas in [0.5, 1.5], other weights in [-0.5, 0.5]), so tests do not depend on
 * tfjs's unseeded initializers and folded BatchNormalization has something to fold.
 */
export function seedWeights(model: tf.LayersModel, seed: number): void {
  const values = model.weights.map((w, i) => {
    const name = w.originalName;
    const [lo, hi] = /moving_variance$/.test(name) ? [0.5, 2] : /gamma$/.test(name) ? [0.5, 1.5] : [-0.5, 0.5];
    return tf.tensor(randF32(w.shape.reduce((a, d) => a * (d ?? 1), 1), seed * 1000 + i, lo, hi), w.shape as number[]);
  });
  model.setWeights(values);
  tf.dispose(values);
}

/** What model.save() hands to an IOHandler. */
export async function saveArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (captured === null) throw new Error('model.save did not call the handler');
  return captured;
}

function weightBytes(artifacts: tf.io.ModelArtifacts): Uint8Array {
  const data = artifacts.weightData;
  if (data === undefined) return new Uint8Array(0);
  const parts = Array.isArray(data) ? (data as ArrayBuffer[]) : [data as ArrayBuffer];
  return Buffer.concat(parts.map((p) => new Uint8Array(p)));
}

/**
 * Writes model.json and the weights (in `shards` files) into dir, as tfjs's file:// handler
 * does; returns the model.json path. `edit` may change the JSON before it is written.
 */
export function writeModelDir(
  artifacts: tf.io.ModelArtifacts,
  dir: string,
  options: { shards?: number; edit?: (json: Record<string, unknown>) => void } = {},
): string {
  mkdirSync(dir, { recursive: true });
  const bytes = weightBytes(artifacts);
  const shards = options.shards ?? 1;
  const paths: string[] = [];
  const size = Math.ceil(bytes.length / shards);
  for (let s = 0; s < shards; s++) {
    const name = shards === 1 ? 'weights.bin' : `group1-shard${s + 1}of${shards}.bin`;
    writeFileSync(join(dir, name), bytes.subarray(s * size, Math.min(bytes.length, (s + 1) * size)));
    paths.push(name);
  }
  const json: Record<string, unknown> = structuredClone({
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: [{ paths: paths.map((p) => `./${p}`), weights: artifacts.weightSpecs }],
  });
  options.edit?.(json);
  const path = join(dir, 'model.json');
  writeFileSync(path, JSON.stringify(json));
  return path;
}

/** Seeded random inputs for one sample: float32 in [-2, 2], or int32 in [0, vocabulary) for Embedding inputs. */
export function randomInputs(model: tf.LayersModel, seed: number, vocabulary?: number): (Float32Array | Int32Array)[] {
  return model.inputs.map((input, k) => {
    const n = input.shape.slice(1).reduce<number>((a, d) => a * (d ?? 1), 1);
    const values = randF32(n, seed * 31 + k, -2, 2);
    if (vocabulary === undefined) return values;
    return Int32Array.from(values, (v) => Math.min(vocabulary - 1, Math.floor(((v + 2) / 4) * vocabulary)));
  });
}

/** tfjs's outputs for one sample (batch 1). */
export function predict(model: tf.LayersModel, inputs: readonly (Float32Array | Int32Array)[]): Float32Array[] {
  return tf.tidy(() => {
    const xs = model.inputs.map((input, k) => tf.tensor(inputs[k]!, [1, ...(input.shape.slice(1) as number[])], inputs[k] instanceof Int32Array ? 'int32' : 'float32'));
    const ys = model.predict(xs.length === 1 ? xs[0]! : xs);
    return (Array.isArray(ys) ? ys : [ys]).map((y) => y.dataSync() as Float32Array);
  });
}
