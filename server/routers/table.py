"""The table of clips of a source (corpus, uploads, a collection), paged, sorted and filtered
on the server; its rows as CSV; and prototype usage across the source."""
from __future__ import annotations

import csv
import io
from typing import Literal

from fastapi import APIRouter, Depends, Query, Response

from ..clip_table import ClipTable
from ..collection_schemas import SortColumn, TablePage, TableQuery, Usage
from ..deps import CurrentUser, State
from ..errors import COMMON
from ..source_tables import check_source, model_of, source_table
from ..state import AppState
from ..usage import prototype_usage

router = APIRouter(tags=["table"], responses=COMMON)
CSV_COLUMNS = ("id", "name", "path", "label", "prediction", "confidence", "trust", "trust_score", "best_prototype",
               "best_prototype_label", "error", "duration_s", "tags")
SOURCE = Query("corpus", description="corpus, uploads, or collection:<id>")


def table_query(source: str = SOURCE, model: str | None = Query(None, description="a model of the bundle"),
                sort: SortColumn = Query("position", description="the column to sort by"),
                order: Literal["asc", "desc"] = Query("asc"),
                offset: int = Query(0, ge=0, le=10_000_000), limit: int = Query(50, ge=1, le=1000),
                label: str | None = Query(None, description="only clips with this label"),
                prediction: str | None = Query(None, description="only clips predicted as this class"),
                trust: Literal["familiar", "unlike", "unknown"] | None = Query(None),
                tag: str | None = Query(None, description="a tag, name=value or a value"),
                prototype: int | None = Query(None, ge=0, le=100_000, description="only clips this prototype explains best"),
                min_error: float | None = Query(None), max_error: float | None = Query(None),
                min_duration: float | None = Query(None, description="seconds"),
                max_duration: float | None = Query(None, description="seconds"),
                min_confidence: float | None = Query(None), max_confidence: float | None = Query(None),
                confused: bool = Query(False, description="only clips whose label is not their prediction"),
                ids: str | None = Query(None, description="only these clips: ids separated by commas")) -> TableQuery:
    return TableQuery(source=source, model=model, sort=sort, order=order, offset=offset, limit=limit, label=label,
                      prediction=prediction, trust=trust, tag=tag, prototype=prototype, min_error=min_error,
                      max_error=max_error, min_duration=min_duration, max_duration=max_duration,
                      min_confidence=min_confidence, max_confidence=max_confidence, confused=confused,
                      ids=None if ids is None else [i for i in ids.split(",") if i])


def as_text_cell(value):
    """A value for a CSV cell; text a spreadsheet would take for a formula (``=``, ``+``, ``-``,
    ``@`` first) is kept as text by a leading apostrophe.

    >>> as_text_cell("=HYPERLINK(1)"), as_text_cell(-0.5)
    ("'=HYPERLINK(1)", -0.5)
    """
    return f"'{value}" if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") else value


def _filtered(table: ClipTable, q: TableQuery):
    mask = table.mask(label=q.label, prediction=q.prediction, trust=q.trust, tag=q.tag, prototype=q.prototype,
                      min_error=q.min_error, max_error=q.max_error, min_duration=q.min_duration,
                      max_duration=q.max_duration, min_confidence=q.min_confidence, max_confidence=q.max_confidence,
                      ids=q.ids, confused=q.confused)
    order = table.order(q.sort, q.order == "desc")
    return order[mask[order]]


async def _table(state: AppState, user, q: TableQuery) -> tuple[ClipTable, str]:
    """The source's table (built on a worker when it is not kept) and the model's id."""
    model_id = model_of(state, check_source(state, user.id, q.source), q.model)
    return await state.run(source_table, state, user.id, q.source, model_id, long=True), model_id


def _page(table: ClipTable, model: str, q: TableQuery) -> TablePage:
    rows = _filtered(table, q)
    return TablePage(source=q.source, model=model, total=len(rows), n_clips=len(table), offset=q.offset,
                     limit=q.limit, sort=q.sort, order=q.order, rows=table.page(rows[q.offset:q.offset + q.limit]),
                     labels=table.labels, predictions=sorted(table.predictions), tags=table.tag_names(),
                     matching_ids=[table.ids[i] for i in rows.tolist()] if q.with_ids else None)


@router.get("/api/table", response_model=TablePage)
async def get_table(state: State, user: CurrentUser, q: TableQuery = Depends(table_query)) -> TablePage:
    """A page of the table of a source's clips: each clip's label, the model's prediction,
    confidence, trust, best prototype and its error, duration and tags; sorted by a column and
    filtered on the server, with the number of rows that pass the filters (``total``)."""
    table, model = await _table(state, user, q)
    return _page(table, model, q)


@router.post("/api/table", response_model=TablePage)
async def post_table(q: TableQuery, state: State, user: CurrentUser) -> TablePage:
    """The same as ``GET /api/table``, asked in a JSON body: for a selection of clip ids
    (``ids``) too long for an address."""
    table, model = await _table(state, user, q)
    return _page(table, model, q)


@router.post("/api/table.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
async def table_csv(q: TableQuery, state: State, user: CurrentUser) -> Response:
    """Every row that passes the filters (``offset`` and ``limit`` are ignored), as CSV."""
    table, _ = await _table(state, user, q)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in table.page(_filtered(table, q)):
        row = {**row, "tags": ";".join(f"{k}={v}" for k, v in row["tags"].items())}
        writer.writerow({k: as_text_cell(v) for k, v in row.items()})
    name = q.source.replace(":", "-")
    return Response(buf.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="auralens-{name}.csv"'})


@router.get("/api/usage", response_model=Usage)
async def get_usage(source: str = SOURCE, model: str | None = Query(None, description="a model of the bundle"),
                    *, state: State, user: CurrentUser) -> Usage:
    """Prototype usage across a source: for each prototype, how many clips it explains best,
    how well (mean error), in which classes, predicted as what and with which tags; the
    prototypes that explain none; and confusions (label is not the prediction) traced to the
    prototype that won. ``GET /api/table?prototype=k`` lists a prototype's clips."""
    q = TableQuery(source=source, model=model)
    table, model_id = await _table(state, user, q)
    m = state.models[model_id]
    labels = [state.bundle.classes[c] for c in m.prototype_class.tolist()]
    usage = table.derived(("usage", model_id), lambda: prototype_usage(table, labels))
    return Usage(source=source, model=model_id, **usage)
