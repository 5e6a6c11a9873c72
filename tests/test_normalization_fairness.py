"""Fair scores in the normalization assignment (SPEC §5.2, §5.3, §5.5): every output
judged on its own, a backward pass right whenever it computes the right gradient, a
cause named only when true, defaults checked once, nothing for code that computes
nothing, and consistency that cannot be gamed.

Each test grades a submission written for its purpose: the solution version with one
function, or a few lines, changed."""
import pytest
from test_normalization import NORMALIZATION, POINTS, copy_of_the_solution, grade, patched

from autograder.kit.report import group_scores
from hostile.support import replace_function

LN_STATISTICS = "var = (xmu ** 2).mean(axis=1, keepdims=True)"
LN_IVAR = "ivar = 1.0 / np.sqrt(var + eps)"
LN_DX = "dx = ivar * (dxhat - dxhat.mean(axis=1, keepdims=True) - xhat * (dxhat * xhat).mean(axis=1, keepdims=True))"


@pytest.fixture
def normalization_copy(tmp_path):
    return copy_of_the_solution(tmp_path / "submission")


def failed(result):
    return [o for o in result.outcomes if not o.passed]


def lost_groups(result):
    return {g: total - score for g, (score, total) in group_scores(result.outcomes).items() if score < total}


def named(result):
    return {o.misconception for o in result.outcomes if o.misconception}


def test_dgamma_over_the_wrong_axis_costs_the_checks_of_dgamma_and_the_shapes_only(normalization_copy):
    result = grade(patched(normalization_copy, "layernorm",
                           ("dgamma = (dout * xhat).sum(axis=0)", "dgamma = (dout * xhat).sum(axis=1)")))
    lost = sorted(o.check.name for o in failed(result))
    assert lost == ["layernorm_backward: dgamma for an example whose features are all equal",
                    "layernorm_backward: dgamma on a small batch",
                    "layernorm_backward: dx, dgamma, dbeta have the shapes of x, gamma, beta"]
    assert named(result) == set()


def test_running_mean_never_updated_costs_its_own_checks_and_names_no_mistake(normalization_copy):
    """running_var is updated and both are stored back: no catalogued mistake explains it."""
    result = grade(patched(normalization_copy, "spatial_batchnorm",
                           ("running_mean = momentum * running_mean + (1 - momentum) * mu\n", "\n")))
    lost = {o.check.name for o in failed(result)}
    assert lost and all("running_mean" in name or "running averages" in name for name in lost), lost
    assert not any("running_var" in name for name in lost)
    assert named(result) == set()
    assert lost_groups(result).keys() == {"spatial_batchnorm_forward"}


def test_a_true_gradient_after_an_eps_outside_sqrt_forward_keeps_every_backward_point(normalization_copy):
    """The forward pass makes a catalogued mistake; the backward pass recomputes the true
    gradient of layer normalization with sqrt(var + eps)."""
    patched(normalization_copy, "layernorm", (LN_IVAR, "ivar = 1.0 / (np.sqrt(var) + eps)"),
            ("cache = (xhat, ivar, gamma)", "cache = (xmu, var, eps, gamma)"),
            ("xhat, ivar, gamma = cache\n", "xmu, var, eps, gamma = cache\n"
                                            "    ivar = 1.0 / np.sqrt(var + eps)\n    xhat = xmu * ivar\n"))
    result = grade(normalization_copy)
    assert lost_groups(result).keys() == {"layernorm_forward"}
    assert named(result) == {"ln-eps-outside-sqrt"}


@pytest.mark.parametrize("module, default, function", [
    ("layernorm", 'eps = ln_param.get("eps", 1e-5)', "layernorm_forward"),
    ("groupnorm", 'eps = gn_param.get("eps", 1e-5)', "spatial_groupnorm_forward"),
    ("spatial_batchnorm", 'eps = bn_param.get("eps", 1e-5)', "spatial_batchnorm_forward"),
    ("spatial_batchnorm", 'momentum = bn_param.get("momentum", 0.9)', "spatial_batchnorm_forward")])
@pytest.mark.parametrize("value", ["1e-3", "0.5"])
def test_any_other_default_costs_its_default_check_only_and_says_so(normalization_copy, module, default, function,
                                                                     value):
    result = grade(patched(normalization_copy, module, (default, default.replace(default.split(", ")[1][:-1],
                                                                                  value))))
    key = "eps" if "eps" in default else "momentum"
    contract = "0.9" if key == "momentum" else "1e-5"
    assert [o.check.name for o in failed(result)] == [f"{function}: {key} defaults to {contract}"]
    assert f"uses another {key} than the contract's default" in failed(result)[0].output


def test_running_averages_read_without_their_default_cost_one_check_which_says_which_call(normalization_copy):
    result = grade(patched(normalization_copy, "spatial_batchnorm",
                           ('running_mean = bn_param.get("running_mean", np.zeros(C))',
                            'running_mean = bn_param["running_mean"]')))
    [lost] = failed(result)
    assert lost.check.name == "spatial_batchnorm_forward: the running averages default to zeros"
    assert "running_mean and running_var left out of bn_param" in lost.output and "KeyError" in lost.output


def test_running_averages_started_from_the_first_batch_cost_the_check_of_their_default_only(normalization_copy):
    result = grade(patched(normalization_copy, "spatial_batchnorm",
                           ("    if mode == \"train\":\n        mu = rows.mean(axis=(0, 1))\n"
                            "        var = rows.var(axis=(0, 1))\n",
                            "    if mode == \"train\":\n        mu = rows.mean(axis=(0, 1))\n"
                            "        var = rows.var(axis=(0, 1))\n"
                            "        if \"running_mean\" not in bn_param:\n"
                            "            running_mean, running_var = mu, var\n")))
    assert [o.check.name for o in failed(result)] == [
        "spatial_batchnorm_forward: the running averages default to zeros"]


def test_one_gradient_in_the_wrong_shape_names_no_mistake_that_changes_both(normalization_copy):
    """gn-backward-parameters-as-C gives dgamma and dbeta the shape (C,); here only dgamma has it."""
    result = grade(patched(normalization_copy, "groupnorm",
                           ("dgamma = (dout * xhat).sum(axis=(0, 2, 3), keepdims=True)",
                            "dgamma = (dout * xhat).sum(axis=(0, 2, 3))")))
    [lost] = failed(result)
    assert lost.check.name == "spatial_groupnorm_backward: dx, dgamma, dbeta have the shapes of x, gamma, beta"
    assert "dgamma of spatial_groupnorm_backward has shape (4,)" in lost.output
    assert not lost.misconception and "Likely misconception" not in lost.output


def test_both_parameter_gradients_in_the_wrong_shape_name_the_mistake(normalization_copy):
    [mistake] = [m for m in NORMALIZATION.catalogue if m.id == "gn-backward-parameters-as-C"]
    [lost] = failed(grade(patched(normalization_copy, "groupnorm", *mistake.patches)))
    assert lost.misconception == mistake.id


def test_a_mistake_of_test_mode_alone_is_named_in_test_mode(normalization_copy):
    result = grade(patched(normalization_copy, "spatial_batchnorm",
                           ("        mu, var = running_mean, running_var\n",
                            "        mu, var = running_mean, (np.sqrt(running_var) + eps) ** 2 - eps\n")))
    assert lost_groups(result).keys() == {"spatial_batchnorm_forward"}
    assert all("test mode" in o.check.name or "test" in o.output for o in failed(result))
    assert named(result) == {"sbn-eps-outside-sqrt"}


@pytest.mark.parametrize("forward, backward", [
    ("ln-batch-axis", "ln-backward-batch-axis"),
    ("sbn-reshape-without-transpose", "sbn-backward-reshape-without-transpose")])
def test_a_layout_mistake_made_in_both_passes_costs_the_forward_pass_only(normalization_copy, forward, backward):
    """The backward pass is then the true gradient of the student's own forward pass."""
    mistakes = {m.id: m for m in NORMALIZATION.catalogue}
    module = NORMALIZATION.module_of(mistakes[forward].function)
    result = grade(patched(normalization_copy, module, *mistakes[forward].patches, *mistakes[backward].patches))
    assert lost_groups(result).keys() == {mistakes[forward].function}
    assert named(result) == {forward}
    notes = [o for o in result.outcomes if "judged against your own forward pass" in o.output]
    assert notes and all(o.check.group == mistakes[backward].function for o in notes)


def test_a_backward_pass_derived_for_an_unknown_slip_of_the_forward_pass_keeps_its_points(normalization_copy):
    """The unbiased variance (in no catalogue), with the backward pass derived for it."""
    patched(normalization_copy, "layernorm",
            (LN_STATISTICS, "var = (xmu ** 2).sum(axis=1, keepdims=True) / (x.shape[1] - 1)"),
            ("cache = (xhat, ivar, gamma)", "cache = (xhat, ivar, gamma, x.shape[1])"),
            ("xhat, ivar, gamma = cache\n", "xhat, ivar, gamma, D = cache\n"),
            (LN_DX, "dx = ivar * (dxhat - dxhat.mean(axis=1, keepdims=True) "
                    "- xhat * (dxhat * xhat).sum(axis=1, keepdims=True) / (D - 1))"))
    result = grade(normalization_copy)
    assert lost_groups(result).keys() == {"layernorm_forward"}
    assert named(result) == set()


ZERO_BACKWARD = """
def {name}(dout, cache):
    return np.zeros_like(dout), np.zeros(dout.shape[1]), np.zeros(dout.shape[1])
"""


def test_backward_passes_that_compute_nothing_earn_nothing(normalization_copy):
    for module, name in (("layernorm", "layernorm_backward"), ("spatial_batchnorm", "spatial_batchnorm_backward")):
        replace_function(normalization_copy / f"{module}.py", name, ZERO_BACKWARD.format(name=name))
    lost = lost_groups(grade(normalization_copy))
    assert lost == {"layernorm_backward": POINTS["layernorm_backward"],
                    "spatial_batchnorm_backward": POINTS["spatial_batchnorm_backward"]}


def test_forward_passes_that_return_zeros_or_their_input_earn_nothing(normalization_copy):
    replace_function(normalization_copy / "layernorm.py", "layernorm_forward",
                     "def layernorm_forward(x, gamma, beta, ln_param):\n    return np.zeros_like(x), (x, gamma)\n")
    replace_function(normalization_copy / "groupnorm.py", "spatial_groupnorm_forward",
                     "def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):\n    return x.copy(), (x, gamma)\n")
    lost = lost_groups(grade(normalization_copy))
    for group in ("layernorm_forward", "layernorm_backward", "spatial_groupnorm_forward", "spatial_groupnorm_backward"):
        assert lost[group] == POINTS[group], group


# Forwards that are not layer normalization, each with a backward pass exactly right for it:
# judging against such a forward pass would pay for a trivial derivation.
NOT_LAYER_NORM = {
    "affine only": ("out = gamma * x + beta\ncache = (x, gamma)",
                    "x, gamma = cache\nreturn dout * gamma, (dout * x).sum(axis=0), dout.sum(axis=0)"),
    "centred only": ("out = gamma * (x - x.mean(axis=1, keepdims=True)) + beta\ncache = (x, gamma)",
                     "x, gamma = cache\ng = dout * gamma\nxc = x - x.mean(axis=1, keepdims=True)\n"
                     "return g - g.mean(axis=1, keepdims=True), (dout * xc).sum(axis=0), dout.sum(axis=0)"),
}


@pytest.mark.parametrize("kind", NOT_LAYER_NORM)
def test_a_backward_pass_derived_for_a_forward_pass_that_is_not_the_layer_earns_nothing(normalization_copy, kind):
    forward, backward = NOT_LAYER_NORM[kind]
    indent = "\n    ".join
    replace_function(normalization_copy / "layernorm.py", "layernorm_forward",
                     f"def layernorm_forward(x, gamma, beta, ln_param):\n    {indent(forward.splitlines())}\n"
                     "    return out, cache\n")
    replace_function(normalization_copy / "layernorm.py", "layernorm_backward",
                     f"def layernorm_backward(dout, cache):\n    {indent(backward.splitlines())}\n")
    result = grade(normalization_copy)
    # dbeta is dout summed over the batch whatever the forward pass; every other value check pays nothing.
    paid = [o.check.name for o in result.outcomes if o.score and o.check.group == "layernorm_backward"
            and not o.check.name.endswith(("dbeta on a small batch", "have the shapes of x, gamma, beta",
                                           "dout is not modified"))]
    assert paid == []
    dx = next(o for o in result.outcomes if o.check.name == "layernorm_backward: dx on a small batch")
    assert "does not normalize them and your gradient cannot be judged" in dx.output
    assert "likely cause is the forward pass" in dx.output


# A forward pass 1% off the reference, so that its backward pass is judged against it, which
# answers every input within 1e-3 of one it has seen with the output it gave then: its
# numeric gradient is zero, and so are the backward pass's gradients.
PROBE_DODGING_FORWARD = '''
_seen = []


def layernorm_forward(x, gamma, beta, ln_param):
    for old_x, old_gamma, old_beta, old_out in _seen:
        if old_x.shape == x.shape and np.abs(old_x - x).max() < 1e-3 and np.abs(old_gamma - gamma).max() < 1e-3 \\
                and np.abs(old_beta - beta).max() < 1e-3:
            return old_out.copy(), (x, gamma)
    mu = x.mean(axis=1, keepdims=True)
    out = 1.01 * (gamma * (x - mu) / np.sqrt(x.var(axis=1, keepdims=True) + ln_param.get("eps", 1e-5)) + beta)
    _seen.append((x.copy(), gamma.copy(), beta.copy(), out.copy()))
    return out, (x, gamma)
'''


@pytest.mark.parametrize("dodges_probes", [True, False], ids=["probe-dodging", "honest-but-wrong"])
def test_zero_gradients_earn_nothing_even_against_a_gamed_forward_pass(normalization_copy, dodges_probes):
    forward = PROBE_DODGING_FORWARD if dodges_probes else PROBE_DODGING_FORWARD.replace("< 1e-3", "< 0")
    replace_function(normalization_copy / "layernorm.py", "layernorm_forward", forward)
    replace_function(normalization_copy / "layernorm.py", "layernorm_backward",
                     "def layernorm_backward(dout, cache):\n    x, gamma = cache\n"
                     "    return np.zeros_like(x), np.zeros_like(gamma), np.zeros_like(gamma)\n")
    assert lost_groups(grade(normalization_copy))["layernorm_backward"] == POINTS["layernorm_backward"]


def test_arguments_modified_in_place_cost_that_check_only(normalization_copy):
    result = grade(patched(normalization_copy, "groupnorm",
                           ("    out = gamma * xhat + beta\n", "    out = gamma * xhat + beta\n    x += 1\n")))
    lost = [o.check.name for o in failed(result)]
    assert "spatial_groupnorm_forward: x, gamma and beta are not modified" in lost
    assert lost_groups(result).keys() == {"spatial_groupnorm_forward"}


def test_a_mistake_is_not_named_when_another_output_of_the_call_disagrees_with_it(normalization_copy):
    """dx is what ln-backward-forgets-gamma gives, but dgamma is wrong too, which that
    mistake does not explain: the checks of dx show the numbers and name nothing."""
    result = grade(patched(normalization_copy, "layernorm", ("    dxhat = dout * gamma\n", "    dxhat = dout\n"),
                           ("dgamma = (dout * xhat).sum(axis=0)", "dgamma = 2 * (dout * xhat).sum(axis=0)")))
    dx_checks = [o for o in failed(result) if "dx" in o.check.name.split(": ")[1].split()[0]]
    assert dx_checks and named(result) == set()
    assert "expected:" in dx_checks[0].output


def test_a_half_mistake_of_the_running_averages_is_not_named_as_the_whole_one(normalization_copy):
    """momentum swapped for running_mean only: sbn-momentum-swapped swaps it in both, so it
    is not the cause stated, and running_var keeps its points."""
    result = grade(patched(normalization_copy, "spatial_batchnorm",
                           ("= momentum * running_mean + (1 - momentum) * mu\n",
                            "= (1 - momentum) * running_mean + momentum * mu\n")))
    lost = [o.check.name for o in failed(result)]
    assert lost and all("running_mean" in name for name in lost), lost
    assert named(result) == set()


def test_group_statistics_per_position_with_their_true_gradient_cost_the_forward_pass_only(normalization_copy):
    """Found in public CS231n solutions: every group normalized at each position on its own
    (layer normalization of an (N * H * W, C // G) view), and layer normalization's backward
    pass on the same view, the true gradient of that forward pass."""
    [mistake] = [m for m in NORMALIZATION.catalogue if m.id == "gn-per-position-statistics"]
    result = grade(patched(normalization_copy, "groupnorm", *mistake.patches,
                           ("dx = ivar * (dxhat - dxhat.mean(axis=(2, 3, 4), keepdims=True)\n"
                            "                 - xhat * (dxhat * xhat).mean(axis=(2, 3, 4), keepdims=True))",
                            "dx = ivar * (dxhat - dxhat.mean(axis=2, keepdims=True)\n"
                            "                 - xhat * (dxhat * xhat).mean(axis=2, keepdims=True))")))
    assert lost_groups(result).keys() == {"spatial_groupnorm_forward"}
    assert named(result) == {mistake.id}


def test_a_forward_pass_that_gives_nan_on_a_constant_example_costs_the_backward_pass_nothing(normalization_copy):
    """eps left out: NaN where an example's features are all equal. That input cannot
    judge the backward pass; the other one of the check does, against the forward pass
    the student wrote."""
    result = grade(patched(normalization_copy, "layernorm", (LN_IVAR, "ivar = 1.0 / np.sqrt(var)")))
    assert lost_groups(result).keys() == {"layernorm_forward"}


def test_a_backward_pass_derived_for_a_forward_pass_that_normalizes_otherwise_keeps_its_points(normalization_copy):
    """Group normalization computed per channel (instance normalization, in no
    catalogue) in both passes: the forward pass still normalizes, so the backward pass,
    exactly its gradient, is credited however far its output is from the reference."""
    patched(normalization_copy, "groupnorm",
            ("mu = groups.mean(axis=(2, 3, 4), keepdims=True)", "mu = groups.mean(axis=(3, 4), keepdims=True)"),
            ("var = groups.var(axis=(2, 3, 4), keepdims=True)", "var = groups.var(axis=(3, 4), keepdims=True)"),
            ("dx = ivar * (dxhat - dxhat.mean(axis=(2, 3, 4), keepdims=True)\n"
             "                 - xhat * (dxhat * xhat).mean(axis=(2, 3, 4), keepdims=True))",
             "dx = ivar * (dxhat - dxhat.mean(axis=(3, 4), keepdims=True)\n"
             "                 - xhat * (dxhat * xhat).mean(axis=(3, 4), keepdims=True))"))
    result = grade(normalization_copy)
    assert lost_groups(result).keys() == {"spatial_groupnorm_forward"}
    assert any("judged against your own forward pass" in o.output for o in result.outcomes
               if o.check.group == "spatial_groupnorm_backward")


def test_a_forward_pass_that_ignores_the_given_eps_costs_the_backward_pass_nothing(normalization_copy):
    """eps fixed at 1e-3 whatever bn_param says: a slip in no catalogue; the backward
    pass is right for it, on a constant channel too, where eps decides the gradient."""
    result = grade(patched(normalization_copy, "spatial_batchnorm",
                           ('eps = bn_param.get("eps", 1e-5)', "eps = 1e-3")))
    assert lost_groups(result).keys() == {"spatial_batchnorm_forward"}


FORWARDS_THAT_DO_NOT_NORMALIZE = {
    "x + 1": "return x + 1.0, None",
    "gamma * x + beta": "return gamma * x + beta, (x, gamma)",
}


@pytest.mark.parametrize("body", FORWARDS_THAT_DO_NOT_NORMALIZE.values(), ids=FORWARDS_THAT_DO_NOT_NORMALIZE)
def test_forward_passes_that_do_not_normalize_earn_nothing_even_for_what_they_leave_alone(normalization_copy, body):
    """Shapes, defaults, arguments left alone and the running averages in test mode are
    credited only with a forward pass that normalizes."""
    signatures = {"layernorm": "layernorm_forward(x, gamma, beta, ln_param)",
                  "spatial_batchnorm": "spatial_batchnorm_forward(x, gamma, beta, bn_param)",
                  "groupnorm": "spatial_groupnorm_forward(x, gamma, beta, G, gn_param)"}
    for module, signature in signatures.items():
        extra = ("    if bn_param.setdefault('mode', 'train') not in ('train', 'test'):\n"
                 "        raise ValueError('mode')\n") if module == "spatial_batchnorm" else ""
        replace_function(normalization_copy / f"{module}.py", signature.split("(")[0],
                         f"def {signature}:\n{extra}    {body}\n")
    lost = lost_groups(grade(normalization_copy))
    for group in ("layernorm_forward", "spatial_batchnorm_forward", "spatial_groupnorm_forward"):
        assert lost[group] == POINTS[group], group


def test_a_forward_pass_that_raises_only_with_running_averages_given_costs_the_backward_pass_nothing(
        normalization_copy):
    """Given running averages of shape (C,) break the forward pass; without them it
    runs, and in train mode they change no output: the backward pass gets its cache."""
    result = grade(patched(normalization_copy, "spatial_batchnorm", (
        'running_mean = bn_param.get("running_mean", np.zeros(C))',
        'running_mean = bn_param["running_mean"] + np.zeros(C + 1) if "running_mean" in bn_param else np.zeros(C)')))
    assert lost_groups(result).keys() == {"spatial_batchnorm_forward"}


def test_a_backward_pass_that_computes_nothing_is_told_so_even_after_an_unusable_forward_pass(normalization_copy):
    """The forward pass gives out more axes than x (no usable output, which the message
    explains); the backward pass returns zeros for dx: that is its own answer, named."""
    result = grade(patched(normalization_copy, "groupnorm",
                           ("    out = gamma * xhat + beta\n",
                            "    out = gamma.reshape(-1, 1, 1, 1, 1) * xhat + beta\n"),
                           ("    dx = dx.reshape(N, C, H, W)\n", "    dx = np.zeros((N, C, H, W))\n")))
    forward = next(o for o in result.outcomes if o.check.name.endswith("every group of every example normalized"))
    assert "It has more axes than that" in forward.output
    dx = next(o for o in result.outcomes if o.check.name == "spatial_groupnorm_backward: dx on a small batch")
    assert not dx.passed and "is all zeros" in dx.output and "could not be judged" not in dx.output
