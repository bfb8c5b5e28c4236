"""Writes this example's inputs next to this script:

  cnn.pt      tandem_models.py's `cnn` (1 x 28 x 28, 10 classes) as TorchScript
  train.npz   Fashion-MNIST's 60,000 training images, x uint8 N x 1 x 28 x 28,
              y int64
  test.npz    its 10,000 test images, the same way

from Debian's dataset-fashion-mnist IDX files (numpy and gzip only).

    /usr/bin/python3 examples/fashion-mnist-pytorch/prepare.py [--src DIR]
"""
import argparse
import gzip
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pytorch"))
import tandem_models  # noqa: E402


def read_idx(path):
    """An IDX file (gzipped) as a numpy array of its dtype and shape."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype_code, rank = data[0] * 256 + data[1], data[2], data[3]
    if zero != 0 or dtype_code != 0x08:
        sys.exit(f"{path}: not an unsigned-byte IDX file")
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big")
                  for i in range(rank))
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank)
    if body.size != int(np.prod(shape)):
        sys.exit(f"{path}: {body.size} bytes for shape {shape}")
    return body.reshape(shape)


def split(src, prefix):
    x = read_idx(os.path.join(src, f"{prefix}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(src, f"{prefix}-labels-idx1-ubyte.gz"))
    if x.shape[0] != y.shape[0]:
        sys.exit(f"{prefix}: {x.shape[0]} images but {y.shape[0]} labels")
    return x.reshape(-1, 1, 28, 28), y.astype(np.int64)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--src", default="/usr/share/datasets/fashion-mnist",
                   help="folder of the four *-ubyte.gz files")
    p.add_argument("--out", default=HERE, help="where to write the files")
    p.add_argument("--seed", type=int, default=1, help="model initialisation")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)

    torch.manual_seed(a.seed)
    model = tandem_models.build("cnn", channels=1, height=28, width=28,
                                classes=10)
    torch.jit.script(model).save(os.path.join(a.out, "cnn.pt"))
    print(f"cnn saved to {os.path.join(a.out, 'cnn.pt')}")

    for prefix, name in (("train", "train.npz"), ("t10k", "test.npz")):
        x, y = split(a.src, prefix)
        path = os.path.join(a.out, name)
        np.savez_compressed(path, x=x, y=y)
        print(f"{path}: x {x.dtype} {x.shape}, y {y.dtype} {y.shape}, "
              f"{len(np.unique(y))} classes")


if __name__ == "__main__":
    main()
