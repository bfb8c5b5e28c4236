#!/usr/bin/env bash
# TorchScript models against the same architectures in C++: writes the zoo's
# models as TorchScript with examples/pytorch/tandem_models.py (Debian's
# python3-torch), then prints per-batch training times and their ratio
# (bench/training/torchscript_bench.cc). About a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
B="${1:-build}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for m in mlp cnn vgg5; do
  /usr/bin/python3 examples/pytorch/tandem_models.py "$m" "$dir/$m.pt" >/dev/null
done
"$B/bench/training/torchscript_bench" "$dir"
