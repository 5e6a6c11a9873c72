"""The child process: imports the student's modules and serves calls.

Run as ``python -I child.py SUBMISSION_DIR RESPONSE_FD`` (or forked from a fork
server that imported it, which calls ``main``). Requests arrive on
standard input, responses leave on RESPONSE_FD; whatever the student's code
prints goes to standard output and error, which the parent drains separately.
Results that must stay here (``keep``) are stored and answered with a handle.
"""
import importlib
import importlib.util
import os
import sys
import traceback
from pathlib import Path

_spec = importlib.util.spec_from_file_location("_runner_wire", Path(__file__).with_name("wire.py"))
wire = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(wire)
import numpy as np  # noqa: E402  (imported before the student's folder is on sys.path)

# numpy imports its random module at first use (about 20 ms), and nearly every
# submission uses it: a fork server that imported this module does so once for all.
import numpy.random  # noqa: E402, F401


class Kept:
    def __init__(self, handle_id):
        self.handle_id = handle_id


class Failure(Exception):
    """A call that cannot be served; the message is for the student. ``raised``
    names the classes of the exception the student's code raised, if any."""

    def __init__(self, message, raised=()):
        super().__init__(message)
        self.raised = [cls.__name__ for cls in raised]


def where(tb, folder):
    """'file.py, line N' of the innermost frame in the student's folder."""
    frames = [f for f in traceback.extract_tb(tb) if f.filename.startswith(folder)]
    return f" ({Path(frames[-1].filename).name}, line {frames[-1].lineno})" if frames else ""


def out_of_memory(function):
    """The sentence for a MemoryError, naming the limit when one is set."""
    try:
        import resource
        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    except (ImportError, OSError):
        limit = -1
    if 0 < limit != getattr(resource, "RLIM_INFINITY", -1):
        return (f"{function} exceeded the memory limit ({limit / 2 ** 30:.3g} GiB) of the process running "
                "your code; look for an intermediate array far larger than the inputs, or a list that "
                "grows without end")
    return f"{function} ran out of memory (MemoryError); look for an array far larger than the inputs"


def load(module, folder):
    if module in sys.modules:
        return sys.modules[module]
    if not (Path(folder) / f"{module}.py").is_file():
        raise Failure(f"the submission has no {module}.py")
    try:
        return importlib.import_module(module)
    except SyntaxError as err:
        raise Failure(f"{module}.py has a syntax error on line {err.lineno}: {err.msg}") from None
    except BaseException as err:  # noqa: B036 (student code may raise anything, even SystemExit)
        raise Failure(f"importing {module}.py raised {type(err).__name__}: {err}"
                      f"{where(err.__traceback__, folder)}") from None


def serve(request, folder, handles):
    module, function = request["module"], request["function"]
    target = getattr(load(module, folder), function, None)
    if not callable(target):
        raise Failure(f"{module}.py defines no function named {function}")
    args = request["args"]
    try:
        value = target(*args, **request.get("kwargs", {}))
    except NotImplementedError:
        raise Failure(f"{function} is still the stub (it raises NotImplementedError): replace "
                      "'# YOUR CODE HERE' and the raise with your implementation") from None
    except MemoryError:
        raise Failure(out_of_memory(function)) from None
    except BaseException as err:  # noqa: B036
        raise Failure(f"{function} raised {type(err).__name__}: {err}{where(err.__traceback__, folder)}",
                      type(err).__mro__) from None
    keep = request.get("keep") or []
    if keep:
        items = list(value) if isinstance(value, (tuple, list)) else None
        if items is None or max(keep) >= len(items):
            raise Failure(f"{function} returned {type(value).__name__}, not a tuple of at least "
                          f"{max(keep) + 1} items")
        for i in keep:
            handles[len(handles)] = items[i]
            items[i] = Kept(len(handles) - 1)
        value = tuple(items)
    return {"ok": True, "value": value, "args": args}


def main(folder, response_fd):
    """Serve the calls of the modules in ``folder`` until the requests end."""
    folder = os.path.realpath(folder)
    requests = os.fdopen(os.dup(0), "rb")
    responses = os.fdopen(response_fd, "wb")
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    sys.path.insert(0, folder)
    handles = {}

    def lookup(tree):
        if tree.get("id") not in handles:
            raise Failure("a value kept from an earlier call was lost when the process running "
                          "your code was restarted")
        return handles[tree["id"]]

    pid = os.getpid()
    decoders = {"handle": lookup, "seed": lambda tree: np.random.default_rng(int(tree["seed"]))}
    encoders = {Kept: lambda kept: {"$": "handle", "id": kept.handle_id}}
    while True:
        tree = wire.read_message(requests)
        if tree is None:
            return
        responses.write(wire.RECEIPT)
        responses.flush()
        try:
            request = wire.decode(tree, requests, decoders)
            response = serve(request, folder, handles)
        except Failure as err:
            # Cut here too, so that a long message arrives cut rather than refused as too large.
            response = {"ok": False, "error": wire.cut(str(err)), "raised": [wire.cut(n) for n in err.raised]}
        if os.getpid() != pid:
            # A copy forked by the student's code came back here; only the original
            # answers, or two processes would read requests and write responses.
            os._exit(0)
        try:
            message = wire.encode(response, encoders)
        except wire.TooLarge as err:
            message = wire.encode({"ok": False, "error": f"the result of {request['function']} is larger than "
                                                         f"the grader accepts ({err}); return only what the "
                                                         "function is asked for"})
        except BaseException as err:  # noqa: B036 (the student's objects may raise anything)
            message = wire.encode({"ok": False, "error": f"the result of {request['function']} could not be "
                                                         f"sent back ({type(err).__name__})"})
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # noqa: B036 (the student may have replaced or closed it)
                pass
        responses.write(message)
        responses.flush()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
