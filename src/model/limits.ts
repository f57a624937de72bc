/**
 * Largest network and input sizes the toolkit accepts, checked when a file is read and before anything is
 * allocated from a declared size. A size a file declares (`__metadata__.blocks`, a tensor's shape, a plan's
 * `frames`) costs nothing to write and can cost gigabytes to honour: `blocks = "1e7"` in a 2 KB safetensors
 * file once allocated 4.6 GB of tensor names before any other check ran. Each maximum is far above what the
 * toolkit's circuits or the reference work use (DESIGN §1: 13 inputs, width 4, 2 blocks, 2 classes, 101
 * frames), so only a corrupt or hostile file meets it; the circuit has its own, much lower, limit
 * (netlist/budget.ts).
 */
import { InputError, type InputLocation } from '../errors.js';

/**
 * Blocks L: the reference network has 2; every block adds its cells' bias generators and two dense mirror
 * arrays, so even 8 blocks of width 4 is beyond what the published circuits stack. 64 keeps the list of
 * expected tensor names (8 L + 4) trivial to build.
 */
export const MAX_BLOCKS = 64;

/**
 * Width H and cells per block S: 1000x the reference width (4) and 128x the widest circuit that ran here
 * (width 32, README). A dense [4096, 4096] block matrix is already 134 MB of float64, and the software
 * model's trace of a 101-frame clip at this width stays in the tens of MB.
 */
export const MAX_WIDTH = 4096;

/**
 * Input features F per frame: the reference uses 13 MFCCs; mel front ends use 40-128 bands and an
 * 8190-point spectrogram has 4096 bins.
 */
export const MAX_INPUTS = 4096;

/** Classes C: keyword sets have 2-35 (Speech Commands); 4096 leaves room for any classifier head. */
export const MAX_CLASSES = 4096;

/**
 * Frames T of one input sequence: 100 000 frames is 1000 s of 10 ms frames (a keyword clip is 101). A
 * generated clip allocates T x F values before anything else checks it.
 */
export const MAX_FRAMES = 100_000;

/** One dimension of a network: at least 1 (a network with no width, cells, inputs or classes computes nothing) and at most `max`. */
export function checkDimension(what: string, value: number, max: number, where: InputLocation): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new InputError(
      `${what} is ${value}: expected an integer >= 1 (a network with no ${what} computes nothing)`,
      where,
    );
  }
  if (value > max)
    throw new InputError(
      `${what} is ${value}: expected at most ${max} (the toolkit's limit, src/model/limits.ts)`,
      where,
    );
}
