"""Writes what tests/integration/own_model_processes_test.cc needs into the
folder given as the only argument: cnn1d.pt (examples/pytorch's 1-D CNN,
3 x 128 windows, 4 classes) and .npz files of synthetic accelerometer
windows (class-dependent frequency and amplitude, random phase, noise):
dev-a.npz and dev-b.npz (each device's own data), train.npz (the
coordinator's, for normalisation) and test.npz."""
import os
import subprocess
import sys

import numpy as np


def windows(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, size=n)
    t = np.arange(128) / 50.0
    freq = np.array([0.5, 1.5, 3.0, 5.0])[y][:, None, None]
    amp = np.array([0.2, 1.0, 2.0, 0.7])[y][:, None, None]
    phase = rng.uniform(0, 2 * np.pi, size=(n, 3, 1))
    x = amp * np.sin(2 * np.pi * freq * t[None, None, :] + phase)
    x = x + rng.normal(0, 0.3, size=(n, 3, 128)) + np.array([0, 0, 9.8])[
        None, :, None]
    return x.astype(np.float32), y.astype(np.int64)


def main():
    out = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    subprocess.run([sys.executable,
                    os.path.join(here, "..", "..", "examples", "pytorch",
                                 "tandem_models.py"),
                    "cnn1d", os.path.join(out, "cnn1d.pt"), "--channels", "3",
                    "--width", "128", "--classes", "4"], check=True)
    for name, n, seed in (("dev-a", 240, 1), ("dev-b", 160, 2),
                          ("train", 400, 3), ("test", 200, 4)):
        x, y = windows(n, seed)
        np.savez(os.path.join(out, name + ".npz"), x=x, y=y)


if __name__ == "__main__":
    main()
