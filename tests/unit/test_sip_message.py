"""uplink/gb28181/sip/message.py: SIP read from bytes and written back; what cannot be used says why, and a
request read far enough can still be answered."""

from __future__ import annotations

import pytest

from uplink.gb28181.sip.message import SipParseError, SipRequest, SipResponse, parse, response_to, uri_user

INVITE = (
    b"INVITE sip:34020000001320000001@10.0.0.1:5060 SIP/2.0\r\n"
    b"v: SIP/2.0/UDP 10.0.0.2:5060;rport;branch=z9hG4bK776asdhds\r\n"
    b"Via: SIP/2.0/UDP 10.0.0.3:5060;branch=z9hG4bKproxy\r\n"
    b"f: <sip:34020000002000000001@3402000000>;tag=1928301774\r\n"
    b"t: <sip:34020000001320000001@3402000000>\r\n"
    b"i: a84b4c76e66710\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Subject: 34020000001320000001:0200000001,\r\n 34020000002000000001:0\r\n"
    b"c: APPLICATION/SDP\r\n"
    b"l: 4\r\n\r\nv=0\r\nextra"
)


def test_a_request_with_compact_and_folded_headers() -> None:
    message = parse(INVITE)
    assert isinstance(message, SipRequest) and message.method == "INVITE"
    assert message.call_id == "a84b4c76e66710" and message.cseq == (314159, "INVITE")
    assert message.branch == "z9hG4bK776asdhds" and message.from_tag == "1928301774" and message.to_tag is None
    assert message.header("subject") == "34020000001320000001:0200000001, 34020000002000000001:0"
    assert message.header("content-type") == "APPLICATION/SDP"
    assert message.body == b"v=0\r"  # what Content-Length says, not what follows
    assert uri_user(message.uri) == "34020000001320000001"
    assert uri_user(message.header("from") or "") == "34020000002000000001"


def test_a_response_carries_the_requests_vias_and_our_tag() -> None:
    response = response_to(parse(INVITE), 200, to_tag="abc")  # type: ignore[arg-type]
    again = parse(response.encode())
    assert isinstance(again, SipResponse) and again.status == 200 and again.reason == "OK"
    assert again.header_all("via") == [
        "SIP/2.0/UDP 10.0.0.2:5060;rport;branch=z9hG4bK776asdhds",
        "SIP/2.0/UDP 10.0.0.3:5060;branch=z9hG4bKproxy",
    ]
    assert again.to_tag == "abc" and again.cseq == (314159, "INVITE") and again.header("content-length") == "0"


@pytest.mark.parametrize(
    ("data", "why", "answerable"),
    [
        (b"garbage", "no blank line", False),
        (b"HELLO\r\n\r\n", "bad start line", False),
        (b"HELLO there SIP/3.0\r\n\r\n", "bad request line", False),
        (b"SIP/2.0 99 Odd\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 X\r\n\r\n", "bad status", False),
        (b"MESSAGE sip:a@b SIP/2.0\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\n\r\n", "no Via", False),
        (b"MESSAGE sip:a@b SIP/2.0\r\nVia: v\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: one\r\n\r\n", "bad CSeq", True),
        (
            b"MESSAGE sip:a@b SIP/2.0\r\nVia: v\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\n"
            b"l: 99\r\n\r\nabc",
            "shorter than its Content-Length",
            True,
        ),
        (b"MESSAGE sip:a@b SIP/2.0\r\nbroken line\r\n\r\n", "bad header line", False),
    ],
)
def test_what_cannot_be_used_says_why(data: bytes, why: str, answerable: bool) -> None:
    with pytest.raises(SipParseError, match=why) as raised:
        parse(data)
    assert (raised.value.request is not None) == answerable


def test_a_huge_message_is_refused() -> None:
    with pytest.raises(SipParseError, match="larger than"):
        parse(INVITE + b"x" * 70_000)
