"""Reading a configuration file: YAML, `${ENV}` references, schema, and cross-references.

Every problem found is reported at once, each with the path of the field it concerns, e.g.
``cameras[3].detectors[0].zones[0].points: polygon edges 0 and 2 cross``.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from core.config.models import Config
from core.config.notifications import reference_problems as notifier_problems

ConfigT = TypeVar("ConfigT", bound=Config)

_ENV_REFERENCE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


@dataclass(frozen=True)
class ConfigProblem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(Exception):
    """A configuration that cannot be used; `problems` lists every reason."""

    def __init__(self, source: str, problems: list[ConfigProblem]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"invalid configuration {source}: {len(problems)} problem(s)\n{lines}")


def format_path(loc: tuple[int | str, ...]) -> str:
    """('cameras', 3, 'zones', 0) -> 'cameras[3].zones[0]'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _resolve_env(node: Any, loc: tuple[int | str, ...], problems: list[ConfigProblem]) -> Any:
    if isinstance(node, dict):
        return {k: _resolve_env(v, (*loc, k), problems) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve_env(v, (*loc, i), problems) for i, v in enumerate(node)]
    if isinstance(node, str) and (match := _ENV_REFERENCE.match(node)):
        name = match.group(1)
        if name not in os.environ:
            problems.append(ConfigProblem(format_path(loc), f"environment variable {name} is not set"))
            return None
        return os.environ[name]
    return node


def _schema_problems(error: ValidationError, data: dict[str, Any]) -> list[ConfigProblem]:
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        loc = _written_path(item["loc"], data)
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] in ("union_tag_invalid", "union_tag_not_found"):
            # A detector entry's `type` picks its settings model: name the field, and what it may be.
            context = item.get("ctx") or {}
            loc = (*loc, str(context.get("discriminator", "type")).strip("'"))
            expected = str(context.get("expected_tags", "")).split(", ")
            message = (
                "Field required"
                if item["type"] == "union_tag_not_found"
                else (
                    f"Input should be {', '.join(expected[:-1])} or {expected[-1]}"
                    if len(expected) > 1
                    else f"Input should be {expected[0]}"
                )
            )
        problems.append(ConfigProblem(format_path(loc), message + _zone_names(loc, data)))
    return problems


def _written_path(loc: tuple[int | str, ...], data: Any) -> tuple[int | str, ...]:
    """The location as the file writes it. Pydantic adds the names of union branches (a detector's `type`)
    and validators to the location; users never wrote them, so a part that is not a key of the data there
    is left out when the node's `type` names it, or when it is a validator's name."""
    written: list[int | str] = []
    node = data
    for part in loc:
        if isinstance(part, str) and ("[" in part or part.startswith("function-")):
            continue
        if isinstance(part, str) and isinstance(node, dict) and part not in node and node.get("type") == part:
            continue
        written.append(part)
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
    return tuple(written)


def _zone_names(loc: tuple[int | str, ...], data: dict[str, Any]) -> str:
    """' (camera 'x', zone 'y')' for a problem inside a zone: indices alone are hard to find in a long file."""
    if len(loc) < 6 or loc[0] != "cameras" or loc[2] != "detectors" or loc[4] != "zones":
        return ""
    try:
        camera = data["cameras"][loc[1]]
        zone = camera["detectors"][loc[3]]["zones"][loc[5]]
        return f" (camera {camera['id']!r}, zone {zone['name']!r})"
    except (KeyError, IndexError, TypeError):
        return ""


def _duplicates(items: list[tuple[str, str]]) -> list[ConfigProblem]:
    counts = Counter(value for _, value in items)
    return [ConfigProblem(path, f"duplicate id {value!r}") for path, value in items if counts[value] > 1]


def _items(node: Any, key: str) -> list[tuple[int, dict[str, Any]]]:
    value = node.get(key) if isinstance(node, dict) else None
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)] if isinstance(value, list) else []


def _reference_problems(data: dict[str, Any]) -> list[ConfigProblem]:
    """Duplicate ids and dangling references, found on the raw data so they are listed beside schema errors."""
    problems: list[ConfigProblem] = []
    found = data.get("organisation")
    org: dict[str, Any] = found if isinstance(found, dict) else {}
    nodes = [("organisation.id", org.get("id"))]
    institutions: set[str] = set()
    for t, town in _items(org, "towns"):
        nodes.append((f"organisation.towns[{t}].id", town.get("id")))
        for i, inst in _items(town, "institutions"):
            nodes.append((f"organisation.towns[{t}].institutions[{i}].id", inst.get("id")))
            if isinstance(inst.get("id"), str):
                institutions.add(inst["id"])
    problems += _duplicates([(path, v) for path, v in nodes if isinstance(v, str)])
    cameras = _items(data, "cameras")
    problems += _duplicates([(f"cameras[{c}].id", cam["id"]) for c, cam in cameras if isinstance(cam.get("id"), str)])
    for c, cam in cameras:
        ref = cam.get("institution")
        if isinstance(ref, str) and ref not in institutions:
            problems.append(ConfigProblem(f"cameras[{c}].institution", f"unknown institution {ref!r}"))
    units = {value for _, value in nodes if isinstance(value, str)}
    camera_ids = {cam["id"] for _, cam in cameras if isinstance(cam.get("id"), str)}
    uplink = data.get("uplink") if isinstance(data.get("uplink"), dict) else {}
    platforms = _items(uplink, "platforms")
    problems += _duplicates(
        [(f"uplink.platforms[{p}].id", item["id"]) for p, item in platforms if isinstance(item.get("id"), str)]
    )
    for p, platform in platforms:
        for n, push in _items(platform, "push"):
            if isinstance(push.get("camera"), str) and push["camera"] not in camera_ids:
                problems.append(
                    ConfigProblem(f"uplink.platforms[{p}].push[{n}].camera", f"unknown camera {push['camera']!r}")
                )
        for key, known, what in (("units", units, "organisation unit"), ("cameras", camera_ids, "camera")):
            refs = platform.get(key)
            for r, ref in enumerate(refs if isinstance(refs, list) else []):
                if isinstance(ref, str) and ref not in known:
                    problems.append(ConfigProblem(f"uplink.platforms[{p}].{key}[{r}]", f"unknown {what} {ref!r}"))
    problems += _gb_problems(data, platforms)
    problems += [ConfigProblem(path, message) for path, message in notifier_problems(data, units)]
    return problems


def _gb_problems(data: dict[str, Any], platforms: list[tuple[int, dict[str, Any]]]) -> list[ConfigProblem]:
    """GB/T 28181 ids are unique among ours; two cascades cannot listen on one SIP port."""
    found = data.get("organisation")
    org: dict[str, Any] = found if isinstance(found, dict) else {}
    ids = [("organisation.gb_id", org.get("gb_id"))]
    for t, town in _items(org, "towns"):
        ids.append((f"organisation.towns[{t}].gb_id", town.get("gb_id")))
        ids += [
            (f"organisation.towns[{t}].institutions[{i}].gb_id", inst.get("gb_id"))
            for i, inst in _items(town, "institutions")
        ]
    ids += [(f"cameras[{c}].gb_id", cam.get("gb_id")) for c, cam in _items(data, "cameras")]
    local_ids: list[tuple[str, Any]] = []  # one lower platform may register with several upper ones
    listeners: list[tuple[str, str]] = []
    for p, platform in platforms:
        gb = platform.get("gb28181")
        if not isinstance(gb, dict):
            continue
        local_ids.append((f"uplink.platforms[{p}].gb28181.local_id", gb.get("local_id")))
        port = gb.get("local_port", 5060)
        if port != 0:
            where = f"{gb.get('local_host', '127.0.0.1')}:{port}/{gb.get('transport', 'udp')}"
            listeners.append((f"uplink.platforms[{p}].gb28181.local_port", where))
    found = [(path, value) for path, value in ids if isinstance(value, str)]
    counts = Counter(value for _, value in found)
    counts.update({value for _, value in local_ids if isinstance(value, str)})
    found += [(path, value) for path, value in local_ids if isinstance(value, str) and counts[value] > 1]
    problems = [
        ConfigProblem(path, f"GB/T 28181 id {value!r} is used twice") for path, value in found if counts[value] > 1
    ]
    ports = Counter(where for _, where in listeners)
    problems += [
        ConfigProblem(path, f"{where} is another cascade's SIP port") for path, where in listeners if ports[where] > 1
    ]
    return problems


def parse_config(data: Any, schema: type[ConfigT], source: str = "<config>") -> ConfigT:
    """Validate already-parsed YAML data against `schema` (the service's: `service.configuration`, where each
    camera's detectors are the registered detectors' settings); raises ConfigError listing every problem."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(source, [ConfigProblem("", "the top level must be a mapping")])
    problems: list[ConfigProblem] = []
    data = _resolve_env(data, (), problems)
    problems += _reference_problems(data)
    try:
        config = schema.model_validate(data)
    except ValidationError as error:
        problems = _schema_problems(error, data) + problems
    if problems:
        raise ConfigError(source, problems)
    return config


def load_config(path: Path, schema: type[ConfigT]) -> ConfigT:
    """Read and validate a YAML configuration file; relative storage paths resolve against the CWD."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(source, [ConfigProblem("", f"cannot read file: {error.strerror}")]) from None
    except UnicodeDecodeError as error:
        problem = f"the file is not UTF-8 (byte {error.start}); save it as UTF-8"
        raise ConfigError(source, [ConfigProblem("", problem)]) from None
    try:
        data = yaml.safe_load(text)
        return parse_config(data, schema, source)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(source, [ConfigProblem("", f"{where}YAML syntax error: {problem}")]) from None
    except RecursionError:
        problem = "the document is too deeply nested, or an alias refers to itself"
        raise ConfigError(source, [ConfigProblem("", problem)]) from None
