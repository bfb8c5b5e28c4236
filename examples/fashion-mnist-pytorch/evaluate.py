"""Evaluates a Tandem run's final model on Fashion-MNIST's test set in PyTorch
and compares with the accuracy Tandem recorded for it.

    /usr/bin/python3 examples/fashion-mnist-pytorch/evaluate.py RUN_DIR
        [--model final.pt] [--train train.npz] [--test test.npz]

RUN_DIR/final.pt is the TorchScript model with the run's final weights.
Images are normalised as Tandem normalises uint8 data: (x / 255 - mean) / std
per channel, mean and population std of x / 255 over the training set
(from exact integer sums, in float64, stored as float32, as
ml/data/dataset.cc does), applied in float32 as x * (1 / (255 std)) - mean / std
(ml/batch.cc).
"""
import argparse
import json
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def channel_stats(x):
    """Per-channel mean and population std of x / 255 for uint8 x (N x C x ...)."""
    c = x.shape[1]
    v = x.reshape(x.shape[0], c, -1).transpose(1, 0, 2).reshape(c, -1)
    mean = np.empty(c, np.float32)
    std = np.ones(c, np.float32)
    for k in range(c):
        p = v[k].astype(np.uint64)
        n = float(p.size)
        s, s2 = int(p.sum()), int((p * p).sum())   # exact, as Tandem sums
        m = s / n / 255.0
        var = max(0.0, s2 / n / (255.0 * 255.0) - m * m)
        mean[k] = np.float32(m)
        if var > 0:
            std[k] = np.float32(np.sqrt(var))
    return mean, std


def normalise(x, mean, std):
    scale = (np.float32(1.0) / (np.float32(255.0) * std)).astype(np.float32)
    shift = (-mean / std).astype(np.float32)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return (x.astype(np.float32) * scale.reshape(shape)
            + shift.reshape(shape)).astype(np.float32)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run_dir")
    p.add_argument("--model", default="final.pt",
                   help="TorchScript file in RUN_DIR (final.pt or best.pt)")
    p.add_argument("--train", default=os.path.join(HERE, "train.npz"))
    p.add_argument("--test", default=os.path.join(HERE, "test.npz"))
    p.add_argument("--batch", type=int, default=500)
    a = p.parse_args()

    torch.set_num_threads(1)
    model = torch.jit.load(os.path.join(a.run_dir, a.model), map_location="cpu")
    model.eval()

    with np.load(a.train) as f:
        mean, std = channel_stats(f["x"])
    with np.load(a.test) as f:
        x, y = f["x"], f["y"].astype(np.int64)
    print(f"mean {mean.tolist()}  std {std.tolist()} (training set, x / 255)")

    correct, loss_sum = 0, 0.0
    with torch.no_grad():
        for i in range(0, len(y), a.batch):
            xb = torch.from_numpy(normalise(x[i:i + a.batch], mean, std))
            yb = torch.from_numpy(y[i:i + a.batch])
            out = model(xb)
            loss_sum += torch.nn.functional.cross_entropy(
                out, yb, reduction="sum").item()
            correct += int((out.argmax(1) == yb).sum())
    acc = correct / len(y)
    print(f"PyTorch: {a.model} accuracy {100 * acc:.2f}% ({correct}/{len(y)}), "
          f"loss {loss_sum / len(y):.4f}")

    summary_path = os.path.join(a.run_dir, "summary.json")
    if os.path.exists(summary_path):
        with open(summary_path) as f:
            s = json.load(f)
        key = "final_accuracy" if a.model == "final.pt" else "best_accuracy"
        tandem = s.get(key)
        if tandem is not None:
            print(f"Tandem:  summary.json {key} {100 * tandem:.2f}%"
                  f" (loss {s.get('final_loss', float('nan')):.4f})"
                  if key == "final_accuracy" else
                  f"Tandem:  summary.json {key} {100 * tandem:.2f}%")
            print(f"difference {100 * (acc - tandem):+.2f} points")


if __name__ == "__main__":
    main()
