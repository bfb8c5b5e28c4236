"""PyTorch definitions of Tandem's model zoo (ml/model_zoo.cc) and of the
examples' models, written as Tandem reads a TorchScript model: an
nn.Sequential whose children are the stages (split points lie between them).

The zoo's modules have the zoo's tensor names ("conv1.conv.weight" here is
"s0.conv.weight" in Tandem), so a state dict that `tandem-server --export`
writes for a zoo model loads into them:

    import torch, tandem_models
    model = tandem_models.build("cnn")
    model.load_state_dict(torch.load("final.state_dict.pt"))

Run as a script to save one as TorchScript for `model.torchscript`:

    /usr/bin/python3 tandem_models.py cnn cnn.pt [--channels 1 --height 28
        --width 28 --classes 10 --seed 1]
"""
import argparse
from collections import OrderedDict

import torch
from torch import nn


def _seq(**layers):
    return nn.Sequential(OrderedDict(layers))


def mlp(channels=1, height=28, width=28, classes=10, hidden=200):
    flat = channels * height * width
    return _seq(
        fc1=_seq(flatten=nn.Flatten(), fc=nn.Linear(flat, hidden), relu=nn.ReLU()),
        fc2=_seq(fc=nn.Linear(hidden, hidden), relu=nn.ReLU()),
        fc3=_seq(fc=nn.Linear(hidden, classes)))


def cnn(channels=1, height=28, width=28, classes=10):
    def conv(a, b):
        return _seq(conv=nn.Conv2d(a, b, 5, padding=2), relu=nn.ReLU(),
                    pool=nn.MaxPool2d(2))
    flat = 32 * (height // 4) * (width // 4)
    return _seq(
        conv1=conv(channels, 16),
        conv2=conv(16, 32),
        fc1=_seq(flatten=nn.Flatten(), fc=nn.Linear(flat, 128), relu=nn.ReLU()),
        fc2=_seq(fc=nn.Linear(128, classes)))


def vgg5(channels=1, height=28, width=28, classes=10):
    """FedAdapt's VGG-5: seven stages, batch norm after every convolution."""
    def conv_bn_relu(a, b):
        return _seq(conv=nn.Conv2d(a, b, 3, padding=1), bn=nn.BatchNorm2d(b),
                    relu=nn.ReLU())
    flat = 64 * (height // 4) * (width // 4)
    return _seq(
        conv1=conv_bn_relu(channels, 32),
        pool1=_seq(pool=nn.MaxPool2d(2)),
        conv2=conv_bn_relu(32, 64),
        pool2=_seq(pool=nn.MaxPool2d(2)),
        conv3=conv_bn_relu(64, 64),
        fc1=_seq(flatten=nn.Flatten(), fc=nn.Linear(flat, 128), relu=nn.ReLU()),
        fc2=_seq(fc=nn.Linear(128, classes)))


def cnn1d(channels=3, height=1, width=128, classes=6):
    """A 1-D CNN over sensor windows of `channels` x `width` samples."""
    def conv(a, b):
        return _seq(conv=nn.Conv1d(a, b, 5, padding=2), relu=nn.ReLU(),
                    pool=nn.MaxPool1d(2))
    return _seq(
        conv1=conv(channels, 16),
        conv2=conv(16, 32),
        fc1=_seq(flatten=nn.Flatten(), fc=nn.Linear(32 * (width // 4), 64),
                 relu=nn.ReLU()),
        fc2=_seq(fc=nn.Linear(64, classes)))


MODELS = {"mlp": mlp, "cnn": cnn, "vgg5": vgg5, "cnn1d": cnn1d}


def build(name, **shape):
    return MODELS[name](**shape)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", choices=sorted(MODELS))
    p.add_argument("out")
    p.add_argument("--channels", type=int)
    p.add_argument("--height", type=int)
    p.add_argument("--width", type=int)
    p.add_argument("--classes", type=int)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    shape = {k: v for k, v in (("channels", a.channels), ("height", a.height),
                               ("width", a.width), ("classes", a.classes))
             if v is not None}
    torch.jit.script(build(a.model, **shape)).save(a.out)
    print(f"{a.model} saved to {a.out}")


if __name__ == "__main__":
    main()
