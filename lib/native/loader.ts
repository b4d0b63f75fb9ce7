// Finds and loads the addon with node-gyp-build: a local build (build/Release) first,
// then the prebuilt binary for this platform in prebuilds/. Failures explain what was
// looked for and how to build a binary.
import { createRequire } from 'node:module';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodeGypBuild from 'node-gyp-build';

import { NativeLoadError } from '../errors.js';
import type { NativeBinding } from './binding.js';

/** The package root: dist/native/loader.js and lib/native/loader.ts both sit two levels down. */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface LoadedAddon {
  readonly binding: NativeBinding;
  /** Absolute path of the .node file that was loaded. */
  readonly file: string;
}

function describeCandidates(root: string): string {
  const platformDir = join('prebuilds', `${process.platform}-${process.arch}`);
  const found = existsSync(join(root, platformDir))
    ? readdirSync(join(root, platformDir)).join(', ') || 'nothing'
    : 'no such directory';
  return (
    `  - ${join('build', 'Release', 'litequant.node')}: ` +
    `${existsSync(join(root, 'build', 'Release', 'litequant.node')) ? 'present' : 'absent'}\n` +
    `  - ${platformDir}/: ${found}\n` +
    `  (package directory: ${root})`
  );
}

function remedy(): string {
  return (
    'To build one from source (needs python3, make and a C++17 compiler):\n' +
    '  npm install-scripts approve litequant   # npm 11 runs a dependency install script only once approved\n' +
    '  npm rebuild litequant\n' +
    'or, inside a litequant checkout: npm run build:native'
  );
}

export function loadAddon(root: string = packageRoot): LoadedAddon {
  const platform = `platform=${process.platform} arch=${process.arch} node=${process.versions.node} napi=${process.versions.napi ?? '?'}`;
  let file: string;
  try {
    file = nodeGypBuild.resolve(root);
  } catch (cause) {
    throw new NativeLoadError(
      `No litequant native binary matches this system (${platform}). Looked for:\n` +
        `${describeCandidates(root)}\n${remedy()}`,
      { cause },
    );
  }
  try {
    const binding = createRequire(import.meta.url)(file) as NativeBinding;
    return { binding, file };
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new NativeLoadError(
      `The litequant native binary ${relative(root, file)} exists but failed to load ` +
        `(${platform}): ${reason}\n${remedy()}`,
      { cause },
    );
  }
}
