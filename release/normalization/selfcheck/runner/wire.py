"""A codec for the values that cross the process boundary.

A message is an 8-byte length, a JSON header, then the raw bytes of every array.
Only plain data is representable: None, bool, int, float, str, lists, tuples,
dicts with string keys, and numeric numpy arrays and scalars. Anything else is sent
as a placeholder naming its type, and the receiver validates every array's dtype,
shape and size against its bytes, so a malformed or lying message is rejected
rather than believed.

Every message is bounded (the MAX_ constants): the receiver measures a header's
size, depth and number of values on its bytes before parsing it, so a hostile
message costs milliseconds and a few MiB, never a tree of millions of objects; and
every string it decodes comes out as ``text`` makes it: valid UTF-8, at most
MAX_TEXT characters. The bounds were set from a full grading of the reference,
whose largest messages are given beside each.
"""
import json
import math
import re
import struct

import numpy as np

NUMERIC_KINDS = "biufc"
# Honest maximum: a 1.3 KB header. 4 MiB leaves room for a wrong but honest answer
# such as a list of tens of thousands of numbers, and parses in tens of milliseconds.
MAX_HEADER = 4 << 20
# Honest maximum: 9 levels (arrays travel as bytes, never as nested lists).
MAX_DEPTH = 64
# Values in one header (numbers, strings, containers, dict keys); honest maximum: 107.
# 100 000 values decode to about 10 MB of Python objects.
MAX_NODES = 100_000
# Bytes of all the arrays of one message; honest maximum: 1.2 MB (a reply; requests
# carry at most 17 KB). The grader holds about three copies while it decodes: a call
# at the bound costs it about 100 MB, for a fraction of a second.
MAX_ARRAY_BYTES = 32 << 20
# Characters kept of one string (an exception message, a type name, a dict key):
# a long numpy error message is a few hundred.
MAX_TEXT = 2000
_LENGTH = struct.Struct("<Q")
# The child's acknowledgement of a request, sent before it runs student code: the
# message "received", which the parent compares byte for byte.
RECEIPT = _LENGTH.pack(len(b'"received"')) + b'"received"'
_STRING = re.compile(rb'"[^"]*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# A JSON escape can carry a lone surrogate (an exception message made with "\ud800"
# in Python), which no UTF-8 file can hold; json.loads has already joined every valid pair.
_SURROGATE = re.compile("[\ud800-\udfff]")


class WireError(ValueError):
    """A message that does not follow the protocol."""


class TooLarge(WireError):
    """A message over one of the MAX_ bounds; the text names the bound."""


def cut(text, limit=MAX_TEXT):
    """``text`` in at most ``limit`` characters: if longer, its end is replaced by a
    note of how much was cut (so cutting twice keeps the first note)."""
    if len(text) <= limit:
        return text
    keep = max(0, limit - len(f"\n[... {len(text)} more characters cut]"))
    return f"{text[:keep]}\n[... {len(text) - keep} more characters cut]"


def text(value):
    """A string from the other side, made safe once, where it is decoded: each lone
    surrogate replaced by U+FFFD, so that it encodes as UTF-8 wherever it lands,
    and cut to MAX_TEXT characters."""
    return cut(value if value.isascii() else _SURROGATE.sub("\ufffd", value))


class Opaque:
    """A value that could not be sent, represented by the name of its type."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name} object>"


def encode(value, extra=None):
    """Encode ``value`` (plus named ``extra`` leaves, see ``encode_leaf``) to bytes."""
    buffers = []
    try:
        tree = _encode(value, buffers, extra or {})
    except RecursionError:
        raise TooLarge(f"more than {MAX_DEPTH} levels of nesting") from None
    header = json.dumps(tree, allow_nan=True, separators=(",", ":")).encode()
    _check_header(header)
    _check_array_bytes(sum(map(len, buffers)))
    return b"".join([_LENGTH.pack(len(header)), header, *buffers])


_PLAIN = {type(None), bool, int, float, str}


def _encode(value, buffers, extra):
    # The exact types that make up nearly every message are tried first; no hook
    # in ``extra`` is one of them.
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is np.ndarray:
        return _encode_array(value, buffers, value, None)
    if kind is list:
        return [_encode(v, buffers, extra) for v in value]
    if kind is tuple:
        return {"$": "tuple", "items": [_encode(v, buffers, extra) for v in value]}
    if kind is dict and all(type(k) is str for k in value):
        return {"$": "dict", "items": {k: _encode(v, buffers, extra) for k, v in value.items()}}
    for type_, hook in extra.items():
        if isinstance(value, type_):
            return hook(value)
    if isinstance(value, str):
        return value
    if isinstance(value, np.generic):
        return _encode_array(np.asarray(value), buffers, value, None)
    if isinstance(value, np.ndarray):
        return _encode_array(np.asarray(value), buffers, value, type(value).__name__)
    return {"$": "opaque", "type": kind.__name__}


def _encode_array(array, buffers, value, subclass):
    """An array's node; its bytes go to ``buffers``. Defaults (not a scalar, not a
    subclass) are left out of the node."""
    if array.dtype.kind not in NUMERIC_KINDS:
        return {"$": "opaque", "type": f"array of {array.dtype}"}
    data = np.ascontiguousarray(array).view(np.ndarray).tobytes()
    buffers.append(data)
    node = {"$": "array", "dtype": array.dtype.str, "shape": list(array.shape), "nbytes": len(data)}
    if isinstance(value, np.generic):
        node["scalar"] = True
    if subclass:
        node["subclass"] = subclass
    return node


def read_message(stream):
    """Read one message from a binary stream; None at a clean end of stream."""
    head = stream.read(_LENGTH.size)
    if not head:
        return None
    if len(head) != _LENGTH.size:
        raise WireError("truncated length")
    (size,) = _LENGTH.unpack(head)
    if size > MAX_HEADER:
        raise TooLarge(f"a header of {size} bytes; the limit is {MAX_HEADER >> 20} MiB")
    header = _read_exactly(stream, size)
    _check_header(header)
    try:
        return json.loads(header)
    except ValueError as err:
        raise WireError(f"header is not JSON ({type(err).__name__})") from None


def _check_header(header):
    """Refuse a header over the bounds, measured on its bytes. Outside strings, every
    value but the first follows a comma, a colon or the opening bracket of a non-empty
    container; depth is the running balance of the brackets. Each step runs in C over
    at most MAX_HEADER bytes."""
    if len(header) > MAX_HEADER:
        raise TooLarge(f"a header of {len(header)} bytes; the limit is {MAX_HEADER >> 20} MiB")
    # Every value but the first takes a byte and follows a separator byte, and every
    # level opens with a bracket: a short header with few brackets is within bounds.
    if len(header) < MAX_NODES and header.count(b"[") + header.count(b"{") <= MAX_DEPTH:
        return
    # Without its escaped backslashes and quotes, every quote left opens or closes a string.
    bare = _STRING.sub(b"0", header.replace(b"\\\\", b"").replace(b'\\"', b"")).translate(None, b" \t\n\r")
    nodes = (1 + sum(bare.count(c) for c in (b",", b":", b"[", b"{"))
             - bare.count(b"[]") - bare.count(b"{}"))
    if nodes > MAX_NODES:
        raise TooLarge(f"{nodes} values; the limit is {MAX_NODES}")
    brackets = np.frombuffer(bare.translate(None, _NOT_BRACKETS), np.uint8)
    steps = np.where((brackets == ord("[")) | (brackets == ord("{")), np.int32(1), np.int32(-1))
    if steps.size and np.cumsum(steps).max() > MAX_DEPTH:
        raise TooLarge(f"more than {MAX_DEPTH} levels of nesting")


def _check_array_bytes(total):
    if total > MAX_ARRAY_BYTES:
        raise TooLarge(f"arrays of {total} bytes; the limit is {MAX_ARRAY_BYTES >> 20} MiB")


def decode(tree, stream, extra=None):
    """Rebuild the value of a header read by ``read_message``, reading array bytes
    from ``stream`` in order. ``extra`` maps a ``$`` tag to a decoding hook."""
    try:
        return _decode(tree, stream, extra or {}, [0])
    except (ValueError, TypeError, OverflowError, RecursionError) as err:
        if isinstance(err, WireError):
            raise
        raise WireError(f"malformed value ({type(err).__name__})") from None


def _decode(tree, stream, extra, received):
    kind = type(tree)  # one of JSON's: str, list, dict, int, float, bool, None
    if kind is str:
        return text(tree)
    if kind is list:
        return [_decode(v, stream, extra, received) for v in tree]
    if kind is not dict:
        return tree
    tag = tree.get("$")
    if tag == "array":
        return _decode_array(tree, stream, received)
    if tag == "dict":
        return {text(k): _decode(v, stream, extra, received) for k, v in _field(tree, "items", dict).items()}
    if tag == "tuple":
        return tuple(_decode(v, stream, extra, received) for v in _field(tree, "items", list))
    if tag == "opaque":
        return Opaque(text(_field(tree, "type", str)))
    if tag in extra:
        return extra[tag](tree)
    raise WireError(f"unknown tag {cut(repr(tag), 40)}")


def _decode_array(tree, stream, received):
    try:
        dtype = np.dtype(_field(tree, "dtype", str))
    except TypeError:
        raise WireError("invalid dtype") from None
    shape = _field(tree, "shape", list)
    nbytes = _field(tree, "nbytes", int)
    if dtype.kind not in NUMERIC_KINDS or not all(type(n) is int and n >= 0 for n in shape):
        raise WireError("array of a non-numeric dtype or with an invalid shape")
    if math.prod(shape) * dtype.itemsize != nbytes:
        raise WireError("array size does not match its shape and dtype")
    received[0] += nbytes
    _check_array_bytes(received[0])
    array = np.frombuffer(_read_exactly(stream, nbytes), dtype=dtype).reshape(shape)
    if tree.get("scalar"):
        return array[()]
    array = array.copy()  # writable, and owning its memory
    subclass = tree.get("subclass")
    return SubclassArray(array, text(str(subclass))) if subclass else array


class SubclassArray:
    """An ndarray subclass the student returned, kept apart so that a check can
    refuse it instead of trusting its methods."""

    def __init__(self, array, type_name):
        self.array = array
        self.type_name = type_name

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
