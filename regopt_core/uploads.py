"""Decode a student's uploaded image (DICOM, PNG, JPEG) into a 2-D grayscale array — safely, in memory.

Pure (no streamlit) and deterministic in ``(data, filename)``, so results may be cached by the file's hash.
Every failure a student can cause raises :class:`UploadError` with a message meant for them; nothing is
ever written to disk (all reading is from :class:`io.BytesIO`).

Limits are checked **before** any pixel is decoded:

* the file size, ``MAX_BYTES`` = 1 MB (the server's ``server.maxUploadSize = 1`` in
  ``.streamlit/config.toml``, which Streamlit counts as 1024 x 1024 bytes);
* the pixel count, ``MAX_PIXELS`` = 2048 x 2048 (and ``MAX_SIDE`` = 4096 per side, ``MIN_SIDE`` = 8),
  read from the header: DICOM ``Rows``/``Columns``/``NumberOfFrames`` with ``stop_before_pixels=True``;
  PNG/JPEG dimensions from ``PIL.Image.open`` (which parses only the IHDR / SOF header until ``load()``) —
  a 1 MB PNG can hold a 6000 x 6000 image (a constant one compresses to 35 kB);
* the frame count: one frame only (multi-frame DICOM, animated PNG are refused).

DICOM is read with pydicom; stored values become Hounsfield units (``units == "HU"``) with
``RescaleSlope``/``RescaleIntercept`` when the file is CT (or says ``RescaleType`` HU), other modalities
keep their rescaled values; MONOCHROME1 (inverted gray) is flipped; colour becomes luminance. PNG/JPEG are
decoded by scikit-image's reader (``skimage.io.imread`` on a ``BytesIO``); colour becomes luminance
(``skimage.color.rgb2gray``, ITU-R BT.709 weights), transparency is composited onto black (= air).
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "ALLOWED_EXTENSIONS",
    "MAX_BYTES",
    "MAX_PIXELS",
    "MAX_SIDE",
    "MIN_SIDE",
    "DecodedImage",
    "UploadError",
    "UploadRef",
    "decode_image",
    "decode_upload",
    "sha256",
]

MAX_BYTES = 1 * 1024 * 1024
MAX_PIXELS = 2048 * 2048
MAX_SIDE = 4096
MIN_SIDE = 8
ALLOWED_EXTENSIONS = (".dcm", ".dicom", ".png", ".jpg", ".jpeg")

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"


class UploadError(ValueError):
    """A problem with an uploaded file, worded for the student who uploaded it."""


def sha256(data: bytes) -> str:
    """Hex SHA-256 digest of the file's bytes (the cache key of anything computed from it)."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class UploadRef:
    """A hashable, picklable handle on an upload for a frozen config: equal (and hashed) by digest and name.

    ``data`` (the bytes) is neither compared nor shown in ``repr``, so a config holding it stays cheap to hash
    and to print; two students share a cached result only if they uploaded the very same bytes.
    """

    sha256: str
    filename: str
    data: bytes = field(compare=False, repr=False)

    @classmethod
    def of(cls, data: bytes, filename: str) -> UploadRef:
        return cls(sha256=sha256(data), filename=str(filename), data=bytes(data))


@dataclass(frozen=True)
class DecodedImage:
    """A decoded upload.

    Attributes
    ----------
    image : ndarray (rows, cols), float64, read-only
        Grayscale values: HU for CT DICOM, (rescaled) stored values for other DICOM, gray levels on the file's
        own scale for images (0-255 for 8-bit, 0-65535 for 16-bit; colour as BT.709 luminance).
    kind : str
        ``"DICOM"``, ``"PNG"`` or ``"JPEG"``.
    units : str
        ``"HU"``, ``"stored value"`` or ``"gray level"``.
    pixel_spacing_mm : (float, float) or None
        Row and column spacing (DICOM ``PixelSpacing``), when known.
    modality : str or None
        DICOM ``Modality`` (``"CT"``, ``"MR"`` ...).
    sha256, filename : str
    description : str
        One sentence for the page: what was read.
    """

    image: np.ndarray = field(repr=False)
    kind: str
    units: str
    pixel_spacing_mm: tuple[float, float] | None
    modality: str | None
    sha256: str
    filename: str
    description: str


def _ext(filename: str) -> str:
    return os.path.splitext(str(filename or ""))[1].lower()


def _looks_like_text(data: bytes) -> bool:
    head = data[:4096]
    if b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return printable >= 0.95 * max(1, len(text))


def _check_dimensions(rows: int, cols: int, what: str) -> None:
    if rows < MIN_SIDE or cols < MIN_SIDE:
        raise UploadError(f"The {what} is only {cols} × {rows} pixels; at least {MIN_SIDE} × {MIN_SIDE} are needed.")
    if rows > MAX_SIDE or cols > MAX_SIDE or rows * cols > MAX_PIXELS:
        raise UploadError(
            f"The {what} is {cols} × {rows} pixels ({rows * cols / 1e6:.1f} megapixels); this server accepts at most "
            f"{MAX_PIXELS / 1e6:.1f} megapixels (e.g. 2048 × 2048). Shrink it first — the reconstruction grid is at "
            "most 256 × 256 anyway.")


def _finish(img: np.ndarray, what: str) -> np.ndarray:
    img = np.asarray(img, dtype=np.float64)
    if img.ndim != 2:
        raise UploadError(f"The {what} is not a single 2-D image (array shape {img.shape}).")
    if not np.all(np.isfinite(img)):
        raise UploadError(f"The {what} contains undefined (NaN or infinite) pixel values.")
    lo, hi = float(img.min()), float(img.max())
    if hi <= lo:
        raise UploadError(f"Every pixel of the {what} has the same value ({lo:g}): there is nothing to reconstruct.")
    img = np.ascontiguousarray(img)
    img.setflags(write=False)
    return img


def _to_gray(arr: np.ndarray) -> np.ndarray:
    """Luminance of an RGB(A) / gray+alpha array; alpha composites onto black."""
    from skimage.color import rgb2gray

    arr = np.asarray(arr)
    if arr.ndim == 2:
        return arr.astype(np.float64)
    if arr.ndim == 3 and arr.shape[-1] in (2, 4):
        scale = float(np.iinfo(arr.dtype).max) if np.issubdtype(arr.dtype, np.integer) else 1.0
        alpha = arr[..., -1].astype(np.float64) / scale
        color = arr[..., :-1].astype(np.float64) * alpha[..., None]
        return color[..., 0] if color.shape[-1] == 1 else rgb2gray(color)
    if arr.ndim == 3 and arr.shape[-1] == 3:
        return rgb2gray(arr.astype(np.float64))
    if arr.ndim == 3 and arr.shape[-1] == 1:
        return arr[..., 0].astype(np.float64)
    raise UploadError(f"Unsupported pixel layout {arr.shape}: expected a gray or colour image.")


# ----------------------------------------------------------------------------------------------- DICOM
def _decode_dicom(data: bytes, filename: str, digest: str) -> DecodedImage:
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            header = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
    except InvalidDicomError:
        raise UploadError(f"“{filename}” is not a valid DICOM file (its header could not be read).") from None
    except Exception as exc:  # noqa: BLE001 - any parser failure is a damaged file for the student
        raise UploadError(f"“{filename}” looks like DICOM but its header is damaged or truncated "
                          f"({type(exc).__name__}).") from None
    rows, cols = header.get("Rows"), header.get("Columns")
    if rows is None or cols is None:
        raise UploadError(f"“{filename}” is a DICOM file without an image (no Rows/Columns): perhaps a report, "
                          "a structured set or a DICOMDIR.")
    rows, cols = int(rows), int(cols)
    try:
        frames = int(header.get("NumberOfFrames", 1) or 1)
    except (TypeError, ValueError):
        frames = 1
    if frames > 1:
        raise UploadError(f"“{filename}” holds {frames} frames (a multi-frame series or cine loop). Upload a single "
                          "slice: one frame per file.")
    samples = int(header.get("SamplesPerPixel", 1) or 1)
    if samples not in (1, 3):
        raise UploadError(f"“{filename}” has {samples} samples per pixel; only gray (1) or colour (3) images work.")
    _check_dimensions(rows, cols, "DICOM image")

    tsyntax = getattr(getattr(header, "file_meta", None), "TransferSyntaxUID", None)
    compressed = bool(tsyntax is not None and getattr(tsyntax, "is_compressed", False))
    syntax_name = getattr(tsyntax, "name", str(tsyntax)) if tsyntax is not None else "unknown"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(io.BytesIO(data))
    except Exception:  # noqa: BLE001
        raise UploadError(f"“{filename}” is truncated or damaged: its pixel data could not be read.") from None
    if not any(tag in ds for tag in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        raise UploadError(f"“{filename}” is a DICOM file without pixel data.")
    if not compressed and "PixelData" in ds:
        bits = int(ds.get("BitsAllocated", 16) or 16)
        expected = rows * cols * samples * max(1, bits // 8) if bits >= 8 else (rows * cols * samples + 7) // 8
        if len(ds.PixelData) < expected:
            raise UploadError(f"“{filename}” is truncated: its pixel data hold {len(ds.PixelData):,} bytes of the "
                              f"{expected:,} a {cols} × {rows} image needs.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = np.asarray(ds.pixel_array)
    except Exception as exc:  # noqa: BLE001 - missing codec, corrupt stream, inconsistent tags
        if compressed:
            raise UploadError(f"“{filename}” is compressed ({syntax_name}) and this server cannot decode it. Save it "
                              "uncompressed (e.g. `gdcmconv --raw in.dcm out.dcm`) and upload again.") from None
        raise UploadError(f"“{filename}”: the pixel data could not be decoded ({type(exc).__name__}); the file "
                          "is probably damaged.") from None
    if arr.ndim == 3 and samples == 1:  # a frame axis despite NumberOfFrames <= 1
        raise UploadError(f"“{filename}” holds {arr.shape[0]} frames. Upload a single slice.")
    img = _to_gray(arr) if samples == 3 else arr.astype(np.float64)
    modality = str(ds.get("Modality", "") or "") or None
    photometric = str(ds.get("PhotometricInterpretation", "") or "")
    has_rescale = "RescaleSlope" in ds or "RescaleIntercept" in ds
    if has_rescale and samples == 1:
        try:
            slope = float(ds.get("RescaleSlope", 1.0) or 1.0)
            intercept = float(ds.get("RescaleIntercept", 0.0) or 0.0)
        except (TypeError, ValueError):
            raise UploadError(f"“{filename}” has unreadable RescaleSlope/RescaleIntercept values.") from None
        img = img * slope + intercept
    if photometric == "MONOCHROME1" and samples == 1:  # 'min is white': flip to 'min is black'
        img = img.max() + img.min() - img
    hu = has_rescale and samples == 1 and (modality == "CT" or str(ds.get("RescaleType", "")).upper() == "HU")
    units = "HU" if hu else "stored value"
    spacing = ds.get("PixelSpacing") or ds.get("ImagerPixelSpacing")
    try:
        spacing_mm = (float(spacing[0]), float(spacing[1])) if spacing is not None and len(spacing) >= 2 else None
    except (TypeError, ValueError):
        spacing_mm = None
    if spacing_mm is not None and not (spacing_mm[0] > 0 and spacing_mm[1] > 0):
        spacing_mm = None
    img = _finish(img, "DICOM image")
    size = (f", {cols * spacing_mm[1]:.0f} × {rows * spacing_mm[0]:.0f} mm" if spacing_mm else "")
    desc = (f"Your DICOM file “{filename}”: {modality or 'unknown modality'}, {cols} × {rows} pixels{size}, "
            + ("Hounsfield units from its RescaleSlope/RescaleIntercept." if hu else
               "values scaled to 0–1 (no Hounsfield units)."))
    return DecodedImage(image=img, kind="DICOM", units=units, pixel_spacing_mm=spacing_mm, modality=modality,
                        sha256=digest, filename=filename, description=desc)


# ------------------------------------------------------------------------------------------ PNG / JPEG
def _decode_raster(data: bytes, filename: str, digest: str, kind: str) -> DecodedImage:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:  # parses the header only; no pixels are decoded here
                cols, rows = im.size
                n_frames = int(getattr(im, "n_frames", 1) or 1)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise UploadError(f"“{filename}” is not a readable {kind} image (damaged header).") from None
    except Image.DecompressionBombError:
        raise UploadError(f"“{filename}” declares an enormous image; this server refuses it.") from None
    if n_frames > 1:
        raise UploadError(f"“{filename}” is an animated image with {n_frames} frames; upload a single still image.")
    _check_dimensions(rows, cols, f"{kind} image")
    from skimage.io import imread

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = imread(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - truncated or corrupt stream
        raise UploadError(f"“{filename}” is truncated or damaged: its {kind} data could not be decoded.") from None
    arr = np.asarray(arr)
    if arr.shape[:2] != (rows, cols):
        raise UploadError(f"“{filename}” decoded to an unexpected shape {arr.shape}; the file is inconsistent.")
    img = _finish(_to_gray(arr), f"{kind} image")
    desc = f"Your image “{filename}”: {kind}, {cols} × {rows} pixels, gray levels scaled to 0–1."
    return DecodedImage(image=img, kind=kind, units="gray level", pixel_spacing_mm=None, modality=None,
                        sha256=digest, filename=filename, description=desc)


# ------------------------------------------------------------------------------------------------ API
def decode_upload(data: bytes, filename: str) -> DecodedImage:
    """Check the limits, detect the format from the bytes, and decode one grayscale image.

    Raises
    ------
    UploadError
        Empty, too large, not DICOM/PNG/JPEG (text, random bytes), truncated, compressed beyond this
        server's codecs, multi-frame, too many pixels, constant, or non-finite.
    """
    filename = os.path.basename(str(filename or "upload")) or "upload"
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise UploadError("No file data received.")
    data = bytes(data)
    if len(data) == 0:
        raise UploadError(f"“{filename}” is empty (0 bytes).")
    if len(data) > MAX_BYTES:
        raise UploadError(f"“{filename}” is {len(data) / 1024 / 1024:.1f} MB; this server accepts files up to "
                          f"{MAX_BYTES // (1024 * 1024)} MB.")
    ext = _ext(filename)
    digest = sha256(data)
    if len(data) >= 132 and data[128:132] == b"DICM":
        return _decode_dicom(data, filename, digest)
    if data.startswith(_PNG_MAGIC):
        return _decode_raster(data, filename, digest, "PNG")
    if data.startswith(_JPEG_MAGIC):
        return _decode_raster(data, filename, digest, "JPEG")
    if _looks_like_text(data):
        raise UploadError(f"“{filename}” is a text file, not an image. Upload a DICOM (.dcm), PNG or JPEG file.")
    if ext in (".dcm", ".dicom"):
        raise UploadError(f"“{filename}” is not a DICOM file: the 'DICM' marker at byte 128 is missing (random "
                          "bytes, another format renamed to .dcm, or a raw dataset without the DICOM file header).")
    if ext in (".png", ".jpg", ".jpeg"):
        raise UploadError(f"“{filename}” is not a {ext[1:].upper()} image: its first bytes are not a "
                          f"{'PNG' if ext == '.png' else 'JPEG'} signature.")
    raise UploadError(f"“{filename}” is not a DICOM, PNG or JPEG image (types accepted: "
                      f"{', '.join(ALLOWED_EXTENSIONS)}).")


def decode_image(data: bytes, filename: str) -> np.ndarray:
    """The 2-D float grayscale image of an upload (HU for CT DICOM); see :func:`decode_upload`."""
    return decode_upload(data, filename).image
