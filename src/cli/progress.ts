/** Progress on stderr for work that takes more than a few seconds: a live line on a terminal, sparse lines in logs. */
export interface Progress {
  update(text: string): void;
  done(text?: string): void;
}

const LOG_INTERVAL_MS = 10_000;
const TICK_MS = 500;

/** A progress line that also shows elapsed time; silent when `quiet`. */
export function progress(label: string, quiet = false): Progress {
  const start = Date.now();
  const tty = process.stderr.isTTY === true;
  let text = '';
  let lastLog = start;
  const render = () => {
    const s = ((Date.now() - start) / 1000).toFixed(0);
    if (tty) process.stderr.write(`\r\x1b[K${label} ${text} (${s} s)`);
    else if (Date.now() - lastLog >= LOG_INTERVAL_MS) {
      process.stderr.write(`${label} ${text} (${s} s)\n`);
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
      const s = ((Date.now() - start) / 1000).toFixed(1);
      process.stderr.write(`${tty ? '\r\x1b[K' : ''}${label} ${t ?? 'done'} (${s} s)\n`);
    },
  };
}
