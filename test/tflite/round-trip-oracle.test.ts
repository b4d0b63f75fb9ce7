// Every shared model, read and written back by litequant, loads in the official TFLite
// runtime and gives outputs identical to the original file's on the same inputs.
import { readFileSync } from 'node:fs';
import t from 'tap';

import { readModel } from '../../lib/tflite/read.js';
import { writeModel } from '../../lib/tflite/write.js';
import { loadOracle, runOracle, tensorValues, type OracleInput, type OracleTensorInfo } from '../fixtures/oracle.js';
import { sharedModels, sharedName, sharedSkip } from '../fixtures/shared.js';

// Deterministic inputs of the right dtype and size; the shapes' -1 batch is 1.
function syntheticInput(info: OracleTensorInfo, seed: number): OracleInput {
  const n = info.shape.reduce((a, d) => a * Math.max(1, d), 1);
  const wave = (i: number) => Math.sin(i * 0.37 + seed * 1.3);
  switch (info.dtype) {
    case 'float32':
      return Float32Array.from({ length: n }, (_, i) => wave(i) * 2);
    case 'int8':
      return Int8Array.from({ length: n }, (_, i) => Math.round(wave(i) * 120));
    case 'uint8':
      return Uint8Array.from({ length: n }, (_, i) => Math.round((wave(i) + 1) * 120));
    case 'int16':
      return Int16Array.from({ length: n }, (_, i) => Math.round(wave(i) * 30000));
    case 'int32':
      return Int32Array.from({ length: n }, (_, i) => Math.round(wave(i) * 1000));
    default:
      throw new Error(`no synthetic input for ${info.dtype}`);
  }
}

t.test('written models run in the official runtime exactly like the originals', { skip: sharedSkip('models') }, async (t) => {
  for (const path of sharedModels()) {
    const name = sharedName(path);
    const original = new Uint8Array(readFileSync(path));
    const rewritten = writeModel(readModel(original));
    const info = await loadOracle(original);
    const samples = [0, 1].map((seed) => info.inputs.map((input) => syntheticInput(input, seed)));
    const [a, b] = await Promise.all([runOracle(original, samples), runOracle(rewritten, samples)]);
    t.equal(b.info.runtime, a.info.runtime, `${name}: same runtime (${a.info.runtime})`);
    const same = a.outputs.every((sample, s) =>
      sample.every((out, o) => {
        const other = b.outputs[s]?.[o];
        return other !== undefined && JSON.stringify(tensorValues(out)) === JSON.stringify(tensorValues(other));
      }),
    );
    t.ok(same && a.outputs.length === 2, `${name}: identical outputs in ${a.info.runtime}`);
  }
});
