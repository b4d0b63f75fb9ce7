// native/sources.json is the one description of the C++ sources: every .cc under native/
// belongs to exactly one group or kernel path, and every kernel path has its own target in
// binding.gyp that takes its files and flags from sources.json.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import t from 'tap';

import { packageRoot } from '../../lib/native/loader.js';

interface KernelPath {
  arch: string;
  flags: string[];
  sources: string[];
}
interface NativeSources {
  expand(patterns: string[]): string[];
  sources: { core: string[]; kernels: Record<string, KernelPath>; addon: string[]; tests: string[]; bench: string[] };
}

const { expand, sources } = createRequire(import.meta.url)(
  join(packageRoot, 'scripts', 'native-sources.cjs'),
) as NativeSources;

const groups: Record<string, string[]> = {
  core: expand(sources.core),
  addon: expand(sources.addon),
  tests: expand(sources.tests),
  bench: expand(sources.bench),
  ...Object.fromEntries(Object.entries(sources.kernels).map(([p, k]) => [`kernels ${p}`, expand(k.sources)])),
};

function ccFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return ccFiles(path);
    return name.endsWith('.cc') ? [relative(packageRoot, path)] : [];
  });
}

t.test('every .cc file under native/ belongs to exactly one group of native/sources.json', async (t) => {
  for (const file of ccFiles(join(packageRoot, 'native'))) {
    const owners = Object.entries(groups).filter(([, files]) => files.includes(file)).map(([g]) => g);
    t.equal(owners.length, 1, `${file}: in ${owners.join(', ') || 'no group (name kernels <op>__<path>.cc)'}`);
  }
  t.ok(groups['kernels reference']?.length, 'reference kernels exist');
});

t.test('every kernel path has a target in binding.gyp fed by sources.json, never -march=native', async (t) => {
  const gyp = readFileSync(join(packageRoot, 'binding.gyp'), 'utf8');
  for (const [path, k] of Object.entries(sources.kernels)) {
    t.match(gyp, `'litequant_kernels_${path}'`, `${path}: target`);
    t.match(gyp, `kernels ${path})`, `${path}: files from sources.json`);
    if (k.flags.length > 0) t.match(gyp, `flags ${path})`, `${path}: flags from sources.json`);
    t.notOk(k.flags.some((f) => f.includes('native')), `${path}: no -march=native`);
  }
  t.notMatch(gyp, /march=native/);
  t.notMatch(readFileSync(join(packageRoot, 'CMakeLists.txt'), 'utf8'), /march=native/);
});
