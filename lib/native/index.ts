// The only TypeScript that touches the addon. It loads it on first use (importing
// litequant never loads native code), applies LITEQUANT_ISA, validates arguments
// before calling in, and turns native exceptions into typed errors.
import { InvalidArgumentError, IsaUnavailableError, LitequantError } from '../errors.js';
import type { CpuFeatureFlags, IsaPath, NativeBinding } from './binding.js';
import { loadAddon } from './loader.js';

export type { CpuFeatureFlags, IsaPath } from './binding.js';

export interface Capabilities {
  /** CPU brand string (x86) or architecture name. */
  readonly cpu: string;
  /** Raw feature flags, each already checked against OS support for its register state. */
  readonly features: CpuFeatureFlags;
  /** Instruction-set paths this CPU supports. */
  readonly isa: readonly IsaPath[];
  /** Paths this binary contains kernels for. */
  readonly built: readonly IsaPath[];
  /** The path kernels run on now. */
  readonly selected: IsaPath;
  /** The value of LITEQUANT_ISA when it forced the path, else null. */
  readonly forced: string | null;
  /** The .node file in use. */
  readonly binary: string;
}

interface Loaded {
  readonly binding: NativeBinding;
  readonly file: string;
  readonly forced: string | null;
}

let loaded: Loaded | undefined;
let loadFailure: unknown;

/** Converts an exception thrown by the addon into the matching typed error. */
function typed(error: unknown): unknown {
  if (error instanceof LitequantError || !(error instanceof Error)) return error;
  const code = (error as Error & { code?: unknown }).code;
  if (code === 'ERR_LITEQUANT_INVALID_ARGUMENT') {
    return new InvalidArgumentError(error.message, { cause: error });
  }
  if (code === 'ERR_LITEQUANT_ISA_UNAVAILABLE') {
    return new IsaUnavailableError(error.message, { cause: error });
  }
  return error;
}

function load(): Loaded {
  if (loaded) return loaded;
  if (loadFailure !== undefined) throw loadFailure;
  try {
    const { binding, file } = loadAddon();
    const requested = process.env['LITEQUANT_ISA'];
    const forced = requested === undefined || requested === '' ? null : requested;
    if (forced !== null) {
      try {
        binding.selectIsa(forced);
      } catch (error) {
        const caps = binding.capabilities();
        throw new IsaUnavailableError(
          `LITEQUANT_ISA=${forced} cannot be used: ${(error as Error).message}. ` +
            `Built: ${caps.built.join(', ')}; supported by this CPU: ${caps.supported.join(', ')}.`,
          { cause: error },
        );
      }
    }
    loaded = { binding, file, forced };
    return loaded;
  } catch (error) {
    loadFailure = error;
    throw error;
  }
}

/** The native binding, loaded on first use. */
export function native(): NativeBinding {
  return load().binding;
}

/** What the CPU offers, what this binary was built with, and which path runs. */
export function capabilities(): Capabilities {
  const { binding, file, forced } = load();
  const caps = binding.capabilities();
  return {
    cpu: caps.cpu,
    features: caps.features,
    isa: caps.supported,
    built: caps.built,
    selected: caps.selected,
    forced,
    binary: file,
  };
}

/** Forces an instruction-set path for this process (what LITEQUANT_ISA does at load). */
export function selectIsa(isa: IsaPath): IsaPath {
  try {
    return native().selectIsa(isa);
  } catch (error) {
    throw typed(error);
  }
}

/** Runs an addon call, converting its exceptions into typed errors. */
export function callNative<T>(fn: (binding: NativeBinding) => T): T {
  const binding = native();
  try {
    return fn(binding);
  } catch (error) {
    throw typed(error);
  }
}
