#!/usr/bin/env python3
"""PyTorch peer of jrnn's GPU benchmark: nn.LSTM / nn.GRU (cuDNN) at the same DeepBench shapes.

For every case (the same list as io.jrnn.backend.cuda.GpuBenchReport.deepBench), in FP32 with
torch.backends.cudnn.allow_tf32 = False (what jrnn's fp32 does), in FP32 with TF32 allowed
(PyTorch's default, compare with jrnn's tf32) and, for the subset, in FP16:
  * end to end: a pinned CPU tensor -> cuda (non_blocking) -> module -> .cpu()  (wall clock, median)
  * device-resident: the module call alone on a device tensor (CUDA events, median)
Writes torch-peer.csv and torch-peer.md to --out; with --jrnn-csv (the Java benchmark's
gpu-bench.csv) also jrnn-vs-torch.md: jrnn end to end / PyTorch end to end (target <= 1.00).

  python3 torch_peer.py [--quick] [--reps N] [--warmup N] [--budget-s S] [--out DIR] [--jrnn-csv FILE]
(no case starts after S seconds).
"""
import argparse
import csv
import os
import statistics
import sys
import time


def deep_bench(quick):
    """The cases of GpuBenchReport.deepBench, as (cell, H, N, T, C, precision); keep the two in step."""
    hiddens = [512, 1536] if quick else [512, 1024, 1536]
    batches = [1, 64] if quick else [1, 4, 32, 64]
    steps = [25] if quick else [25, 50]
    fp32 = [("lstm", h, n, t, h, "fp32") for h in hiddens for n in batches for t in steps]
    fp32.append(("gru", 1024, 4, 375, 1024, "fp32"))
    if quick:
        return fp32 + [("gru", 1024, 4, 375, 1024, "fp16")]
    subset = [c for c in fp32 if c[0] == "gru" or (c[1] == 1024 and c[2] in (4, 64) and c[3] == 25)]
    return (fp32 + [c[:5] + ("tf32",) for c in subset] + [c[:5] + ("fp16",) for c in subset])


def case_id(cell, h, n, t, c, precision):
    return "%s-h%d-n%d-t%d%s-%s" % (cell, h, n, t, "" if c == h else "-c%d" % c, precision)


def percentile(values, q):
    s = sorted(values)
    if len(s) == 1:
        return s[0]
    rank = q / 100.0 * (len(s) - 1)
    lo = int(rank)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (rank - lo) * (s[hi] - s[lo])


def measure(torch, cell, h, n, t, c, precision, reps, warmup):
    torch.backends.cudnn.allow_tf32 = precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
    module_type = torch.nn.LSTM if cell == "lstm" else torch.nn.GRU
    module = module_type(c, h, batch_first=True).cuda().eval()
    half = precision == "fp16"
    if half:
        module = module.half()
    x_cpu = torch.rand(n, t, c).mul_(2).sub_(1).pin_memory()
    x_dev = x_cpu.cuda()
    if half:
        x_dev = x_dev.half()

    def end_to_end():
        x = x_cpu.to("cuda", non_blocking=True)
        if half:
            x = x.half()
        y, _ = module(x)
        if half:
            y = y.float()
        return y.cpu()

    start = torch.cuda.Event(enable_timing=True)
    stop = torch.cuda.Event(enable_timing=True)

    def device_only():
        start.record()
        module(x_dev)
        stop.record()
        stop.synchronize()
        return start.elapsed_time(stop)

    with torch.inference_mode():
        for _ in range(warmup):
            end_to_end()
            device_only()
        e2e = []
        for _ in range(reps):
            t0 = time.perf_counter()
            end_to_end()
            e2e.append((time.perf_counter() - t0) * 1e3)
        dev = [device_only() for _ in range(reps)]
    return {
        "e2e_ms": statistics.median(e2e), "e2e_p10_ms": percentile(e2e, 10), "e2e_p90_ms": percentile(e2e, 90),
        "device_ms": statistics.median(dev),
    }


def read_jrnn(path):
    rows = {}
    if path and os.path.exists(path):
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                rows[r["case"]] = r
    return rows


def fnum(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def comparison(torch_rows, jrnn_rows):
    lines = ["Both end to end from a pinned (page-locked) input: jrnn from CudaBackend.pinnedTensor (outputs in "
             "pinned memory), PyTorch from a pin_memory() tensor (.to('cuda', non_blocking=True), module, .cpu()).",
             "",
             "| case | jrnn end to end ms (pinned input) | PyTorch end to end ms (pinned input) | jrnn / PyTorch "
             "| PyTorch device ms | cuDNN compute ms (direct) |", "|---|---:|---:|---:|---:|---:|"]
    met = compared = 0
    for r in torch_rows:
        j = jrnn_rows.get(r["case"])
        jrnn_ms = fnum(j["jrnn_ms"]) if j else float("nan")
        compute_ms = fnum(j["cudnn_compute_ms"]) if j else float("nan")
        if jrnn_ms == jrnn_ms:
            ratio = jrnn_ms / r["e2e_ms"]
            compared += 1
            met += ratio <= 1.0
            ratio_text = "%.2f%s" % (ratio, "" if ratio <= 1.0 else " ✗")
        else:
            ratio_text = "—"
        lines.append("| %s | %s | %.3f | %s | %.3f | %s |" % (
            r["case"], "—" if jrnn_ms != jrnn_ms else "%.3f" % jrnn_ms, r["e2e_ms"], ratio_text, r["device_ms"],
            "—" if compute_ms != compute_ms else "%.3f" % compute_ms))
    lines.append("")
    lines.append("%d of %d compared cases meet the target jrnn <= PyTorch end to end (✗ marks the others); "
                 "PyTorch fp32 rows run with allow_tf32=False, tf32 rows with it allowed." % (met, compared))
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--reps", type=int, default=25)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--out", default="reports")
    p.add_argument("--jrnn-csv", default=None)
    p.add_argument("--budget-s", type=float, default=float("inf"))
    a = p.parse_args()
    if a.quick:
        a.reps = min(a.reps, 20)
    os.makedirs(a.out, exist_ok=True)
    import torch
    if not torch.cuda.is_available():
        msg = "TORCH-PEER skipped: torch %s sees no CUDA device" % torch.__version__
        print(msg)
        with open(os.path.join(a.out, "torch-peer.md"), "w") as f:
            f.write(msg + "\n")
        return 0
    print("TORCH-PEER torch %s, CUDA %s, cuDNN %s, %s" % (torch.__version__, torch.version.cuda,
          torch.backends.cudnn.version(), torch.cuda.get_device_name(0)))
    cases = []
    for cell, h, n, t, c, precision in deep_bench(a.quick):
        cases.append((cell, h, n, t, c, precision))
        if precision == "fp32" and not a.quick:
            cases.append((cell, h, n, t, c, "tf32"))
    seen = set()
    rows = []
    start = time.perf_counter()
    for case in cases:
        cid = case_id(*case)
        if cid in seen:
            continue
        seen.add(cid)
        if time.perf_counter() - start > a.budget_s:
            print("TORCH-PEER %s not run: the %g s time budget was spent" % (cid, a.budget_s))
            continue
        try:
            r = measure(torch, *case, reps=a.reps, warmup=a.warmup)
        except Exception as e:  # one failing case must not hide the others
            print("TORCH-PEER %s FAILED: %s" % (cid, e))
            continue
        r.update(case=cid, cell=case[0], H=case[1], N=case[2], T=case[3], C=case[4], precision=case[5])
        rows.append(r)
        print("TORCH-PEER %s e2e=%.3fms device=%.3fms" % (cid, r["e2e_ms"], r["device_ms"]))
        torch.cuda.empty_cache()
    fields = ["case", "cell", "H", "N", "T", "C", "precision", "e2e_ms", "e2e_p10_ms", "e2e_p90_ms", "device_ms"]
    with open(os.path.join(a.out, "torch-peer.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    table = ["| case | PyTorch end to end ms (p10–p90) | PyTorch device ms |", "|---|---:|---:|"]
    table += ["| %s | %.3f (%.3f–%.3f) | %.3f |" % (r["case"], r["e2e_ms"], r["e2e_p10_ms"], r["e2e_p90_ms"],
                                                   r["device_ms"]) for r in rows]
    with open(os.path.join(a.out, "torch-peer.md"), "w") as f:
        f.write("\n".join(table) + "\n")
    jrnn_rows = read_jrnn(a.jrnn_csv)
    if jrnn_rows:
        text = comparison(rows, jrnn_rows)
        with open(os.path.join(a.out, "jrnn-vs-torch.md"), "w") as f:
            f.write(text)
        print(text)
    else:
        print("\n".join(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
