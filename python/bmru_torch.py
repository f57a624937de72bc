"""FQ-BMRU reference in PyTorch, and the model file of bmru-cosim's interchange contract.

The network of DESIGN.md section 1 (what `bmru simulate` and the library's `runNetwork` compute), written from the
equations, with the parameter names of the interchange contract (section 1b) as the module's own state_dict keys:

    h = W_pre x + b_pre                                 pre-projection, signed
    for each block k:  skip = h
                       c = max(W_cand max(h, 0) + b_cand, 0)          candidate
                       beta_lo = |beta1|, beta_hi = beta_lo + |delta|
                       s_t = 1 if c >= beta_hi, s_{t-1} if beta_lo <= c < beta_hi, 0 if c < beta_lo
                       s_{-1} = (|s0| > 0.5)
                       h = max(W_post (|alpha| s) + b_post, 0) + skip (skip only with skip = true)
    logits = W_out h + b_out;  votes = argmax per frame;  decision = majority vote (ties to the lowest index)

Every affine layer is summed as bmru-cosim sums it, in float64: the bias, then the products of input 0, 1, ... in
order. `torch.nn.functional.linear` sums in another order (and may fuse multiply-adds), which changes the last
bits of a candidate; a candidate that lands exactly on a threshold then flips its cell. With the ordered sum the
trace here equals the toolkit's bit for bit (test/python/torch-roundtrip.test.ts checks it).

Uses torch and the Python standard library only. The safetensors file is written and read by hand: an 8-byte
little-endian header length, a JSON header ({name: {dtype, shape, data_offsets}}, plus "__metadata__"), the raw
little-endian tensors back to back.

Command line (each prints a JSON trace in the layout of shared/conformance expected.json):
    python3 bmru_torch.py forward MODEL INPUTS.csv        MODEL: .safetensors (F64/F32/F16/BF16) or the JSON format
    python3 bmru_torch.py random OUT.safetensors INPUTS_OUT.csv [--inputs F] [--width H] [--cells S] [--blocks L]
        [--classes C] [--no-skip] [--frames T] [--seed N] [--dtype F32|F64|F16|BF16]
        a seeded random network, held in torch in that dtype, written to OUT, with random inputs; the trace is the
        forward of the module as held (values upcast exactly to float64)
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import struct
import sys
from pathlib import Path

import torch
from torch import nn

#: |s0| above this reads as ON (DESIGN section 1).
S0_ON_THRESHOLD = 0.5

#: safetensors dtype names <-> torch dtypes, with the struct format of one little-endian value.
DTYPES = {
    "F64": (torch.float64, "d"),
    "F32": (torch.float32, "f"),
    "F16": (torch.float16, "e"),
    "BF16": (torch.bfloat16, None),  # no struct format: the top 16 bits of a float32
    "I64": (torch.int64, "q"),  # the features file's label, target and split (CrossEntropyLoss targets)
}
DTYPE_NAME = {torch_dtype: name for name, (torch_dtype, _) in DTYPES.items()}


class Cell(nn.Module):
    """A bank of S cells: alpha (ON level), beta1 (beta_lo), delta (band width), s0 (initial state), as trained."""

    def __init__(self, cells: int):
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(cells))
        self.beta1 = nn.Parameter(torch.zeros(cells))
        self.delta = nn.Parameter(torch.zeros(cells))
        self.s0 = nn.Parameter(torch.zeros(cells))

    def thresholds(self):
        """(|alpha|, beta_lo, beta_hi, s_init) in float64: the values the cell uses."""
        alpha = self.alpha.detach().double().abs()
        beta_lo = self.beta1.detach().double().abs()
        beta_hi = beta_lo + self.delta.detach().double().abs()
        s_init = (self.s0.detach().double().abs() > S0_ON_THRESHOLD).double()
        return alpha, beta_lo, beta_hi, s_init


class Block(nn.Module):
    def __init__(self, width: int, cells: int):
        super().__init__()
        self.cand = nn.Linear(width, cells)
        self.cell = Cell(cells)
        self.post = nn.Linear(cells, width)


class FQBMRU(nn.Module):
    """The network; `state_dict()` keys are the interchange contract's tensor names (pre.weight, blocks.0.cand.bias...)."""

    def __init__(self, inputs: int, width: int, cells: int, blocks: int, classes: int, skip: bool = True,
                 unit_current_a: float = 1e-9, frame_s: float = 0.01):
        super().__init__()
        if skip and cells != width:
            raise ValueError(f"a skip path adds h to the block output: it needs cells = width, got {cells} and {width}")
        self.skip = skip
        self.unit_current_a = unit_current_a
        self.frame_s = frame_s
        self.pre = nn.Linear(inputs, width)
        self.blocks = nn.ModuleList(Block(width, cells) for _ in range(blocks))
        self.out = nn.Linear(width, classes)

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> dict:
        """x: [T, F] signed inputs. Returns the trace: candidates, states, block_outputs ([L, T, S|H]), logits
        [T, C], votes [T], decision, all computed in float64."""
        x = x.double()
        h = ordered_affine(self.pre, x)
        candidates, states, block_outputs = [], [], []
        for block in self.blocks:
            skip = h
            c = ordered_affine(block.cand, torch.where(h > 0, h, 0.0))
            c = torch.where(c < 0, 0.0, c)  # ReLU; an exact -0 stays -0, as the toolkit stores it
            alpha, beta_lo, beta_hi, s = block.cell.thresholds()
            s_all = torch.empty_like(c)
            for t in range(c.shape[0]):
                s = torch.where(c[t] >= beta_hi, 1.0, torch.where(c[t] < beta_lo, 0.0, s))
                s_all[t] = s
            v = ordered_affine(block.post, alpha * s_all)
            h = torch.where(v > 0, v, 0.0) + (skip if self.skip else 0.0)
            candidates.append(c)
            states.append(s_all)
            block_outputs.append(h)
        logits = ordered_affine(self.out, h)
        votes = [argmax(row) for row in logits.tolist()]
        return {
            "candidates": [c.tolist() for c in candidates],
            "states": [s.int().tolist() for s in states],
            "block_outputs": [o.tolist() for o in block_outputs],
            "logits": logits.tolist(),
            "votes": votes,
            "decision": argmax([votes.count(k) for k in range(logits.shape[1])]),
        }

    def metadata(self) -> dict:
        """The file's __metadata__ (DESIGN section 1b): cell parameters as trained ('raw')."""
        return {
            "arch": "fq-bmru",
            "blocks": str(len(self.blocks)),
            "skip": "true" if self.skip else "false",
            "unit_current_a": repr(self.unit_current_a),
            "frame_s": repr(self.frame_s),
            "cell_params": "raw",
        }


def ordered_affine(layer: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """b + sum_c W[:, c] x[:, c], summed over c = 0, 1, ... in order, in float64 (x: [T, in] -> [T, out])."""
    w = layer.weight.detach().double()
    acc = layer.bias.detach().double().expand(x.shape[0], -1).clone()
    for c in range(w.shape[1]):
        acc = acc + x[:, c : c + 1] * w[:, c]
    return acc


def argmax(values) -> int:
    """Index of the largest value; a tie goes to the lowest index."""
    best = 0
    for i in range(1, len(values)):
        if values[i] > values[best]:
            best = i
    return best


# ---- safetensors, by hand ----


def tensor_bytes(t: torch.Tensor) -> bytes:
    """A tensor's values, row-major, little-endian, in its own dtype."""
    flat = t.detach().contiguous().reshape(-1)
    name = DTYPE_NAME[t.dtype]
    fmt = DTYPES[name][1]
    if fmt is None:  # BF16: its 16 bits, read as integers
        return struct.pack(f"<{flat.numel()}h", *flat.view(torch.int16).tolist())
    return struct.pack(f"<{flat.numel()}{fmt}", *flat.tolist())


def save_safetensors(tensors: dict, path, metadata: dict | None = None) -> None:
    """Write {name: tensor} (F64, F32, F16, BF16 or I64, each in its own dtype) with string metadata. Wider dtypes
    first, as the reference writer lays them out: every tensor starts on a whole value, with no gaps."""
    header: dict = {"__metadata__": metadata} if metadata else {}
    blobs = []
    offset = 0
    for name, t in sorted(tensors.items(), key=lambda kv: -kv[1].element_size()):
        if t.dtype not in DTYPE_NAME:
            raise ValueError(f"{name}: dtype {t.dtype} is not one of F64, F32, F16, BF16")
        blob = tensor_bytes(t)
        header[name] = {"dtype": DTYPE_NAME[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)  # the data section starts 8-byte aligned, as the reference writer does
    Path(path).write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def load_safetensors(path) -> tuple[dict, dict]:
    """Read a safetensors file: ({name: tensor in its stored dtype}, metadata)."""
    data = Path(path).read_bytes()
    (n,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8 : 8 + n])
    metadata = header.pop("__metadata__", {}) or {}
    base = 8 + n
    tensors = {}
    for name, entry in header.items():
        dtype, fmt = DTYPES[entry["dtype"]]
        begin, end = entry["data_offsets"]
        raw = data[base + begin : base + end]
        if fmt is None:
            count = len(raw) // 2
            values = torch.tensor(struct.unpack(f"<{count}h", raw), dtype=torch.int16).view(torch.bfloat16)
        else:
            count = len(raw) // struct.calcsize(fmt)
            values = torch.tensor(struct.unpack(f"<{count}{fmt}", raw), dtype=dtype)
        tensors[name] = values.reshape(entry["shape"])
    return tensors, metadata


def save_model(model: FQBMRU, path) -> None:
    """Write the model as DESIGN section 1b's safetensors file, each tensor in the dtype the module holds."""
    save_safetensors(dict(model.state_dict()), path, model.metadata())


def model_from_tensors(tensors: dict, metadata: dict) -> FQBMRU:
    """Build the module from contract tensors (shapes from pre.weight, out.weight, blocks.0.cand.weight)."""
    width, inputs = tensors["pre.weight"].shape
    cells = tensors["blocks.0.cand.weight"].shape[0]
    blocks = int(metadata.get("blocks", sum(1 for k in tensors if k.endswith(".cell.alpha"))))
    skip = str(metadata.get("skip", "true" if cells == width else "false")) == "true"
    model = FQBMRU(inputs, width, cells, blocks, tensors["out.weight"].shape[0], skip,
                   float(metadata.get("unit_current_a", 1e-9)), float(metadata.get("frame_s", 0.01)))
    own = model.state_dict()
    if set(own) != set(tensors):
        raise ValueError(f"tensor names differ from the contract: missing {sorted(set(own) - set(tensors))}, "
                         f"unknown {sorted(set(tensors) - set(own))}")
    # Keep each tensor's stored dtype (an F16 file stays F16): the forward upcasts exactly to float64.
    for name, t in tensors.items():
        module_name, _, attr = name.rpartition(".")
        setattr(model.get_submodule(module_name), attr, nn.Parameter(t.clone(), requires_grad=False))
    return model


def load_model(path) -> FQBMRU:
    """A model file: safetensors, or bmru-cosim's JSON format ({"arch", "blocks", "skip", "tensors": {...}})."""
    data = Path(path).read_bytes()
    if data.lstrip()[:1] == b"{":
        doc = json.loads(data)
        tensors = {k: torch.tensor(v, dtype=torch.float64) for k, v in doc["tensors"].items()}
        metadata = {"blocks": str(doc["blocks"]), "skip": "true" if doc["skip"] else "false",
                    "unit_current_a": doc.get("unitCurrentA", 1e-9), "frame_s": doc.get("frameS", 0.01)}
        return model_from_tensors(tensors, metadata)
    return model_from_tensors(*load_safetensors(path))


def load_inputs(path) -> torch.Tensor:
    """An inputs CSV (one row per frame, one column per feature, an optional header row) as float64 [T, F]."""
    with open(path, newline="") as f:
        rows = [[cell.strip() for cell in row] for row in csv.reader(f) if any(cell.strip() for cell in row)]
    if rows and any(not is_number(cell) for cell in rows[0]):
        rows = rows[1:]
    return torch.tensor([[float(cell) for cell in row] for row in rows], dtype=torch.float64)


def is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def random_model(inputs: int, width: int, cells: int, blocks: int, classes: int, skip: bool, seed: int) -> FQBMRU:
    """A seeded network whose cells switch: PyTorch's default Linear init, |alpha| in [0.5, 1.5), beta1 and delta in
    [0, 0.3) with random signs (raw trained values), s0 in [-1, 1)."""
    torch.manual_seed(seed)
    model = FQBMRU(inputs, width, cells, blocks, classes, skip)
    with torch.no_grad():
        for block in model.blocks:
            sign = lambda: torch.where(torch.rand(cells) < 0.5, -1.0, 1.0)  # noqa: E731
            block.cell.alpha.copy_(sign() * (0.5 + torch.rand(cells)))
            block.cell.beta1.copy_(sign() * 0.3 * torch.rand(cells))
            block.cell.delta.copy_(sign() * 0.3 * torch.rand(cells))
            block.cell.s0.copy_(2 * torch.rand(cells) - 1)
    return model


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    fwd = sub.add_parser("forward", help="trace of a model file on an inputs CSV, as JSON")
    fwd.add_argument("model")
    fwd.add_argument("inputs")
    rnd = sub.add_parser("random", help="write a seeded random network and inputs; print its trace")
    rnd.add_argument("out")
    rnd.add_argument("inputs_out")
    for flag, default in (("inputs", 5), ("width", 4), ("cells", None), ("blocks", 2), ("classes", 3),
                          ("frames", 40), ("seed", 1)):
        rnd.add_argument(f"--{flag}", type=int, default=default)
    rnd.add_argument("--no-skip", action="store_true")
    rnd.add_argument("--dtype", choices=["BF16", "F16", "F32", "F64"], default="F32")
    args = parser.parse_args(argv)
    if args.command == "forward":
        trace = load_model(args.model)(load_inputs(args.inputs))
    else:
        cells = args.cells if args.cells is not None else args.width
        model = random_model(args.inputs, args.width, cells, args.blocks, args.classes, not args.no_skip, args.seed)
        model.to(DTYPES[args.dtype][0])  # what a training script holds (e.g. .half()) is what the file carries
        save_model(model, args.out)
        x = torch.randn(args.frames, args.inputs, dtype=torch.float64)
        with open(args.inputs_out, "w") as f:
            f.write(",".join(f"x{i}" for i in range(args.inputs)) + "\n")
            f.writelines(",".join(repr(v) for v in row) + "\n" for row in x.tolist())
        trace = model(x)
        trace["tensors"] = {k: v.double().reshape(-1).tolist() for k, v in model.state_dict().items()}
    json.dump(trace, sys.stdout)


if __name__ == "__main__":
    main()
