"""core/receipts.py: receipt codes a person can copy by hand, and read back however they typed them."""

from __future__ import annotations

from core.receipts import ALPHABET, LENGTH, display, new_receipt, normalise, receipt_hash


def test_codes_avoid_look_alike_symbols_and_do_not_repeat() -> None:
    codes = {new_receipt() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(code) == LENGTH and set(code) <= set(ALPHABET) for code in codes)
    assert not set("01IO") & set(ALPHABET) and len(ALPHABET) == 32  # 5 bits a symbol: 50 bits a code


def test_a_code_reads_back_as_written_down() -> None:
    code = new_receipt()
    shown = display(code)
    assert shown[5] == "-" and shown.replace("-", "") == code
    for typed in (shown, shown.lower(), f" {code[:3]} {code[3:]} ", code):
        assert normalise(typed) == code
    assert normalise("ABCDE-FGHJ") is None  # too short
    assert normalise("ABCDE-FGHJ0") is None  # 0 is not a symbol of ours
    assert normalise("ABCDEFGHJKL") is None


def test_only_the_hash_is_kept_and_it_is_stable() -> None:
    code = new_receipt()
    assert receipt_hash(code) == receipt_hash(code) and code not in receipt_hash(code)
    assert len(receipt_hash(code)) == 64
