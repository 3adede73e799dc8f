"""The upload widget: a student's own slice (DICOM, PNG, JPEG) for the CT page.

Contract with the CT page (tests/e2e/test_uploads.py relies on it):

* label ``LABEL`` = "Your own slice (DICOM, PNG or JPEG, up to 1 MB)", key ``KEY`` = "ct_upload";
* a valid file shows a caption starting with ``OK_PREFIX`` ("Using your upload:") under the widget; a bad
  one shows ``st.error`` with :class:`regopt_core.uploads.UploadError`'s message and the previous valid
  upload stays in use (kept in this session's ``st.session_state`` only: never pinned, never written to
  disk, never visible to another session);
* :func:`image_upload` returns ``(image, sha256)`` (``(None, "")`` without an upload); :func:`upload_ref`
  returns the :class:`regopt_core.uploads.UploadRef` to put into the page's frozen config, so cached results
  are keyed by the file's hash (the same bytes give the same result, other bytes never do).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from regopt_core import uploads as core

__all__ = ["KEY", "LABEL", "OK_PREFIX", "image_upload", "upload_ref"]

LABEL = "Your own slice (DICOM, PNG or JPEG, up to 1 MB)"
KEY = "ct_upload"
OK_PREFIX = "Using your upload:"
TYPES = ["dcm", "png", "jpg", "jpeg"]


def _state_key(key: str) -> str:
    return f"_regopt_upload_{key}"


def image_upload(label: str = LABEL, key: str = KEY, *, help: str | None = None) -> tuple[np.ndarray | None, str]:  # noqa: A002
    """Show the uploader; return the decoded grayscale image and its SHA-256 digest, or ``(None, "")``.

    A file is decoded once per session (by digest); a failing file shows its message and the last valid
    upload of this session is returned instead (it is remembered while the widget is empty, so replacing a
    file by a bad one keeps the last good one). An empty widget returns ``(None, "")``.
    """
    state = st.session_state.setdefault(_state_key(key), {"valid": None, "failed": None})
    file = st.file_uploader(label, type=TYPES, key=key, accept_multiple_files=False, max_upload_size=1,
                            help=help or "A single CT slice (.dcm, Hounsfield units from its rescale tags), another "
                                         "grayscale DICOM, or a PNG/JPEG picture (colour becomes gray). It is "
                                         "resampled to the grid and used as the phantom; it stays in your session only.")
    if file is None:  # no file in the widget (also for a moment while one file replaces another)
        return None, ""
    data = file.getvalue()
    digest = core.sha256(data)
    valid = state["valid"]
    if valid is None or valid["sha256"] != digest:
        failed = state["failed"]
        if failed is not None and failed[0] == digest:
            message = failed[1]
        else:
            try:
                dec = core.decode_upload(data, file.name)
            except core.UploadError as exc:
                message = str(exc)
                state["failed"] = (digest, message)
            else:
                message = None
                state["failed"] = None
                valid = state["valid"] = {"sha256": digest, "decoded": dec,
                                          "ref": core.UploadRef(sha256=digest, filename=dec.filename, data=data)}
        if message is not None:
            keep = f" Still using “{valid['decoded'].filename}”." if valid is not None else ""
            st.error(message + keep, icon=":material/broken_image:")
    if valid is None:
        return None, ""
    dec = valid["decoded"]
    st.caption(f"{OK_PREFIX} {dec.description} (sha256 {valid['sha256'][:12]}…)")
    return dec.image, valid["sha256"]


def upload_ref(key: str = KEY) -> core.UploadRef | None:
    """The current valid upload of this session as a hashable config field (call after :func:`image_upload`)."""
    valid = st.session_state.get(_state_key(key), {}).get("valid")
    return valid["ref"] if valid else None
