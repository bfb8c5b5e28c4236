"""Generates a synthetic activity-recognition data set: 3-axis accelerometer
windows (3 x 128 samples at 50 Hz, 2.56 s, in g) of 6 activities, split
non-IID over a simulated fleet and two real clients.

No public sensor data set can be downloaded on this machine, so the data is
made up: each activity has its own motion pattern (step frequency, amplitudes,
harmonics, body tilt), drawn with random phase, frequency and amplitude
jitter, random device orientation and noise. Seeded: the same --seed writes
the same files.

Writes, next to this script (or under --out):
  devices/board-00.npz .. board-03.npz   the simulated fleet, one file per
                                         device, different sizes and class mixes
  client-a.npz, client-b.npz             the two tandem-client processes' data
  test.npz                               the coordinator's test set (balanced)
each with x float32 N x 3 x 128 and y int64.

    /usr/bin/python3 examples/sensor-1d/make_data.py [--seed 1]
"""
import argparse
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CLASSES = ["still", "walk", "run", "stairs_up", "stairs_down", "shake"]
RATE_HZ, WIDTH = 50.0, 128

# Device file -> number of windows. The class mix of each is drawn from a
# Dirichlet(alpha) distribution: some devices see mostly two or three
# activities (non-IID).
DEVICES = {"board-00": 1600, "board-01": 1000, "board-02": 600, "board-03": 400}
CLIENTS = {"client-a": 800, "client-b": 500}
TEST_PER_CLASS = 200


def gravity(rng, tilt_rad):
    """Unit gravity vector of a device worn with some forward tilt and a
    random orientation jitter."""
    theta = tilt_rad + rng.normal(0, 0.12)
    phi = rng.uniform(-0.4, 0.4)
    return np.array([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi),
                     np.cos(theta)])


def window(rng, label):
    """One 3 x WIDTH window of activity `label`, in g."""
    t = np.arange(WIDTH) / RATE_HZ
    ph = rng.uniform(0, 2 * np.pi, size=4)
    name = CLASSES[label]
    x = np.zeros((3, WIDTH))
    if name == "still":
        g = gravity(rng, 0.0)
        x += 0.01 * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t + ph[0])
        noise = 0.02
    elif name in ("walk", "run", "stairs_up", "stairs_down"):
        f, vert, fwd, lat, h2, h3, tilt = {
            # step Hz, vertical, forward, lateral (at f/2), 2nd, 3rd harmonic,
            # forward tilt (rad)
            "walk": (rng.uniform(1.6, 2.1), rng.uniform(0.25, 0.40), 0.55,
                     0.10, 0.10, 0.00, 0.05),
            "run": (rng.uniform(2.4, 3.0), rng.uniform(0.80, 1.20), 0.40,
                    0.20, 0.30, 0.10, 0.15),
            "stairs_up": (rng.uniform(1.3, 1.8), rng.uniform(0.30, 0.45),
                          0.35, 0.08, 0.25, 0.00, 0.25),
            "stairs_down": (rng.uniform(1.5, 2.0), rng.uniform(0.40, 0.60),
                            0.45, 0.12, 0.05, 0.25, -0.20),
        }[name]
        g = gravity(rng, tilt)
        w = 2 * np.pi * f * t
        vertical = (np.sin(w + ph[0]) + h2 / max(vert, 1e-6) * np.sin(2 * w + ph[0] + np.pi / 2)
                    + h3 / max(vert, 1e-6) * np.sin(3 * w + ph[0]))
        x[2] += vert * vertical
        x[0] += vert * fwd * np.sin(w + ph[0] + rng.uniform(0.3, 0.9))
        x[1] += lat * np.sin(0.5 * w + ph[1])
        noise = 0.05
    else:  # shake: fast oscillation on a random mostly horizontal axis
        g = gravity(rng, rng.uniform(-0.6, 0.6))
        f = rng.uniform(4.5, 7.0)
        axis = np.array([rng.normal(), rng.normal(), 0.3 * rng.normal()])
        axis /= np.linalg.norm(axis)
        envelope = 0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.3, 0.8) * t + ph[2])
        amp = rng.uniform(0.8, 1.5)
        x += (amp * envelope * np.sin(2 * np.pi * f * t + ph[0]))[None, :] * axis[:, None]
        noise = 0.10
    x += g[:, None]
    x *= rng.uniform(0.9, 1.1)  # sensor gain
    x += rng.normal(0, noise * rng.uniform(0.7, 1.5), size=x.shape)
    return x.astype(np.float32)


def make(rng, labels):
    x = np.stack([window(rng, int(k)) for k in labels]).astype(np.float32)
    return x, np.asarray(labels, dtype=np.int64)


def mixed_labels(rng, n, alpha):
    p = rng.dirichlet(np.full(len(CLASSES), alpha))
    counts = rng.multinomial(n, p)
    labels = np.repeat(np.arange(len(CLASSES)), counts)
    rng.shuffle(labels)
    return labels


def save(path, x, y):
    np.savez_compressed(path, x=x, y=y)
    mix = np.bincount(y, minlength=len(CLASSES))
    print(f"{os.path.relpath(path)}: {len(y):5d} windows, per class "
          + " ".join(f"{c}={m}" for c, m in zip(CLASSES, mix)))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--alpha", type=float, default=0.5,
                   help="Dirichlet concentration of the devices' class mixes "
                        "(smaller: more skewed)")
    p.add_argument("--out", default=HERE)
    a = p.parse_args()
    rng = np.random.default_rng(a.seed)

    folder = os.path.join(a.out, "devices")
    os.makedirs(folder, exist_ok=True)
    union = np.zeros(len(CLASSES), dtype=np.int64)
    for name, n in {**DEVICES, **CLIENTS}.items():
        x, y = make(rng, mixed_labels(rng, n, a.alpha))
        out = os.path.join(folder if name in DEVICES else a.out, f"{name}.npz")
        save(out, x, y)
        if name in DEVICES:
            union += np.bincount(y, minlength=len(CLASSES))
    missing = [c for c, m in zip(CLASSES, union) if m == 0]
    if missing:
        print(f"warning: the fleet's devices hold no example of {missing}")

    labels = np.repeat(np.arange(len(CLASSES)), TEST_PER_CLASS)
    rng.shuffle(labels)
    x, y = make(rng, labels)
    save(os.path.join(a.out, "test.npz"), x, y)
    print("classes: " + ", ".join(f"{i} {c}" for i, c in enumerate(CLASSES)))


if __name__ == "__main__":
    main()
