"""The explorer's web page: a Dash app on one :class:`~nationcap.explore.state.Explorer`.

Dash serves its own JavaScript and CSS from the installed package (``serve_locally``), the page
has no external stylesheet, font or script, and Plotly's figures are drawn without MathJax or
the Plotly logo link: the page makes no request beyond the server it came from.

Each change of a control re-solves the variant on the held session; the page shows the solve
time (the engine's), the server time (validation, preparation, solve, results, figures) and the
time from the change to the page's new values, measured in the browser. Bad input is shown as
the report ``nationcap validate`` prints, with the equivalent command; a variant the exact
engine refuses shows why and a button that solves it with the Pyomo engine.
"""

from __future__ import annotations

import hashlib
import shlex
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dash
from dash import ALL, MATCH, Dash, Input, Output, State, dcc, html
from plotly.io.json import to_json_plotly

from ..errors import NationcapError
from .state import Control, Explorer, Outcome, cost_account, marginal_steps
from .views import breakdown_figure, coverage_figure, emissions_figure, price_table, prices_figure, table_rows

#: Plotly's figure options: no logo link, no MathJax, no requests for anything
GRAPH_CONFIG: Any = {"displaylogo": False, "mathjax": None, "responsive": True}
#: the controls shown with a slider next to their box, and its range
SLIDER = {"compliance_factor": (0.0, 0.95, 0.01)}

_PAGE_CSS = {"fontFamily": "sans-serif", "fontSize": "14px", "margin": "0 12px"}
_PANEL = {"width": "360px", "flex": "none", "paddingRight": "12px", "borderRight": "1px solid #ddd"}
_ERROR = {"color": "#a00", "whiteSpace": "pre-wrap", "margin": "6px 0"}
_TABLE = {"borderCollapse": "collapse", "fontSize": "13px", "margin": "4px 0 12px 0"}
_CELL = {"border": "1px solid #ccc", "padding": "2px 6px", "textAlign": "right"}


def _cid(kind: str, key: Any) -> dict[str, Any]:
    return {"type": kind, "key": key}


def _slider(c: Control) -> tuple[float, float, float] | None:
    return next((rng for part, rng in SLIDER.items() if f".{part}." in c.key), None)


def _control(c: Control) -> html.Div:
    """One control on one line: a label and its input; a compliance factor's box (id type
    ``fctl``) has a slider (``slide``) next to it."""
    lab = html.Label(c.label, style={"width": "115px", "flex": "none"})
    slider = _slider(c)
    if c.kind == "switch":
        box: Any = dcc.Checklist(
            id=_cid("ctl", c.key), options=[{"label": "", "value": "on"}], value=["on"] if c.value else [], inline=True
        )
    elif c.kind == "choice":
        box = dcc.RadioItems(id=_cid("ctl", c.key), options=list(c.choices), value=c.value, inline=True)
    else:
        box = dcc.Input(
            id=_cid("ctl" if slider is None else "fctl", c.key),
            type="number",
            value=c.value,
            step="any",
            debounce=True,
            style={"width": "75px"},
        )
    row = [lab, box]
    if slider is not None:
        lo, hi, step = slider
        row.append(
            html.Div(
                dcc.Slider(
                    id=_cid("slide", c.key),
                    min=lo,
                    max=hi,
                    step=step,
                    value=c.value,
                    marks=None,
                    updatemode="mouseup",
                    allow_direct_input=False,
                ),
                style={"flex": "1", "minWidth": "90px"},
            )
        )
    return html.Div(row, style={"display": "flex", "alignItems": "center", "gap": "4px", "margin": "2px 0"})


def _controls(ex: Explorer) -> list[Any]:
    out: list[Any] = []
    groups: dict[str, list[Control]] = {}
    for c in ex.controls:
        groups.setdefault(c.group, []).append(c)
    for group, items in groups.items():
        out.append(html.H3(group, style={"margin": "10px 0 4px 0", "fontSize": "15px"}))
        out.extend(_control(c) for c in items)
    return out


def _table(df, digits: int = 2) -> html.Table:
    header, rows = table_rows(df, digits)
    children = [html.Tr([html.Th(h, style=_CELL) for h in header])]
    children += [html.Tr([html.Td(v, style=_CELL) for v in row]) for row in rows]
    return html.Table(children, style=_TABLE)


def _graph(gid: str) -> dcc.Graph:
    return dcc.Graph(id=gid, config=GRAPH_CONFIG, style={"width": "100%"})


def make_app(ex: Explorer, save_default: str, export_default: str) -> Dash:
    """The Dash app of ``ex`` (not yet serving)."""
    scn = ex.session.scenario
    app = Dash(
        __name__,
        title=f"nationcap explore: {scn.name}",
        update_title="",
        serve_locally=True,
        assets_ignore=".*",
        include_assets_files=False,
    )
    app.layout = html.Div(
        [
            html.H1(f"nationcap explore: {scn.name}", style={"fontSize": "20px", "margin": "8px 0"}),
            html.Div(scn.description, style={"color": "#555"}),
            html.Div(
                [
                    html.Span("", id="status"),
                    html.Span("", id="page-time", style={"marginLeft": "1em", "color": "#555"}),
                ],
                style={"margin": "6px 0", "fontWeight": "bold"},
            ),
            html.Pre("", id="problems", style=_ERROR),
            html.Div(
                [
                    html.Span("", id="pyomo-why"),
                    html.Button("Solve with Pyomo", id="pyomo-button", n_clicks=0, style={"marginLeft": "1em"}),
                ],
                id="pyomo-box",
                style={"display": "none", "background": "#fff4d6", "padding": "6px"},
            ),
            dcc.Store(id="t-change"),
            # what this page shows: a fingerprint of each view, so a change sends only the views it changed
            dcc.Store(id="shown"),
            html.Div(
                [
                    html.Div(
                        [
                            *_controls(ex),
                            html.H3("record", style={"margin": "14px 0 4px 0", "fontSize": "15px"}),
                            dcc.Input(id="save-path", type="text", value=save_default, style={"width": "200px"}),
                            html.Button("Save scenario", id="save-button", n_clicks=0),
                            html.Br(),
                            dcc.Input(id="export-path", type="text", value=export_default, style={"width": "200px"}),
                            html.Button("Export results", id="export-button", n_clicks=0),
                            html.Div("", id="record-message", style={"margin": "6px 0", "whiteSpace": "pre-wrap"}),
                        ],
                        style=_PANEL,
                    ),
                    dcc.Loading(
                        html.Div(
                            [
                                _graph("prices"),
                                html.Div(id="price-table"),
                                _graph("emissions"),
                                html.H3(
                                    "Price-setting step (marginal sector and prefecture)", style={"fontSize": "15px"}
                                ),
                                html.Div(id="marginal"),
                                html.H3(
                                    "Cost account by market (JPY bn, present value, all periods)",
                                    style={"fontSize": "15px"},
                                ),
                                html.Div(id="account"),
                                _graph("coverage"),
                                _graph("sectors"),
                                _graph("prefectures"),
                            ],
                        ),
                        delay_show=400,
                        show_initially=False,
                        overlay_style={"visibility": "visible", "opacity": 0.5},
                        parent_style={"flex": "1", "minWidth": "0", "paddingLeft": "12px"},
                    ),
                ],
                style={"display": "flex"},
            ),
        ],
        style=_PAGE_CSS,
    )
    _callbacks(app, ex)
    return app


def _values(ex: Explorer, ids: list[dict[str, str]], values: list[Any]) -> dict[str, Any]:
    kinds = {c.key: c.kind for c in ex.controls}
    out: dict[str, Any] = {}
    for cid, v in zip(ids, values):
        key = cid["key"]
        out[key] = bool(v) if kinds[key] == "switch" else v
    return out


def equivalent_command(ex: Explorer, overrides: list[str], removed: Sequence[str] = ()) -> str:
    """The ``nationcap validate`` command that reports the same problems (tables switched off
    cannot be given as ``--set``: they are named after it)."""
    src = ex.session.scenario.source or "SCENARIO"
    cmd = " ".join(["nationcap validate", shlex.quote(str(src)), *(f"--set {shlex.quote(o)}" for o in overrides)])
    return cmd + (f", with {', '.join(removed)} removed from the file" if removed else "")


def _callbacks(app: Dash, ex: Explorer) -> None:
    n_view_outputs = 8

    @app.callback(
        Output(_cid("fctl", MATCH), "value"),
        Output(_cid("slide", MATCH), "value"),
        Input(_cid("fctl", MATCH), "value"),
        Input(_cid("slide", MATCH), "value"),
        prevent_initial_call=True,
    )
    def _sync(box, slide):
        """A slider and its box show the same value (whichever moved last)."""
        trig = dash.ctx.triggered_id
        if trig is not None and trig.get("type") == "slide":
            return slide, dash.no_update
        ok = isinstance(box, (int, float)) and 0.0 <= box <= 0.95
        return dash.no_update, box if ok else dash.no_update

    # when a control changes, the browser notes the time (for the time to the updated page)
    app.clientside_callback(
        "function(v, f) { return performance.now(); }",
        Output("t-change", "data"),
        Input(_cid("ctl", ALL), "value"),
        Input(_cid("fctl", ALL), "value"),
    )
    app.clientside_callback(
        """function(status, t0) {
            if (!t0 || !status) { return ""; }
            const n = (String(status).match(/^change (\\d+)/) || ["", "?"])[1];
            return "page updated " + Math.round(performance.now() - t0) + " ms after change " + n;
        }""",
        Output("page-time", "children"),
        Input("status", "children"),
        State("t-change", "data"),
    )

    @app.callback(
        Output("prices", "figure"),
        Output("emissions", "figure"),
        Output("coverage", "figure"),
        Output("sectors", "figure"),
        Output("prefectures", "figure"),
        Output("price-table", "children"),
        Output("marginal", "children"),
        Output("account", "children"),
        Output("status", "children"),
        Output("problems", "children"),
        Output("pyomo-box", "style"),
        Output("pyomo-why", "children"),
        Output("shown", "data"),
        Input(_cid("ctl", ALL), "value"),
        Input(_cid("fctl", ALL), "value"),
        Input("pyomo-button", "n_clicks"),
        State(_cid("ctl", ALL), "id"),
        State(_cid("fctl", ALL), "id"),
        State("pyomo-box", "style"),
        State("shown", "data"),
    )
    def _solve(values, fvalues, _clicks, ids, fids, box_style, shown):
        t0 = time.perf_counter()
        engine = "pyomo" if dash.ctx.triggered_id == "pyomo-button" else "auto"
        out = ex.solve(_values(ex, ids + fids, values + fvalues), engine=engine)
        keep = [dash.no_update] * n_view_outputs
        hidden = {**box_style, "display": "none"}
        if out.error:
            cmd = equivalent_command(ex, out.overrides, out.removed)
            refused = "refused: the page keeps the last solved state"
            return (*keep, refused, f"{out.error}\n(as: {cmd})", hidden, "", dash.no_update)
        if out.run is None:
            why = "; ".join(out.needs_pyomo)
            box = {**box_style, "display": "block"}
            return (*keep, "not solved", "", box, f"The exact engine does not implement: {why}.", dash.no_update)
        views, prints = changed_views(views_of(out), shown)
        status = (
            f"change {ex.n_solved}: solve {1000 * out.solve_s:.1f} ms on the {out.engine} engine; "
            f"server {1000 * (time.perf_counter() - t0):.0f} ms"
        )
        return (*views, status, "", hidden, "", prints)

    @app.callback(
        Output("record-message", "children"),
        Input("save-button", "n_clicks"),
        Input("export-button", "n_clicks"),
        State("save-path", "value"),
        State("export-path", "value"),
        prevent_initial_call=True,
    )
    def _record(_s, _e, save_path, export_path):
        last = ex.last
        if last is None or ex.pending:
            return "Nothing to record: the current controls are not solved (see above)."
        try:
            if dash.ctx.triggered_id == "save-button":
                path = ex.save(last, save_path or "")
                return f"saved {path}: nationcap run {path} gives these prices"
            folder = ex.export(last, export_path or "")
            return f"wrote {folder}/: {', '.join(sorted(p.name for p in folder.iterdir()))}"
        except NationcapError as exc:
            return f"error: {exc}"


def changed_views(views: Sequence[Any], shown: Sequence[str] | None) -> tuple[list[Any], list[str]]:
    """(the views to send, the fingerprints of the views the page then shows): a view whose
    fingerprint the page shows already is not sent again (``dash.no_update``: the browser neither
    receives nor redraws it, e.g. the coverage figure when a compliance factor moves); ``shown``
    is None on a page that shows nothing yet."""
    prints = [hashlib.sha256(to_json_plotly(v).encode()).hexdigest()[:16] for v in views]
    if shown is None or len(shown) != len(views):
        return list(views), prints
    return [dash.no_update if p == s else v for v, p, s in zip(views, prints, shown)], prints


def views_of(out: Outcome) -> tuple[Any, ...]:
    """The figures and tables of a solved variant, in the order of the page's outputs."""
    assert out.run is not None
    res = out.run.results
    steps = marginal_steps(out.run)
    if len(steps):
        steps = steps.set_index(["market"]).rename(
            columns={"price_pv_jpy_per_t": "price PV JPY/t", "step_cost_pv_jpy_per_t": "step cost PV JPY/t"}
        )
    return (
        prices_figure(res),
        emissions_figure(res),
        coverage_figure(res),
        breakdown_figure(res, "sector"),
        breakdown_figure(res, "prefecture"),
        _table(price_table(res), 2),
        _table(steps, 0) if len(steps) else html.Div("no abatement steps"),
        _table(cost_account(res)),
    )


def serve(ex: Explorer, host: str, port: int, open_browser: bool, save_default: str, export_default: str) -> None:
    """Serve the page until interrupted (Ctrl-C)."""
    import logging
    import threading
    import webbrowser

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = make_app(ex, save_default, export_default)
    url = f"http://{host}:{port}/"
    if open_browser:
        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    app.run(host=host, port=port, debug=False)


def default_paths(scenario: Path, name: str) -> tuple[str, str]:
    """Where "Save scenario" and "Export results" write unless told otherwise."""
    return str(Path(f"{name}_explored.toml")), str(Path("outputs") / f"{name}_explored")
