"""Shared helpers for the PyTorch parity fixtures.

Each family script (core_ops.py, ...) records cases with `Recorder.case` and saves one
safetensors file under tests/fixtures/parity/. For every case the file holds, under the case's
name: in0, in1, ... (inputs), out (output), gout (a random cotangent, the gradient flowing into
the output) and grad0, grad1, ... for the inputs that require grad. The C# tests replay each
case by name and compare. Run with Debian's /usr/bin/python3 (python3-torch 1.13).
"""
import json
import os
import struct

import torch

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT_DIR = os.path.join(REPO, "tests", "fixtures", "parity")

_DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.bool: "BOOL"}


def save_safetensors(path, tensors, metadata=None):
    """Writes tensors (name -> torch.Tensor) in the safetensors format, without the safetensors package."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        data = t.numpy().tobytes()
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


class Recorder:
    """Collects parity cases for one family and writes them to tests/fixtures/parity/<family>.safetensors."""

    def __init__(self, family, seed=0):
        self.family = family
        self.tensors = {}
        torch.manual_seed(seed)

    def case(self, name, fn, *inputs, grad=None):
        """Records fn(*inputs). `grad` lists the input positions to differentiate (default: all float inputs)."""
        if grad is None:
            grad = [i for i, x in enumerate(inputs) if x.is_floating_point()]
        leaves = [x.detach().clone().requires_grad_(i in grad) for i, x in enumerate(inputs)]
        out = fn(*leaves)
        for i, x in enumerate(leaves):
            self.tensors[f"{name}/in{i}"] = x
        self.tensors[f"{name}/out"] = out
        if grad and out.is_floating_point():
            gout = torch.randn_like(out)
            out.backward(gout)
            self.tensors[f"{name}/gout"] = gout
            for i in grad:
                self.tensors[f"{name}/grad{i}"] = leaves[i].grad if leaves[i].grad is not None else torch.zeros_like(leaves[i])

    def save(self):
        os.makedirs(OUT_DIR, exist_ok=True)
        path = os.path.join(OUT_DIR, f"{self.family}.safetensors")
        save_safetensors(path, self.tensors, {"generator": f"tools/parity/{self.family}.py", "torch": torch.__version__})
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")
