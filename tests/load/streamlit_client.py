"""A headless client that speaks Streamlit 1.67's browser protocol, for load tests (DESIGN §4.5).

One :class:`StreamlitClient` is one browser tab: one websocket to ``<base>/_stcore/stream`` (subprotocol
``streamlit``, binary protobuf). It asks for runs the way the frontend does -- ``BackMsg.rerun_script`` with a
``ClientState`` (query string, page name, page script hash, the *full* set of widget states and, for a control
inside an ``@st.fragment``, the fragment id, and the hashes of the large messages it holds, as a browser's message
cache does: :class:`MessageCache`) -- and reads ``ForwardMsg``s until ``script_finished``.

Widgets are parsed from ``delta.new_element``; :meth:`StreamlitClient.move` changes one control to a random value
within its range (slider steps, select-slider/selectbox/radio options, number-input bounds, checkbox flip, button
click) and reruns exactly what the browser would rerun (the fragment, or the whole page).

Not part of the default test run; used by ``python -m tests.load.run_load`` and the smoke test
``tests/e2e/test_load_client.py``.
"""

from __future__ import annotations

import asyncio
import random
import time
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.Slider_pb2 import Slider as SliderProto
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

# Element types that are controls a student can move, and how their value travels (WidgetState field).
MOVABLE = ("slider", "selectbox", "radio", "multiselect", "checkbox", "number_input", "button")
# Widgets a student can use that this client does not move (reported by the interaction profile).
NOT_SIMULATED = ("text_input", "text_area", "date_input", "time_input", "color_picker", "file_uploader",
                 "download_button", "camera_input", "chat_input", "button_group", "audio_input", "dataframe",
                 "plotly_chart")
FINISHED = {
    ForwardMsg.FINISHED_SUCCESSFULLY: "ok",
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "ok",
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "compile_error",
}


class ProtocolError(RuntimeError):
    """The server closed the connection or did not finish a run in time."""


@dataclass
class Widget:
    id: str
    kind: str  # element type: slider, selectbox, ...
    label: str
    fragment_id: str  # "" outside a fragment
    proto: object  # the element's widget proto (a copy)
    state: WidgetState | None  # what we send back; None for a button that was not clicked

    @property
    def key(self) -> str:
        """The user key of the widget (``$$ID-<hash>-<key>``), or the label when it has none."""
        tail = self.id.rsplit("-", 1)[-1] if self.id.startswith("$$ID-") else ""
        return tail if tail and tail != "None" else self.label

    @property
    def compute(self) -> bool:
        """A Compute button (``pages/_ui/gate.py``): explicit heavy work, with its own budget (5 s, issue 12)."""
        from pages._ui.gate import COMPUTE_ICON

        return self.kind == "button" and getattr(self.proto, "icon", "") == COMPUTE_ICON


class CacheMiss(Exception):
    """The server referred to a message this client does not hold (a server bug: the browser raises too)."""


class MessageCache:
    """What a browser tab does with large messages (Streamlit's frontend ``ForwardMessageCache``, 1.67): a delta
    the server marks ``cacheable`` (``global.minCachedMessageSize``, 10 kB) is kept under its hash, and every rerun
    request lists the hashes held, so the server sends an unchanged large element (a figure) as a short reference
    instead of again in full. After a whole-page run, an entry not used for more than ``max_age`` runs
    (``global.maxCachedMessageAge``, 2) is dropped. Without it the load client asked for every figure in full on
    every rerun, which no browser does."""

    def __init__(self) -> None:
        self.messages: dict[str, list] = {}  # hash -> [raw message, run count when last used, fragment id]
        self.runs = 0
        self.max_age = 2

    def hashes(self) -> list[str]:
        return list(self.messages)

    def process(self, fm: ForwardMsg, data: bytes) -> ForwardMsg:
        """The message as the page sees it: a reference replaced by the cached message."""
        if fm.WhichOneof("type") == "ref_hash":
            entry = self.messages.get(fm.ref_hash)
            if entry is None:
                raise CacheMiss(f"the server referred to message {fm.ref_hash}, which this client does not hold")
            entry[1] = self.runs
            full = ForwardMsg()
            full.ParseFromString(entry[0])
            full.metadata.CopyFrom(fm.metadata)
            return full
        if fm.metadata.cacheable and fm.hash:
            entry = self.messages.get(fm.hash)
            if entry is None:
                frag = fm.delta.fragment_id if fm.WhichOneof("type") == "delta" else ""
                self.messages[fm.hash] = [data, self.runs, frag]
            else:
                entry[1] = self.runs
        return fm

    def run_finished(self, fragment_ids: list[str]) -> None:
        self.runs += 1
        for h, (_, used, frag) in list(self.messages.items()):
            if fragment_ids and (not frag or frag not in fragment_ids):
                continue
            if self.runs - used > self.max_age:
                del self.messages[h]


@dataclass
class RunResult:
    page: str
    action: str  # "open", "move:<widget key>" or "compute:<button key>" (a Compute button's press)
    fragment: bool
    latency_s: float
    status: str  # ok, compile_error, timeout, disconnect
    n_msgs: int = 0
    n_bytes: int = 0
    exceptions: list[str] = field(default_factory=list)
    error_alerts: list[str] = field(default_factory=list)  # st.error boxes (expected for some extreme values)
    page_not_found: bool = False
    auto_rerun: bool = False  # the run asked the browser to rerun a fragment periodically (run_every)
    other_widgets: list[str] = field(default_factory=list)  # "<type>:<label>" of widgets not simulated

    @property
    def failed(self) -> bool:
        return self.status != "ok" or bool(self.exceptions) or self.page_not_found


def _initial_state(kind: str, p) -> WidgetState | None:
    """The value a freshly rendered widget holds in the browser (what the frontend sends back)."""
    s = WidgetState(id=p.id)
    if kind == "slider":
        if p.type == SliderProto.SELECT_SLIDER:
            values = list(p.raw_value) if p.set_value else [p.options[int(i)] for i in p.default]
            s.string_array_value.data.extend(values)
        else:
            s.double_array_value.data.extend(list(p.value) if p.set_value else list(p.default))
    elif kind in ("selectbox", "radio"):
        if p.set_value:
            s.string_value = p.raw_value
        elif p.HasField("default") and 0 <= p.default < len(p.options):
            s.string_value = p.options[p.default]
        else:
            return None
    elif kind == "multiselect":
        values = list(p.raw_values) if p.set_value else [p.options[i] for i in p.default if 0 <= i < len(p.options)]
        s.string_array_value.data.extend(values)
    elif kind == "checkbox":
        s.bool_value = p.value if p.set_value else p.default
    elif kind == "number_input":
        value = p.value if p.set_value else p.default
        if p.data_type == p.INT:
            s.int_value = int(value)
        else:
            s.double_value = value
    else:  # button: a trigger, only sent in the run it was clicked
        return None
    return s


def random_state(w: Widget, rng: random.Random) -> WidgetState:
    """A new value for ``w``, chosen at random within its range (as a student might set it)."""
    p = w.proto
    s = WidgetState(id=w.id)
    if w.kind == "slider" and p.type == SliderProto.SELECT_SLIDER:
        n = 2 if len(p.default) == 2 else 1
        idx = sorted(rng.sample(range(len(p.options)), n)) if len(p.options) >= n else [0] * n
        s.string_array_value.data.extend(p.options[i] for i in idx)
    elif w.kind == "slider":
        step = p.step or (1.0 if p.data_type == p.INT else (p.max - p.min) / 100 or 1.0)
        n_steps = max(int(round((p.max - p.min) / step)), 0)
        vals = sorted(min(p.min + rng.randint(0, n_steps) * step, p.max) for _ in range(2 if len(p.default) == 2 else 1))
        if p.data_type == p.INT:
            vals = [float(int(round(v))) for v in vals]
        else:
            vals = [round(v, 12) for v in vals]
        s.double_array_value.data.extend(vals)
    elif w.kind in ("selectbox", "radio"):
        s.string_value = rng.choice(list(p.options))
    elif w.kind == "multiselect":
        limit = p.max_selections or len(p.options)
        k = rng.randint(1, max(1, min(limit, len(p.options))))
        s.string_array_value.data.extend(rng.sample(list(p.options), k))
    elif w.kind == "checkbox":
        s.bool_value = not (w.state.bool_value if w.state is not None else p.default)
    elif w.kind == "number_input":
        # Students click +/- a few times (or type a nearby number): a few steps from the current value.
        current = (w.state.int_value if p.data_type == p.INT else w.state.double_value) if w.state else p.default
        step = p.step or 1.0
        value = current + rng.choice([-3, -2, -1, 1, 2, 3]) * step
        lo = p.min if p.has_min else value
        hi = p.max if p.has_max else value
        value = min(max(value, lo), hi)
        if p.data_type == p.INT:
            s.int_value = int(round(value))
        else:
            s.double_value = round(value, 12)
    elif w.kind == "button":
        s.trigger_value = True
    return s


class StreamlitClient:
    """One simulated browser tab.

    ``base_url`` is what a student types, e.g. ``http://127.0.0.1:8501`` or ``http://host:8080/regopt``.
    """

    def __init__(self, base_url: str, *, timeout: float = 60.0, send_origin: bool = True, load_html: bool = True):
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        scheme = "wss" if parts.scheme == "https" else "ws"
        self.ws_url = f"{scheme}://{parts.netloc}{parts.path}/_stcore/stream"
        self.timeout = timeout
        self.send_origin = send_origin
        self.load_html = load_html
        self.cookies: dict[str, str] | None = None  # kept across reconnects, like a browser's
        self.ws = None
        self.page = ""
        self.page_script_hash = ""
        self.query_string = ""
        self.widgets: dict[str, Widget] = {}
        self.pages: dict[str, str] = {}  # url_pathname -> page_script_hash, from the server's navigation message
        self.cache = MessageCache()  # a browser tab's cache of large messages (kept across reruns, not reconnects)

    def _get_index(self) -> dict[str, str]:
        """GET the app's HTML page and its health check as a browser does first, keeping the cookies: the XSRF
        token (Streamlit 1.67 sets it on ``/_stcore/health``; the app groups a browser's tabs by it) and a
        reverse proxy's sticky-session cookie (so the websocket reaches the replica a real browser would)."""
        jar: dict[str, str] = {}
        for path in ("/", "/_stcore/health"):
            req = urllib.request.Request(self.base_url + path)
            if jar:
                req.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in jar.items()))
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                r.read()
                for header in r.headers.get_all("Set-Cookie") or []:
                    name, _, value = header.split(";", 1)[0].partition("=")
                    jar.setdefault(name.strip(), value.strip())
        return jar

    async def connect(self) -> None:
        if self.load_html and self.cookies is None:
            self.cookies = await asyncio.to_thread(self._get_index)
        headers = {"Origin": self.origin} if self.send_origin else {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.ws = await asyncio.wait_for(
            connect(self.ws_url, subprotocols=["streamlit"], additional_headers=headers, max_size=None,
                    open_timeout=self.timeout, ping_interval=20, ping_timeout=self.timeout),
            self.timeout)

    async def close(self) -> None:
        if self.ws is not None:
            try:
                await self.ws.close()
            except Exception:  # noqa: BLE001 - closing a broken socket
                pass
            self.ws = None

    async def __aenter__(self) -> StreamlitClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # ------------------------------------------------------------------------------------------- runs
    async def open_page(self, url_path: str, query_string: str = "") -> RunResult:
        """Navigate this tab to a page (as a sidebar click or a typed URL does): a full run, no widget states."""
        self.page, self.query_string = url_path, query_string
        self.page_script_hash = self.pages.get(url_path, "")
        self.widgets = {}
        return await self._run(action="open", fragment_id="", states=[])

    async def move(self, widget: Widget, rng: random.Random) -> RunResult:
        """Set one control to a random value within its range and rerun what the browser would rerun."""
        new = random_state(widget, rng)
        states = [new if w.id == widget.id else w.state for w in self.widgets.values()]
        if widget.kind != "button":
            widget.state = new
        return await self._run(action=f"{'compute' if widget.compute else 'move'}:{widget.key}",
                               fragment_id=widget.fragment_id,
                               states=[s for s in states if s is not None])

    async def set_state(self, widget: Widget, new: WidgetState, action: str | None = None) -> RunResult:
        """Give one control a chosen value (``new``, a ``WidgetState`` with ``widget.id``) and rerun what the
        browser would rerun: the widget's fragment (``Delta.fragment_id`` of the element) or the whole page."""
        states = [new if w.id == widget.id else w.state for w in self.widgets.values()]
        if widget.id not in self.widgets:
            states.append(new)
        if widget.kind != "button":
            widget.state = new
        return await self._run(action=action or f"move:{widget.key}", fragment_id=widget.fragment_id,
                               states=[s for s in states if s is not None])

    def find(self, kind: str, key: str) -> Widget | None:
        """The widget currently shown with this element type and key (ids can change between runs)."""
        return next((w for w in self.widgets.values() if w.kind == kind and w.key == key), None)

    def movable(self) -> list[Widget]:
        return [w for w in self.widgets.values() if not getattr(w.proto, "disabled", False)]

    async def _run(self, *, action: str, fragment_id: str, states: list[WidgetState]) -> RunResult:
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query_string
        cs.page_name = self.page
        cs.page_script_hash = self.page_script_hash
        cs.fragment_id = fragment_id
        cs.widget_states.widgets.extend(states)
        cs.cached_message_hashes.extend(self.cache.hashes())
        started = False  # the server sent new_session (it does for every run): the browser then ages its cache
        result = RunResult(page=self.page, action=action, fragment=bool(fragment_id), latency_s=0.0, status="ok")
        # A fragment rerun redraws only that fragment's widgets; a full run redraws all of them.
        if fragment_id:
            self.widgets = {k: w for k, w in self.widgets.items() if w.fragment_id != fragment_id}
        else:
            self.widgets = {}
        previous = {s.id: s for s in states}
        t0 = time.perf_counter()
        try:
            await self.ws.send(msg.SerializeToString())
            deadline = t0 + self.timeout
            while True:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    result.status = "timeout"
                    break
                try:
                    data = await asyncio.wait_for(self.ws.recv(), remaining)
                except TimeoutError:
                    result.status = "timeout"
                    break
                result.n_msgs += 1
                result.n_bytes += len(data)
                fm = ForwardMsg()
                fm.ParseFromString(data)
                fm = self.cache.process(fm, data)
                kind = fm.WhichOneof("type")
                if kind == "new_session":
                    started = True
                    self.cache.max_age = fm.new_session.config.max_cached_message_age or self.cache.max_age
                elif kind == "delta":
                    self._on_delta(fm.delta, result, previous)
                elif kind == "navigation":
                    self._on_navigation(fm.navigation)
                elif kind == "page_info_changed":
                    self.query_string = fm.page_info_changed.query_string
                elif kind == "auto_rerun":
                    result.auto_rerun = True
                elif kind == "page_not_found":
                    result.page_not_found = True
                elif kind == "script_finished":
                    if fm.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                        continue
                    result.status = FINISHED.get(fm.script_finished, "ok")
                    if started:
                        self.cache.run_finished([fragment_id] if fragment_id else [])
                    break
        except (ConnectionClosed, OSError) as exc:
            result.status = "disconnect"
            result.exceptions.append(f"websocket closed: {exc}")
            self.ws = None
            self.cache = MessageCache()  # a new connection is a new session: the browser starts a new cache
        except CacheMiss as exc:
            result.status = "cache_miss"
            result.exceptions.append(str(exc))
        result.latency_s = time.perf_counter() - t0
        return result

    def _on_navigation(self, nav) -> None:
        for p in nav.app_pages:
            self.pages[p.url_pathname] = p.page_script_hash
        if nav.page_script_hash:
            self.page_script_hash = nav.page_script_hash

    def _on_delta(self, delta, result: RunResult, previous: dict[str, WidgetState]) -> None:
        if delta.WhichOneof("type") != "new_element":
            return
        el = delta.new_element
        et = el.WhichOneof("type")
        if et == "exception":
            result.exceptions.append(f"{el.exception.type}: {el.exception.message[:300]}")
        elif et == "alert" and el.alert.format == el.alert.ERROR:
            result.error_alerts.append(el.alert.body[:200])
        elif et in NOT_SIMULATED:
            p = getattr(el, et)
            # a dataframe only when editable (st.data_editor); a chart only when it reruns on selection
            if (et == "dataframe" and not getattr(p, "editing_mode", 0)) or (
                    et == "plotly_chart" and not list(getattr(p, "selection_mode", []))):
                return
            result.other_widgets.append(f"{et}:{getattr(p, 'label', '') or getattr(p, 'id', '')}"[:80])
        elif et in MOVABLE:
            p = getattr(el, et)
            if getattr(p, "form_id", ""):
                return  # controls inside a form only take effect on submit; not simulated
            if et == "button" and p.is_form_submitter:
                return
            proto = type(p)()
            proto.CopyFrom(p)
            state = _initial_state(et, proto)
            # The browser keeps what the user set; the server echoes it only when it set the value itself.
            if state is not None and p.id in previous and not getattr(p, "set_value", False):
                state = previous[p.id]
            self.widgets[p.id] = Widget(p.id, et, p.label, delta.fragment_id, proto, state)
