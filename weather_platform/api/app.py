"""The REST API and the dashboard over gold, in one FastAPI process (`weather-platform serve`).

It connects as the read-only role `weather_reader` through a small psycopg pool and reads the analyst views only.
Every refusal is a 4xx whose body names the parameter to fix (`{"detail": ..., "parameter": ...}`); a database
that does not answer is a 503 naming it; nothing answers with a stack trace. The dashboard is server-rendered HTML
with Plotly figures drawn in the browser from data embedded in the page; plotly.js comes from the installed `plotly`
package and the world outline from this package, so it works offline and behind firewalls.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import plotly
import psycopg
import swagger_ui
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from psycopg_pool import ConnectionPool, PoolTimeout
from pydantic import BaseModel

from weather_platform.api import queries
from weather_platform.api.queries import BadQuery, Filters
from weather_platform.settings import Settings

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
PLOTLY_JS = Path(plotly.__file__).parent / "package_data"
SWAGGER_UI = Path(swagger_ui.__file__).parent / "static"  # Swagger UI 5, shipped in the swagger-ui-py package
COMPARE_METRICS = {
    "avg_temperature": "mean temperature [°C]",
    "max_temperature": "highest temperature [°C]",
    "min_temperature": "lowest temperature [°C]",
    "avg_feels_like_c": "mean feels-like [°C]",
    "avg_humidity": "mean humidity [%]",
    "avg_pressure": "mean pressure [hPa]",
    "avg_wind_speed": "mean wind [m/s]",
    "total_rain_mm": "rain [mm]",
}
Clock = Callable[[], datetime]


class ErrorBody(BaseModel):
    detail: str
    parameter: str | None = None


class PageBody(BaseModel):
    data: list[dict[str, Any]]
    next_cursor: str | None


class Unavailable(RuntimeError):
    """PostgreSQL does not answer."""


def create_app(settings: Settings, clock: Clock | None = None, schema: str | None = None) -> FastAPI:
    """The app for `settings`' warehouse; `clock` (UTC now) and `schema` (where gold is) serve tests."""
    now: Clock = clock or (lambda: datetime.now(UTC))
    where = f"PostgreSQL at {settings.postgres_host}:{settings.postgres_port}/{settings.postgres_db}"
    connect: dict[str, Any] = {**settings.reader_connect_kwargs(), "connect_timeout": 5}
    connect["application_name"] = "weather-platform-api"
    if schema:
        connect["options"] = f"-c search_path={schema}"
    pool = ConnectionPool(
        kwargs=connect,
        min_size=1,
        max_size=8,
        open=False,
        timeout=5,
        name="weather-api",
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> Any:
        pool.open(wait=False)  # start even while PostgreSQL is down: /health says so, requests get a 503
        try:
            yield
        finally:
            pool.close()

    @contextmanager
    def reader() -> Iterator[psycopg.Connection[Any]]:
        try:
            with pool.connection() as conn:
                yield conn
        except (PoolTimeout, psycopg.OperationalError) as exc:
            raise Unavailable(f"{where} is not answering") from exc
        except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn) as exc:
            raise Unavailable(
                f"the gold schema of {where} is older than this code: apply the migrations "
                "(`weather-platform stack up`, or materialize the gold assets)"
            ) from exc

    app = FastAPI(
        title="weather_platform",
        version="1",
        summary="Weather observations and aggregates from the gold layer (read-only).",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's own /docs loads Swagger UI from a CDN: served from the package below instead
        redoc_url=None,
    )
    templates = Jinja2Templates(directory=HERE / "templates")
    app.mount("/static/vendor", StaticFiles(directory=PLOTLY_JS), name="vendor")
    app.mount("/static/swagger", StaticFiles(directory=SWAGGER_UI), name="swagger")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(BadQuery)
    async def bad_query(request: Request, exc: BadQuery) -> JSONResponse:
        return JSONResponse(ErrorBody(detail=exc.message, parameter=exc.parameter).model_dump(), exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        parameter = str(first.get("loc", ["", "request"])[-1])
        body = ErrorBody(detail=f"{parameter}: {first.get('msg', 'invalid value')}", parameter=parameter)
        return JSONResponse(body.model_dump(), 422)

    @app.exception_handler(Unavailable)
    async def unavailable(request: Request, exc: Unavailable) -> JSONResponse:
        return JSONResponse(ErrorBody(detail=str(exc)).model_dump(), 503)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return JSONResponse(ErrorBody(detail="internal error: see the server's log").model_dump(), 500)

    errors: dict[int | str, dict[str, Any]] = {
        404: {"model": ErrorBody, "description": "unknown city"},
        422: {"model": ErrorBody, "description": "a parameter is invalid: `parameter` names it"},
        503: {"model": ErrorBody, "description": "PostgreSQL does not answer"},
    }
    api = APIRouter(prefix="/api/v1", responses=errors)

    def list_filters(
        kind: str, city: str | None, country: str | None, start: str | None, end: str | None, limit: int | None,
        cursor: str | None, conn: psycopg.Connection[Any],
    ) -> Filters:  # fmt: skip
        for name, value in (("city", city), ("country", country), ("start", start), ("end", end)):
            if value is not None and "\x00" in value:
                raise BadQuery(name, "must not contain NUL characters")
        f = _filters(kind, city, country, start, end, limit, cursor, now())
        if city is not None:
            queries.known_city(conn, city, country)
        return f

    @api.get("/cities", summary="Every city in gold: coordinates, first day, last observation, latest reading")
    def cities() -> list[dict[str, Any]]:
        with reader() as conn:
            return _plain(queries.cities(conn, now()))

    @api.get("/latest", summary="Each city's newest observation with its age and freshness (ok, warn, stale)")
    def latest() -> list[dict[str, Any]]:
        with reader() as conn:
            return _plain(queries.latest(conn, now()))

    @api.get("/observations", response_model=PageBody, summary="Observations in time order, keyset-paginated")
    def observations(
        city: str | None = Query(None, description="city name, e.g. London"),
        country: str | None = Query(None, description="ISO 3166-1 alpha-2 code, e.g. GB"),
        start: str | None = Query(None, description="ISO-8601 date or date-time, UTC (default: end - 7 days)"),
        end: str | None = Query(None, description="ISO-8601, exclusive; a date includes that day (default: now)"),
        limit: int | None = Query(None, description=f"page size, 1-{queries.MAX_PAGE} (default 100)"),
        cursor: str | None = Query(None, description="next_cursor of the previous page"),
    ) -> dict[str, Any]:
        with reader() as conn:
            f = list_filters("observations", city, country, start, end, limit, cursor, conn)
            return _page(queries.observations(conn, f))

    @api.get("/daily", response_model=PageBody, summary="Daily aggregates (v_weather_daily_trend), paginated")
    def daily(
        city: str | None = None, country: str | None = None, start: str | None = None, end: str | None = None,
        limit: int | None = None, cursor: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        with reader() as conn:
            f = list_filters("daily", city, country, start, end, limit, cursor, conn)
            return _page(queries.daily(conn, f))

    @api.get("/hourly", response_model=PageBody, summary="Hourly aggregates (v_weather_hourly), paginated")
    def hourly(
        city: str | None = None, country: str | None = None, start: str | None = None, end: str | None = None,
        limit: int | None = None, cursor: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        with reader() as conn:
            f = list_filters("hourly", city, country, start, end, limit, cursor, conn)
            return _page(queries.hourly(conn, f))

    @api.get("/quality", summary="Per city and day: observations, hours observed of those expected, newest age")
    def quality(
        city: str | None = None, country: str | None = None, start: str | None = None, end: str | None = None
    ) -> list[dict[str, Any]]:
        with reader() as conn:  # it reads the detailed rows: at most the observations' range (366 days)
            f = list_filters("observations", city, country, start, end, None, None, conn)
            return _plain(queries.quality(conn, f, now()))

    app.include_router(api)

    @app.get("/health", responses={503: {"model": ErrorBody}}, summary="200 only when PostgreSQL answers")
    def health() -> dict[str, str]:
        with reader() as conn:
            queries.healthy(conn)
        return {"status": "ok", "database": where}

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="weather_platform API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    # The dashboard ------------------------------------------------------------------------------------------------

    def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, template, context, status_code=status)

    def page_error(request: Request, template: str, exc: BadQuery, **context: Any) -> HTMLResponse:
        return render(request, template, exc.status, error=str(exc), **context)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def overview(request: Request) -> HTMLResponse:
        with reader() as conn:
            rows = queries.latest(conn, now())
        return render(request, "overview.html", page="overview", rows=rows, data=_json(rows))

    @app.get("/city", response_class=HTMLResponse, include_in_schema=False)
    def city_page(
        request: Request, city: str | None = None, country: str | None = None, grain: str = "hourly",
        start: str | None = None, end: str | None = None,
    ) -> HTMLResponse:  # fmt: skip
        context: dict[str, Any] = {"page": "city", "city": city, "country": country, "grain": grain,
                                   "start": start or "", "end": end or ""}  # fmt: skip
        with reader() as conn:
            context["cities"] = queries.city_list(conn)
            if not city:
                if not context["cities"]:
                    return render(request, "city.html", rows=[], data="[]", **context)
                first = context["cities"][0]
                context["city"], context["country"], city, country = (
                    first["city"], first["country"], first["city"], first["country"],
                )  # fmt: skip
            try:
                if grain not in ("hourly", "daily"):
                    raise BadQuery("grain", f"{grain!r} is not a grain: use hourly or daily")
                f = list_filters(grain, city, country, start, end, queries.MAX_PAGE, None, conn)
                rows = (queries.hourly if grain == "hourly" else queries.daily)(conn, f).data
            except BadQuery as exc:
                return page_error(request, "city.html", exc, rows=[], data="[]", **context)
        return render(request, "city.html", rows=rows, data=_json(rows), **context)

    @app.get("/compare", response_class=HTMLResponse, include_in_schema=False)
    def compare_page(
        request: Request, city: Annotated[list[str] | None, Query()] = None, metric: str = "avg_temperature",
        start: str | None = None, end: str | None = None,
    ) -> HTMLResponse:  # fmt: skip
        context: dict[str, Any] = {"page": "compare", "chosen": city or [], "metric": metric,
                                   "metrics": COMPARE_METRICS, "start": start or "", "end": end or ""}  # fmt: skip
        with reader() as conn:
            context["cities"] = queries.city_list(conn)
            if not city:
                city = [f"{c['city']},{c['country'] or ''}" for c in context["cities"][:3]]
                context["chosen"] = city
            try:
                if metric not in COMPARE_METRICS:
                    raise BadQuery("metric", f"{metric!r} is not one of {', '.join(COMPARE_METRICS)}")
                if not 2 <= len(city) <= 5:
                    raise BadQuery("city", f"compare takes two to five cities, not {len(city)}")
                series = []
                for entry in city:
                    name, _, code = entry.rpartition(",") if "," in entry else (entry, "", "")
                    f = list_filters("daily", name, code or None, start, end, queries.MAX_PAGE, None, conn)
                    rows = queries.daily(conn, f).data
                    series.append({"city": entry, "x": [r["date"] for r in rows], "y": [r[metric] for r in rows]})
            except BadQuery as exc:
                return page_error(request, "compare.html", exc, series=[], data="[]", **context)
        return render(request, "compare.html", series=series, data=_json(series), **context)

    @app.get("/quality", response_class=HTMLResponse, include_in_schema=False)
    def quality_page(request: Request, start: str | None = None, end: str | None = None) -> HTMLResponse:
        context: dict[str, Any] = {"page": "quality", "start": start or "", "end": end or ""}
        with reader() as conn:
            try:
                f = list_filters("observations", None, None, start, end, None, None, conn)
            except BadQuery as exc:
                return page_error(request, "quality.html", exc, cells=[], runs=[], data="[]", **context)
            cells = queries.quality(conn, f, now())
            runs = queries.recent_runs(conn)
        return render(request, "quality.html", cells=cells, runs=runs, data=_json(cells), **context)

    return app


def _filters(
    kind: str, city: str | None, country: str | None, start: str | None, end: str | None, limit: int | None,
    cursor: str | None, now: datetime,
) -> Filters:  # fmt: skip
    try:
        return queries.filters(
            kind, city=city, country=country, start=start, end=end, limit=limit, cursor=cursor, now=now
        )
    except OverflowError:
        raise BadQuery("end", "the date is out of range") from None


def _plain(value: Any) -> Any:
    """JSON-ready: Decimal as a number, dates as ISO-8601."""
    return jsonable_encoder(value, custom_encoder={Decimal: float})


def _page(page: queries.Page) -> dict[str, Any]:
    return {"data": _plain(page.data), "next_cursor": page.next_cursor}


def _json(value: Any) -> str:
    """Data for the page's scripts; every `<` is escaped, so no value can end the <script> element."""
    return json.dumps(_plain(value)).replace("<", "\\u003c")
