"""Writes TorchScript files that Tandem must refuse, one per way a model
file can be wrong, into the folder given as the only argument."""
import os
import sys

import torch
from torch import nn


class NoStages(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(784, 10))

    def forward(self, x):
        return x.flatten(1) @ self.w


class NotItsStages(nn.Module):
    """Children a and b, but forward skips b."""

    def __init__(self):
        super().__init__()
        self.a = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
        self.b = nn.Sequential(nn.ReLU(), nn.Linear(10, 10))

    def forward(self, x):
        return self.a(x)


def main():
    out = sys.argv[1]
    torch.manual_seed(1)
    models = {
        "no_stages": NoStages(),
        "not_its_stages": NotItsStages(),
        # stage 1 wants 100 features, stage 0 gives 200
        "bad_chain": nn.Sequential(
            nn.Sequential(nn.Flatten(), nn.Linear(784, 200)),
            nn.Sequential(nn.Linear(100, 10))),
        # takes 3-channel 32x32 images, not 1x28x28
        "wrong_input": nn.Sequential(
            nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10))),
        "five_classes": nn.Sequential(
            nn.Sequential(nn.Flatten(), nn.Linear(784, 5))),
        "nan_weights": nn.Sequential(
            nn.Sequential(nn.Flatten(), nn.Linear(784, 10))),
    }
    with torch.no_grad():
        models["nan_weights"][0][1].weight[3, 7] = float("nan")
    for name, model in models.items():
        torch.jit.script(model).save(os.path.join(out, name + ".pt"))
    with open(os.path.join(out, "not_torchscript.pt"), "wb") as f:
        f.write(b"this is not a TorchScript archive\n")


if __name__ == "__main__":
    main()
