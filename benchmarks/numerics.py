"""The solution version's batch norm: staged backward against the closed form, against
PyTorch's CPU batch norm where PyTorch is installed, and the two gradient checks."""
import statistics
import sys
import timeit

import numpy as np

from autograder.assignments import ROOT, load
from autograder.misconceptions import apply
from autograder.reference import module_from_source

from .sections import Section, fmt

SOLUTIONS = ROOT / "solutions" / "batchnorm"
SHAPES = ((100, 500), (4096, 1024))
BUGGY_BACKWARD = "bn-backward-missing-mean-path"
THRESHOLD = 1e-6  # what the grader's numeric-gradient checks accept


def _module(name, source=None):
    path = SOLUTIONS / f"{name}.py"
    return module_from_source(f"_bench_{name}", source or path.read_text(), path)


def per_call(function, repeat):
    """Median time of one call over ``repeat`` rounds of enough calls to last 0.2 s."""
    timer = timeit.Timer(function)
    calls, _ = timer.autorange()
    return statistics.median(t / calls for t in timer.repeat(repeat, calls))


def inputs(n, d, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, d)) * 3 + 1, rng.standard_normal(d), rng.standard_normal(d),
            rng.standard_normal((n, d)))


def backward_speed(repeat):
    bn = _module("batchnorm")
    section = Section("Batch norm: staged backward vs. backward_alt (float64)",
                      ["N, D", "batchnorm_backward", "batchnorm_backward_alt", "speed-up"])
    speedups = {}
    for n, d in SHAPES:
        x, gamma, beta, dout = inputs(n, d)
        _, cache = bn.batchnorm_forward(x, gamma, beta, {"mode": "train"})
        staged = per_call(lambda: bn.batchnorm_backward(dout, cache), repeat)
        alt = per_call(lambda: bn.batchnorm_backward_alt(dout, cache), repeat)
        speedups[n, d] = staged / alt
        section.rows.append([f"{n}, {d}", fmt(staged), fmt(alt), f"{staged / alt:.2f}x"])
        results = [bn.batchnorm_backward(dout, cache), bn.batchnorm_backward_alt(dout, cache)]
        worst = max(float(np.max(np.abs(a - b))) for a, b in zip(*results))
        section.notes.append(f"At N={n}, D={d} both give the same dx, dgamma, dbeta (largest difference {worst:.1e}).")
    section.notes.append(f"Median per call over {repeat} rounds; numpy {np.__version__}, one thread of work "
                         "(these are element-wise operations and reductions, no BLAS).")
    return section, {"alt_speedup": speedups}


def against_torch(repeat, torch_from=None):
    """forward + backward_alt against torch.nn.functional.batch_norm on one thread.
    ``torch_from`` is a folder PyTorch was installed into (``pip install --target``),
    searched after everything else so that it changes no other package."""
    section = Section("Batch norm: forward + backward_alt vs. PyTorch CPU (one thread, float64)",
                      ["N, D", "numpy solution", "PyTorch", "numpy time / PyTorch time"])
    if torch_from and str(torch_from) not in sys.path:
        sys.path.append(str(torch_from))
    try:
        import torch
    except ImportError:
        section.notes.append("PyTorch is not installed here, so this comparison was not run. It is an optional "
                             "extra (`pip install --target DIR torch`, then `--torch-from DIR`), never a "
                             "dependency of grading.")
        return section, {}
    torch.set_num_threads(1)
    bn = _module("batchnorm")
    for n, d in SHAPES:
        x, gamma, beta, dout = inputs(n, d)

        def ours():
            _, cache = bn.batchnorm_forward(x, gamma, beta, {"mode": "train"})
            return bn.batchnorm_backward_alt(dout, cache)

        tx = torch.tensor(x, requires_grad=True)
        tg, tb = torch.tensor(gamma, requires_grad=True), torch.tensor(beta, requires_grad=True)
        tdout = torch.tensor(dout)

        def theirs():
            tx.grad = tg.grad = tb.grad = None
            out = torch.nn.functional.batch_norm(tx, None, None, tg, tb, training=True, eps=1e-5)
            out.backward(tdout)
            return tx.grad, tg.grad, tb.grad

        worst = max(float(np.max(np.abs(a - b.numpy()))) for a, b in zip(ours(), theirs()))
        mine, torch_time = per_call(ours, repeat), per_call(theirs, repeat)
        section.rows.append([f"{n}, {d}", fmt(mine), fmt(torch_time), f"{mine / torch_time:.2f}x"])
        section.notes.append(f"At N={n}, D={d} the gradients agree with PyTorch's to {worst:.1e}.")
    section.notes.append(f"PyTorch {torch.__version__}, torch.set_num_threads(1).")
    return section, {}


def gradient_checks(repeat):
    """The directional check (two forward calls) against the full centred-difference
    check (2 * N * D forward calls), on the correct backward and on a wrong one."""
    gc = _module("gradient_check")
    bn = _module("batchnorm")
    mistake = next(m for m in load("batchnorm", ROOT).catalogue if m.id == BUGGY_BACKWARD)
    buggy = _module("batchnorm", apply(mistake, (SOLUTIONS / "batchnorm.py").read_text(), "batchnorm"))
    section = Section("Gradient checks: directional vs. full centred differences",
                      ["N, D", "backward", "full check", "rel. error", "directional check", "rel. error", "speed-up"])
    misjudged = []
    for n, d in ((16, 32), (64, 128)):
        x, gamma, beta, dout = inputs(n, d, seed=1)

        def forward(z):
            return bn.batchnorm_forward(z, gamma, beta, {"mode": "train"})[0]

        for label, module in (("correct", bn), (f"`{BUGGY_BACKWARD}`", buggy)):
            _, cache = module.batchnorm_forward(x, gamma, beta, {"mode": "train"})
            dx = module.batchnorm_backward(dout, cache)[0]
            full_error = gc.rel_error(gc.eval_numerical_gradient_array(forward, x.copy(), dout), dx)
            directional_error = gc.directional_gradient_check(forward, x, dout, dx, np.random.default_rng(2))
            full = per_call(lambda: gc.eval_numerical_gradient_array(forward, x.copy(), dout), max(1, repeat // 2))
            directional = per_call(lambda: gc.directional_gradient_check(forward, x, dout, dx,
                                                                         np.random.default_rng(2)), repeat)
            for check, error in (("full", full_error), ("directional", directional_error)):
                if (error < THRESHOLD) != (module is bn):
                    misjudged.append(f"the {check} check {'fails' if module is bn else 'passes'} the {label} "
                                     f"backward at N={n}, D={d} (relative error {error:.1e})")
            section.rows.append([f"{n}, {d}", label, fmt(full), f"{full_error:.1e}", fmt(directional),
                                 f"{directional_error:.1e}", f"{full / directional:.0f}x"])
    section.notes.append(f"Judged with a threshold of {THRESHOLD:g} on the relative error: "
                         + ("; ".join(misjudged) if misjudged else "both checks pass the correct backward and "
                            "flag the wrong one in every case") + ". The full check's error is the largest "
                         "element-wise relative error (`rel_error`), which grows where a gradient component is "
                         "tiny; the directional check compares one number. It costs two forward calls whatever "
                         "the size; the full check costs 2 * N * D.")
    return section, {}
