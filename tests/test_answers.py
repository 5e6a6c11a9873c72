"""The reference's answers are kept per question and shared by every submission of
a process: a kept answer is the one a fresh reference gives, questions that differ
in any argument, dtype or pick get their own, and nothing a check does changes one."""
import threading

import numpy as np
import pytest

from autograder.kit.compare import Expected
from autograder.kit.framework import Previous
from autograder.kit.runner import Seed
from autograder.reference import LiveReference, question_key
from conftest import GRADED


@pytest.fixture(scope="module")
def live():
    return LiveReference(GRADED)


def batch():
    rng = np.random.default_rng(5)
    return rng.normal(2.0, 3.0, (8, 4)), rng.normal(size=4), rng.normal(size=4)


def alternates(expected):
    return [(a.id, a.function, a.sentence, a.value if not isinstance(a.value, np.ndarray) else a.value.tolist())
            for a in expected.alternates]


def assert_same_answer(got, want):
    assert isinstance(got, Expected) and got.function == want.function
    np.testing.assert_array_equal(got.value, want.value)
    assert alternates(got) == alternates(want)


def test_a_kept_answer_is_the_one_a_fresh_reference_gives(live):
    x, gamma, beta = batch()
    train = {"mode": "train", "momentum": 0.9}
    first, again = (live.expect("batchnorm_forward", *(a.copy() for a in (x, gamma, beta)), dict(train),
                                pick=lambda r, a: r[0]) for _ in range(2))
    assert again is first
    fresh = LiveReference(GRADED).expect("batchnorm_forward", x, gamma, beta, dict(train), pick=lambda r, a: r[0])
    assert_same_answer(first, fresh)
    assert_same_answer(again, fresh)
    assert len(first.alternates) >= 2, "the batch-norm forward has several catalogued mistakes that differ here"


def test_the_same_backward_question_twice_is_answered_once(live):
    x, gamma, beta = batch()

    def ask():
        return live.expect_after("batchnorm_forward", (x.copy(), gamma, beta, {"mode": "train"}),
                                 "batchnorm_backward", (np.ones_like(x), Previous(1)), pick=lambda r, i=0: r[i])
    assert ask() is ask()


def test_questions_that_differ_get_their_own_answers(live):
    x, gamma, beta = batch()
    dout = np.ones_like(x)
    dx, dgamma = (live.expect_after("batchnorm_forward", (x, gamma, beta, {"mode": "train"}), "batchnorm_backward",
                                    (dout, Previous(1)), pick=lambda r, i=i: r[i]) for i in (0, 1))
    assert dx.value.shape == (8, 4) and dgamma.value.shape == (4,)
    eps = [live.expect("batchnorm_forward", x, gamma, beta, {"mode": "train", "eps": e}, pick=lambda r, a: r[0])
           for e in (1e-5, 1e-3)]
    assert not np.array_equal(eps[0].value, eps[1].value)
    assert question_key(0.0) != question_key(-0.0) and question_key(1) != question_key(1.0) != question_key(True)
    assert question_key(np.zeros(3)) != question_key(np.zeros(3, np.float32))
    assert question_key(np.zeros((2, 3))) != question_key(np.zeros((3, 2)))
    assert question_key(Seed(1)) != question_key(Seed(2))
    assert question_key(lambda r, a, key="running_mean": a[3][key]) != \
        question_key(lambda r, a, key="running_var": a[3][key])


def test_a_question_that_cannot_be_told_apart_is_not_kept(live):
    class Opaque:
        pass
    with pytest.raises(TypeError):
        question_key([Opaque()])
    marker, x = Opaque(), np.random.default_rng(0).normal(size=(5, 3))  # a pick closing over `marker`
    one, two = (live.expect("zero_centered", x, pick=lambda r, a: marker and r) for _ in range(2))
    assert one is not two
    np.testing.assert_array_equal(one.value, two.value)


def test_a_check_that_changes_its_arrays_later_changes_no_answer(live):
    x, gamma, beta = batch()
    expected = live.expect("batchnorm_forward", x, gamma, beta, {"mode": "train"}, pick=lambda r, a: r[0])
    x[:] = 0.0  # before the mistakes ran: they run on the arrays as they were asked about
    fresh = LiveReference(GRADED).expect("batchnorm_forward", *batch(), {"mode": "train"}, pick=lambda r, a: r[0])
    assert_same_answer(expected, fresh)
    with pytest.raises(ValueError, match="read-only"):
        expected.value[0, 0] = 1.0
    assert all(not a.value.flags.writeable for a in expected.alternates if isinstance(a.value, np.ndarray))


def test_threads_share_one_answer_and_its_mistakes_run_once(monkeypatch):
    live = LiveReference(GRADED)
    runs = []
    compare = live._compare_with_mistakes
    monkeypatch.setattr(live, "_compare_with_mistakes", lambda *a: runs.append(1) or compare(*a))
    x = np.random.default_rng(1).normal(size=(6, 3))
    answers, start = [], threading.Barrier(8)

    def ask():
        start.wait()
        answer = live.expect("normalized", x)
        answers.append((answer, answer.alternates))
    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 8 and runs == [1]
    assert all(a is answers[0][0] and alternates is answers[0][1] for a, alternates in answers)


def test_the_kept_answers_are_bounded_and_the_least_recently_used_goes_first():
    live = LiveReference(GRADED, memo_size=2)

    def ask(v):
        return live.expect("zero_centered", np.full((2, 2), float(v)))
    first, second = ask(0), ask(1)
    assert ask(0) is first  # 0 is now more recent than 1
    third = ask(2)  # 1 goes
    assert ask(0) is first and ask(2) is third
    assert ask(1) is not second and len(live._answers) == 2
