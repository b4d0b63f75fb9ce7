#!/usr/bin/env node
// Expands native/sources.json for binding.gyp's <!@(...) and <!(...) expansions.
//   native-sources.cjs core | addon | tests | bench   the files of a group
//   native-sources.cjs kernels <path>                 that path's kernel files
//   native-sources.cjs flags <path>                   that path's compiler flags
//   native-sources.cjs type <path> <arch>             static_library, or none when the path is for
//                                                     another arch or has no files yet
//   native-sources.cjs defines <arch>                 LITEQUANT_BUILT_<PATH> for each built path
//   native-sources.cjs targets <arch>                 the kernel targets to link
// Also usable as a module: require('./native-sources.cjs').expand(patterns).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const sources = JSON.parse(fs.readFileSync(path.join(root, 'native', 'sources.json'), 'utf8'));

/** 'native/core/*.cc' -> the matching files, sorted; a plain path is kept as is. */
function expand(patterns) {
  const files = [];
  for (const pattern of patterns) {
    const star = pattern.lastIndexOf('*');
    if (star < 0) {
      files.push(pattern);
      continue;
    }
    const dir = path.posix.dirname(pattern);
    const prefix = pattern.slice(pattern.lastIndexOf('/', star) + 1, star);
    const suffix = pattern.slice(star + 1);
    const abs = path.join(root, dir);
    if (!fs.existsSync(abs)) continue;
    for (const name of fs.readdirSync(abs).sort()) {
      if (name.startsWith(prefix) && name.endsWith(suffix) && name.length >= prefix.length + suffix.length) {
        files.push(`${dir}/${name}`);
      }
    }
  }
  return files;
}

function builtPaths(arch) {
  return Object.entries(sources.kernels)
    .filter(([, k]) => (k.arch === 'any' || k.arch === arch) && expand(k.sources).length > 0)
    .map(([name]) => name);
}

function main(argv) {
  const [what, a, b] = argv;
  const kernel = (name) => {
    const k = sources.kernels[name];
    if (!k) throw new Error(`native-sources: unknown kernel path '${name}'`);
    return k;
  };
  switch (what) {
    case 'kernels': return expand(kernel(a).sources);
    case 'flags': return kernel(a).flags;
    case 'type': return [builtPaths(b).includes(a) ? 'static_library' : 'none'];
    case 'defines': return builtPaths(a).filter((p) => p !== 'reference').map((p) => `LITEQUANT_BUILT_${p.toUpperCase()}`);
    case 'targets': return builtPaths(a).map((p) => `litequant_kernels_${p}`);
    default:
      if (!Array.isArray(sources[what])) throw new Error(`native-sources: unknown group '${what}'`);
      return expand(sources[what]);
  }
}

if (require.main === module) {
  try {
    console.log(main(process.argv.slice(2)).join(' '));
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}

module.exports = { expand, builtPaths, sources };
