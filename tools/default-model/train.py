#!/usr/bin/python3
"""Train jrnn's bundled default model and write it in the Keras legacy .h5 layout.

Task, model, file layout and verification are described in README.md next to this file.
The data generator below is mirrored bit for bit by java/src/main/java/io/jrnn/cli/DemoTask.java
(java.util.SplittableRandom re-implemented here with numpy uint64 arithmetic).

Run from anywhere:  /usr/bin/python3 tools/default-model/train.py
Requires Debian's python3-torch, python3-h5py, python3-numpy. CPU only, < 3 minutes.
"""
import argparse
import json
import os
import sys
import time

import h5py
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
MODEL_PATH = os.path.join(ROOT, "java", "src", "main", "resources", "io", "jrnn", "cli", "default-model.h5")
SAMPLE_PATH = os.path.join(ROOT, "java", "src", "test", "resources", "fixtures", "default-model", "sample.json")
sys.path.insert(0, os.path.join(ROOT, "tools", "fixtures"))
import fixture_json  # noqa: E402  (shared JSON writer: exact float32 decimals)

# ---------------------------------------------------------------------------------------------
# Task definition (keep in sync with DemoTask.java and README.md)
# ---------------------------------------------------------------------------------------------
STEPS, FEATURES, CLASSES = 40, 3, 5
FREQ_BASE = 1.0       # cycles per 10 steps for class 0
FREQ_STEP = 0.25      # spacing between classes, cycles per 10 steps
FREQ_JITTER = 0.125   # per-sample uniform jitter in [-J, +J), cycles per 10 steps
AMP_MIN, AMP_MAX = 0.5, 1.5
SIGNAL_NOISE = 0.3    # std of the noise added to features 0 and 1
PURE_NOISE = 0.5      # std of feature 2 (noise only)
DRAWS_PER_SAMPLE = 4 + STEPS * FEATURES   # label, phase, amplitude, jitter, then 60 Box-Muller pairs

TRAIN_SEED = 1        # generator seed of the training set
TEST_SEED = 20240601  # generator seed of the 2000-sample test set (= DemoTask.TEST_SEED)
SAMPLE_SEED = 7       # generator seed of the 6 samples in sample.json
CLI_SAMPLES, CLI_SEED = 8192, 2026  # defaults of `jrnn demo` (DemoCommand --samples/--seed)
TORCH_SEED = 1234

GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)


def _mix64(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def splittable_doubles(seed, count):
    """The first `count` values of new java.util.SplittableRandom(seed).nextDouble()."""
    with np.errstate(over="ignore"):
        i = np.arange(1, count + 1, dtype=np.uint64)
        s = np.uint64(seed & 0xFFFFFFFFFFFFFFFF) + i * GOLDEN_GAMMA
        return (_mix64(s) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


def generate(n, seed):
    """Return (inputs float32 [n, STEPS, FEATURES], labels int64 [n]); same values as DemoTask.generate."""
    u = splittable_doubles(seed, n * DRAWS_PER_SAMPLE).reshape(n, DRAWS_PER_SAMPLE)
    labels = np.minimum(np.floor(u[:, 0] * CLASSES), CLASSES - 1).astype(np.int64)
    phase = 2.0 * np.pi * u[:, 1]
    amp = AMP_MIN + (AMP_MAX - AMP_MIN) * u[:, 2]
    freq = FREQ_BASE + FREQ_STEP * labels + FREQ_JITTER * (2.0 * u[:, 3] - 1.0)
    # Box-Muller: pair j uses (u1, u2) = draws 4+2j, 5+2j and yields eps[2j] (cos), eps[2j+1] (sin)
    u1 = u[:, 4::2]
    u2 = u[:, 5::2]
    r = np.sqrt(-2.0 * np.log(1.0 - u1))
    eps = np.empty((n, STEPS * FEATURES), dtype=np.float64)
    eps[:, 0::2] = r * np.cos(2.0 * np.pi * u2)
    eps[:, 1::2] = r * np.sin(2.0 * np.pi * u2)
    eps = eps.reshape(n, STEPS, FEATURES)
    t = np.arange(STEPS, dtype=np.float64)
    theta = 2.0 * np.pi * freq[:, None] * t[None, :] / 10.0 + phase[:, None]
    x = np.empty((n, STEPS, FEATURES), dtype=np.float32)
    x[:, :, 0] = amp[:, None] * np.sin(theta) + SIGNAL_NOISE * eps[:, :, 0]
    x[:, :, 1] = amp[:, None] * np.cos(theta) + SIGNAL_NOISE * eps[:, :, 1]
    x[:, :, 2] = PURE_NOISE * eps[:, :, 2]
    return x, labels


# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------
HIDDEN = 32


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(FEATURES, HIDDEN, batch_first=True)
        self.dense = torch.nn.Linear(HIDDEN, CLASSES)
        with torch.no_grad():  # Keras-like unit_forget_bias: forget-gate bias starts at 1
            self.lstm.bias_ih_l0[HIDDEN:2 * HIDDEN].fill_(1.0)
            self.lstm.bias_hh_l0[HIDDEN:2 * HIDDEN].fill_(0.0)

    def forward(self, x):  # logits
        y, _ = self.lstm(x)
        return self.dense(y[:, -1, :])


def train(args):
    torch.manual_seed(TORCH_SEED)
    np.random.seed(TORCH_SEED)
    torch.set_num_threads(args.threads)
    x, y = generate(args.train_samples, TRAIN_SEED)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    steps_per_epoch = (args.train_samples + args.batch - 1) // args.batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, epochs=args.epochs,
                                                steps_per_epoch=steps_per_epoch)
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(TORCH_SEED)
    t0 = time.time()
    for epoch in range(args.epochs):
        perm = torch.randperm(args.train_samples, generator=gen)
        net.train()
        total, correct, loss_sum = 0, 0, 0.0
        for b in range(steps_per_epoch):
            idx = perm[b * args.batch:(b + 1) * args.batch]
            logits = net(xt[idx])
            loss = loss_fn(logits, yt[idx])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == yt[idx]).sum().item()
            total += len(idx)
        print("epoch %2d  loss %.4f  train acc %.4f  (%.0f s)"
              % (epoch + 1, loss_sum / total, correct / total, time.time() - t0), flush=True)
    net.eval()
    return net


# ---------------------------------------------------------------------------------------------
# PyTorch -> Keras layout (spec recurrent-layers.md 4.2) and the legacy .h5 writer
# ---------------------------------------------------------------------------------------------
def keras_weights(net):
    f = lambda t: t.detach().numpy().astype(np.float32)
    lstm = net.lstm
    return {
        "kernel": np.ascontiguousarray(f(lstm.weight_ih_l0).T),              # [C, 4H], i,f,c,o
        "recurrent_kernel": np.ascontiguousarray(f(lstm.weight_hh_l0).T),    # [H, 4H]
        "bias": f(lstm.bias_ih_l0) + f(lstm.bias_hh_l0),                     # [4H]
        "dense_kernel": np.ascontiguousarray(f(net.dense.weight).T),         # [H, CLASSES]
        "dense_bias": f(net.dense.bias),                                     # [CLASSES]
    }


def _initializer(name, **config):
    return {"class_name": name, "config": config}


def model_config():
    lstm = {
        "name": "lstm", "trainable": True, "dtype": "float32",
        "return_sequences": False, "return_state": False, "go_backwards": False,
        "stateful": False, "unroll": False, "time_major": False,
        "units": HIDDEN, "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": True,
        "kernel_initializer": _initializer("GlorotUniform", seed=None),
        "recurrent_initializer": _initializer("Orthogonal", gain=1.0, seed=None),
        "bias_initializer": _initializer("Zeros"),
        "unit_forget_bias": True,
        "kernel_regularizer": None, "recurrent_regularizer": None, "bias_regularizer": None,
        "activity_regularizer": None,
        "kernel_constraint": None, "recurrent_constraint": None, "bias_constraint": None,
        "dropout": 0.0, "recurrent_dropout": 0.0, "implementation": 2,
    }
    dense = {
        "name": "dense", "trainable": True, "dtype": "float32",
        "units": CLASSES, "activation": "softmax", "use_bias": True,
        "kernel_initializer": _initializer("GlorotUniform", seed=None),
        "bias_initializer": _initializer("Zeros"),
        "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
        "kernel_constraint": None, "bias_constraint": None,
    }
    inp = {"batch_input_shape": [None, STEPS, FEATURES], "dtype": "float32",
           "sparse": False, "ragged": False, "name": "input_1"}
    return {"class_name": "Sequential",
            "config": {"name": "jrnn_default_frequency",
                       "layers": [{"class_name": "InputLayer", "config": inp},
                                  {"class_name": "LSTM", "config": lstm},
                                  {"class_name": "Dense", "config": dense}]}}


def save_h5(path, w):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with h5py.File(path, "w") as h5:
        h5.attrs["backend"] = "tensorflow"
        h5.attrs["keras_version"] = "2.15.0"
        h5.attrs["model_config"] = json.dumps(model_config())
        h5.attrs["jrnn_generator"] = "tools/default-model/train.py (PyTorch %s)" % torch.__version__
        mw = h5.create_group("model_weights")
        mw.attrs["backend"] = "tensorflow"
        mw.attrs["keras_version"] = "2.15.0"
        mw.attrs["layer_names"] = np.array([b"input_1", b"lstm", b"dense"])
        layers = [
            ("input_1", []),
            ("lstm", [("lstm/lstm_cell/kernel:0", w["kernel"]),
                      ("lstm/lstm_cell/recurrent_kernel:0", w["recurrent_kernel"]),
                      ("lstm/lstm_cell/bias:0", w["bias"])]),
            ("dense", [("dense/kernel:0", w["dense_kernel"]),
                       ("dense/bias:0", w["dense_bias"])]),
        ]
        for name, weights in layers:
            g = mw.create_group(name)
            # Keras writes an empty list for weightless layers, which h5py stores as float64 [0].
            g.attrs["weight_names"] = np.array([n.encode("utf-8") for n, _ in weights], dtype="S") \
                if weights else np.zeros((0,), dtype=np.float64)
            for wname, value in weights:
                g.create_dataset(wname, data=np.asarray(value, dtype=np.float32))


def load_h5(path):
    with h5py.File(path, "r") as h5:
        cfg = json.loads(h5.attrs["model_config"])
        mw = h5["model_weights"]
        names = [n.decode() for n in mw.attrs["layer_names"]]
        weights = {}
        for name in names:
            g = mw[name]
            weights[name] = [np.asarray(g[n.decode()]) for n in g.attrs["weight_names"]]
        return cfg, names, weights


# ---------------------------------------------------------------------------------------------
# Independent numpy forward pass from the Keras-layout weights (spec 2.4)
# ---------------------------------------------------------------------------------------------
def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def numpy_forward(x, kernel, recurrent_kernel, bias, dense_kernel, dense_bias):
    n, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    h = np.zeros((n, units), np.float32)
    c = np.zeros((n, units), np.float32)
    for t in range(steps):
        z = x[:, t, :] @ kernel + h @ recurrent_kernel + bias
        i = _sigmoid(z[:, 0 * units:1 * units])
        f = _sigmoid(z[:, 1 * units:2 * units])
        g = np.tanh(z[:, 2 * units:3 * units])
        o = _sigmoid(z[:, 3 * units:4 * units])
        c = f * c + i * g
        h = o * np.tanh(c)
    logits = h @ dense_kernel + dense_bias
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def torch_probs(net, x):
    with torch.no_grad():
        return torch.softmax(net(torch.from_numpy(x)), dim=1).numpy()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train-samples", type=int, default=12000)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=MODEL_PATH)
    p.add_argument("--sample-out", default=SAMPLE_PATH)
    p.add_argument("--no-write", action="store_true", help="train and evaluate only")
    args = p.parse_args()

    print("PyTorch %s, numpy %s, h5py %s" % (torch.__version__, np.__version__, h5py.__version__))
    net = train(args)
    xtest, ytest = generate(2000, TEST_SEED)
    p_torch = torch_probs(net, xtest)
    acc_torch = float((p_torch.argmax(1) == ytest).mean())
    print("test accuracy (PyTorch, 2000 samples, seed %d): %.4f" % (TEST_SEED, acc_torch))
    if args.no_write:
        return

    save_h5(args.out, keras_weights(net))
    print("wrote %s (%d bytes)" % (args.out, os.path.getsize(args.out)))

    # Verify: reload the file and recompute with the Keras LSTM equations in numpy.
    cfg, names, weights = load_h5(args.out)
    assert names == ["input_1", "lstm", "dense"], names
    assert [l["class_name"] for l in cfg["config"]["layers"]] == ["InputLayer", "LSTM", "Dense"]
    (k, rk, b), (dk, db) = weights["lstm"], weights["dense"]
    assert k.shape == (FEATURES, 4 * HIDDEN) and rk.shape == (HIDDEN, 4 * HIDDEN) and b.shape == (4 * HIDDEN,)
    assert dk.shape == (HIDDEN, CLASSES) and db.shape == (CLASSES,) and weights["input_1"] == []
    p_np = numpy_forward(xtest, k, rk, b, dk, db)
    diff100 = float(np.abs(p_np[:100] - p_torch[:100]).max())
    diff_all = float(np.abs(p_np - p_torch).max())
    acc_np = float((p_np.argmax(1) == ytest).mean())
    print("numpy (from .h5, Keras equations) vs PyTorch: max |diff| %.3g on 100 samples, %.3g on 2000"
          % (diff100, diff_all))
    print("test accuracy: PyTorch %.4f, numpy-from-h5 %.4f" % (acc_torch, acc_np))
    xc, yc = generate(CLI_SAMPLES, CLI_SEED)
    acc_cli = float((torch_probs(net, xc).argmax(1) == yc).mean())
    print("expected `jrnn demo` accuracy (%d samples, seed %d): %.2f%%" % (CLI_SAMPLES, CLI_SEED, 100 * acc_cli))
    if diff100 > 1e-5:
        sys.exit("verification FAILED: max |diff| %.3g > 1e-5" % diff100)

    xs, ys = generate(6, SAMPLE_SEED)
    os.makedirs(os.path.dirname(args.sample_out), exist_ok=True)
    fixture_json.write(args.sample_out, {
        "input": fixture_json.arr(xs),
        "output": fixture_json.arr(torch_probs(net, xs)),
        "source": "pytorch %s" % torch.__version__,
        "seed": SAMPLE_SEED,  # input == DemoTask.generate(6, seed).inputs(), bit for bit
        "labels": [int(v) for v in ys],
    })
    print("wrote %s" % args.sample_out)


if __name__ == "__main__":
    main()
