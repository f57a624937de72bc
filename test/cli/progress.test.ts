import { afterEach, describe, expect, it, vi } from 'vitest';
import { batchProgressText, transientProgress, type Progress } from '../../src/cli/progress.js';

/** A Progress that keeps the last text it was given. */
function recorder(): Progress & { text: string } {
  const p = {
    text: '',
    update: (t: string) => void (p.text = t),
    done: () => undefined,
    stop: () => undefined,
    note: () => undefined,
  };
  return p;
}

describe('transientProgress', () => {
  afterEach(() => vi.useRealTimers());

  it('shows percentage and simulated time of tstop, with no ETA up to 5%', () => {
    const p = recorder();
    transientProgress(p)({ timeS: 0.0404, fraction: 0.04, points: 10 });
    expect(p.text).toBe('4% (t = 0.04 s of 1.01 s)');
  });

  it('adds an ETA from the elapsed time once past 5%', () => {
    vi.useFakeTimers();
    const p = recorder();
    const report = transientProgress(p);
    vi.advanceTimersByTime(12_000);
    report({ timeS: 0.4343, fraction: 0.43, points: 2000 });
    expect(p.text).toBe('43% (t = 0.43 s of 1.01 s, ETA 16 s)');
    report({ timeS: 1.01, fraction: 1, points: 5000 });
    expect(p.text).toBe('100% (t = 1.01 s of 1.01 s)');
  });

  it('takes tstop from the caller when the run gives no fraction, in the unit that suits it', () => {
    const p = recorder();
    transientProgress(p, 0.05)({ timeS: 0.02, points: 300 });
    expect(p.text).toMatch(/^40% \(t = 20.00 ms of 50.00 ms, ETA \d+ s\)$/);
  });

  it('shows time and points when tstop is unknown', () => {
    const p = recorder();
    transientProgress(p)({ timeS: 0.02, points: 300 });
    expect(p.text).toBe('t = 20.00 ms, 300 points');
  });
});

describe('batchProgressText', () => {
  const p = {
    total: 200,
    skipped: 20,
    finished: 50,
    failed: 2,
    running: 2,
    elapsedS: 300,
    ratePerS: 50 / 300,
    etaS: 130 / (50 / 300),
  };

  it('shows a bar over all jobs, failures, running jobs, rate per minute and ETA', () => {
    expect(batchProgressText(p, 10)).toBe(
      '[####------] 70/200, 20 done before, 2 failed, 2 running, 10.0 jobs/min, ETA 13 min',
    );
  });

  it('leaves out what is zero or unknown, and the ETA once all are done', () => {
    expect(
      batchProgressText({ ...p, skipped: 0, finished: 0, failed: 0, running: 1, ratePerS: null, etaS: null }, 10),
    ).toBe('[----------] 0/200, 1 running');
    expect(batchProgressText({ ...p, skipped: 0, finished: 200, failed: 0, running: 0, etaS: 0 }, 4)).toBe(
      '[####] 200/200, 10.0 jobs/min',
    );
  });
});
