"""Figures built once per distinct input and for everyone, then drawn without re-validating them.

Profiling a light rerun (the losses page: 0.48 s of CPU in the script thread) showed ~90 % of it inside
plotly: the builders construct validated ``go.Figure`` objects (~20–50 ms each), and ``st.plotly_chart``
deep-copies every figure to a dict before serializing it. The numbers themselves came from the result cache
in microseconds. So figures get the same treatment as results:

* :func:`builders` wraps a module of pure builders (``regopt_core.figures.<page>``): a call of a ``fig_*``
  function is memoized by its arguments — read-only arrays of shared results (and slices of them: the
  same memory for every session) by address, functions by identity, everything else (numbers, strings, frozen dataclasses field
  by field, small page-made arrays by a hash of their bytes) by value — so a rerun that changes nothing a
  figure depends on gets the very same figure object back. Figures returned this way are shared by every
  session: never mutate them (:func:`spec` copies before styling);
* :func:`spec` turns a figure into the dict Streamlit serializes, with the app's styling (log ticks, legend
  placement, presentation scaling, height) applied — once per (figure, presentation, height) — and
  :func:`drawable` wraps that dict so ``st.plotly_chart`` serializes it directly (≈1 ms for a 300 KB figure)
  instead of copying and validating it again (≈20 ms).

In the server a builder runs **without plotly's property validation** (:func:`unvalidated`: plotly's own
``_validate`` switch, the one ``regopt_core.figures.bias_variance`` already uses, made the default of every
figure the builder constructs — in this thread only). Validation re-checks every property of every figure
and was, after the memo, the largest cost of a rerun that needs a new figure (py-spy of the server under 60
students; 2–6x cheaper without it). The builders are validated where they are written and tested:
``tests/figures`` calls them directly (validated), and ``tests/pages/test_figures_memo.py`` checks that every
page's figures come out the same either way.

Both memos are bounded LRUs (entries; the spec memo also by bytes). An entry holds references to the
arguments it was keyed by, so memory named by an address in a live key is never reused by another array.
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import os
from collections.abc import Callable, Hashable
from types import ModuleType
from typing import Any

import contextlib
import threading

import numpy as np
import plotly.basedatatypes
import plotly.io
import plotly.graph_objects as go
from _plotly_utils.utils import is_homogeneous_array, is_skipped_key, plotlyjsShortTypes, to_typed_array_spec

from pages._ui.cached import Memo

_SMALL_ARRAY = 1 << 20  # page-made (writeable) arrays are keyed by a hash of their bytes up to this size

#: figure objects by (builder, arguments) — the entry also holds the arguments (see the module docstring)
FIGURES = Memo(max_entries=int(os.environ.get("REGOPT_FIGURE_MEMO", "512")),
               max_bytes=int(os.environ.get("REGOPT_FIGURE_MEMO_MB", "150")) * 1_000_000, freeze=False)
#: plotly dicts ready to serialize, by (figure key, presenting, height)
SPECS = Memo(max_entries=2048, max_bytes=int(os.environ.get("REGOPT_SPEC_MEMO_MB", "150")) * 1_000_000,
             freeze=False)

_KEY_ATTR = "_regopt_figure_key"

_UNVALIDATED = threading.local()  # .on: figures constructed in this thread skip plotly's validation
_plotly_figure_init = plotly.basedatatypes.BaseFigure.__init__


def _figure_init(self, *args: Any, **kwargs: Any) -> None:
    if getattr(_UNVALIDATED, "on", False):
        kwargs.setdefault("_validate", False)
    _plotly_figure_init(self, *args, **kwargs)


plotly.basedatatypes.BaseFigure.__init__ = _figure_init  # type: ignore[method-assign]


@contextlib.contextmanager
def unvalidated():
    """Figures constructed in this block (``go.Figure``, ``make_subplots``) skip plotly's property validation,
    as if built with ``go.Figure(..., _validate=False)``; other threads are unaffected."""
    before = getattr(_UNVALIDATED, "on", False)
    _UNVALIDATED.on = True
    try:
        yield
    finally:
        _UNVALIDATED.on = before


class _Unkeyable(Exception):
    pass


def _key(x: Any, held: list) -> Hashable:
    """A hashable stand-in for one builder argument (see the module docstring)."""
    if x is None or isinstance(x, (bool, int, float, complex, str, bytes, np.generic)):
        return (type(x).__name__, repr(x))  # repr: nan == nan, and 1 != 1.0 != True
    if isinstance(x, np.ndarray):
        if not x.flags.writeable:
            # a frozen result array (or a slice of one): the same memory for every session. Key it by where
            # its numbers live; holding the array keeps that memory from being reused by another array.
            held.append(x)
            return ("memory", x.__array_interface__["data"][0], x.shape, x.strides, x.dtype.str)
        if x.nbytes > _SMALL_ARRAY:
            raise _Unkeyable
        digest = hashlib.blake2b(np.ascontiguousarray(x).tobytes(), digest_size=16).hexdigest()
        return ("array", x.shape, x.dtype.str, digest)
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, tuple(_key(v, held) for v in x))
    if isinstance(x, dict):
        return ("dict", tuple((_key(k, held), _key(v, held)) for k, v in x.items()))
    if isinstance(x, (set, frozenset)):
        return (type(x).__name__, tuple(sorted(repr(_key(v, held)) for v in x)))
    if hasattr(x, "__dataclass_fields__"):
        params = getattr(x, "__dataclass_params__", None)
        if params is not None and params.frozen:  # a config or a result: its type and its fields' keys
            return ("dataclass", type(x).__module__, type(x).__qualname__,
                    tuple(_key(getattr(x, f), held) for f in x.__dataclass_fields__))
    if callable(x):  # a surface's f, ∇f, ∇²f: the same function object means the same function
        held.append(x)
        return ("callable", id(x))
    raise _Unkeyable


def _mark(value: Any, key: Hashable) -> None:
    if isinstance(value, go.Figure):
        object.__setattr__(value, _KEY_ATTR, key)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _mark(v, (key, i))


class _Held:
    __slots__ = ("arrays",)

    def __init__(self, arrays: list) -> None:
        self.arrays = arrays


def memoized(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` (a pure figure builder) memoized by its arguments, for every session of the process."""
    name = (fn.__module__, fn.__qualname__)

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        held: list = []
        try:
            key = (name, _key(args, held), _key(tuple(sorted(kwargs.items())), held))
        except _Unkeyable:  # an argument we cannot key safely: build it, do not share it
            with unvalidated():
                return fn(*args, **kwargs)

        def build() -> tuple:
            with unvalidated():
                value = fn(*args, **kwargs)
            _mark(value, key)
            # the entry keeps the arrays keyed by address alive (they belong to shared results: not counted in
            # this memo's bytes, which are the figures' own)
            return (value, _Held(held))

        return FIGURES.compute(key, build)[0]

    return call


class _Builders:
    """A stand-in for a figures module: ``fig_*`` functions memoized, everything else passed through."""

    def __init__(self, module: ModuleType) -> None:
        self._module = module

    @functools.cache  # noqa: B019 — one wrapper per builder, for the life of the process
    def __getattr__(self, name: str) -> Any:
        value = getattr(self._module, name)
        return memoized(value) if name.startswith("fig_") and callable(value) else value


@functools.cache
def builders(module: ModuleType) -> _Builders:
    """``figs = builders(regopt_core.figures.ct)``: the page's figure builders, memoized."""
    return _Builders(module)


def spec(fig: go.Figure, style: Callable[[dict], None], variant: Hashable) -> dict:
    """The plotly dict of ``fig`` (see :func:`plain`) after ``style``, which modifies that dict (its containers
    are its own; its arrays are not: they are shared with ``fig``, never modify one).

    Memoized by (the figure's builder key, ``variant``) when the figure came from :func:`builders`;
    otherwise built every time (the figure is new on every rerun anyway).
    """
    key = getattr(fig, _KEY_ATTR, None)

    def build() -> dict:
        own = plain(fig)
        style(own)
        return finished(own)

    if key is None:
        return build()
    return SPECS.compute((key, variant), build)


_JSON = "_regopt_json"  # the key under which a finished figure keeps its JSON text
_plotly_to_json = plotly.io.to_json


def finished(fig_dict: dict) -> dict:
    """A figure dict made ready to draw for everyone: its JSON text, made once (``st.plotly_chart`` serializes
    every figure on every rerun; a shared figure's text is the same each time), and its layout (Streamlit reads
    the height and width from it). :func:`drawable` hands it to ``st.plotly_chart``, whose
    ``plotly.io.to_json(figure, validate=False)`` then returns the text as it is."""
    return {"layout": fig_dict.get("layout", {}), _JSON: _plotly_to_json(fig_dict, validate=False)}


def _to_json(fig: Any, *args: Any, **kwargs: Any) -> Any:
    if type(fig) is dict and _JSON in fig and not args and set(kwargs) <= {"validate"}:
        return fig[_JSON]
    return _plotly_to_json(fig, *args, **kwargs)


plotly.io.to_json = _to_json  # a finished figure's text as it is; every other call unchanged


def plain(fig: go.Figure) -> dict:
    """``fig.to_dict()`` as ``st.plotly_chart`` sends it, made without copying the figure twice.

    The styled dict used to come from ``go.Figure(fig.to_dict())`` + plotly's ``update_layout`` + ``to_dict()``
    again: two deep copies and a figure construction, 40-100 ms per page of new figures and a fifth of the
    server's lock time under a class (py-spy, 60 students). Here the figure's own property dicts (the ones
    ``to_dict`` deep-copies) are walked once by :func:`compact`, which makes new containers and encodes the
    arrays; the styling then edits plain dicts. ``tests/pages/test_figures_memo.py`` checks that the result
    equals ``compact(fig.to_dict())`` for every figure of every page.
    """
    res = {"data": fig._data, "layout": fig._layout}  # what BaseFigure.to_dict() copies
    frames = [frame._props for frame in fig._frame_objs]
    if frames:
        res["frames"] = frames
    return compact(res)


_F32_RANGE = (1e-30, 1e30)  # float32 keeps 7 significant digits; outside this range (log axes!) keep float64


def _f32(spec: Any) -> Any:
    """A ``{"dtype": "f8", "bdata": ...}`` typed array re-encoded as ``"f4"`` where float32 holds its values."""
    if not (isinstance(spec, dict) and spec.get("dtype") == "f8" and isinstance(spec.get("bdata"), str)):
        return spec
    a = np.frombuffer(base64.b64decode(spec["bdata"]), dtype="<f8")
    return {**spec, **_f4(a)} if _fits_f32(a) else spec


def _fits_f32(a: np.ndarray) -> bool:
    mag = np.abs(a[np.isfinite(a) & (a != 0)])
    return mag.size == 0 or (mag.min() >= _F32_RANGE[0] and mag.max() <= _F32_RANGE[1])


def _f4(a: np.ndarray) -> dict:
    return {"dtype": "f4", "bdata": base64.b64encode(np.ascontiguousarray(a, dtype="<f4")).decode("ascii")}


_NARROW = (("int64", (np.int8, np.int16, np.int32)), ("uint64", (np.uint8, np.uint16, np.uint32)))
_SHORT = plotlyjsShortTypes  # numpy dtype name -> plotly.js typed-array name


def _typed(v: np.ndarray) -> Any:
    """A numpy array as plotly's ``to_typed_array_spec`` sends it (64-bit integers narrowed where they fit,
    ``shape`` for 2-D), float64 as float32 where that keeps the numbers (:func:`compact`) — without plotly's
    defensive copy and dataframe checks (a fifth of the styling cost under a class). Anything else: plotly's."""
    if v.size == 0 or v.dtype.byteorder == ">" or str(v.dtype) not in (*_SHORT, "int64", "uint64"):
        return _f32(to_typed_array_spec(v))
    for wide, narrow in _NARROW:
        if str(v.dtype) == wide:
            lo, hi = v.min(), v.max()
            fit = next((t for t in narrow if np.iinfo(t).min <= lo and hi <= np.iinfo(t).max), None)
            if fit is None:
                return v
            v = v.astype(fit)
    if v.dtype == np.float64 and _fits_f32(v):
        spec = _f4(v)
    else:
        spec = {"dtype": _SHORT[str(v.dtype)], "bdata": base64.b64encode(np.ascontiguousarray(v)).decode("ascii")}
    if v.ndim > 1:
        spec["shape"] = str(v.shape)[1:-1]
    return spec


_SCALARS = frozenset({str, int, float, bool, type(None)})


def compact(obj: Any) -> Any:
    """A copy of a plotly dict (new dicts and lists; strings and numbers shared) with its arrays as plotly's
    base64 typed arrays (as ``to_dict()`` makes them: on the same keys, with the same types), and the drawn
    numbers as float32: an ``"f8"`` array whose non-zero magnitudes lie in [1e-30, 1e30] is sent as ``"f4"`` —
    half the bytes per rerun and per student (a figure with an in-figure slider carries every frame's data),
    and 7 significant digits is more than a screen or a hover label shows."""
    t = type(obj)
    if t in _SCALARS:
        return obj
    if t is dict:
        if obj.get("dtype") == "f8" and isinstance(obj.get("bdata"), str):
            return _f32(obj)
        out = {}
        for k, v in obj.items():
            tv = type(v)
            if tv in _SCALARS:
                out[k] = v
            elif is_skipped_key(k):  # plotly keeps these as they are (an axis range is never a typed array)
                out[k] = copy.deepcopy(v) if isinstance(v, (dict, list)) else v
            elif tv is np.ndarray:
                out[k] = _typed(v)
            elif tv in (dict, list, tuple):
                out[k] = compact(v)
            elif is_homogeneous_array(v):  # pandas, narwhals, other array-likes: plotly's own conversion
                out[k] = _f32(to_typed_array_spec(v))
            else:
                out[k] = compact(v)
        return out
    if t is list or t is tuple:
        items = [v if type(v) in _SCALARS else compact(v) for v in obj]
        return items if t is list else tuple(items)
    if isinstance(obj, dict):  # a dict subclass
        return compact(dict(obj))
    if isinstance(obj, (list, tuple)):
        return compact(list(obj) if isinstance(obj, list) else tuple(obj))
    return obj


class _Spec(go.Figure):
    """A finished plotly dict that ``st.plotly_chart`` accepts as a figure (it calls ``to_dict()``, then
    serializes the dict with ``validate=False``): no second copy, no second validation."""

    def to_dict(self) -> dict:  # type: ignore[override]
        return self.__dict__["_spec"]


def drawable(fig_dict: dict) -> go.Figure:
    obj = object.__new__(_Spec)  # no plotly constructor: it would validate the whole figure again
    obj.__dict__["_spec"] = fig_dict
    return obj


def clear() -> None:
    FIGURES.clear()
    SPECS.clear()


__all__ = ["builders", "memoized", "spec", "plain", "compact", "finished", "drawable", "clear", "unvalidated", "FIGURES", "SPECS"]
