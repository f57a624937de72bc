"""Independent single-thread numpy forward pass of the FQ-BMRU network (DESIGN.md section 1), for `npm run bench`.

Written from DESIGN.md's equations, not from the TypeScript model: every clip's frames are stacked into one
matrix, so each layer is one matrix-matrix product (BLAS dgemm) over all clips and frames at once (the block
input h does not recur, only the cell states do), and the cell recurrence is vectorised: a frame whose
candidate leaves the hysteresis band [beta_lo, beta_hi) sets the state; inside the band the state is that of
the last frame that set it (found with a running maximum over frame indices), or s_0 if none did.

Usage: python3 bench/numpy_bmru.py MODEL.safetensors CLIPS.npy [OUR_STATES.npy] [--repeats N] [--serve]
  MODEL   the interchange format of DESIGN.md section 1b (F32 or F64 tensors, `cell_params` raw or realised)
  CLIPS   float64 [B, T, F]: B clips of T frames
  OUR_STATES  uint8 [L, B, T, S]: the states the TypeScript model computed, compared bit for bit
Prints one JSON line: {"unitFramesPerS": ..., "seconds": best wall time of N, "cpuSeconds": least process CPU
time of N, "mismatches": ..., "numpy": version}. With --serve it reads repeat counts from stdin, one a line, and
answers each with such a line.
"""

import os

# Single-threaded BLAS: these must be set before numpy loads OpenBLAS (or MKL) to take effect.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402
import struct  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

# safetensors: 8-byte little-endian header length, a JSON header, then the raw little-endian tensors.
SAFETENSORS_DTYPES = {"F32": "<f4", "F64": "<f8"}
# DESIGN.md section 1: the learned initial state is ON when |s0_param| > 0.5.
S0_ON_THRESHOLD = 0.5


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (header_len,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + header_len])
    meta = header.pop("__metadata__", {})
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        arr = np.frombuffer(raw[base + start : base + end], dtype=SAFETENSORS_DTYPES[info["dtype"]])
        tensors[name] = arr.astype(np.float64).reshape(info["shape"])
    return tensors, meta


def load_model(path):
    t, meta = read_safetensors(path)
    blocks = []
    for k in range(int(meta["blocks"])):
        p = f"blocks.{k}."
        beta_lo = np.abs(t[p + "cell.beta1"])
        blocks.append(
            {
                # Transposed once so that a layer is X @ W^T: [frames, in] @ [in, out].
                "cand_wt": np.ascontiguousarray(t[p + "cand.weight"].T),
                "cand_b": t[p + "cand.bias"],
                "alpha": np.abs(t[p + "cell.alpha"]),
                "beta_lo": beta_lo,
                "beta_hi": beta_lo + np.abs(t[p + "cell.delta"]),
                "s0": np.abs(t[p + "cell.s0"]) > S0_ON_THRESHOLD,
                "post_wt": np.ascontiguousarray(t[p + "post.weight"].T),
                "post_b": t[p + "post.bias"],
            }
        )
    return {
        "skip": meta["skip"] == "true",
        "pre_wt": np.ascontiguousarray(t["pre.weight"].T),
        "pre_b": t["pre.bias"],
        "blocks": blocks,
        "out_wt": np.ascontiguousarray(t["out.weight"].T),
        "out_b": t["out.bias"],
    }


def cell_states(c, beta_lo, beta_hi, s0):
    """Binary states [B, T, S] of one cell bank from its candidates [B, T, S] (DESIGN.md section 1)."""
    frames = c.shape[1]
    high = c >= beta_hi
    decided = high | (c < beta_lo)
    # Index of the last frame <= t that set the state (outside the band), -1 if none yet.
    last = np.where(decided, np.arange(frames, dtype=np.int32)[None, :, None], np.int32(-1))
    np.maximum.accumulate(last, axis=1, out=last)
    set_to = np.take_along_axis(high, np.maximum(last, 0), axis=1)
    return np.where(last >= 0, set_to, s0)


def forward(m, clips):
    """States of every block [L][B, T, S] and logits [B, T, C] for clips [B, T, F]."""
    b, frames, features = clips.shape
    h = clips.reshape(b * frames, features) @ m["pre_wt"] + m["pre_b"]
    states = []
    for blk in m["blocks"]:
        c = np.maximum(h, 0) @ blk["cand_wt"]
        c += blk["cand_b"]
        np.maximum(c, 0, out=c)
        s = cell_states(c.reshape(b, frames, -1), blk["beta_lo"], blk["beta_hi"], blk["s0"])
        states.append(s)
        y = (s.reshape(b * frames, -1) * blk["alpha"]) @ blk["post_wt"]
        y += blk["post_b"]
        np.maximum(y, 0, out=y)
        h = y + h if m["skip"] else y
    logits = h @ m["out_wt"] + m["out_b"]
    return states, logits.reshape(b, frames, -1)


def timed_runs(m, clips, repeats):
    """Best wall time, least CPU time and the states of `repeats` forward passes."""
    best_s = float("inf")
    best_cpu_s = float("inf")
    states = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        c0 = time.process_time()
        states, _logits = forward(m, clips)
        best_cpu_s = min(best_cpu_s, time.process_time() - c0)
        best_s = min(best_s, time.perf_counter() - t0)
    return best_s, best_cpu_s, states


def report(m, clips, ours, repeats):
    best_s, best_cpu_s, states = timed_runs(m, clips, repeats)
    b, frames, _ = clips.shape
    unit_frames = sum(s.shape[2] for s in states) * b * frames
    mismatches = None
    if ours is not None:
        mine = np.stack([s.astype(np.uint8) for s in states])
        mismatches = int(np.count_nonzero(ours != mine)) if ours.shape == mine.shape else -1
    return {
        "unitFramesPerS": unit_frames / best_s,
        "seconds": best_s,
        "cpuSeconds": best_cpu_s,
        "mismatches": mismatches,
        "numpy": np.__version__,
    }


def main(argv):
    repeats = 5
    serve = "--serve" in argv
    argv = [a for a in argv if a != "--serve"]
    if "--repeats" in argv:
        i = argv.index("--repeats")
        repeats = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2 :]
    m = load_model(argv[0])
    clips = np.ascontiguousarray(np.load(argv[1]), dtype=np.float64)
    ours = np.load(argv[2]) if len(argv) > 2 else None
    if not serve:
        print(json.dumps(report(m, clips, ours, repeats)))
        return
    # Serve: one untimed pass, then for each line read (a repeat count) one JSON line, so that a caller can
    # alternate with its own runs without paying for Python's start-up between them.
    forward(m, clips)
    for line in sys.stdin:
        print(json.dumps(report(m, clips, ours, int(line))), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
