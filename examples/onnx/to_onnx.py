"""Converts a model Tandem exported for PyTorch to ONNX and checks the result.

    /usr/bin/python3 examples/onnx/to_onnx.py EXPORT.pt OUT.onnx --shape 1,1,28,28
    /usr/bin/python3 examples/onnx/to_onnx.py final.state_dict.pt OUT.onnx \
        --model cnn --shape 1,1,28,28

EXPORT.pt is either a TorchScript model (a TorchScript run's final.pt /
best.pt, or `tandem-server --export CKPT,OUT` for one), read with
torch.jit.load, or, with --model NAME, a zoo model's state dict
(final.state_dict.pt / best.state_dict.pt or an --export of a zoo run), loaded
into tandem_models.build(NAME, ...) with the channels, height and width of
--shape and the classes of the state dict's last layer.

--shape is one input's shape, batch first: N,C,H,W for images, N,C,T for
sensor windows, N,F for features. The ONNX model takes normalised input
(Tandem's (x - mean) / std, per channel) named "x" and returns logits named
"logits"; its batch dimension is dynamic. onnx.checker.check_model checks it,
and, as no ONNX runtime is installed here, run_onnx runs the graph with
torch's functional ops on 4 random inputs: its logits must be PyTorch's
(within 1e-4).
"""
import argparse
import os
import sys
import warnings

import onnx
import onnx.numpy_helper
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pytorch"))
import tandem_models  # noqa: E402


def load(path, model_name, shape):
    if model_name is None:
        try:
            return torch.jit.load(path, map_location="cpu")
        except RuntimeError as e:
            sys.exit(f"{path}: not a TorchScript model ({str(e).splitlines()[0]});"
                     " for a zoo model's state dict pass --model NAME")
    state = torch.load(path, map_location="cpu")
    if not isinstance(state, dict):
        sys.exit(f"{path}: expected a state dict for --model {model_name}")
    last = [v for k, v in state.items() if k.endswith(".weight") and v.dim() == 2]
    if not last:
        sys.exit(f"{path}: no linear layer in the state dict")
    dims = {"classes": int(last[-1].shape[0]), "channels": shape[1]}
    if len(shape) == 4:
        dims.update(height=shape[2], width=shape[3])
    elif len(shape) == 3:
        dims.update(width=shape[2])
    model = tandem_models.build(model_name, **dims)
    model.load_state_dict(state)
    return model


def run_onnx(m, x):
    """Runs an ONNX graph of the ops Tandem's models export to (Conv, Relu,
    MaxPool, Flatten, Gemm, BatchNormalization, ...) with torch's functional
    ops, following the ONNX operator definitions: a check of the exported
    graph and weights where no ONNX runtime is installed."""
    F = torch.nn.functional
    env = {t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy())
           for t in m.graph.initializer}
    env[m.graph.input[0].name] = x
    for n in m.graph.node:
        at = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
        i = [env[k] if k else None for k in n.input]
        op = n.op_type
        if op == "Conv":
            k = len(i[0].shape) - 2
            pads = at.get("pads", [0] * 2 * k)
            if pads[:k] != pads[k:]:
                raise NotImplementedError("asymmetric Conv pads")
            conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[k]
            y = conv(i[0], i[1], i[2] if len(i) > 2 else None,
                     stride=at.get("strides", 1), padding=pads[:k],
                     dilation=at.get("dilations", 1), groups=at.get("group", 1))
        elif op == "MaxPool":
            k = len(i[0].shape) - 2
            pads = at.get("pads", [0] * 2 * k)
            if pads[:k] != pads[k:] or at.get("ceil_mode", 0):
                raise NotImplementedError("MaxPool with asymmetric pads or ceil_mode")
            pool = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[k]
            y = pool(i[0], at["kernel_shape"], at.get("strides", at["kernel_shape"]),
                     pads[:k], at.get("dilations", 1))
        elif op == "AveragePool":
            k = len(i[0].shape) - 2
            pool = {1: F.avg_pool1d, 2: F.avg_pool2d}[k]
            y = pool(i[0], at["kernel_shape"], at.get("strides", at["kernel_shape"]))
        elif op == "Relu":
            y = F.relu(i[0])
        elif op == "Flatten":
            ax = at.get("axis", 1)
            y = i[0].reshape(int(torch.tensor(i[0].shape[:ax]).prod()), -1)
        elif op == "Gemm":
            a_, b_ = i[0], i[1]
            if at.get("transA", 0):
                a_ = a_.t()
            if at.get("transB", 0):
                b_ = b_.t()
            y = at.get("alpha", 1.0) * a_ @ b_
            if len(i) > 2 and i[2] is not None:
                y = y + at.get("beta", 1.0) * i[2]
        elif op == "MatMul":
            y = i[0] @ i[1]
        elif op == "Add":
            y = i[0] + i[1]
        elif op == "BatchNormalization":
            y = F.batch_norm(i[0], i[3], i[4], i[1], i[2], False, 0.0,
                             at.get("epsilon", 1e-5))
        elif op == "Identity":
            y = i[0]
        else:
            raise NotImplementedError(f"no evaluator for ONNX op {op}")
        env[n.output[0]] = y
    return env[m.graph.output[0].name]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("export")
    p.add_argument("out")
    p.add_argument("--shape", default="1,1,28,28",
                   help="input shape, batch first (default 1,1,28,28)")
    p.add_argument("--model", choices=sorted(tandem_models.MODELS),
                   help="EXPORT is a state dict of this zoo model")
    p.add_argument("--opset", type=int, default=13)
    a = p.parse_args()
    shape = [int(s) for s in a.shape.split(",")]
    if len(shape) < 2 or min(shape) < 1:
        sys.exit(f"--shape {a.shape}: expected N,C[,H],W or N,F")

    # torch 1.13 warns that a ScriptModule's forward has no Python signature.
    warnings.filterwarnings("ignore", message="no signature found")
    if not os.path.isfile(a.export):
        sys.exit(f"{a.export}: no such file")
    model = load(a.export, a.model, shape)
    model.eval()
    x = torch.zeros(shape)
    torch.onnx.export(model, (x,), a.out, opset_version=a.opset,
                      input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
    m = onnx.load(a.out)
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})
    # No ONNX runtime here: run the ONNX graph with run_onnx on a batch of
    # random inputs and compare its logits with the PyTorch model's.
    xb = torch.randn([4] + shape[1:])
    with torch.no_grad():
        want = model(xb)
    try:
        got = run_onnx(m, xb)
        diff = (got - want).abs().max().item()
        tol = 1e-4 * max(1.0, want.abs().max().item())
        if diff > tol:
            sys.exit(f"{a.out}: ONNX logits differ from PyTorch's by {diff:.3g}")
        check = f"logits equal PyTorch's on 4 random inputs (max diff {diff:.1e})"
    except NotImplementedError as e:
        check = f"logits not compared ({e})"
    def dims(v):
        return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
    print(f"{a.out}: ONNX opset {m.opset_import[0].version}, checked; "
          f"input {m.graph.input[0].name} {dims(m.graph.input[0])}, "
          f"output {m.graph.output[0].name} {dims(m.graph.output[0])}; "
          f"{len(m.graph.node)} nodes ({', '.join(ops)}), "
          f"{sum(1 for _ in m.graph.initializer)} weight tensors; {check}")


if __name__ == "__main__":
    main()
