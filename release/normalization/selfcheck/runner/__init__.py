"""Runs student functions in a child process and brings back plain data.

The child (``child.py``) imports the student's modules and calls one function per
request; the parent (``client.py``) sends arguments and receives results through
``wire.py``, a codec for plain numbers, strings, containers and numeric arrays.
Nothing executable crosses the boundary, so the parent never runs student code,
and a crash, hang or ``sys.exit`` in the child costs only the call it happened in.
How the child is confined (namespaces, limits) is the launcher's business.
"""
from .client import Call, ChildRunner, Handle, Launcher, Seed

__all__ = ["Call", "ChildRunner", "Handle", "Launcher", "Seed"]
