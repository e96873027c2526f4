"""Compliance statistics as an Excel workbook: a sheet per table (title in row 1, headers in row 2, data from
row 3, notes below), rates as numbers formatted as percentages, and the charts inside the workbook, so the
figures can be re-used and the charts still draw where no browser is at hand."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from api.statistics_tables import SUMMARY_HEADERS, Table, cases_by_kind, cases_by_state, tables
from core.statistics import Statistics

HEADER_ROW, FIRST_ROW = 2, 3
_FORMULA_START = ("=", "+", "-", "@")


def workbook(stats: Statistics) -> bytes:
    book = Workbook()
    book.remove(book.worksheets[0])  # a new workbook comes with an empty sheet
    sheets = {table.sheet: _sheet(book, table) for table in tables(stats)}
    rows = len(stats.children)  # the charts compare the child units; the total row would dwarf them
    if rows:
        _rates_chart(sheets["概况"], rows)
        _states_chart(sheets["隐患状态"], rows, len(cases_by_state(stats).headers))
    if cases_by_kind(stats).rows:
        _kinds_chart(sheets["隐患类型"], len(cases_by_kind(stats).rows), len(stats.children) + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet(book: Workbook, table: Table) -> Worksheet:
    sheet = book.create_sheet(table.sheet)
    sheet.cell(1, 1, table.title).font = Font(bold=True, size=14)
    for column, header in enumerate(table.headers, 1):
        cell = sheet.cell(HEADER_ROW, column, header)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[get_column_letter(column)].width = max(10, min(28, 2 * len(header) + 2))
    for r, row in enumerate(table.rows, FIRST_ROW):
        for c, value in enumerate(row, 1):
            # A unit's name is the configuration's, but a cell that starts like a formula must stay text.
            text = isinstance(value, str) and value.startswith(_FORMULA_START)
            cell = sheet.cell(r, c, "'" + value if text and isinstance(value, str) else value)
            if c - 1 in table.percent:
                cell.number_format = "0.0%"
    for n, note in enumerate(table.notes):
        sheet.cell(FIRST_ROW + len(table.rows) + 1 + n, 1, note).font = Font(italic=True, color="666666")
    sheet.freeze_panes = sheet.cell(FIRST_ROW, 2)
    return sheet


def _anchor(sheet: Worksheet, rows: int) -> str:
    return f"B{FIRST_ROW + rows + 8}"


def _rates_chart(sheet: Worksheet, rows: int) -> None:
    chart = BarChart()
    chart.type = "col"
    chart.title = "安装率、在线率、录像完整率"
    chart.y_axis.title = "比例"
    chart.y_axis.number_format = "0%"
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = 1
    for header in ("安装率", "在线率", "录像完整率"):
        column = SUMMARY_HEADERS.index(header) + 1
        chart.add_data(
            Reference(sheet, min_col=column, min_row=HEADER_ROW, max_row=HEADER_ROW + rows), titles_from_data=True
        )
    chart.set_categories(Reference(sheet, min_col=1, min_row=FIRST_ROW, max_row=HEADER_ROW + rows))
    chart.width, chart.height = 24, 10
    sheet.add_chart(chart, _anchor(sheet, rows))


def _states_chart(sheet: Worksheet, rows: int, columns: int) -> None:
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.title = "隐患按状态"
    data = Reference(sheet, min_col=2, max_col=columns - 2, min_row=HEADER_ROW, max_row=HEADER_ROW + rows)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=FIRST_ROW, max_row=HEADER_ROW + rows))
    chart.width, chart.height = 24, 10
    sheet.add_chart(chart, _anchor(sheet, rows))


def _kinds_chart(sheet: Worksheet, rows: int, total_column: int) -> None:
    chart = BarChart()
    chart.type = "bar"
    chart.title = "隐患按类型"
    data = Reference(sheet, min_col=total_column, min_row=HEADER_ROW, max_row=HEADER_ROW + rows)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=FIRST_ROW, max_row=HEADER_ROW + rows))
    chart.width, chart.height = 20, 10
    sheet.add_chart(chart, _anchor(sheet, rows))
