"""Uploads (issue 15, item 2): valid DICOM/PNG/JPEG decode to the right numbers; every bad file is a clear
UploadError; limits are checked from the header before pixels are decoded; nothing touches the disk."""

import builtins
import io
import pickle
import tempfile

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, JPEGLSLossless, MRImageStorage, generate_uid

from regopt_core import uploads as up
from regopt_core.ct import anatomy as an


# ------------------------------------------------------------------------------------------ file makers
def make_dicom(pixels: np.ndarray | None = None, *, modality: str = "CT", slope: float | None = 1.0,
               intercept: float | None = -1024.0, frames: int = 1, rows: int | None = None, cols: int | None = None,
               syntax=ExplicitVRLittleEndian, pixel_bytes: bytes | None = None, photometric: str = "MONOCHROME2",
               spacing=(0.5, 0.5)) -> bytes:
    """A DICOM file in memory, written by pydicom (as a scanner would)."""
    if pixels is None:
        yy, xx = np.mgrid[:48, :64]
        pixels = (1024 + 1000 * ((xx - 32) ** 2 + (yy - 24) ** 2 < 400)).astype(np.uint16)  # 0 HU, +1000 HU disc
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage if modality == "CT" else MRImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.Rows = rows or pixels.shape[-2]
    ds.Columns = cols or pixels.shape[-1]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    if spacing is not None:
        ds.PixelSpacing = list(spacing)
    if frames > 1:
        ds.NumberOfFrames = frames
    if slope is not None:
        ds.RescaleSlope = slope
    if intercept is not None:
        ds.RescaleIntercept = intercept
    ds.PixelData = pixel_bytes if pixel_bytes is not None else np.ascontiguousarray(pixels).tobytes()
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()


def make_png(arr: np.ndarray, **save) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", **save)
    return buf.getvalue()


def make_jpeg(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def gradient_image(h=40, w=60) -> np.ndarray:
    return (np.linspace(0, 255, w)[None, :] * np.ones((h, 1))).astype(np.uint8)


# ------------------------------------------------------------------------------------------ valid files
def test_ct_dicom_written_by_pydicom_decodes_to_hu():
    data = make_dicom()
    dec = up.decode_upload(data, "slice.dcm")
    assert dec.kind == "DICOM" and dec.units == "HU" and dec.modality == "CT"
    assert dec.image.shape == (48, 64) and not dec.image.flags.writeable
    assert set(np.unique(dec.image)) == {0.0, 1000.0}  # stored 1024 -> 0 HU (water), 2024 -> +1000 HU
    assert dec.pixel_spacing_mm == (0.5, 0.5)
    assert dec.sha256 == up.sha256(data) and len(dec.sha256) == 64
    assert "CT" in dec.description and "Hounsfield" in dec.description
    np.testing.assert_array_equal(up.decode_image(data, "slice.dcm"), dec.image)


def test_the_bundled_ct_slice_decodes_like_anatomy_reads_it():
    path = get_testdata_file("CT_small.dcm")
    data = open(path, "rb").read()
    dec = up.decode_upload(data, "CT_small.dcm")
    np.testing.assert_array_equal(dec.image, an.load_ct_slice().hu)
    assert dec.image.min() == 128 - 1024 and dec.image.max() == 2191 - 1024
    ph = an.upload_phantom(data, "CT_small.dcm")
    np.testing.assert_allclose(ph.image(128), an.ct_slice_phantom().image(128))


def test_non_ct_dicom_keeps_its_values_and_monochrome1_is_flipped():
    px = np.arange(20 * 30, dtype=np.uint16).reshape(20, 30)
    dec = up.decode_upload(make_dicom(px, modality="MR", slope=None, intercept=None), "brain.dcm")
    assert dec.units == "stored value" and dec.modality == "MR"
    np.testing.assert_array_equal(dec.image, px)
    inv = up.decode_upload(make_dicom(px, modality="MR", slope=None, intercept=None, photometric="MONOCHROME1"),
                           "x.dcm")
    np.testing.assert_array_equal(inv.image, px.max() - px)


def test_png_gray_rgb_rgba_and_16_bit():
    g = gradient_image()
    np.testing.assert_allclose(up.decode_image(make_png(g), "a.png"), g)
    rgb = np.stack([g, np.zeros_like(g), np.zeros_like(g)], axis=-1)
    out = up.decode_image(make_png(rgb), "rgb.png")
    np.testing.assert_allclose(out, 0.2125 * g, atol=1e-3)  # BT.709 luminance of pure red, on the file's scale
    rgba = np.dstack([rgb, np.full_like(g, 255)])
    rgba[:, :10, 3] = 0  # transparent strip -> black (air)
    out = up.decode_image(make_png(rgba), "rgba.png")
    assert np.all(out[:, :10] == 0) and out[:, 30:].max() > 0
    g16 = (np.linspace(0, 60000, 60)[None, :] * np.ones((40, 1))).astype(np.uint16)
    np.testing.assert_allclose(up.decode_image(make_png(g16), "deep.png"), g16)
    dec = up.decode_upload(make_png(g), "a.png")
    assert dec.kind == "PNG" and dec.units == "gray level" and dec.pixel_spacing_mm is None


def test_jpeg_decodes_close_to_its_source():
    g = gradient_image()
    out = up.decode_image(make_jpeg(np.dstack([g, g, g])), "photo.JPG")
    assert out.shape == g.shape and np.abs(out - g).max() < 6


def test_format_comes_from_the_bytes_not_the_name():
    assert up.decode_upload(make_png(gradient_image()), "actually_png.dcm").kind == "PNG"


def test_upload_phantom_from_png_fits_the_fov():
    ph = an.upload_phantom(make_png(gradient_image()), "a.png")
    truth = ph.image(64)
    assert truth.shape == (64, 64) and truth.max() <= 1.0 and truth[0, 0] == 0.0


# ------------------------------------------------------------------------------------------ bad files
def _bad(data: bytes, name: str, *words: str) -> str:
    with pytest.raises(up.UploadError) as info:
        up.decode_upload(data, name)
    msg = str(info.value)
    assert "Traceback" not in msg and len(msg) < 400
    for w in words:
        assert w.lower() in msg.lower(), msg
    return msg


def test_empty_file():
    _bad(b"", "empty.dcm", "empty")


def test_random_bytes_named_dcm():
    data = np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    _bad(data, "noise.dcm", "not a DICOM", "DICM")


def test_random_bytes_named_png_or_without_extension():
    data = np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    _bad(data, "noise.png", "not a PNG")
    _bad(data, "noise.bin", "not a DICOM, PNG or JPEG")


def test_text_file():
    _bad(b"x,y\n1,2\n3,4\n" * 50, "points.csv", "text file")
    _bad("Ceci n'est pas une image — ü\n".encode() * 20, "fake.png", "text file")


def test_file_larger_than_the_server_limit():
    assert up.MAX_BYTES == 1024 * 1024  # server.maxUploadSize = 1 (MB) in .streamlit/config.toml
    _bad(b"\x89PNG\r\n\x1a\n" + b"\0" * up.MAX_BYTES, "big.png", "1 MB")


def test_multi_frame_dicom():
    px = np.zeros((3, 32, 32), dtype=np.uint16)
    px[:, 8:20, 8:20] = 2000
    _bad(make_dicom(px, frames=3, rows=32, cols=32), "cine.dcm", "3 frames", "single")


def test_truncated_dicom():
    data = make_dicom()
    _bad(data[: len(data) - 1500], "cut.dcm", "truncated")


def test_dicom_header_cut_short():
    data = make_dicom()
    _bad(data[:200], "stub.dcm")


def test_compressed_dicom_that_cannot_be_decoded():
    from pydicom.encaps import encapsulate

    data = make_dicom(syntax=JPEGLSLossless, pixel_bytes=encapsulate([b"\xff\xd8" + b"\x13" * 200 + b"\xff\xd9"]))
    _bad(data, "jpegls.dcm", "compressed", "uncompressed")


def test_dicom_without_pixel_data():
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.Modality = "CT"
    ds.PatientName = "Nobody"
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, enforce_file_format=True)
    _bad(buf.getvalue(), "report.dcm", "without an image")


def test_huge_png_is_refused_from_its_header_before_decoding(monkeypatch):
    data = make_png(np.zeros((6000, 6000), dtype=np.uint8) + 0)
    assert len(data) < up.MAX_BYTES  # a 36-megapixel image fits in a 1 MB upload
    import skimage.io

    def boom(*a, **k):
        raise AssertionError("pixels were decoded before the size check")

    monkeypatch.setattr(skimage.io, "imread", boom)
    _bad(data, "huge.png", "6000 × 6000", "megapixels")


def test_huge_dicom_is_refused_from_its_header():
    data = make_dicom(np.zeros((8, 8), dtype=np.uint16), rows=6000, cols=6000)
    _bad(data, "huge.dcm", "6000 × 6000")


def test_all_constant_images():
    _bad(make_png(np.full((50, 50), 77, dtype=np.uint8)), "flat.png", "same value", "77")
    _bad(make_dicom(np.full((32, 32), 1024, dtype=np.uint16)), "flat.dcm", "same value")


def test_tiny_image():
    _bad(make_png(np.eye(4, dtype=np.uint8) * 255), "tiny.png", "4 × 4", "at least")


def test_truncated_png_and_jpeg():
    png = make_png((np.random.default_rng(2).random((200, 200)) * 255).astype(np.uint8))
    _bad(png[: len(png) // 2], "cut.png", "truncated")
    jpg = make_jpeg((np.random.default_rng(3).random((200, 200)) * 255).astype(np.uint8))
    _bad(jpg[:300], "cut.jpg")


def test_animated_png():
    frames = [Image.fromarray(gradient_image()), Image.fromarray(255 - gradient_image())]
    buf = io.BytesIO()
    frames[0].save(buf, format="PNG", save_all=True, append_images=frames[1:])
    _bad(buf.getvalue(), "anim.png", "2 frames")


def test_every_failure_is_a_value_error_for_the_numerics_guard():
    assert issubclass(up.UploadError, ValueError)


# ------------------------------------------------------------------------------------------ safety
def test_nothing_is_written_to_disk(monkeypatch):
    real_open = builtins.open

    def guarded_open(file, mode="r", *a, **k):
        if any(c in mode for c in "wax+"):
            raise AssertionError(f"write to {file!r}")
        return real_open(file, mode, *a, **k)

    def no_temp(*a, **k):
        raise AssertionError("temporary file created")

    g = gradient_image()
    files = [(make_dicom(), "a.dcm"), (make_png(g), "b.png"), (make_jpeg(np.dstack([g, g, g])), "c.jpg")]
    monkeypatch.setattr(builtins, "open", guarded_open)
    for name in ("NamedTemporaryFile", "TemporaryFile", "mkstemp", "mkdtemp", "SpooledTemporaryFile"):
        monkeypatch.setattr(tempfile, name, no_temp)
    for data, name in files:
        up.decode_upload(data, name)


def test_upload_ref_hashes_by_digest_and_hides_the_bytes():
    data = make_png(gradient_image())
    a, b = up.UploadRef.of(data, "a.png"), up.UploadRef.of(bytes(data), "a.png")
    assert a == b and hash(a) == hash(b) and a.sha256 == up.sha256(data)
    assert up.UploadRef.of(data + b"\0", "a.png") != a
    assert "data" not in repr(a) and len(repr(a)) < 200
    assert pickle.loads(pickle.dumps(a)).data == data
