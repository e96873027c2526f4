"""uplink/gb28181/manscdp.py: MANSCDP bodies in GB2312 (GBK where a name needs it) and UTF-8, read back; what is
not MANSCDP is refused with the reason."""

from __future__ import annotations

import time

import pytest

from uplink.gb28181.manscdp import ListOf, ManscdpError, encode, gb_time, parse, parse_gb_time


@pytest.mark.parametrize(("charset", "codec"), [("GB2312", "gb2312"), ("UTF-8", "utf-8")])
def test_chinese_names_round_trip(charset: str, codec: str) -> None:
    items = [[("DeviceID", "32068100001320000001"), ("Name", "汇龙镇敬老院 大门 <东>")]]
    body = encode(
        "Response",
        [("CmdType", "Catalog"), ("SN", 7), ("DeviceID", "x"), ("DeviceList", ListOf("Item", items))],
        charset,
    )  # type: ignore[arg-type]
    assert body.startswith(f'<?xml version="1.0" encoding="{charset}"?>'.encode())
    assert "汇龙镇敬老院".encode(codec) in body and b'<DeviceList Num="1">' in body
    command = parse(body)
    assert (command.root, command.cmd_type, command.sn, command.device_id) == ("Response", "Catalog", 7, "x")


def test_a_name_outside_gb2312_is_written_in_gbk() -> None:
    body = encode("Notify", [("CmdType", "Alarm"), ("SN", 1), ("DeviceID", "x"), ("AlarmDescription", "镕")], "GB2312")
    assert "镕".encode("gbk") in body and parse(body).get("AlarmDescription") == "镕"


def test_a_body_that_lies_about_its_charset_is_read_all_the_same() -> None:
    body = (
        '<?xml version="1.0" encoding="GB2312"?>'
        "<Query><CmdType>Catalog</CmdType><SN>3</SN><DeviceID>汇龙</DeviceID></Query>"
    )
    assert parse(body.encode("utf-8")).device_id == "汇龙"
    assert parse(body.encode("gb2312")).device_id == "汇龙"
    assert parse(body.replace("GB2312", "UTF-8").encode("gb2312")).device_id == "汇龙"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"<Query><CmdType>Catalog</CmdType><SN>1", "malformed XML"),
        (b"<Query><SN>1</SN></Query>", "no CmdType"),
        (b"<Query><CmdType>Catalog</CmdType><SN>x</SN></Query>", "no numeric SN"),
        (b'<!DOCTYPE q [<!ENTITY a "b">]><Query><CmdType>&a;</CmdType><SN>1</SN></Query>', "document type"),
        (b"<Query>" + b"x" * 70_000 + b"</Query>", "larger than"),
    ],
)
def test_what_is_not_manscdp(body: bytes, why: str) -> None:
    with pytest.raises(ManscdpError, match=why):
        parse(body)


def test_times_are_local_without_a_zone() -> None:
    at = 1796200000.0
    assert gb_time(at) == time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(at))
    assert parse_gb_time(gb_time(at)) == at
    assert parse_gb_time("2026-12-02 08:00:00") == time.mktime(
        time.strptime("2026-12-02T08:00:00", "%Y-%m-%dT%H:%M:%S")
    )
    with pytest.raises(ManscdpError, match="bad time"):
        parse_gb_time("yesterday")
