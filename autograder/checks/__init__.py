"""The hidden checks, by group. Every check is an ordinary function of (student, ref);
``ALL`` is the full grading suite: the public checks first, then the hidden ones."""
from .. import public
from . import backward, forward, initializers, preprocessing

HIDDEN = [*preprocessing.suite.checks, *initializers.suite.checks, *forward.suite.checks,
          *backward.suite.checks]
ALL = [*public.checks.suite.checks, *HIDDEN]
