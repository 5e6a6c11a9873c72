"""Fair scores (SPEC §5.2, §5.3): one mistake costs the checks of its own function only,
a shape mistake costs the shape checks only, code that does nothing earns nothing,
and the consistency checks of the backward passes cannot be gamed.

Each test grades a submission written for its purpose: the solution version with
one function, or a few lines, changed."""
import pytest

from autograder.grade import grade_submission
from autograder.kit.report import feedback, group_scores
from conftest import GRADED
from hostile.support import replace_function

GROUPS = GRADED.spec.groups
POINTS = {g: sum(c.points for c in GRADED.checks if c.group == g) for g in GROUPS}


def patched(folder, module, *replacements):
    path = folder / f"{module}.py"
    text = path.read_text()
    for old, new in replacements:
        assert text.count(old) >= 1, old
        text = text.replace(old, new)
    path.write_text(text)
    return folder


def scores_of(result):
    return group_scores(result.outcomes)


def failed(result):
    return [o for o in result.outcomes if not o.passed]


def test_a_forward_whose_only_mistake_is_its_default_eps_keeps_every_backward_point(solution_copy):
    result = grade_submission(patched(solution_copy, "batchnorm",
                                      ('eps = bn_param.get("eps", 1e-5)', 'eps = bn_param.get("eps", 1e-8)')))
    assert [o.check.name for o in failed(result)] == ["batchnorm_forward: eps defaults to 1e-5"]
    assert "Likely misconception: when bn_param has no 'eps'" in failed(result)[0].output


def test_right_values_kept_with_keepdims_lose_only_the_shape_checks(solution_copy):
    keepdims = [("mu = x.mean(axis=0)", "mu = x.mean(axis=0, keepdims=True)"),
                ("var = (xmu ** 2).mean(axis=0)", "var = (xmu ** 2).mean(axis=0, keepdims=True)"),
                ("dbeta = dout.sum(axis=0)", "dbeta = dout.sum(axis=0, keepdims=True)"),
                ("dgamma = (dout * xhat).sum(axis=0)", "dgamma = (dout * xhat).sum(axis=0, keepdims=True)")]
    result = grade_submission(patched(solution_copy, "batchnorm", *keepdims))
    lost = {o.check.name: o.output for o in failed(result)}
    assert sorted(lost) == [f"{function}: {output} has shape (D,)" for function, outputs in (
        ("batchnorm_backward", ("dbeta", "dgamma")), ("batchnorm_backward_alt", ("dbeta", "dgamma")),
        ("batchnorm_forward", ("running_mean", "running_var"))) for output in outputs]
    assert all("has shape (1, " in text for text in lost.values())
    assert "without keepdims" in feedback(result.outcomes)


SKELETON_FORWARD = '''
def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    out, cache = None, None
    if mode == "train":
        pass
    elif mode == "test":
        pass
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache
'''


def test_a_course_skeleton_and_a_backward_returning_none_earn_nothing(solution_copy):
    replace_function(solution_copy / "batchnorm.py", "batchnorm_forward", SKELETON_FORWARD)
    replace_function(solution_copy / "batchnorm.py", "batchnorm_backward_alt",
                     "def batchnorm_backward_alt(dout, cache):\n    dx, dgamma, dbeta = None, None, None\n"
                     "    return dx, dgamma, dbeta\n")
    scores = scores_of(grade_submission(solution_copy))
    assert scores["batchnorm_forward"][0] == 0
    assert scores["batchnorm_backward_alt"][0] == 0


def test_a_forward_returning_zeros_earns_nothing(solution_copy):
    replace_function(solution_copy / "batchnorm.py", "batchnorm_forward", '''
        def batchnorm_forward(x, gamma, beta, bn_param):
            if bn_param["mode"] not in ("train", "test"):
                raise ValueError("mode")
            D = x.shape[1]
            bn_param.setdefault("running_mean", np.zeros(D))
            bn_param.setdefault("running_var", np.zeros(D))
            return np.zeros_like(x), (x, gamma)
        ''')
    assert scores_of(grade_submission(solution_copy))["batchnorm_forward"][0] == 0


# A forward 1% off the reference, so that the backward is judged against it, and
# that answers every input within 1e-3 of one it has seen with the output it gave
# then: its numeric gradient is zero, and so are the backward passes.
PROBE_DODGING_FORWARD = '''
_seen = []


def batchnorm_forward(x, gamma, beta, bn_param):
    for old_x, old_gamma, old_beta, old_out in _seen:
        if old_x.shape == x.shape and np.abs(old_x - x).max() < 1e-3 and np.abs(old_gamma - gamma).max() < 1e-3 \\
                and np.abs(old_beta - beta).max() < 1e-3:
            out = old_out.copy()
            break
    else:
        mu = x.mean(axis=0)
        var = x.var(axis=0)
        out = 1.01 * (gamma * (x - mu) / np.sqrt(var + bn_param.get("eps", 1e-5)) + beta)
        _seen.append((x.copy(), gamma.copy(), beta.copy(), out.copy()))
    bn_param["running_mean"] = np.zeros(x.shape[1])
    bn_param["running_var"] = np.ones(x.shape[1])
    return out, (x, gamma)
'''
ZERO_BACKWARD = ("def {name}(dout, cache):\n    x, gamma = cache\n"
                 "    return np.zeros_like(x), np.zeros_like(gamma), np.zeros_like(gamma)\n")


@pytest.mark.parametrize("dodges_probes", [True, False], ids=["probe-dodging", "honest-but-wrong"])
def test_zero_backward_passes_earn_nothing_even_against_a_gamed_forward(solution_copy, dodges_probes):
    forward = PROBE_DODGING_FORWARD if dodges_probes else PROBE_DODGING_FORWARD.replace("< 1e-3", "< 0")
    replace_function(solution_copy / "batchnorm.py", "batchnorm_forward", forward)
    for name in ("batchnorm_backward", "batchnorm_backward_alt"):
        replace_function(solution_copy / "batchnorm.py", name, ZERO_BACKWARD.format(name=name))
    scores = scores_of(grade_submission(solution_copy))
    assert scores["batchnorm_backward"][0] == 0 and scores["batchnorm_backward_alt"][0] == 0


def test_a_backward_derived_for_the_students_own_forward_keeps_its_points(solution_copy):
    """A forward with the unbiased variance (a mistake of the forward), and backward
    passes derived correctly for that forward: only the forward loses points, and
    the backward's feedback says once how it was judged."""
    patched(solution_copy, "batchnorm",
            ("var = (xmu ** 2).mean(axis=0)", "var = (xmu ** 2).sum(axis=0) / (N - 1)"),
            ("dsq = np.ones_like(dout) * dvar / N", "dsq = np.ones_like(dout) * dvar / (N - 1)"),
            ("dx = (gamma * ivar / N) * (N * dout - dbeta - xhat * dgamma)",
             "dx = gamma * ivar * (dout - dbeta / N - xhat * dgamma / (N - 1))"))
    result = grade_submission(solution_copy)
    scores = scores_of(result)
    for group in ("batchnorm_backward", "batchnorm_backward_alt"):
        assert scores[group] == (POINTS[group], POINTS[group])
        notes = [o for o in result.outcomes if o.check.group == group and "judged against your own forward" in o.output]
        assert len(notes) == 1
    assert scores["batchnorm_forward"][0] < POINTS["batchnorm_forward"]


@pytest.mark.parametrize("mistake", ["pre-global-mean", "pre-sample-std"])
def test_data_preprocess_is_not_charged_for_its_parts(demo, mistake):
    result = demo[mistake]
    assert [o.check.name for o in failed(result) if o.check.name.startswith("data_preprocess")] == []
    notes = [o for o in result.outcomes if "judged as their composition" in o.output]
    assert len(notes) == 1


@pytest.mark.parametrize("mistake", ["bn-unbiased-variance", "bn-eps-outside-sqrt", "bn-running-var-of-std",
                                     "bn-momentum-swapped"])
def test_a_forward_mistake_is_never_charged_to_the_backward(demo, mistake):
    scores = scores_of(demo[mistake])
    for group in ("batchnorm_backward", "batchnorm_backward_alt"):
        assert scores[group] == (POINTS[group], POINTS[group])


def forward_body(body):
    """A batchnorm_forward that computes ``out`` (and ``cache``) its own way from x, gamma
    and beta, and keeps the contract's running statistics."""
    return ("def batchnorm_forward(x, gamma, beta, bn_param):\n"
            "    D = x.shape[1]\n"
            "    bn_param.setdefault('running_mean', np.zeros(D))\n"
            "    bn_param.setdefault('running_var', np.zeros(D))\n"
            "    if bn_param['mode'] not in ('train', 'test'):\n"
            "        raise ValueError('mode')\n"
            + "".join(f"    {line}\n" for line in body.splitlines()) +
            "    return out, cache\n")


def backward_body(name, body):
    return f"def {name}(dout, cache):\n" + "".join(f"    {line}\n" for line in body.splitlines())


# Forwards that are not batch norm, each with backward passes that are exactly right
# for it: judging them against such a forward would pay for a trivial derivation.
NOT_BATCH_NORM = {
    "affine only": ("out = gamma * x + beta\ncache = (x, gamma)",
                    "x, gamma = cache\nreturn dout * gamma, (dout * x).sum(axis=0), dout.sum(axis=0)"),
    "centred only": ("out = gamma * (x - x.mean(axis=0)) + beta\ncache = (x, gamma)",
                     "x, gamma = cache\ng = dout * gamma\n"
                     "return g - g.mean(axis=0), (dout * (x - x.mean(axis=0))).sum(axis=0), dout.sum(axis=0)"),
    "constant, tiny gradients": ("out = np.ones_like(x)\ncache = (x, gamma)",
                                 "x, gamma = cache\nreturn np.full_like(x, 1e-300), np.full_like(gamma, 1e-300), "
                                 "np.full_like(gamma, 1e-300)"),
}


@pytest.mark.parametrize("kind", NOT_BATCH_NORM)
def test_a_backward_derived_for_a_forward_that_is_not_batch_norm_earns_nothing(solution_copy, kind):
    forward, backward = NOT_BATCH_NORM[kind]
    replace_function(solution_copy / "batchnorm.py", "batchnorm_forward", forward_body(forward))
    for name in ("batchnorm_backward", "batchnorm_backward_alt"):
        replace_function(solution_copy / "batchnorm.py", name, backward_body(name, backward))
    result = grade_submission(solution_copy)
    # Well-formed gradients that leave dout alone keep their shapes and that property, and
    # dbeta = sum(dout) is batch norm's dbeta whatever the forward; dx and dgamma earn nothing.
    paid = [o.check.name for o in result.outcomes if o.score and o.check.group.startswith("batchnorm_backward")
            and not o.check.name.endswith(("has shape (N, D)", "has shape (D,)", "dout is not modified"))]
    right_dbeta = kind != "constant, tiny gradients"
    assert paid == [o.check.name for o in result.outcomes if right_dbeta and o.check.group.startswith(
        "batchnorm_backward") and o.check.name.split(": ")[1].startswith("dbeta on")]


@pytest.mark.parametrize("needs", ["running_mean", "eps"])
def test_a_forward_that_insists_on_a_key_of_bn_param_costs_the_forward_only(solution_copy, needs):
    """bn_param['running_mean'] (or ['eps']) read without its default: the backward
    checks give every key, and only the forward's check of that default loses."""
    default = {"running_mean": 'bn_param.get("running_mean", np.zeros(D))', "eps": 'bn_param.get("eps", 1e-5)'}
    result = grade_submission(patched(solution_copy, "batchnorm", (default[needs], f'bn_param["{needs}"]')))
    lost = [o for o in failed(result)]
    assert lost and all(o.check.group == "batchnorm_forward" for o in lost)
    assert sum(o.check.points for o in lost) <= 2


def test_a_forward_that_gives_nan_on_a_constant_feature_costs_the_backward_nothing(solution_copy):
    """eps left out of the forward: NaN where a feature is constant. That input cannot
    judge the backward; the others do, and the backward is right."""
    result = grade_submission(patched(solution_copy, "batchnorm", ("np.sqrt(var + eps)", "np.sqrt(var)")))
    scores = scores_of(result)
    for group in ("batchnorm_backward", "batchnorm_backward_alt"):
        assert scores[group] == (POINTS[group], POINTS[group])


def test_functions_that_return_a_constant_earn_nothing(solution_copy):
    replace_function(solution_copy / "batchnorm.py", "batchnorm_forward", forward_body(
        "out = np.ones_like(x)\ncache = (x, gamma)"))
    for name in ("batchnorm_backward", "batchnorm_backward_alt"):
        replace_function(solution_copy / "batchnorm.py", name, backward_body(
            name, "x, gamma = cache\nreturn np.ones_like(x), np.ones_like(gamma), np.ones_like(gamma)"))
    scores = scores_of(grade_submission(solution_copy))
    assert scores["batchnorm_forward"][0] == scores["batchnorm_backward"][0] == 0
    assert scores["batchnorm_backward_alt"][0] == 0


@pytest.mark.parametrize("body", ["out = x + 1.0\ncache = None", "out = gamma * x + beta\ncache = (x, gamma)"],
                         ids=["x + 1", "gamma * x + beta"])
def test_a_forward_that_does_not_normalize_earns_nothing_even_for_what_it_leaves_alone(solution_copy, body):
    """Shapes, defaults, an unknown mode, arguments and the running averages left alone
    in test mode are credited only with a forward that normalizes."""
    replace_function(solution_copy / "batchnorm.py", "batchnorm_forward", forward_body(body))
    assert scores_of(grade_submission(solution_copy))["batchnorm_forward"][0] == 0


@pytest.mark.parametrize("parts", [("X + 1", "X"), ("X - X.mean(axis=0)", "X")], ids=["shifted", "not-normalized"])
def test_data_preprocess_earns_nothing_from_parts_that_do_nothing(solution_copy, parts):
    centre, normalize = parts
    module = solution_copy / "preprocessing.py"
    replace_function(module, "zero_centered", f"def zero_centered(X):\n    X = np.asarray(X, dtype=float)\n"
                                              f"    return {centre}\n")
    replace_function(module, "normalized", f"def normalized(X):\n    X = np.asarray(X, dtype=float)\n"
                                           f"    return {normalize}\n")
    result = grade_submission(solution_copy)
    assert not [o.check.name for o in result.outcomes if o.score and "data_preprocess" in o.check.tags]


# Issue 18: every output judged on its own, a backward right when it computes the
# right gradient, composition is composition, defaults checked once.

def lost_checks(result, group=None):
    return {o.check.name: o.check.points - o.score for o in result.outcomes
            if not o.passed and (group is None or o.check.group == group)}


DGAMMA_WRONG_AXIS = {
    "batchnorm_backward": ("dgamma = (dout * xhat).sum(axis=0)\n    dxhat",
                           "dgamma = (dout * xhat).sum(axis=1)\n    dxhat"),
    # dx keeps its own right sum, so that only dgamma is wrong
    "batchnorm_backward_alt": ("dgamma = (dout * xhat).sum(axis=0)\n    dx = (gamma * ivar / N) * (N * dout - dbeta - "
                               "xhat * dgamma)",
                               "dgamma = (dout * xhat).sum(axis=1)\n    dx = (gamma * ivar / N) * (N * dout - dbeta - "
                               "xhat * (dout * xhat).sum(axis=0))"),
}


@pytest.mark.parametrize("function", DGAMMA_WRONG_AXIS)
def test_dgamma_over_the_wrong_axis_costs_dgammas_share_only_and_is_explained_once(solution_copy, function):
    result = grade_submission(patched(solution_copy, "batchnorm", DGAMMA_WRONG_AXIS[function]))
    lost = lost_checks(result)
    dgamma = {c.name: c.points for c in GRADED.checks if c.group == function and ": dgamma " in c.name}
    assert lost == dgamma and sum(lost.values()) < POINTS[function] / 4
    first, *later = failed(result)
    assert all(f"\u201c{first.check.name}\u201d" in o.output and "\n" not in o.output for o in later)
    text = feedback(result.outcomes)
    assert text.count("one value per example") == 1
    lines = [line for line in text.splitlines() if len(line) >= 30]
    assert len(lines) == len(set(lines))


def test_a_backward_that_gives_the_true_gradient_after_an_eps_outside_sqrt_forward_keeps_its_points(solution_copy):
    """The forward adds eps after the square root (a catalogued mistake) but caches the
    right inverse standard deviation: its backward passes give batch norm's true
    gradient, which is right, whatever the forward did."""
    result = grade_submission(patched(
        solution_copy, "batchnorm",
        ("sqrtvar = np.sqrt(var + eps)", "sqrtvar = np.sqrt(var) + eps\n        true_sqrtvar = np.sqrt(var + eps)"),
        ("ivar = 1.0 / sqrtvar", "ivar = 1.0 / true_sqrtvar"),
        ("xhat = xmu * ivar\n        out", "xhat = xmu / sqrtvar\n        out"),
        ("cache = (xhat, xmu, ivar, sqrtvar, gamma)", "cache = (xmu * ivar, xmu, ivar, true_sqrtvar, gamma)")))
    scores = scores_of(result)
    for group in ("batchnorm_backward", "batchnorm_backward_alt"):
        assert scores[group] == (POINTS[group], POINTS[group])
    assert {o.misconception for o in failed(result)} == {"bn-eps-outside-sqrt"}


def test_a_backward_that_matches_nothing_after_a_forward_mistake_names_the_forward_as_the_likely_cause(
        solution_copy):
    result = grade_submission(patched(solution_copy, "batchnorm",
                                      ("sqrtvar = np.sqrt(var + eps)", "sqrtvar = np.sqrt(var) + eps"),
                                      ("dxmu2 = 2 * xmu * dsq", "dxmu2 = xmu * dsq")))
    first = next(o for o in failed(result) if o.check.group == "batchnorm_backward")
    assert "The difference in your batchnorm_forward is the likely cause" in first.output
    assert scores_of(result)["batchnorm_backward_alt"] == (POINTS["batchnorm_backward_alt"],) * 2


def test_data_preprocess_composing_a_normalized_with_an_unknown_mistake_keeps_its_points(solution_copy):
    """normalized divides by one global std, a mistake no catalogue knows: data_preprocess,
    written as normalized(zero_centered(X)), is charged nothing, and says why once."""
    result = grade_submission(patched(solution_copy, "preprocessing", ("std = X.std(axis=0)", "std = X.std()")))
    assert lost_checks(result) and all(name.startswith("normalized:") for name in lost_checks(result))
    assert feedback(result.outcomes).count("judged as their composition") == 1


def test_data_preprocess_that_does_not_compose_still_loses_its_points(solution_copy):
    replace_function(solution_copy / "preprocessing.py", "data_preprocess", "def data_preprocess(X):\n"
                     "    X = np.asarray(X, dtype=float)\n    return (X - X.mean(axis=0)) / 2\n")
    assert set(lost_checks(result := grade_submission(solution_copy))) == {
        c.name for c in GRADED.checks if c.function == "data_preprocess"}, lost_checks(result)


def test_a_forward_that_starts_the_running_averages_from_the_first_batch_loses_that_check_only(solution_copy):
    result = grade_submission(patched(
        solution_copy, "batchnorm",
        ('bn_param.get("running_mean", np.zeros(D))', 'bn_param.get("running_mean", x.mean(axis=0))'),
        ('bn_param.get("running_var", np.zeros(D))', 'bn_param.get("running_var", x.var(axis=0))')))
    lost = lost_checks(result)
    assert list(lost) == ["batchnorm_forward: running averages start at zeros when bn_param has none"]
    assert "starts it from the batch's own statistic" in failed(result)[0].output


def test_a_test_mode_that_needs_the_running_averages_in_bn_param_says_which_call(solution_copy):
    result = grade_submission(patched(
        solution_copy, "batchnorm", ("xhat = (x - running_mean) / np.sqrt(running_var + eps)",
                                     "xhat = (x - bn_param['running_mean']) / np.sqrt(bn_param['running_var'] + eps)")))
    [lost] = failed(result)
    assert lost.check.name == "batchnorm_forward: running averages start at zeros when bn_param has none"
    assert "raised KeyError: 'running_mean'" in lost.output
    assert "called in test mode with no running_mean or running_var in bn_param" in lost.output


@pytest.mark.parametrize("key, value", [("eps", "1e-3"), ("momentum", "0.5")])
def test_any_wrong_default_is_named_whatever_its_value_and_costs_its_check_only(solution_copy, key, value):
    contract = {"eps": "1e-5", "momentum": "0.9"}[key]
    result = grade_submission(patched(solution_copy, "batchnorm",
                                      (f'bn_param.get("{key}", {contract})', f'bn_param.get("{key}", {value})')))
    [lost] = failed(result)
    assert lost.check.name == f"batchnorm_forward: {key} defaults to {contract}"
    assert lost.misconception == f"bn-default-{key}"


def test_property_checks_need_a_real_answer_but_not_every_output_right(solution_copy):
    """A backward whose dx and dbeta are real keeps 'dout is not modified' whatever dgamma
    is; one whose gradients are all None does not."""
    replace_function(solution_copy / "batchnorm.py", "batchnorm_backward",
                     "def batchnorm_backward(dout, cache):\n    return dout * 2.0, None, dout.sum(axis=0)\n")
    replace_function(solution_copy / "batchnorm.py", "batchnorm_backward_alt",
                     "def batchnorm_backward_alt(dout, cache):\n    return None, None, None\n")
    result = grade_submission(solution_copy)
    passed = {o.check.name for o in result.outcomes if o.passed}
    assert "batchnorm_backward: dout is not modified" in passed
    assert "batchnorm_backward_alt: dout is not modified" not in passed


DEFAULT_CHECKS = {"batchnorm_forward: eps defaults to 1e-5", "batchnorm_forward: momentum defaults to 0.9",
                  "batchnorm_forward: running averages start at zeros when bn_param has none"}


@pytest.mark.parametrize("mistake", [m.id for m in GRADED.catalogue if m.function == "batchnorm_forward"
                                     and m.id not in ("bn-default-eps", "bn-default-momentum",
                                                      "bn-running-averages-not-stored")])
def test_the_checks_of_the_defaults_charge_no_other_mistake_of_the_forward(demo, mistake):
    """They compare the forward with itself, the defaults given and left out."""
    assert not DEFAULT_CHECKS & {o.check.name for o in failed(demo[mistake])}


def test_test_mode_without_eps_costs_test_mode_only_not_the_check_of_the_defaults(solution_copy):
    """sqrt(running_var) without eps in test mode gives inf with zero running averages:
    the check of their default compares that with the same forward's output with zeros
    given, so only the test-mode check loses."""
    result = grade_submission(patched(solution_copy, "batchnorm",
                                      ("np.sqrt(running_var + eps)", "np.sqrt(running_var)")))
    lost = [o.check.name for o in failed(result)]
    assert lost == ["batchnorm_forward: test mode normalizes with the running averages"]


def test_a_forward_that_raises_only_with_running_averages_given_costs_the_backward_nothing(solution_copy):
    result = grade_submission(patched(solution_copy, "batchnorm", (
        'running_mean = bn_param.get("running_mean", np.zeros(D))',
        'running_mean = bn_param["running_mean"] + np.zeros(D + 1) if "running_mean" in bn_param else np.zeros(D)')))
    assert {o.check.group for o in failed(result)} == {"batchnorm_forward"}
