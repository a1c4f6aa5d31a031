"""DICOM writer: Ultrasound Multi-frame Image Storage, marked derived and synthetic.

The dataset is built from nothing: no attribute of a source file is copied, so none of the
PS3.15 basic-profile identifying attributes can leak. Type 2 patient/study attributes are
written empty, as the standard requires. Uncompressed explicit VR little endian.
"""
from __future__ import annotations

import datetime
from pathlib import Path

from ..clip import Clip

US_MULTIFRAME_STORAGE = "1.2.840.10008.5.1.4.1.1.3.1"
FRAME_TIME_TAG = 0x00181063


def _derivation(clip: Clip) -> str:
    """What made these pixels, for DerivationDescription (max 1024 chars)."""
    method = str(clip.source.get("derivation") or "format conversion")
    text = f"SYNTHETIC: pixels produced by sonosynth ({method}); not an original acquisition"
    return text.replace("\\", "/")[:1024]


def build_dataset(clip: Clip):
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    from .. import __version__

    sop_uid = generate_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = US_MULTIFRAME_STORAGE
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationVersionName = f"SONOSYNTH_{__version__}"[:16]

    ds = Dataset()
    ds.file_meta = meta
    now = datetime.datetime.now()
    ds.SOPClassUID, ds.SOPInstanceUID = US_MULTIFRAME_STORAGE, sop_uid
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = "US"
    # Type 2 (and 2C PatientOrientation): present, empty. Nothing from the source.
    for name in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                 "ReferringPhysicianName", "StudyID", "AccessionNumber", "PatientOrientation"):
        setattr(ds, name, "")
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.ContentDate, ds.ContentTime = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    ds.InstanceCreationDate, ds.InstanceCreationTime = ds.ContentDate, ds.ContentTime
    ds.Manufacturer = "sonosynth"
    ds.SoftwareVersions = __version__
    ds.ConversionType = "SYN"  # synthetic image
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.DerivationDescription = _derivation(clip)
    ds.ImageComments = "SYNTHETIC IMAGE - made by sonosynth, not for diagnosis"
    ds.SeriesDescription = "sonosynth synthetic"
    ds.ContentQualification = "RESEARCH"
    ds.PatientIdentityRemoved = "YES"  # nothing of a patient is written (see the module's docstring)
    ds.DeidentificationMethod = "sonosynth: dataset built anew, no source attribute copied"
    # Scanner screenshots usually carry burned-in text; say YES unless a DICOM source said NO.
    ds.BurnedInAnnotation = "NO" if str(clip.source.get("BurnedInAnnotation", "")).upper() == "NO" else "YES"
    ds.LossyImageCompression = "01" if clip.source.get("lossy") else "00"

    frames = clip.frames
    ds.NumberOfFrames = clip.n_frames
    ds.FrameTime = f"{1000.0 / clip.fps:.6g}"
    ds.CineRate = max(1, int(round(clip.fps)))
    ds.RecommendedDisplayFrameRate = ds.CineRate
    ds.FrameIncrementPointer = FRAME_TIME_TAG
    ds.Rows, ds.Columns = clip.height, clip.width
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    if clip.is_rgb:
        ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    else:
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    if clip.spacing:
        ds.PixelSpacing = [f"{clip.spacing[0]:.6g}", f"{clip.spacing[1]:.6g}"]
    ds.PixelData = frames.tobytes()
    ds["PixelData"].VR = "OB"
    pydicom.dataset.validate_file_meta(meta, enforce_standard=True)
    return ds


def write_dicom(clip: Clip, tmp: Path) -> None:
    build_dataset(clip).save_as(tmp, enforce_file_format=True)
