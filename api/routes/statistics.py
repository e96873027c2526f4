"""Compliance statistics (统计与报表) of a unit of the caller's subtree over a period: JSON for the dashboard, a
row per child unit to drill into; CSV and an Excel workbook with its charts to download; a printable report."""

from __future__ import annotations

import csv
import io
import time
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import HTMLResponse, Response

from api.deps import ServiceDep, ViewerDep
from api.responses import problems
from api.routes.web import CSP_HEADERS
from api.statistics_report import report
from api.statistics_tables import Table, percent, tables
from api.statistics_xlsx import workbook
from core.statistics import Period, PeriodError, Statistics, compute, month_of, parse_period
from service.service import Service

router = APIRouter(responses=problems(401, 403))

UnitParam = Annotated[
    str | None, Query(max_length=64, description="an organisation unit of the caller's subtree (default: their own)")
]
PeriodParam = Annotated[
    str | None,
    Query(
        max_length=32,
        description="2026-11 (a month), 2026-Q4 (a quarter), 2026 (a year) or 2026-11-01..2026-11-15 (days, "
        "both included), on Beijing's calendar; default: this month",
    ),
]
_FORMULA_START = ("=", "+", "-", "@")
_BOM = "\ufeff"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class CsvResponse(Response):
    media_type = "text/csv; charset=utf-8"


class XlsxResponse(Response):
    media_type = XLSX


def _statistics(service: Service, who: ViewerDep, unit: str | None, period: str | None) -> Statistics:
    """The figures, or 404 for a unit outside the caller's subtree (as if it did not exist) and 400 for a
    period that cannot be read. Runs in FastAPI's thread pool: the routes are plain functions."""
    directory = service.directory
    unit_id = unit if unit is not None else who.user.org_unit_id
    if unit_id not in directory.tree.units or not directory.tree.contains(who.user.org_unit_id, unit_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no organisation unit {unit_id!r}")
    now = time.time()
    try:
        chosen: Period = parse_period(period if period is not None else month_of(now))
    except PeriodError as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(error)) from None
    return compute(directory.config, directory.tree, service.store.statistics, unit_id, chosen, now)


def _file_name(stats: Statistics, suffix: str) -> str:
    # Unit ids are ASCII identifiers and period keys digits, '-', 'Q' and '.': safe in a header as they are.
    return f"statistics-{stats.unit.id}-{stats.period.key}.{suffix}"


@router.get("/api/statistics", responses=problems(400, 404))
def get_statistics(
    service: ServiceDep, who: ViewerDep, unit: UnitParam = None, period: PeriodParam = None
) -> Statistics:
    """The unit's figures over the period, a row per child unit (bureau → towns → institutions) and a row per
    camera below it. Rates are fractions (0–1), null where there is nothing to measure."""
    return _statistics(service, who, unit, period)


def _csv_cell(value: object, is_rate: bool) -> object:
    if is_rate:
        return "" if value is None else percent(value)  # type: ignore[arg-type]
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value  # a spreadsheet must not run a unit's name as a formula
    return "" if value is None else value


def _csv(all_tables: list[Table]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for n, table in enumerate(all_tables):
        if n:
            writer.writerow([])
        writer.writerow([f"【{table.sheet}】{table.title}"])
        writer.writerow(table.headers)
        for row in table.rows:
            writer.writerow([_csv_cell(v, i in table.percent) for i, v in enumerate(row)])
        for note in table.notes:
            writer.writerow([note])
    return _BOM + buffer.getvalue()


@router.get("/api/statistics/export.csv", response_class=CsvResponse, responses=problems(400, 404))
def export_csv(service: ServiceDep, who: ViewerDep, unit: UnitParam = None, period: PeriodParam = None) -> CsvResponse:
    """The statistics' tables one after another, each under its title (UTF-8 with a byte-order mark, so Excel
    reads the Chinese); rates as percentages."""
    stats = _statistics(service, who, unit, period)
    return CsvResponse(
        _csv(tables(stats)).encode("utf-8"),
        headers={"Content-Disposition": f'attachment; filename="{_file_name(stats, "csv")}"'},
    )


@router.get("/api/statistics/export.xlsx", response_class=XlsxResponse, responses=problems(400, 404))
def export_xlsx(
    service: ServiceDep, who: ViewerDep, unit: UnitParam = None, period: PeriodParam = None
) -> XlsxResponse:
    """An Excel workbook: a sheet per table with Chinese headers, rates as numbers formatted as percentages, and
    charts (rates and cases by state per unit, cases by kind) inside it."""
    stats = _statistics(service, who, unit, period)
    return XlsxResponse(
        workbook(stats), headers={"Content-Disposition": f'attachment; filename="{_file_name(stats, "xlsx")}"'}
    )


@router.get("/api/statistics/report", response_class=HTMLResponse, responses=problems(400, 404))
def printable_report(
    service: ServiceDep, who: ViewerDep, unit: UnitParam = None, period: PeriodParam = None
) -> HTMLResponse:
    """The printable report (a month by default): an HTML page with a print style sheet, to print or save as
    PDF from the browser."""
    return HTMLResponse(report(_statistics(service, who, unit, period)), headers=CSP_HEADERS)
