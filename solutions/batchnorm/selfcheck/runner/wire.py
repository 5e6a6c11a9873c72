"""A codec for the values that cross the process boundary.

A message is an 8-byte length, a JSON header, then the raw bytes of every array.
Only plain data is representable: None, bool, int, float, str, lists, tuples,
dicts with string keys, and numeric numpy arrays and scalars. Anything else is sent
as a placeholder naming its type, and the receiver validates every array's dtype,
shape and size against its bytes, so a malformed or lying message is rejected
rather than believed.
"""
import json
import math
import struct

import numpy as np

NUMERIC_KINDS = "biufc"
MAX_MESSAGE = 1 << 28  # 256 MiB: far above any answer the checks ask for
RECEIVED = "received"  # the child's acknowledgement of a request, sent before it runs student code
_LENGTH = struct.Struct("<Q")


class WireError(ValueError):
    """A message that does not follow the protocol."""


class Opaque:
    """A value that could not be sent, represented by the name of its type."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name} object>"


def encode(value, extra=None):
    """Encode ``value`` (plus named ``extra`` leaves, see ``encode_leaf``) to bytes."""
    buffers = []
    header = json.dumps(_encode(value, buffers, extra or {}), allow_nan=True).encode()
    parts = [_LENGTH.pack(len(header)), header]
    parts.extend(buffers)
    return b"".join(parts)


def _encode(value, buffers, extra):
    for type_, hook in extra.items():
        if isinstance(value, type_):
            return hook(value)
    if value is None or isinstance(value, (bool, str)):
        return value
    if type(value) in (int, float):
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        if array.dtype.kind not in NUMERIC_KINDS:
            return {"$": "opaque", "type": f"array of {array.dtype}"}
        data = np.ascontiguousarray(array).view(np.ndarray).tobytes()
        buffers.append(data)
        subclass = None if type(value) is np.ndarray or isinstance(value, np.generic) else type(value).__name__
        return {"$": "array", "dtype": array.dtype.str, "shape": list(array.shape), "nbytes": len(data),
                "scalar": isinstance(value, np.generic), "subclass": subclass}
    if type(value) is tuple:
        return {"$": "tuple", "items": [_encode(v, buffers, extra) for v in value]}
    if type(value) is list:
        return [_encode(v, buffers, extra) for v in value]
    if type(value) is dict and all(type(k) is str for k in value):
        return {"$": "dict", "items": {k: _encode(v, buffers, extra) for k, v in value.items()}}
    return {"$": "opaque", "type": type(value).__name__}


def read_message(stream):
    """Read one message from a binary stream; None at a clean end of stream."""
    head = stream.read(_LENGTH.size)
    if not head:
        return None
    if len(head) != _LENGTH.size:
        raise WireError("truncated length")
    (size,) = _LENGTH.unpack(head)
    if size > MAX_MESSAGE:
        raise WireError("header too large")
    header = _read_exactly(stream, size)
    try:
        return json.loads(header)
    except (ValueError, RecursionError) as err:
        raise WireError(f"header is not JSON of a sensible depth ({type(err).__name__})") from None


def decode(tree, stream, extra=None):
    """Rebuild the value of a header read by ``read_message``, reading array bytes
    from ``stream`` in order. ``extra`` maps a ``$`` tag to a decoding hook."""
    try:
        return _decode(tree, stream, extra or {}, [MAX_MESSAGE])
    except (ValueError, TypeError, OverflowError, RecursionError) as err:
        if isinstance(err, WireError):
            raise
        raise WireError(f"malformed value ({type(err).__name__})") from None


def _decode(tree, stream, extra, budget):
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    if isinstance(tree, list):
        return [_decode(v, stream, extra, budget) for v in tree]
    if not isinstance(tree, dict):
        raise WireError(f"unexpected node {type(tree).__name__}")
    tag = tree.get("$")
    if tag == "tuple":
        return tuple(_decode(v, stream, extra, budget) for v in _field(tree, "items", list))
    if tag == "dict":
        return {str(k): _decode(v, stream, extra, budget) for k, v in _field(tree, "items", dict).items()}
    if tag == "array":
        return _decode_array(tree, stream, budget)
    if tag == "opaque":
        return Opaque(str(_field(tree, "type", str)))
    if tag in extra:
        return extra[tag](tree)
    raise WireError(f"unknown tag {tag!r}")


def _decode_array(tree, stream, budget):
    try:
        dtype = np.dtype(_field(tree, "dtype", str))
    except TypeError:
        raise WireError("invalid dtype") from None
    shape = _field(tree, "shape", list)
    nbytes = _field(tree, "nbytes", int)
    if dtype.kind not in NUMERIC_KINDS or not all(type(n) is int and n >= 0 for n in shape):
        raise WireError("array of a non-numeric dtype or with an invalid shape")
    if math.prod(shape) * dtype.itemsize != nbytes or nbytes > budget[0]:
        raise WireError("array size does not match its shape and dtype")
    budget[0] -= nbytes
    array = np.frombuffer(_read_exactly(stream, nbytes), dtype=dtype).reshape(shape).copy()
    if tree.get("scalar"):
        return array[()]
    subclass = tree.get("subclass")
    return SubclassArray(array, subclass) if subclass else array


class SubclassArray:
    """An ndarray subclass the student returned, kept apart so that a check can
    refuse it instead of trusting its methods."""

    def __init__(self, array, type_name):
        self.array = array
        self.type_name = str(type_name)

    def __repr__(self):
        return f"<{self.type_name} (ndarray subclass) of shape {self.array.shape}>"


def _field(tree, key, type_):
    value = tree.get(key)
    if not isinstance(value, type_) or isinstance(value, bool) and type_ is int:
        raise WireError(f"field {key!r} missing or of the wrong type")
    return value


def _read_exactly(stream, n):
    chunks = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            raise WireError("message ended early")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)
