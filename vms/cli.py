"""Command line: `vms run`, `vms check-config`, `vms user ...`, `vms analyze`, `vms models ...`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import signal
import sys
from pathlib import Path

from core.config import Config, ConfigError
from core.redaction import RedactingFilter
from core.roles import Role, placement_error
from service.configuration import load_config

log = logging.getLogger("vms")


def _setup_logging(level: str) -> RedactingFilter:
    redactor = RedactingFilter()
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(redactor)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("libav", "av"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    return redactor


def _load(path: Path | None, data_dir: Path) -> Config:
    if path is not None:
        return load_config(path)
    from service.demo import demo_config  # encodes clips with PyAV on first use; only needed here

    return demo_config(data_dir)


def cmd_check_config(args: argparse.Namespace) -> int:
    try:
        config = load_config(Path(args.file))
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    print(
        f"{args.file}: OK — {len(config.organisation.towns)} town(s), "
        f"{sum(len(t.institutions) for t in config.organisation.towns)} institution(s), "
        f"{len(config.cameras)} camera(s)"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    redactor = _setup_logging(args.log_level)
    try:
        config = _load(args.config, Path(args.data_dir))
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    server_overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    if server_overrides:
        config = config.model_copy(update={"server": config.server.model_copy(update=server_overrides)})

    import uvicorn

    from api.app import create_app
    from service.service import Service
    from vms.http_server import BoundedH11Protocol

    service = Service(config, args.config, redactor)
    app = create_app(service)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.server.host,
            port=config.server.port,
            log_config=None,
            access_log=False,
            http=BoundedH11Protocol,
        )
    )

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, service.reload_in_background)
        log.info("serving on http://%s:%d (SIGHUP reloads the configuration)", config.server.host, config.server.port)
        await server.serve()

    asyncio.run(serve())
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from service.workers.exit_watch import hold

    # Before the imports below (a second of a spare's start): from here on the service learns of a death at once.
    hold(args.exit_watch)
    from service.workers.worker_process import run_worker

    return run_worker(args.fd, args.parent)


def cmd_user_add(args: argparse.Namespace) -> int:
    from core.organisation import OrgTree
    from core.store import Store
    from core.store.users import UserExists

    _setup_logging("warning")
    try:
        config = _load(args.config, Path(args.data_dir))
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    tree = OrgTree(config)
    if args.org not in tree.units:
        print(f"unknown organisation unit {args.org!r}; known: {', '.join(tree.units)}", file=sys.stderr)
        return 2
    why = placement_error(Role(args.role), tree.units[args.org].kind)
    if why is not None:
        print(why, file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("password: ")
    if len(password) < 8:
        print("the password must have at least 8 characters", file=sys.stderr)
        return 2
    store = Store.open(config.storage.database_path)
    try:
        store.org.sync(tree)
        store.users.create(args.username, password, args.org, role=Role(args.role), display_name=args.name)
        # From the machine's shell, not the API: the audit log names the operating-system account.
        store.audit.record(
            "user.created",
            username=f"cli:{getpass.getuser()}",
            target=f"user:{args.username}",
            detail=f"{args.role} at {args.org}",
        )
    except UserExists:
        print(f"user {args.username!r} exists already", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"user {args.username!r} created at {args.org} ({tree.units[args.org].name}) as {args.role}")
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    import json

    from detectors.offline.analyze import NotVideo, analyze, offline_camera
    from detectors.zones import ZoneMismatch

    _setup_logging("warning")
    path = Path(args.video)
    try:
        camera = offline_camera(path, args.role, args.zone or [], args.config)
        for found in analyze(path, camera):
            print(json.dumps(found.as_json(), ensure_ascii=False), flush=True)
    except (NotVideo, ZoneMismatch, ValueError, ConfigError) as error:
        print(f"vms analyze: {error}", file=sys.stderr)
        return 2
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from vms.models_command import cmd_models as models  # onnxruntime, and ultralytics for .pt files: only here

    return models(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vms", description="民政服务机构视频监管平台 / civil-affairs video supervision"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def with_config(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", type=Path, help="YAML configuration (default: embedded demo configuration)")
        p.add_argument("--data-dir", default="data", help="data folder for the embedded defaults (default: ./data)")

    run = commands.add_parser("run", help="run the service")
    with_config(run)
    run.add_argument("--host", help="listen address (overrides server.host)")
    run.add_argument("--port", type=int, help="listen port (overrides server.port)")
    run.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    run.set_defaults(func=cmd_run)

    worker = commands.add_parser("worker", help="a camera worker process (started by `vms run`, not by hand)")
    worker.add_argument("--fd", type=int, required=True, help="the socket to the service process")
    worker.add_argument("--parent", type=int, required=True, help="the service process's pid")
    worker.add_argument("--exit-watch", type=int, required=True, help="the page whose mutex the worker holds")
    worker.set_defaults(func=cmd_worker)

    check = commands.add_parser("check-config", help="validate a configuration file and list every problem")
    check.add_argument("file")
    check.set_defaults(func=cmd_check_config)

    user = commands.add_parser("user", help="manage user accounts").add_subparsers(dest="user_command", required=True)
    add = user.add_parser("add", help="create a user scoped to an organisation unit")
    with_config(add)
    add.add_argument("username")
    add.add_argument("--org", required=True, help="organisation unit id (bureau, town or institution)")
    add.add_argument("--role", default=Role.VIEWER.value, choices=[role.value for role in Role])
    add.add_argument("--name", help="display name")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=cmd_user_add)

    analyze = commands.add_parser(
        "analyze", help="run a camera's detectors over a video file; one JSON object per violation"
    )
    analyze.add_argument("video")
    analyze.add_argument(
        "--role", default="evacuation_route", choices=["gate", "duty_room", "evacuation_route", "kitchen", "other"]
    )
    analyze.add_argument(
        "--zone",
        action="append",
        metavar='"x,y x,y ..."',
        help="a route polygon, in pixels of the video (or 0..1 normalised); repeatable",
    )
    analyze.add_argument("--config", type=Path, help="YAML with 'detectors:' as in a camera's configuration")
    analyze.set_defaults(func=cmd_analyze)

    models = commands.add_parser(
        "models", help="inspect model files; export ultralytics .pt weights to ONNX; quantise them to int8"
    )
    model_commands = models.add_subparsers(dest="models_command", required=True)
    info = model_commands.add_parser("info", help="classes, input size and provenance of a model file")
    info.add_argument("model", help="an .onnx file, an ultralytics .pt file, or 'person' / 'face' (the shipped ones)")
    info.add_argument("--json", action="store_true", help="one JSON object")
    info.set_defaults(func=cmd_models)
    export = model_commands.add_parser("export", help="export ultralytics .pt weights to an ONNX file vms runs")
    export.add_argument("model", help="the .pt file (needs: pip install ultralytics torch onnx onnxslim)")
    export.add_argument(
        "--imgsz", default="640", help="input size: N, or HEIGHTxWIDTH such as 384x640; multiples of 32 (default 640)"
    )
    export.add_argument("--out", type=Path, help="the ONNX file to write (default: ./<name>-<imgsz>.onnx)")
    export.add_argument("--json", action="store_true", help="show the exported model as one JSON object")
    export.set_defaults(func=cmd_models)
    quantize = model_commands.add_parser(
        "quantize", help="an int8 copy of an ONNX detection model (about half the CPU), calibrated on your footage"
    )
    quantize.add_argument("model", help="an .onnx detection model, or 'person' (the shipped one)")
    quantize.add_argument(
        "--calibration",
        type=Path,
        nargs="+",
        required=True,
        help="videos (e.g. the cameras' recordings), pictures or folders of them, from the scenes the model will see",
    )
    quantize.add_argument(
        "--frames", type=int, default=100, help="pictures taken from them: half calibrate, half check (default 100)"
    )
    quantize.add_argument("--out", type=Path, help="the ONNX file to write (default: ./<name>-int8.onnx)")
    quantize.add_argument("--json", action="store_true", help="show the written model as one JSON object")
    quantize.set_defaults(func=cmd_models)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
