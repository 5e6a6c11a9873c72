"""nbgrader's notebook kernels, each in a sandbox of its own.

``nbgrader autograde`` and ``nbgrader validate`` run a notebook's cells in a Jupyter
kernel, which jupyter_client would start as the user running nbgrader (root on a
grading machine), in the student's folder, with the whole course in view. Here each
kernel runs in a ``KernelSandbox`` (autograder/sandbox/kernel.py): an unprivileged uid
of its own, no network, no_new_privs, time and memory limits, and a filesystem in which
only a scratch copy of the notebook's folder (without notebooks) and its home exist and
can be written. The course folder, other submissions, the gradebook, the master and the
hidden checks are not there.

It is wired with jupyter_client's and nbgrader's own extension points:

- ``nbgrader_config.py`` calls ``register()`` and sets ``c.Execute.kernel_name =
  KERNEL_NAME``, so both commands start that kernel;
- its kernel spec (``jupyter/kernels/KERNEL_NAME/kernel.json``, found through
  JUPYTER_PATH) is Python's, with interrupts sent as messages (a signal would reach
  bubblewrap, not the kernel) and ``ConfinedProvisioner`` as its provisioner
  (registered in pyproject.toml under ``jupyter_client.kernel_provisioners``);
- ``ConfinedProvisioner`` starts the kernel in its sandbox, connects nbgrader to it over
  Unix sockets (the sandbox has no network to reach) and ends it with every process of
  its uid.

Scores are read by nbgrader from the executed notebook as before. Where bubblewrap cannot
run, no kernel starts: each notebook fails with a sentence naming the way out.
"""
import asyncio
import dataclasses
import functools
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import zmq
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.provisioning import LocalProvisioner
from nbgrader.coursedir import CourseDirectory
from traitlets import Float, List, Unicode

from .sandbox import NO_BUBBLEWRAP, SandboxUnavailable, bubblewrap_works, scratch
from .sandbox.kernel import KERNEL_LIMITS, LIFETIME, SOCKETS_IN_SANDBOX, KernelSandbox
from .sandbox.limits import GiB

KERNEL_NAME = "python3-sandboxed"
JUPYTER_DATA = Path(__file__).with_name("jupyter")  # holds kernels/KERNEL_NAME/kernel.json
CHANNELS = ("shell", "iopub", "stdin", "control", "hb")
# What a kernel may send nbgrader, which keeps all of a notebook's outputs in memory: the
# batchnorm notebooks with every figure send about 2 MiB.
MESSAGE_BYTES = 8 << 20
OUTPUT_BYTES = 64 << 20
# The kernel's own settings: its home's folders in its /tmp; ipykernel told that its
# parent is the sandbox's first process (which it is: no parent polling, no console
# banner); joblib (which scikit-learn imports) told not to look for shared memory,
# which the sandbox has none of, so that it warns in no cell.
KERNEL_ENVIRONMENT = {"IPYTHONDIR": "/tmp/.ipython", "MPLCONFIGDIR": "/tmp/.matplotlib", "JPY_PARENT_PID": "1",
                      "JOBLIB_MULTIPROCESSING": "0"}
UNCONFINED = ("nbgrader's kernel would run student code with the course folder in view; {why}, or set "
              "c.Execute.kernel_name = 'python3' in nbgrader_config.py to accept running students' notebooks "
              "unconfined, as the user running nbgrader")


def register():
    """Put this package's kernel spec on Jupyter's data path (JUPYTER_PATH), for
    nbgrader's process and what it starts."""
    paths = [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    if str(JUPYTER_DATA) not in paths:
        os.environ["JUPYTER_PATH"] = os.pathsep.join([str(JUPYTER_DATA), *paths])


class ConfinedProvisioner(LocalProvisioner):
    """Starts each kernel in a ``KernelSandbox`` working in a copy of its folder, and
    ends it with everything of its uid."""

    lifetime = Float(LIFETIME, config=True, help="Seconds a kernel may live, whatever it does; then it is killed "
                                                 "and nbgrader reports an error for that notebook.")
    memory_gib = Float(KERNEL_LIMITS.memory_bytes / GiB, config=True,
                       help="Address space of each process of the kernel, in GiB.")
    environment = List(Unicode(), ["NBGRADER_EXECUTION", "NBGRADER_VALIDATING"], config=True,
                       help="Variables of nbgrader's environment that the kernel also gets; nothing else of "
                            "it reaches student code.")

    sandbox = None

    async def pre_launch(self, **kwargs):
        if not bubblewrap_works():
            raise SandboxUnavailable(UNCONFINED.format(why=NO_BUBBLEWRAP))
        km = self.parent
        # nbgrader interrupts a cell that runs too long: a signal would reach bubblewrap and
        # end the sandbox, a message on the control channel reaches the kernel.
        self.kernel_spec.interrupt_mode = "message"
        folder = Path(os.path.abspath(kwargs.get("cwd") or os.getcwd()))
        env = kwargs.get("env") or os.environ
        passed = {name: env[name] for name in self.environment if name in env}
        limits = dataclasses.replace(KERNEL_LIMITS, memory_bytes=int(self.memory_gib * GiB))
        self.sandbox = KernelSandbox(folder, skip=left_out(folder, self.config), home=kernel_home(),
                                     environment={**KERNEL_ENVIRONMENT, **passed}, limits=limits,
                                     lifetime=self.lifetime)
        try:
            # nbgrader's ends of the sockets: links to the kernel's, made once it has them;
            # what comes through them is bounded.
            km.transport, km.ip, km.cache_ports = "ipc", str(self.sandbox.client / "k"), False
            km.client_factory = BoundedClient
            kwargs = await super().pre_launch(**kwargs)
            info = km.get_connection_info()
            inside = self.sandbox.share("connection.json", json.dumps(
                {**info, "ip": f"{SOCKETS_IN_SANDBOX}/k", "key": info["key"].decode()}).encode())
            host_file = os.path.realpath(km.connection_file)
            command = [inside if arg == host_file else arg for arg in kwargs["cmd"]]
            if command[0] != sys.executable:
                raise SandboxUnavailable(UNCONFINED.format(
                    why=f"kernel {self.kernel_spec.display_name!r} starts {command[0]}, but the sandbox holds only "
                        f"nbgrader's own Python ({sys.executable}): name 'python' in its kernel.json"))
            kwargs["cmd"] = self.sandbox.command(command)
            kwargs.update(self.sandbox.popen_options())
        except BaseException:
            self._close()
            raise
        return kwargs

    async def launch_kernel(self, cmd, **kwargs):
        try:
            info = await super().launch_kernel(cmd, **kwargs)
            sockets = [f"k-{info[f'{channel}_port']}" for channel in CHANNELS]
            await asyncio.to_thread(self.sandbox.started, self.process, sockets, on_expiry=self._expired)
        except BaseException as err:
            self._close()
            if isinstance(err, RuntimeError):
                raise RuntimeError(f"the notebook's kernel did not start in its sandbox: {err}") from None
            raise
        return info

    def _expired(self):
        self.log.error("A notebook's kernel ran for longer than %.0f s (c.ConfinedProvisioner.lifetime) and was "
                       "stopped", self.lifetime)

    async def cleanup(self, restart=False):
        await super().cleanup(restart=restart)
        self._close()

    def _close(self):
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None


class OutputFlood(RuntimeError):
    """A kernel sent more output than nbgrader keeps."""


class BoundedOutputs(AsyncZMQSocketChannel):
    """The channel of a kernel's outputs, ended once they exceed OUTPUT_BYTES in all (a
    message over MESSAGE_BYTES already ends the connection): nbgrader then reports an
    error for that notebook instead of filling its memory."""

    received = 0

    async def _recv(self, **kwargs):
        parts = await self.socket.recv_multipart(**kwargs)
        self.received += sum(map(len, parts))
        if self.received > OUTPUT_BYTES:
            raise OutputFlood(f"the notebook's kernel sent more than {OUTPUT_BYTES >> 20} MiB of output; nbgrader "
                              "stopped reading it")
        _, message = self.session.feed_identities(parts)
        return self.session.deserialize(message)


class BoundedClient(AsyncKernelClient):
    """nbgrader's client of a sandboxed kernel: no message over MESSAGE_BYTES, outputs
    bounded in all."""

    iopub_channel_class = BoundedOutputs

    def _context_default(self):
        context = super()._context_default()
        context.setsockopt(zmq.MAXMSGSIZE, MESSAGE_BYTES)
        return context


@functools.cache
def kernel_home():
    """A folder whose copy starts every kernel's home: matplotlib's list of the system's
    fonts, made once here rather than by every kernel (about 0.4 s each, and fontconfig,
    whose configuration the sandbox does not hold, would print an error in a cell)."""
    home = Path(tempfile.mkdtemp(prefix="kernels-home-", dir=scratch.run_folder()))
    cache = home / Path(KERNEL_ENVIRONMENT["MPLCONFIGDIR"]).name
    cache.mkdir()
    try:
        import matplotlib.font_manager  # makes the list in matplotlib's cache if it is not there
    except ImportError:  # nor will the kernel plot
        return home
    for fonts in Path(matplotlib.get_cachedir()).glob("fontlist-v*.json"):
        shutil.copy(fonts, cache)
    return home


def left_out(folder, config):
    """What the kernel of a notebook in ``folder`` must not see, as a test of a path
    relative to it: notebooks (an autograded one holds the hidden tests of its grade
    cells before they run) and, when ``folder`` is a student's autograded folder, every
    path that is a link in the submission (where nbgrader_screening.py is not
    configured, nbgrader copies the file it points to, which may be anything the
    grader can read)."""
    links = set(_links(_submitted_folder(folder, config)))
    return lambda relative: relative.suffix == ".ipynb" or relative in links


def _submitted_folder(folder, config):
    """The submitted folder whose autograded copy is ``folder``, or None."""
    coursedir = CourseDirectory(config=config)
    pattern = coursedir.format_path(coursedir.autograded_directory, "(?P<student_id>[^/]+)",
                                    "(?P<assignment_id>[^/]+)", escape=True)
    match = re.fullmatch(pattern, str(folder))
    if match is None:
        return None
    return Path(coursedir.format_path(coursedir.submitted_directory, match["student_id"], match["assignment_id"]))


def _links(folder):
    """The paths (relative to ``folder``) of the links in it, never entering one."""
    if folder is None or not folder.is_dir() or folder.is_symlink():
        return
    for parent, folders, files in os.walk(folder):
        for name in folders + files:
            path = Path(parent, name)
            if path.is_symlink():
                yield path.relative_to(folder)
