"""The MANSCDP bodies that answer an upper platform's queries (Catalog, DeviceInfo, DeviceStatus, RecordInfo)
and carry our notifications (catalog changes, alarms). Long lists go in pages, each with the list's whole size
(`SumNum`), its own (`Num`) and the query's `SN`."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.config.uplink import Gb28181Config
from core.store.recordings import Segment
from core.version import VERSION
from uplink.gb28181.catalog import Catalog, CatalogEntry
from uplink.gb28181.manscdp import Command, ListOf, encode, gb_time

MANUFACTURER = "vms"
JOIN_GAP_S = 1.0  # recorded segments closer than this are one record


Item = list[tuple[str, object]]


def _pages(items: Sequence[Item], size: int) -> list[Sequence[Item]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def catalog_item(entry: CatalogEntry, online: bool, event: str | None = None) -> Item:
    fields: Item = [("DeviceID", entry.gb_id)]
    if event == "DEL":
        return [*fields, ("Event", event)]
    fields.append(("Name", entry.name))
    if entry.is_camera:
        fields += [
            ("Manufacturer", MANUFACTURER),
            ("Model", "RTSP"),
            ("Owner", "Owner"),
            ("CivilCode", entry.gb_id[:6]),
            ("Address", entry.address or ""),
            ("Parental", 0),
            ("ParentID", entry.parent_id),
            ("SafetyWay", 0),
            ("RegisterWay", 1),
            ("Secrecy", 0),
            ("Status", "ON" if online else "OFF"),
        ]
        if entry.business_group_id:
            fields.append(("BusinessGroupID", entry.business_group_id))
        fields.append(("Info", [("PTZType", 3)]))  # fixed cameras
    else:
        fields.append(("ParentID", entry.parent_id))
        if entry.business_group_id:
            fields.append(("BusinessGroupID", entry.business_group_id))
    if event is not None:
        fields.append(("Event", event))
    return fields


def catalog_responses(
    query: Command, gb: Gb28181Config, catalog: Catalog, online: Callable[[str], bool]
) -> list[bytes]:
    items = [catalog_item(e, e.camera_id is not None and online(e.camera_id)) for e in catalog.entries]
    return [
        encode(
            "Response",
            [
                ("CmdType", "Catalog"),
                ("SN", query.sn),
                ("DeviceID", gb.local_id),
                ("SumNum", len(items)),
                ("DeviceList", ListOf("Item", page)),
            ],
            gb.charset,
        )
        for page in _pages(items, gb.catalog_page_size)
    ]


def catalog_notify(
    sn: int, gb: Gb28181Config, changes: Sequence[tuple[CatalogEntry, str]], online: Callable[[str], bool]
) -> list[bytes]:
    """Changes (ADD, DEL, ON, OFF, UPDATE) to a catalog subscriber, paged like a query's answer."""
    items = [catalog_item(e, e.camera_id is not None and online(e.camera_id), event) for e, event in changes]
    return [
        encode(
            "Notify",
            [
                ("CmdType", "Catalog"),
                ("SN", sn),
                ("DeviceID", gb.local_id),
                ("SumNum", len(items)),
                ("DeviceList", ListOf("Item", page)),
            ],
            gb.charset,
        )
        for page in _pages(items, gb.catalog_page_size)
    ]


def device_info_response(query: Command, gb: Gb28181Config, catalog: Catalog, platform_name: str) -> bytes:
    entry = catalog.camera(query.device_id)
    fields: list[tuple[str, object]] = [
        ("CmdType", "DeviceInfo"),
        ("SN", query.sn),
        ("DeviceID", query.device_id),
        ("DeviceName", entry.name if entry else platform_name),
        ("Result", "OK"),
        ("Manufacturer", MANUFACTURER),
        ("Model", "RTSP" if entry else "vms"),
        ("Firmware", VERSION),
    ]
    if entry is None:
        fields.append(("Channel", len(catalog.cameras)))
    return encode("Response", fields, gb.charset)


def device_status_response(
    query: Command, gb: Gb28181Config, entry: CatalogEntry | None, online: bool, recording: bool
) -> bytes:
    """Our platform (`entry` None: online, working) or one camera."""
    return encode(
        "Response",
        [
            ("CmdType", "DeviceStatus"),
            ("SN", query.sn),
            ("DeviceID", query.device_id),
            ("Result", "OK"),
            ("Online", "ONLINE" if online else "OFFLINE"),
            ("Status", "OK" if online else "ERROR"),
            ("Encode", "ON"),
            ("Record", "ON" if recording else "OFF"),
            ("DeviceTime", gb_time(time.time())),
            ("Alarmstatus", ListOf("Item", [])),
        ],
        gb.charset,
    )


@dataclass(frozen=True, slots=True)
class Record:
    start_ts: float
    end_ts: float
    size_bytes: int


def records(segments: Sequence[Segment], start_ts: float, end_ts: float) -> list[Record]:
    """The recorded spans within [start_ts, end_ts]: segments back to back joined, clipped to the range."""
    out: list[Record] = []
    for segment in sorted(segments, key=lambda s: s.start_ts):
        start, end = max(segment.start_ts, start_ts), min(segment.end_ts, end_ts)
        if end <= start:
            continue
        if out and start - out[-1].end_ts < JOIN_GAP_S:
            last = out[-1]
            out[-1] = Record(last.start_ts, max(last.end_ts, end), last.size_bytes + segment.size_bytes)
        else:
            out.append(Record(start, end, segment.size_bytes))
    return out


def record_info_responses(
    query: Command, gb: Gb28181Config, entry: CatalogEntry, found: Sequence[Record]
) -> list[bytes]:
    items: list[Item] = [
        [
            ("DeviceID", entry.gb_id),
            ("Name", entry.name),
            ("FilePath", f"{entry.gb_id}/{int(r.start_ts)}-{int(r.end_ts)}"),
            ("Address", entry.address or ""),
            ("StartTime", gb_time(r.start_ts)),
            ("EndTime", gb_time(r.end_ts)),
            ("Secrecy", 0),
            ("Type", "time"),
            ("FileSize", r.size_bytes),
        ]
        for r in found
    ]
    return [
        encode(
            "Response",
            [
                ("CmdType", "RecordInfo"),
                ("SN", query.sn),
                ("DeviceID", entry.gb_id),
                ("Name", entry.name),
                ("SumNum", len(items)),
                ("RecordList", ListOf("Item", page)),
            ],
            gb.charset,
        )
        for page in _pages(items, gb.record_page_size)
    ]


def alarm_notify(
    sn: int,
    gb: Gb28181Config,
    entry: CatalogEntry,
    priority: int,
    method: int,
    alarm_type: int,
    at: float,
    description: str,
    started: bool,
) -> bytes:
    return encode(
        "Notify",
        [
            ("CmdType", "Alarm"),
            ("SN", sn),
            ("DeviceID", entry.gb_id),
            ("AlarmPriority", priority),
            ("AlarmMethod", method),
            ("AlarmTime", gb_time(at)),
            ("AlarmDescription", description),
            ("Info", [("AlarmType", alarm_type), ("AlarmTypeParam", [("EventType", 1 if started else 2)])]),
        ],
        gb.charset,
    )


def media_status_notify(sn: int, gb: Gb28181Config, channel_id: str) -> bytes:
    """The end of a Playback or Download (NotifyType 121)."""
    return encode(
        "Notify", [("CmdType", "MediaStatus"), ("SN", sn), ("DeviceID", channel_id), ("NotifyType", 121)], gb.charset
    )
