"""Loads a model Tandem exported (ml/export.h) the way a PyTorch user
would, and writes its logits on given inputs: the other half of
tests/ml/export_test.cc.

  check_export.py (--torchscript FILE | --state_dict FILE --model NAME)
      --inputs RAW --shape N,C,H,W --out RAW
RAW files are little-endian float32, row-major.
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "examples", "pytorch"))
import tandem_models  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--torchscript")
    p.add_argument("--state_dict")
    p.add_argument("--model")
    p.add_argument("--inputs", required=True)
    p.add_argument("--shape", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    torch.set_num_threads(1)
    if a.torchscript:
        model = torch.jit.load(a.torchscript)
    else:
        shape = [int(d) for d in a.shape.split(",")]
        model = tandem_models.build(a.model, channels=shape[1],
                                    height=shape[2], width=shape[3])
        model.load_state_dict(torch.load(a.state_dict))
    model.eval()
    shape = [int(d) for d in a.shape.split(",")]
    x = torch.from_numpy(np.fromfile(a.inputs, dtype="<f4").reshape(shape))
    with torch.no_grad():
        logits = model(x)
    logits.numpy().astype("<f4").tofile(a.out)


if __name__ == "__main__":
    main()
