"""Browser tests of uploads on the CT page (issue 15, item 2 and "two sessions").

Uploads a valid DICOM (written here with pydicom), a PNG and bad files (empty, random bytes named .dcm, a
multi-frame DICOM, a 6000 x 6000 PNG, a text file, a truncated DICOM, a constant PNG) through the widget of
``pages/_ui/uploads.py`` (label ``LABEL``), and checks: the picture on the page changes or a clear message
appears, never an ``stException``; and an upload in one browser context never changes the other's page.

``REGOPT_UPLOAD_PAGE`` (default ``ct``) and ``REGOPT_UPLOAD_QUERY`` pick the page and its query string.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np

from pages._ui.uploads import LABEL, OK_PREFIX
from tests.core.test_uploads import gradient_image, make_dicom, make_png
from tests.e2e.conftest import assert_no_exception, open_page, screenshot, wait_idle

URL_PATH = os.environ.get("REGOPT_UPLOAD_PAGE", "ct")
QUERY = os.environ.get("REGOPT_UPLOAD_QUERY", "")

_FINGERPRINT_JS = """() => {
  const main = document.querySelector("[data-testid='stMain']") || document.body;
  const srcs = [...main.querySelectorAll("img, svg image")].map(e => e.getAttribute("src") || e.getAttribute("href") || "");
  return srcs.join("|");
}"""


def _fingerprint(page) -> str:
    return hashlib.sha256(page.evaluate(_FINGERPRINT_JS).encode()).hexdigest()


def _uploader(page):
    return page.locator("[data-testid='stFileUploader']").filter(has_text=LABEL)


def _open(page, base):
    open_page(page, base, URL_PATH, QUERY)
    assert _uploader(page).count() == 1, f"no file uploader labelled {LABEL!r} on /{URL_PATH}"


def _upload(page, name: str, data: bytes, mime: str = "application/octet-stream") -> None:
    _uploader(page).locator("input[type='file']").set_input_files({"name": name, "mimeType": mime, "buffer": data})
    page.wait_for_timeout(500)
    wait_idle(page)


def _messages(page) -> str:
    alerts = page.locator("[data-testid='stAlert'], [data-testid='stFileUploader']").all_inner_texts()
    return "\n".join(alerts)


def _ct_png() -> bytes:
    yy, xx = np.mgrid[:96, :96]
    img = (40 + 180 * ((xx - 40) ** 2 + (yy - 50) ** 2 < 600) + 30 * (xx > 70)).astype(np.uint8)
    return make_png(img)


def _multi_frame() -> bytes:
    px = np.zeros((3, 32, 32), dtype=np.uint16)
    px[:, 8:20, 8:20] = 2000
    return make_dicom(px, frames=3, rows=32, cols=32)


BAD_FILES = [
    ("empty.dcm", b"", "empty"),
    ("noise.dcm", np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes(), "not a DICOM"),
    ("cine.dcm", None, "frames"),
    ("huge.png", None, "megapixels"),
    ("notes.png", b"this is a text file\n" * 40, "text file"),
    ("cut.dcm", None, "truncated"),
    ("flat.png", None, "same value"),
]


def _bad_bytes(name: str, data: bytes | None) -> bytes:
    if data is not None:
        return data
    if name == "cine.dcm":
        return _multi_frame()
    if name == "huge.png":
        return make_png(np.zeros((6000, 6000), dtype=np.uint8))
    if name == "cut.dcm":
        full = make_dicom()
        return full[: len(full) - 1500]
    if name == "flat.png":
        return make_png(np.full((64, 64), 90, dtype=np.uint8))
    raise KeyError(name)


def test_valid_uploads_change_the_phantom_and_bad_files_get_a_message(app_server, browser_page):
    page = browser_page
    _open(page, app_server)
    before = _fingerprint(page)

    _upload(page, "slice.dcm", make_dicom())
    assert_no_exception(page)
    assert OK_PREFIX in page.inner_text("body"), _messages(page)
    after_dicom = _fingerprint(page)
    assert after_dicom != before, "the valid DICOM did not change any picture on the page"
    screenshot(page, "uploads-dicom", full_page=False)

    _upload(page, "drawing.png", _ct_png(), "image/png")
    assert_no_exception(page)
    after_png = _fingerprint(page)
    assert after_png != after_dicom, "the valid PNG did not change any picture on the page"

    for name, data, words in BAD_FILES:
        _upload(page, name, _bad_bytes(name, data))
        assert_no_exception(page)
        text = _messages(page)
        assert words.lower() in text.lower(), f"{name}: no clear message; page says {text!r}"
        assert "Still using" in text, f"{name}: the previous valid upload was not kept: {text!r}"
        assert _fingerprint(page) == after_png, f"{name}: the phantom changed after a bad file"
    screenshot(page, "uploads-bad-file", full_page=False)

    # a plain .txt is refused by the browser widget itself (type filter): a message, no exception
    _upload(page, "points.txt", b"1,2\n3,4\n", "text/plain")
    assert_no_exception(page)


def test_an_upload_in_one_session_never_changes_another(app_server, _browser):
    a_ctx = _browser.new_context(viewport={"width": 1440, "height": 1000})
    b_ctx = _browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        a, b = a_ctx.new_page(), b_ctx.new_page()
        for p in (a, b):
            p.set_default_timeout(60_000)
        _open(a, app_server)
        _open(b, app_server)
        b_before = _fingerprint(b)
        _upload(a, "drawing.png", _ct_png(), "image/png")
        assert OK_PREFIX in a.inner_text("body")
        assert _fingerprint(a) != b_before
        b.reload()
        wait_idle(b)
        assert_no_exception(b)
        assert OK_PREFIX not in b.inner_text("body"), "session B shows session A's upload"
        assert _fingerprint(b) == b_before, "session B's pictures changed after session A uploaded"
    finally:
        a_ctx.close()
        b_ctx.close()
