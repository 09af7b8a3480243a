#!/usr/bin/env python3
"""PyTorch CPU reference for `showcase bench --torch`: the same measurements as lib/bench on the
same machine and thread count. Prints progress to stderr and one JSON list of BenchRow on the
last stdout line. Needs Debian python3-torch + python3-torchvision (OpenBLAS; see
shared/notes/engines.md for OPENBLAS_CORETYPE and the thread default)."""
import argparse
import ctypes
import json
import os
import statistics
import sys
import time

import torch
import torchvision.models as tvm

ARCHS = {
    "mobilenet_v2": lambda n: tvm.mobilenet_v2(num_classes=n),
    "resnet50": lambda n: tvm.resnet50(num_classes=n),
    "densenet121": lambda n: tvm.densenet121(num_classes=n),
    "densenet169": lambda n: tvm.densenet169(num_classes=n),
    "densenet201": lambda n: tvm.densenet201(num_classes=n),
    "inception_v3": lambda n: tvm.inception_v3(num_classes=n, aux_logits=False, init_weights=False),
    "mobilenet": None,  # torchvision has no MobileNet v1
    "inception_resnet_v2": None,  # not in torchvision
}


def blas_in_use():
    """The BLAS library torch really loaded (Debian's torch links whatever libblas.so.3 the system
    selects), OpenBLAS's core type and thread count, and whether it is the ~50x slower reference BLAS."""
    libs = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "blas" in os.path.basename(path) and path.startswith("/"):
                libs.add(os.path.realpath(path))
    info = {"libraries": sorted(libs), "kind": "unknown", "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"), "torchThreads": torch.get_num_threads()}
    for lib in libs:
        if "openblas" in lib:
            info["kind"] = "openblas"
            try:
                handle = ctypes.CDLL(lib)
                handle.openblas_get_corename.restype = ctypes.c_char_p
                handle.openblas_get_config.restype = ctypes.c_char_p
                info["core"] = handle.openblas_get_corename().decode()
                info["config"] = handle.openblas_get_config().decode()
                info["blasThreads"] = handle.openblas_get_num_threads()
            except (OSError, AttributeError):
                pass
        elif "/blas/" in lib and info["kind"] == "unknown":
            info["kind"] = "reference"
        elif "mkl" in lib or "blis" in lib:
            info["kind"] = "mkl" if "mkl" in lib else "blis"
    return info


class OnnxGraph:
    """The network exactly as this project exports it to ONNX (written by lib/bench/torch.ts as JSON +
    float32 weights), run op by op with torch.nn.functional: a PyTorch twin for the architectures
    torchvision lacks (MobileNet v1, InceptionResNetV2). BatchNormalization after a convolution is
    folded into it at load, as torch.fx / TorchScript freezing would; everything else runs eagerly."""

    def __init__(self, path):
        with open(path) as f:
            spec = json.load(f)
        with open(os.path.join(os.path.dirname(path), spec["weights"]), "rb") as f:
            blob = f.read()
        t = {}
        for init in spec["initializers"]:
            if init["dtype"] == "float32":
                n = 1
                for d in init["dims"]:
                    n *= d
                t[init["name"]] = torch.frombuffer(bytearray(blob[init["offset"]:init["offset"] + 4 * n]), dtype=torch.float32).reshape(init["dims"])
            else:
                t[init["name"]] = torch.tensor(init["values"], dtype=torch.int64)
        self.input = spec["input"]
        self.outputs = spec["outputs"]
        nodes = spec["nodes"]
        consumers = {}
        for n in nodes:
            for i in n["inputs"]:
                consumers[i] = consumers.get(i, 0) + 1
        producer = {n["outputs"][0]: n for n in nodes}
        alias = {}
        kept = []
        for n in nodes:
            if n["op"] == "BatchNormalization":
                conv = producer.get(n["inputs"][0])
                if conv is not None and conv["op"] == "Conv" and consumers.get(conv["outputs"][0]) == 1:
                    scale, beta, mean, var = (t[i] for i in n["inputs"][1:])
                    s = scale / torch.sqrt(var + n["attrs"].get("epsilon", 1e-5))
                    w = t[conv["inputs"][1]]
                    b = t[conv["inputs"][2]] if len(conv["inputs"]) > 2 else torch.zeros_like(mean)
                    name = conv["outputs"][0]
                    t[name + "/folded_w"] = w * s.reshape(-1, 1, 1, 1)
                    t[name + "/folded_b"] = (b - mean) * s + beta
                    conv["inputs"] = [conv["inputs"][0], name + "/folded_w", name + "/folded_b"]
                    alias[n["outputs"][0]] = name
                    continue
            kept.append(n)
        self.tensors = t
        self.steps = [self._compile(n, alias) for n in kept]

    def _compile(self, n, alias):
        F = torch.nn.functional
        op, a, t = n["op"], n["attrs"], self.tensors
        ins = [alias.get(i, i) for i in n["inputs"]]
        out = n["outputs"][0]
        w = [t.get(i) for i in ins]

        def pads_of(p):  # ONNX [top, left, bottom, right] -> symmetric padding, or an explicit F.pad
            top, left, bottom, right = p
            if top == bottom and left == right:
                return (top, left), None
            return (0, 0), (left, right, top, bottom)

        if op == "Conv":
            padding, pre = pads_of(a.get("pads", [0, 0, 0, 0]))
            stride, dil, groups = tuple(a.get("strides", [1, 1])), tuple(a.get("dilations", [1, 1])), a.get("group", 1)
            weight, bias = w[1], (w[2] if len(w) > 2 else None)
            fn = lambda x: F.conv2d(F.pad(x, pre) if pre else x, weight, bias, stride, padding, dil, groups)
        elif op in ("MaxPool", "AveragePool"):
            padding, pre = pads_of(a.get("pads", [0, 0, 0, 0]))
            k, st = tuple(a["kernel_shape"]), tuple(a.get("strides", [1, 1]))
            if op == "MaxPool":
                fn = lambda x: F.max_pool2d(F.pad(x, pre, value=float("-inf")) if pre else x, k, st, padding)
            else:
                if pre:
                    raise ValueError(f"{out}: asymmetric average-pool padding is not supported here")
                fn = lambda x: F.avg_pool2d(x, k, st, padding, count_include_pad=False)
        elif op == "BatchNormalization":
            scale, beta, mean, var = w[1:]
            eps = a.get("epsilon", 1e-5)
            fn = lambda x: F.batch_norm(x, mean, var, scale, beta, False, 0.0, eps)
        elif op == "Transpose":
            perm = a["perm"]
            fn = lambda x: x.permute(*perm).contiguous()
        elif op == "Relu":
            fn = F.relu
        elif op == "Clip":
            lo, hi = float(w[1]), float(w[2])
            fn = lambda x: F.hardtanh(x, lo, hi)
        elif op == "Pad":
            p = w[1].tolist()
            fn = lambda x: F.pad(x, (p[3], p[7], p[2], p[6]))
        elif op == "GlobalAveragePool":
            fn = lambda x: x.mean((2, 3), keepdim=True)
        elif op == "GlobalMaxPool":
            fn = lambda x: x.amax((2, 3), keepdim=True)
        elif op == "Flatten":
            fn = lambda x: torch.flatten(x, 1)
        elif op == "Gemm":
            weight, bias = w[1].t().contiguous(), (w[2] if len(w) > 2 else None)
            fn = lambda x: F.linear(x, weight, bias)
        elif op == "Softmax":
            axis = a.get("axis", -1)
            fn = lambda x: torch.softmax(x, axis)
        elif op in ("Identity", "Dropout"):
            fn = lambda x: x
        elif op == "Reshape":
            shape = w[1].tolist()
            fn = lambda x: x.reshape([x.shape[0]] + shape[1:])
        elif op in ("Tanh", "Sigmoid"):
            fn = torch.tanh if op == "Tanh" else torch.sigmoid
        elif op in ("Concat", "Add", "Sum", "Mul"):
            axis = a.get("axis", 1)
            return (out, ins, {"Concat": lambda xs: torch.cat(xs, axis), "Add": lambda xs: xs[0] + xs[1],
                               "Sum": lambda xs: sum(xs[1:], xs[0]), "Mul": lambda xs: xs[0] * xs[1]}[op], True)
        else:
            raise ValueError(f"{out}: ONNX op {op} is not interpreted")
        return (out, ins[:1], fn, False)

    def __call__(self, x_nhwc):
        env = dict(self.tensors)
        env[self.input] = x_nhwc
        for out, ins, fn, many in self.steps:
            env[out] = fn([env[i] for i in ins]) if many else fn(env[ins[0]])
        return env[self.outputs[0]]


def row(kind, subject, variant, threads, size, batch, reps, **values):
    return {"kind": "torch", "subject": subject, "variant": variant, "engine": f"pytorch {torch.__version__}",
            "threads": threads, "inputSize": size, "batch": batch, "repetitions": reps, **values}


def latency(arch, threads, reps, size=224, graph=None):
    model = OnnxGraph(graph) if graph else ARCHS[arch](1000).eval()
    # torchvision models take NCHW; the exported graph takes NHWC and transposes inside, as ONNX Runtime does
    x = torch.rand(1, size, size, 3) if graph else torch.rand(1, 3, size, size)
    times = []
    cpu = 0.0
    with torch.inference_mode():
        for i in range(2 + reps):
            t0, c0 = time.perf_counter(), time.process_time()
            model(x)
            if i >= 2:
                times.append((time.perf_counter() - t0) * 1000)
                cpu += time.process_time() - c0
    times.sort()
    p90 = times[min(len(times) - 1, round(0.9 * (len(times) - 1)))]
    return row("latency", arch, "latency (exported graph)" if graph else "latency (torchvision)", threads, size, 1, reps, p50Ms=round(statistics.median(times), 2), p90Ms=round(p90, 2),
               imagesPerCpuSecond=round(reps / cpu, 2))


def train(arch, threads, size, steps, batch):
    model = ARCHS[arch](2).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = torch.rand(batch, 3, size, size)
    y = torch.tensor([i % 2 for i in range(batch)])
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    step()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return row("train", arch, "train", threads, size, batch, steps, imagesPerSecond=round(steps * batch / seconds, 2),
               imagesPerCpuSecond=round(steps * batch / cpu, 2))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--archs", default="mobilenet_v2")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--train-sizes", default="")
    p.add_argument("--steps", type=int, default=2)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--skip-latency", action="store_true")
    p.add_argument("--graphs", default="", help="folder of <arch>.graph.json for architectures torchvision lacks")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    # Touch BLAS once so that its library is mapped before we look for it.
    torch.mm(torch.rand(64, 64), torch.rand(64, 64))
    blas = blas_in_use()
    print(f"torch-bench: BLAS {json.dumps(blas)}", file=sys.stderr)
    if blas["kind"] == "reference":
        print(json.dumps({"refused": f"PyTorch runs on the reference BLAS ({', '.join(blas['libraries'])}), about 50x slower than OpenBLAS: "
                          "not a fair reference. Select OpenBLAS (apt-get install libopenblas0-pthread; "
                          "update-alternatives --config libblas.so.3-x86_64-linux-gnu)", "blas": blas}))
        return
    rows = []
    for arch in [s for s in a.archs.split(",") if s]:
        graph = os.path.join(a.graphs, f"{arch}.graph.json") if a.graphs else ""
        if ARCHS.get(arch) is None and not os.path.exists(graph):
            print(f"torch-bench: {arch} has no torchvision twin and no exported graph, skipped", file=sys.stderr)
            continue
        if not a.skip_latency:
            rows.append(latency(arch, a.threads, a.reps, a.size, graph if ARCHS.get(arch) is None else None))
            print(f"torch-bench: {rows[-1]}", file=sys.stderr)
        for size in [int(s) for s in a.train_sizes.split(",") if s and ARCHS.get(arch) is not None]:
            rows.append(train(arch, a.threads, size, a.steps, a.batch))
            print(f"torch-bench: {rows[-1]}", file=sys.stderr)
    print(json.dumps({"rows": rows, "blas": blas}))


if __name__ == "__main__":
    main()
