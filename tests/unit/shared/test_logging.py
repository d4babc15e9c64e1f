"""Logging never shows a raw national ID or mobile number: the `mask_pii` processor masks them
in any value, however nested, and the configured pipeline writes masked JSON lines."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from relocation_shared.logging import configure_logging, get_logger, mask_pii
from relocation_shared.pii import check_digit

_BASE = "52033019850315123"
RAW_ID = _BASE + check_digit(_BASE)
MASKED_ID = RAW_ID[:6] + "********" + RAW_ID[-4:]
PHONE, MASKED_PHONE = "13912345678", "139****5678"


def test_mask_pii_masks_strings_dicts_lists_and_tuples_at_any_depth() -> None:
    event: dict[str, Any] = {
        "event": f"居民{RAW_ID}登记",
        "phone": PHONE,
        "row": {"national_id": RAW_ID, "contacts": [PHONE, {"spouse": f"电话:{PHONE}"}]},
        "pair": (RAW_ID, 3500),
        "amount_fen": 52_033_019_850_315,  # a number stays a number, whatever its digits
        "flag": None,
        "area": "520330001001",
    }
    out = mask_pii(None, "info", event)

    assert out["event"] == f"居民{MASKED_ID}登记"
    assert out["phone"] == MASKED_PHONE
    assert out["row"] == {"national_id": MASKED_ID, "contacts": [MASKED_PHONE, {"spouse": f"电话:{MASKED_PHONE}"}]}
    assert out["pair"] == (MASKED_ID, 3500) and isinstance(out["pair"], tuple)
    assert out["amount_fen"] == 52_033_019_850_315 and out["flag"] is None and out["area"] == "520330001001"
    assert RAW_ID not in json.dumps(out, ensure_ascii=False) and PHONE not in repr(out)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state: put it back for the other tests."""
    config = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    access_disabled = logging.getLogger("uvicorn.access").disabled
    try:
        yield
    finally:
        structlog.configure(**config)
        structlog.contextvars.clear_contextvars()
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.getLogger("uvicorn.access").disabled = access_disabled


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.usefixtures("restore_logging")
def test_structlog_lines_are_json_with_the_id_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("governance", "INFO")
    log = get_logger("test")
    log.info("resident registered", national_id=RAW_ID, detail={"phones": [PHONE]}, note=f"身份证{RAW_ID}")
    log.debug("not shown at INFO", national_id=RAW_ID)

    out = capsys.readouterr().out
    assert RAW_ID not in out and PHONE not in out
    lines = _json_lines(out)
    assert len(lines) == 1
    line = lines[0]
    assert line["event"] == "resident registered" and line["level"] == "info"
    assert line["service"] == "governance"
    assert line["national_id"] == MASKED_ID and line["detail"] == {"phones": [MASKED_PHONE]}
    assert line["note"] == f"身份证{MASKED_ID}"  # Chinese is written as is (ensure_ascii=False)
    assert line["timestamp"].endswith("Z")


@pytest.mark.usefixtures("restore_logging")
def test_bound_context_and_exceptions_are_masked_too(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("employment", "INFO")
    log = get_logger("test").bind(row=RAW_ID)
    try:
        raise ValueError(f"bad row {RAW_ID} phone {PHONE}")
    except ValueError:
        log.exception("batch row failed")
    out = capsys.readouterr().out
    assert RAW_ID not in out and PHONE not in out
    (line,) = _json_lines(out)
    assert line["row"] == MASKED_ID and MASKED_ID in line["exception"] and "ValueError" in line["exception"]


@pytest.mark.usefixtures("restore_logging")
def test_standard_library_records_are_json_and_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("governance", "INFO")
    logging.getLogger("aiokafka").warning("lost connection while sending %s to %s", RAW_ID, PHONE)
    logging.getLogger("aiokafka").info("below the root's WARNING level")
    out = capsys.readouterr().out
    assert RAW_ID not in out and PHONE not in out
    (line,) = _json_lines(out)
    assert line["event"] == f"lost connection while sending {MASKED_ID} to {MASKED_PHONE}"
    assert line["level"] == "warning"
