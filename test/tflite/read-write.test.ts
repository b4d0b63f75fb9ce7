// Every real model under ../shared/models survives readModel → writeModel unchanged:
// (a) flatc's JSON dumps of the input and of our output are deep-equal, and (b) reading our
// output gives a deep-equal Graph.
//
// The one difference allowed: a scalar field stored with its default value. FlatBuffers reads an
// absent scalar as its default, so the two forms mean the same, but plain `flatc --json` prints a
// field that is present even when it holds the default, and converters differ here (some write
// OperatorCode.version = 1, some omit it; ic_resnet8_float and the ad01/vww float models do).
// writeModel omits defaults, so both dumps are made with --defaults-json, which prints every
// scalar. Absent vs empty vectors, strings and tables are not normalized: they must match.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';

import t from 'tap';

import { readModel } from '../../lib/tflite/read.js';
import { writeModel } from '../../lib/tflite/write.js';
import { flatcSkip, sharedModels, sharedName, sharedPath, sharedSkip } from '../fixtures/shared.js';

const schema = sharedPath('schema', 'schema.flatc2.fbs');

function flatcJson(model: string, outDir: string): unknown {
  const run = spawnSync(
    'flatc',
    ['--json', '--strict-json', '--defaults-json', '--raw-binary', '-o', outDir, schema, '--', model],
    { encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(`flatc failed on ${model}: ${run.stderr}`);
  return JSON.parse(readFileSync(join(outDir, basename(model).replace(/\.tflite$/, '.json')), 'utf8'));
}

/** The path of the first difference between two JSON values, for a readable failure. */
function firstDifference(a: unknown, b: unknown, path = '$'): string | undefined {
  if (isDeepStrictEqual(a, b)) return undefined;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return `${path}: ${JSON.stringify(a)?.slice(0, 200)} vs ${JSON.stringify(b)?.slice(0, 200)}`;
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    const d = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`);
    if (d !== undefined) return d;
  }
  return `${path}: differs`;
}

const models = sharedModels();
const skip = sharedSkip('models') || sharedSkip('schema', 'schema.flatc2.fbs') || flatcSkip();

t.test('real models round-trip through readModel/writeModel', { skip }, async (t) => {
  t.ok(models.length >= 16, `found ${models.length} models under ../shared/models`);
  const dir = mkdtempSync(join(tmpdir(), 'litequant-roundtrip-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  for (const path of models) {
    await t.test(sharedName(path), async (t) => {
      const bytes = new Uint8Array(readFileSync(path));
      const graph = readModel(bytes);
      const written = writeModel(graph);

      const copy = join(dir, basename(path));
      writeFileSync(copy, written);
      const inDir = join(dir, 'in');
      const outDir = join(dir, 'out');
      const diff = firstDifference(flatcJson(path, inDir), flatcJson(copy, outDir));
      t.equal(diff, undefined, 'flatc JSON dumps are equal');

      const again = readModel(written);
      t.ok(isDeepStrictEqual(again, graph), 'reading the written model gives the same Graph');

      // Constant data is viewed in place, and written 16-byte aligned.
      for (const buffer of graph.buffers) {
        if (buffer.data.length > 0) t.equal(buffer.data.buffer, bytes.buffer, 'buffer data is a view of the input');
      }
      t.equal(written.byteOffset % 16, 0, 'output starts 16-byte aligned in its ArrayBuffer');
      const misaligned = again.buffers.filter((b) => b.data.length > 0 && (b.data.byteOffset - written.byteOffset) % 16 !== 0);
      t.equal(misaligned.length, 0, 'buffer data starts at multiples of 16 in the file');
    });
  }
});
