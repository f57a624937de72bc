/**
 * Which Python runs python/bmru_torch.py: BMRU_PYTHON if set, else the first of `python3` and `/usr/bin/python3`
 * that has torch. Debian's python3-torch installs for /usr/bin/python3, which a pyenv or venv `python3` earlier on
 * PATH does not see. Looked up with importlib.util.find_spec, which finds the package without importing it (an
 * import of torch costs seconds, and vitest.config.ts asks on every run).
 */
import { execFileSync } from 'node:child_process';

const HAS_TORCH = 'import importlib.util, sys; sys.exit(importlib.util.find_spec("torch") is None)';

function hasTorch(python: string): boolean {
  try {
    execFileSync(python, ['-c', HAS_TORCH], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

/** The interpreter with torch, or undefined (with the reason in `torchPythonMissing`). */
export function torchPython(): string | undefined {
  if (process.env.BMRU_PYTHON) return hasTorch(process.env.BMRU_PYTHON) ? process.env.BMRU_PYTHON : undefined;
  return ['python3', '/usr/bin/python3'].find(hasTorch);
}

/** Why no interpreter with torch was found, or undefined when one was. */
export function torchPythonMissing(): string | undefined {
  if (torchPython() !== undefined) return undefined;
  return process.env.BMRU_PYTHON
    ? `${process.env.BMRU_PYTHON} (BMRU_PYTHON) cannot import torch`
    : 'neither python3 nor /usr/bin/python3 can import torch';
}
