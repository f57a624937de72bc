/** Progress on stderr for work that takes more than a few seconds: a live line on a terminal, sparse lines in logs. */
import type { RunProgress } from '../spice/watch.js';
import type { BatchProgress } from '../jobs/run.js';
import { seconds } from './format.js';

export interface Progress {
  update(text: string): void;
  /** Ends the line with a summary (default `done`). */
  done(text?: string): void;
  /** Ends without a summary, for a failure the caller reports itself. */
  stop(): void;
  /** Prints a line of its own (above the live line on a terminal), e.g. a failed batch job. */
  note(text: string): void;
}

const LOG_INTERVAL_MS = 10_000;
const TICK_MS = 500;
/** Fraction done after which an ETA is shown: earlier ones are mostly start-up time. */
const ETA_AFTER_FRACTION = 0.05;

/** A progress line that also shows elapsed time; silent when `quiet`. */
export function progress(label: string, quiet = false): Progress {
  const start = Date.now();
  const tty = process.stderr.isTTY === true;
  let text = '';
  let lastLog = start;
  const line = (t: string, s: string) => `${label}${t ? ` ${t}` : ''} (${s} s)`;
  const render = () => {
    const s = ((Date.now() - start) / 1000).toFixed(0);
    if (tty) process.stderr.write(`\r\x1b[K${line(text, s)}`);
    else if (Date.now() - lastLog >= LOG_INTERVAL_MS) {
      process.stderr.write(`${line(text, s)}\n`);
      lastLog = Date.now();
    }
  };
  const timer = quiet ? undefined : setInterval(render, TICK_MS);
  timer?.unref();
  return {
    update(t: string) {
      text = t;
    },
    done(t?: string) {
      if (timer) clearInterval(timer);
      if (quiet) return;
      process.stderr.write(`${tty ? '\r\x1b[K' : ''}${line(t ?? 'done', ((Date.now() - start) / 1000).toFixed(1))}\n`);
    },
    stop() {
      if (timer) clearInterval(timer);
      if (!quiet && tty) process.stderr.write('\r\x1b[K');
    },
    note(t: string) {
      if (quiet) return;
      process.stderr.write(`${tty ? '\r\x1b[K' : ''}${t}\n`);
      if (tty) render();
    },
  };
}

/**
 * An `onProgress` for `runNgspice` that shows on `p` how far the transient got, with an ETA once past 5 %:
 * `43% (t = 0.43 s of 1.01 s, ETA 16 s)`, or `t = 0.43 s, 2150 points` when tstop is unknown.
 *
 * @param tStopS the transient's tstop (s), for runs whose reports carry no fraction (no `expectTStopS`)
 * @example runNgspice({ netlist, expectTStopS: 1.01, onProgress: transientProgress(progress('ngspice')) })
 */
export function transientProgress(p: Progress, tStopS?: number): (r: RunProgress) => void {
  const startedMs = Date.now();
  return (r) => {
    // With a fraction from the runner, tstop is timeS / fraction (fraction is only clamped at tstop).
    const stopS = tStopS ?? (r.fraction ? r.timeS / r.fraction : undefined);
    if (stopS === undefined || !(stopS > 0)) {
      p.update(`t = ${seconds(r.timeS)}, ${r.points} points`);
      return;
    }
    const fraction = r.fraction ?? Math.min(1, Math.max(0, r.timeS / stopS));
    const elapsedS = (Date.now() - startedMs) / 1000;
    const eta =
      fraction > ETA_AFTER_FRACTION && fraction < 1 ? `, ETA ${duration((elapsedS * (1 - fraction)) / fraction)}` : '';
    p.update(`${(100 * fraction).toFixed(0)}% (t = ${simTime(r.timeS, stopS)} of ${simTime(stopS, stopS)}${eta})`);
  };
}

/** A simulated time in the unit that suits `refS` (the tstop), so both read alike: `0.43 s of 1.01 s`. */
function simTime(tS: number, refS: number): string {
  const [scale, unit] = refS >= 1 ? [1, 's'] : refS >= 1e-3 ? [1e-3, 'ms'] : refS >= 1e-6 ? [1e-6, 'us'] : [1e-9, 'ns'];
  return `${(tS / scale).toFixed(2)} ${unit}`;
}

/**
 * A batch's progress: a bar, jobs done of total, failures, rate and ETA:
 * `[#######-------------] 70/200, 2 failed, 2 running, 8.1 jobs/min, ETA 16 min`. Jobs done by an earlier run
 * fill the bar but not the rate.
 */
export function batchProgressText(p: BatchProgress, barWidth = 20): string {
  const done = p.skipped + p.finished;
  const parts = [`${bar(p.total === 0 ? 1 : done / p.total, barWidth)} ${done}/${p.total}`];
  if (p.skipped > 0) parts.push(`${p.skipped} done before`);
  if (p.failed > 0) parts.push(`${p.failed} failed`);
  if (p.running > 0) parts.push(`${p.running} running`);
  if (p.ratePerS !== null) parts.push(`${(p.ratePerS * 60).toFixed(1)} jobs/min`);
  if (p.etaS !== null && done < p.total) parts.push(`ETA ${duration(p.etaS)}`);
  return parts.join(', ');
}

/** `[#####---------------]` for a fraction in [0, 1]. */
export function bar(fraction: number, width = 20): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** A wall-clock duration: `16 s`, `4 min`, `1.5 h`. */
export function duration(s: number): string {
  if (s < 100) return `${Math.round(s)} s`;
  if (s < 6000) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
