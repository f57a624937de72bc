/**
 * Progress of a running transient, read from the rawfile ngspice is writing.
 *
 * `ngspice -b -r out.raw` writes a plot's header when its analysis starts and appends each accepted point
 * (through stdio buffering, so the file grows a few KiB at a time; the header's `No. Points` stays 0 until
 * the analysis ends). The watcher reads the header once, then on each tick only the time value of the
 * last complete point: one 8-byte read at an offset computed from the file's size. It follows a binary
 * rawfile whose first plot is a transient, and reports nothing for anything else.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { parseRawHeader, type RawHeader } from './rawfile.js';

/** How far a running transient has got. */
export interface RunProgress {
  /** Time of the last point ngspice has written (s). */
  timeS: number;
  /** `timeS` / the expected tstop, clamped to [0, 1]; present when the tstop is known. */
  fraction?: number;
  /** Points written so far. */
  points: number;
}

/** A running watcher; `stop()` resolves once no more reports can come. */
export interface RawfileWatcher {
  stop(): Promise<void>;
}

/** Bytes read from the file's start when looking for its header; a file this long without one is not followed. */
const MAX_HEADER_BYTES = 1 << 20;
const BYTES_PER_DOUBLE = 8;

/**
 * Calls `onProgress` every `intervalMs` while the transient in the rawfile at `rawPath` advances, until
 * `stop()`. A missing or still-incomplete file is retried on the next tick. Reports are advisory: an
 * exception thrown by `onProgress` is ignored.
 *
 * @param tStopS the transient's tstop (s), for `fraction`; omit when unknown
 * @example
 *   const watcher = watchTransient(path.join(workDir, 'out.raw'), (p) => console.log(p.timeS), { intervalMs: 1000 });
 *   await ngspiceExited;
 *   await watcher.stop();
 */
export function watchTransient(
  rawPath: string,
  onProgress: (p: RunProgress) => void,
  options: { intervalMs: number; tStopS?: number },
): RawfileWatcher {
  let handle: FileHandle | undefined;
  let header: RawHeader | undefined;
  let last = { points: 0, timeS: -Infinity };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let tick: Promise<void> = Promise.resolve();

  /** One look at the file; returns false when the file will never be followed. */
  const poll = async (): Promise<boolean> => {
    handle ??= await open(rawPath, 'r'); // ENOENT until ngspice starts writing: retried
    const { size } = await handle.stat();
    if (!header) {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(Math.min(size, MAX_HEADER_BYTES)), 0, undefined, 0);
      try {
        header = parseRawHeader(buffer.subarray(0, bytesRead), rawPath);
      } catch {
        return size < MAX_HEADER_BYTES; // not complete yet, unless it never will be
      }
    }
    if (header.format !== 'binary' || !/transient/i.test(header.plotname) || header.pointBytes === 0) return false;
    const points = Math.floor((size - header.dataStart) / header.pointBytes);
    if (points <= last.points) return true;
    const at = header.dataStart + (points - 1) * header.pointBytes;
    const { buffer } = await handle.read(Buffer.alloc(BYTES_PER_DOUBLE), 0, BYTES_PER_DOUBLE, at);
    const timeS = buffer.readDoubleLE(0);
    // Time only grows within a plot: anything else is the bytes of a later plot's header.
    if (!Number.isFinite(timeS) || timeS < last.timeS) return true;
    last = { points, timeS };
    const { tStopS } = options;
    if (!stopped)
      onProgress(tStopS ? { timeS, points, fraction: Math.min(1, Math.max(0, timeS / tStopS)) } : { timeS, points });
    return true;
  };
  const schedule = () => {
    timer = setTimeout(() => {
      tick = poll()
        .catch(() => true)
        .then((again) => {
          if (again && !stopped) schedule();
        });
    }, options.intervalMs);
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await tick;
      await handle?.close().catch(() => undefined);
    },
  };
}
