#!/usr/bin/env python3
"""PyTorch CPU reference for `showcase bench --torch`: the same measurements as lib/bench on the
same machine and thread count. Prints progress to stderr and one JSON list of BenchRow on the
last stdout line. Needs Debian python3-torch + python3-torchvision (OpenBLAS; see
shared/notes/engines.md for OPENBLAS_CORETYPE and the thread default)."""
import argparse
import json
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


def row(kind, subject, variant, threads, size, batch, reps, **values):
    return {"kind": "torch", "subject": subject, "variant": variant, "engine": f"pytorch {torch.__version__}",
            "threads": threads, "inputSize": size, "batch": batch, "repetitions": reps, **values}


def latency(arch, threads, reps, size=224):
    model = ARCHS[arch](1000).eval()
    x = torch.rand(1, 3, size, size)
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
    return row("latency", arch, "latency", threads, size, 1, reps, p50Ms=round(statistics.median(times), 2), p90Ms=round(p90, 2),
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
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    rows = []
    for arch in [s for s in a.archs.split(",") if s]:
        if ARCHS.get(arch) is None:
            print(f"torch-bench: {arch} has no torchvision twin, skipped", file=sys.stderr)
            continue
        rows.append(latency(arch, a.threads, a.reps))
        print(f"torch-bench: {rows[-1]}", file=sys.stderr)
        for size in [int(s) for s in a.train_sizes.split(",") if s]:
            rows.append(train(arch, a.threads, size, a.steps, a.batch))
            print(f"torch-bench: {rows[-1]}", file=sys.stderr)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
