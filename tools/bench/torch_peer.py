#!/usr/bin/env python3
"""PyTorch peer of `jrnn bench`: times torch.nn.LSTM/GRU/RNN on the weights and inputs jrnn wrote.

Usage: torch_peer.py SPEC.json    (written by `jrnn bench`; prints one JSON document on stdout)

SPEC: {"threads": n, "dir": DIR, "cells": [{"id", "kind": "LSTM"|"GRU"|"RNN", "h", "n", "t", "c"}],
       "sampler": {"warmupMs", "rounds", "blockMs"}}
DIR/<id>/{w_ih,w_hh,b_ih,b_hh,x,y}.npy: PyTorch-layout weights (jrnn's converter), input [N,T,C] and
jrnn's output [N,T,H], against which the peer reports its max |diff|.

torch.set_num_threads(n), torch.inference_mode(), batch_first=True, float32. Debian's python3-torch
uses the system BLAS (libblas.so.3): install libopenblas0-pthread, or it runs the reference BLAS.
"""
import json
import os
import sys
import time


def main():
    spec = json.load(open(sys.argv[1]))
    import numpy as np
    import torch

    torch.set_num_threads(int(spec["threads"]))
    sampler = spec["sampler"]
    results = []
    for cell in spec["cells"]:
        d = os.path.join(spec["dir"], cell["id"])
        load = lambda name: torch.from_numpy(np.load(os.path.join(d, name + ".npy")))
        kind, h, c = cell["kind"], cell["h"], cell["c"]
        module = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "RNN": torch.nn.RNN}[kind]
        kwargs = {"nonlinearity": "tanh"} if kind == "RNN" else {}
        net = module(c, h, batch_first=True, **kwargs).eval()
        with torch.no_grad():
            net.weight_ih_l0.copy_(load("w_ih"))
            net.weight_hh_l0.copy_(load("w_hh"))
            net.bias_ih_l0.copy_(load("b_ih"))
            net.bias_hh_l0.copy_(load("b_hh"))
        x = load("x").contiguous()
        expected = load("y")
        with torch.inference_mode():
            run = lambda: net(x)[0]
            y = run()
            max_abs = float((y - expected).abs().max())
            start = time.perf_counter()
            count = 0
            while count < 2 or time.perf_counter() - start < sampler["warmupMs"] / 1000:
                run()
                count += 1
            per_call = (time.perf_counter() - start) / count
            calls = max(1, min(100000, round(sampler["blockMs"] / 1000 / per_call)))
            ms = []
            for _ in range(sampler["rounds"]):
                run()
                t0 = time.perf_counter()
                for _ in range(calls):
                    run()
                ms.append((time.perf_counter() - t0) * 1000 / calls)
        results.append({"id": cell["id"], "ms": ms, "maxAbsDiff": max_abs})
    blas = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    json.dump({"label": "PyTorch " + torch.__version__, "blas": blas, "threads": torch.get_num_threads(),
               "cells": results}, sys.stdout)


if __name__ == "__main__":
    main()
