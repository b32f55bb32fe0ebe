"""Why is there no plan? A planner-readable explanation of an infeasible or unbounded case.

``explain(results)`` is called by the CLI when a solve ends without a solution. It never raises;
it adds the table ``results.tables["infeasibility"]`` and self-contained sentences to
``results.notes``.

Method
------
*Infeasible* (and *time limit without a solution*): an **elastic re-solve** of a freshly built model
(:func:`plain_model`: ``build_model`` on ``results.case`` without the optional strengthening; the solved
model is left untouched).
Non-negative slack variables are added to the rows that can make the case infeasible:

* ``cell_demand[k,y]``     ``sum_f prod[f,k,y] + unmet[k,y] + short_cells[k,y] = D[k,y]``  (GWh)
* ``material_balance[m,y]`` ``supply - use + short_material[m,y] = 0``                    (material units)
* ``local_content[y]``     ``local value - s_y * material value + short_local[y] >= 0``   (USD)

Bounds (import limits, module limits, unmet fixed at 0) are never relaxed. The slacks are minimised
**lexicographically**, each phase a small MIP solved with HiGHS, the earlier totals kept as limits:

1. cell shortfall (GWh) - what cell capacity cannot make, materials and targets ignored;
2. material shortage, weighted per unit by ``1 / max_k amount_per_gwh[k,m]`` (GWh-of-cells equivalent),
   with the cells of phase 1 - what cannot be sourced;
3. local-content shortfall (USD million of local value) - what the targets ask beyond reach.

Every slack above its tolerance becomes a table row and a sentence, with the facts that bound it
(existing capacity, module limits, earliest online years, import limits and first years).
For a proven infeasible case HiGHS's IIS (irreducible infeasible subsystem) of the LP relaxation
is added as extra rows (``kind = "iis"``) that name the conflicting constraints and bounds in
planner words; a case that is infeasible only because of integrality has no LP IIS.

*Unbounded*: the objective can fall without limit only through exports (the only negative costs),
so the data are searched for (material, origin) pairs whose landed import cost is below the export
price while neither the route nor the export has a ``max_per_year``.

Table ``infeasibility`` columns: ``year``, ``kind`` (cell_demand / material_supply /
local_content / unbounded / iis), ``item`` (chemistry, material, "material from origin" or the
constraint name), ``required``, ``achievable``, ``shortfall``, ``unit``, ``explanation``.
For ``local_content`` the numbers are percentages of material value (shortfall in percentage
points); for ``unbounded``, required = export price, achievable = landed import cost, shortfall =
the margin per unit (USD/unit); for ``iis`` they are blank.
"""
from __future__ import annotations

import math
import re

import pandas as pd

COLUMNS = ("year", "kind", "item", "required", "achievable", "shortfall", "unit", "explanation")

#: Time limit of each elastic phase and of the IIS, seconds (capped by the case's own time limit).
PHASE_TIME_LIMIT_S = 60.0


def explain(results) -> None:
    """Add ``results.tables["infeasibility"]`` and sentences to ``results.notes``; never raises."""
    try:
        _explain(results)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # the explanation is a help, never a second failure
        results.notes.append(f"The infeasibility explanation could not be computed ({type(exc).__name__}: {exc}).")


def _explain(results) -> None:
    status = results.solve.status
    data = results.case
    if status == "unbounded":
        rows, notes = explain_unbounded(data)
    elif status in ("infeasible", "time_limit_no_solution"):
        opts = _options(results)
        rows, notes = elastic_explanation(data, opts)
        if status == "time_limit_no_solution" and not rows:
            notes.append("No shortfall was found: a feasible plan exists, but HiGHS stopped at the time limit "
                         "before finding one. Raise --time-limit (or the settings time_limit_s) or loosen --mip-gap.")
        if status == "infeasible" and not rows:
            notes.append("The elastic re-solve found no shortfall of cell demand, material supply or local content; "
                         "the conflict lies elsewhere (see the conflicting constraints, if any).")
        if status == "infeasible":
            iis_rows, iis_notes = iis_explanation(data, opts)
            rows += iis_rows
            notes += iis_notes
    else:
        return
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    table["year"] = table["year"].astype("Int64")
    results.tables["infeasibility"] = table
    results.notes.extend(notes)


def _options(results):
    from .solve import SolverOptions

    opts = getattr(results, "solver_options", None)
    return opts if opts is not None else SolverOptions.from_settings(results.case.settings)


# --------------------------------------------------------------------------- formatting
def _num(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 1:
        return f"{x:,.1f}"
    if a == 0:
        return "0"
    return f"{x:.3g}"


def _usd(x: float) -> str:
    a = abs(x)
    if a >= 1e9:
        return f"USD {x / 1e9:,.2f} billion"
    if a >= 1e6:
        return f"USD {x / 1e6:,.1f} million"
    return f"USD {x:,.0f}"


def _unit(data, mat: str) -> str:
    info = data.materials.get(mat)
    return (info.unit if info is not None and info.unit else "units")


def _pct(x: float) -> str:
    return f"{100 * x:.4g}%"


# --------------------------------------------------------------------------- capacity facts
def _modules(n: int) -> str:
    return f"{n} module" + ("" if n == 1 else "s")


def max_capacity(data, f: str, y: int) -> tuple[float, str]:
    """The most capacity facility f can have in year y, and how it is made up, in words."""
    fac = data.facilities[f]
    unit = "GWh" if fac.makes_cells else _unit(data, fac.product)
    existing = data.existing_capacity(f, y)
    parts = []
    if fac.existing_capacity > 0:
        parts.append(f"existing {_num(existing)} {unit}" if existing > 0 else
                     f"existing capacity only from {fac.existing_from_year}")
    cap = existing
    if fac.can_build:
        window = [v for v in data.build_years(f) if v <= y and y - v < fac.lifetime_years]
        if not window:
            parts.append(f"no new modules before {fac.earliest_online_year}" if y < fac.earliest_online_year
                         else "no module can be in service")
        else:
            frac = 1.0 if any(v < y for v in window) else fac.ramp_up_first_year
            cap += fac.max_modules * fac.module_size * frac
            txt = f"{_modules(fac.max_modules)} x {_num(fac.module_size)} {unit}"
            if frac < 1:
                txt += f" at {frac:.0%} in their first year"
            parts.append(txt)
    elif fac.existing_capacity <= 0:
        parts.append("no capacity and no modules allowed")
    return cap, f"{f}: {' + '.join(parts)}"


def _cell_capacity_facts(data, y: int) -> tuple[float, str]:
    F = data.cell_facilities
    if not F:
        return 0.0, "no cell facility exists"
    caps = [max_capacity(data, f, y) for f in F]
    return sum(c for c, _ in caps), "; ".join(t for _, t in caps)


def _material_source_facts(data, mat: str, y: int) -> tuple[float, str]:
    """Upper bound on what can be sourced of mat in y (inf when an import route has no limit), in words."""
    unit = _unit(data, mat)
    total = 0.0
    parts = []
    facs = data.facilities_making(mat)
    if facs:
        for f in facs:
            cap, txt = max_capacity(data, f, y)
            total += cap
            parts.append(f"local {txt}")
    else:
        parts.append(f"no facility makes {mat}")
    routes = [(m_, o) for (m_, o) in data.imports if m_ == mat]
    if routes:
        for (_, o) in routes:
            rt = data.imports[mat, o]
            if y < rt.first_year:
                parts.append(f"import from {o} only from {rt.first_year}")
            elif rt.max_per_year is None:
                total = math.inf
                parts.append(f"import from {o} unlimited")
            else:
                total += rt.max_per_year
                parts.append(f"import from {o} max {_num(rt.max_per_year)} {unit}/yr")
    else:
        parts.append(f"no import route for {mat}")
    return total, "; ".join(parts)


# --------------------------------------------------------------------------- elastic re-solve
def plain_model(data, name: str):
    """The model exactly as formulation.md states it (no optional strengthening).

    Implied bounds would turn capacity rows into column bounds in an IIS and move duals onto
    bounds, so the explanations and the marginal costs use the plain statement.
    """
    from .formulation import build_model

    return build_model(data, name=name, strengthen=False)


def _solve(m, opts, time_limit: float):
    """Solve m with HiGHS (the solver wing); return (ok, approximate, message). Loads the solution when there is one."""
    from .solve import solve_exact

    return solve_exact(m, time_limit_s=time_limit, threads=opts.threads)


def _val(x) -> float:
    import pyomo.environ as pyo

    if isinstance(x, (int, float)):
        return float(x)
    v = pyo.value(x, exception=False)
    return float(v) if v is not None else 0.0


def build_elastic_model(data):
    """The core model with shortfall slacks on cell demand, material balances and local-content rows."""
    import pyomo.environ as pyo

    m = plain_model(data, name="battery_plan_elastic")
    m.npv.deactivate()
    NN = pyo.NonNegativeReals

    def elastic(con_name: str, var_name: str, rows_name: str):
        con = getattr(m, con_name, None)
        keys = list(con.keys()) if con is not None else []
        slack = pyo.Var(keys, domain=NN)
        m.add_component(var_name, slack)
        rows = {}
        for i in keys:
            c = con[i]
            rows[i] = (c.lb, c.body + slack[i], c.ub)
            c.deactivate()
        m.add_component(rows_name, pyo.Constraint(keys, rule=lambda mm, *i: rows[i[0] if len(i) == 1 else i]))

    elastic("cell_demand", "short_cells", "elastic_cell_demand")
    elastic("material_balance", "short_material", "elastic_material_balance")
    elastic("local_content", "short_local", "elastic_local_content")
    return m


def elastic_explanation(data, opts) -> tuple[list[tuple], list[str]]:
    import pyomo.environ as pyo

    m = build_elastic_model(data)
    tl = min(PHASE_TIME_LIMIT_S, float(opts.time_limit_s or PHASE_TIME_LIMIT_S))
    # material weights: 1 / max intensity -> shortage in GWh of cells it stands for
    w_mat = {}
    for (mat, y) in m.short_material:
        a_max = max((a for (k, mm), a in data.intensity.items() if mm == mat), default=0.0)
        w_mat[mat, y] = 1.0 / a_max if a_max > 0 else 1.0
    phases = [
        ("cells", m.short_cells, lambda i: 1.0),
        ("materials", m.short_material, lambda i: w_mat[i]),
        ("local content", m.short_local, lambda i: 1e-6),
    ]
    approximate = False
    relaxed = False
    notes: list[str] = []
    earlier = 0  # slacks of finished phases, kept near their minimum by a small extra weight
    for n, (_label, var, weight) in enumerate(phases):
        if len(var) == 0:
            continue
        expr = sum(weight(i) * var[i] for i in var)
        obj = pyo.Objective(expr=expr + 1e-3 * earlier, sense=pyo.minimize)
        m.add_component(f"elastic_phase_{n}", obj)
        ok, approx, msg = _solve(m, opts, tl)
        if not ok and not relaxed:  # no integer solution in time: explain with the LP relaxation
            pyo.TransformationFactory("core.relax_integer_domains").apply_to(m)
            relaxed = True
            ok, approx, msg = _solve(m, opts, tl)
        if not ok:
            return [], [f"The infeasibility explanation could not be computed: the elastic re-solve ended with {msg}."]
        approximate |= approx
        best = _val(expr)
        obj.deactivate()
        # keep this phase's total (with a small tolerance) while the next phases are minimised
        m.add_component(f"elastic_keep_{n}", pyo.Constraint(expr=expr <= best + 1e-7 + 1e-9 * abs(best)))
        earlier = earlier + expr
    if approximate or relaxed:
        notes.append("The shortfalls below come from an elastic re-solve that "
                     + ("ran out of time (they are upper bounds)" if approximate else "used the LP relaxation (fractional modules)")
                     + ".")
    rows = _elastic_rows(m, data)
    notes += _elastic_sentences(data, rows)
    return [r[:8] for r in rows], notes


def _elastic_rows(m, data) -> list[tuple]:
    """Rows (year, kind, item, required, achievable, shortfall, unit, explanation, extra...)."""
    rows = []
    # ---- cells, by year
    for y in data.years:
        short = {k: _val(m.short_cells[k, y]) for k in data.chemistries if (k, y) in m.short_cells}
        short = {k: s for k, s in short.items() if s > 1e-6 * max(1.0, data.demand_gwh(k, y))}
        if not short:
            continue
        demand = {k: data.demand_gwh(k, y) for k in data.chemistries}
        total_d = sum(demand.values())
        total_s = sum(short.values())
        bound, facts = _cell_capacity_facts(data, y)
        made = total_d - total_s
        chem = ", ".join(f"{k} {_num(demand[k])}" for k in data.chemistries if demand[k] > 0)
        text = (f"{y}: cell demand of {_num(total_d)} GWh ({chem}) exceeds what can be made: at most "
                f"{_num(bound)} GWh of cell capacity can exist in {y} ({facts})")
        if made < bound - 1e-6 * max(1.0, bound):
            text += (f"; with the module limits and lifetimes shared across the years, the best plan makes only "
                     f"{_num(made)} GWh")
        text += (f"; short by {_num(total_s)} GWh ("
                 + ", ".join(f"{k} {_num(s)}" for k, s in short.items()) + ")."
                 + ("" if data.settings.allow_unmet_demand else
                    " Unmet demand is not allowed (allow_unmet_demand = false)."))
        for k, s in short.items():
            rows.append((y, "cell_demand", k, demand[k], demand[k] - s, s, "GWh", text))
    # ---- materials
    cells = {(k, y): _val(m.shared.cells[k, y]) for k in data.chemistries for y in data.years}
    for mat in data.materials:
        unit = _unit(data, mat)
        for y in data.years:
            if (mat, y) not in m.short_material:
                continue
            s = _val(m.short_material[mat, y])
            use = sum(a * cells[k, y] for (k, mm), a in data.intensity.items() if mm == mat)
            exp = _val(m.exp[mat, y]) if (mat in data.exports) else 0.0
            need = use + exp
            if s <= 1e-6 * max(1.0, need):
                continue
            bound, facts = _material_source_facts(data, mat, y)
            have = need - s
            if have <= 1e-9 and not data.facilities_making(mat) and not any(mm == mat for (mm, _) in data.imports):
                text = (f"{y}: {mat}: the cells need {_num(need)} {unit} but there is no source at all "
                        f"(no facility makes {mat} and no import route brings it in); short by {_num(s)} {unit}.")
            else:
                lim = f"at most {_num(min(bound, have) if math.isfinite(bound) else have)} {unit} can be sourced"
                text = (f"{y}: {mat}: the cells need {_num(need)} {unit} but {lim} ({facts}); "
                        f"short by {_num(s)} {unit}.")
            rows.append((y, "material_supply", mat, need, have, s, unit, text))
    # ---- local content
    for y in data.years:
        if y not in m.short_local:
            continue
        s_usd = _val(m.short_local[y])
        target = data.local_content_target[y]
        value = 0.0
        for mat, info in data.materials.items():
            p = info.reference_price_usd_per_unit
            value += p * sum(a * cells[k, y] for (k, mm), a in data.intensity.items() if mm == mat)
        if value <= 0 or s_usd <= 1e-6 * max(1.0, target * value):
            continue
        gap = s_usd / value  # share points as a fraction
        achievable = max(0.0, target - gap)
        makers = []
        for mat, info in data.materials.items():
            if info.reference_price_usd_per_unit == 0:
                continue
            if not any(mm == mat and a > 0 for (k, mm), a in data.intensity.items()):
                continue
            facs = data.facilities_making(mat)
            if facs:
                makers.append(f"{mat} by " + ", ".join(max_capacity(data, f, y)[1] for f in facs))
            else:
                makers.append(f"{mat}: no local facility")
        text = (f"{y}: local-content target {_pct(target)} cannot be reached: at most {_pct(achievable)} of material "
                f"value can be made locally ({'; '.join(makers)}); short by {100 * gap:.4g} points "
                f"({_usd(s_usd)} of local value).")
        rows.append((y, "local_content", "local_value_share", 100 * target, 100 * achievable, 100 * gap,
                     "percent of material value", text))
    return rows


def _year_span(years: list[int]) -> str:
    years = sorted(set(years))
    if len(years) > 1 and years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}-{years[-1]}"
    return ", ".join(map(str, years))


def _elastic_sentences(data, rows) -> list[str]:
    """One sentence per distinct explanation; years with the same wording are merged ("2026-2028: ...")."""
    groups: dict[str, list[int]] = {}
    for r in rows:
        year, text = int(r[0]), r[7]
        prefix = f"{year}: "
        body = text[len(prefix):] if text.startswith(prefix) else text
        body = body.replace(f" in {year} ", " in that year ")
        groups.setdefault(body, []).append(year)
    if not groups:
        return []
    out = []
    for body, years in groups.items():
        years = sorted(set(years))
        if len(years) == 1:
            out.append(f"{years[0]}: " + body.replace(" in that year ", f" in {years[0]} "))
        else:
            out.append(f"{_year_span(years)} (each year): {body}")
    kinds = {"cell_demand": "cell capacity", "material_supply": "material supply", "local_content": "local content"}
    what = ", ".join(dict.fromkeys(kinds[r[1]] for r in rows))
    head = (f"No plan exists: the case asks for more than can be delivered ({what}) in "
            f"{_year_span([int(r[0]) for r in rows])}.")
    return [head] + out


# --------------------------------------------------------------------------- IIS
_ROW_RE = re.compile(r"^(?:c_[elu]|r_[lu])_(.*)_$")


def iis_explanation(data, opts) -> tuple[list[tuple], list[str]]:
    """HiGHS's IIS of the LP relaxation (:func:`model.solve.lp_iis`), in planner words. Empty when it does not apply."""
    from .solve import lp_iis

    m = plain_model(data, name="battery_plan_iis")
    found = lp_iis(m, time_limit_s=min(PHASE_TIME_LIMIT_S, opts.time_limit_s or PHASE_TIME_LIMIT_S))
    if found is None:
        return [], ["HiGHS found no conflicting set in the LP relaxation: the case is infeasible only because "
                    "modules come in whole numbers (or openings are all-or-nothing)."]
    iis_rows, iis_cols, smap = found
    rows = []
    for name, bound in iis_rows:
        mt = _ROW_RE.match(name)
        obj = smap.get(mt.group(1) if mt else name)
        rows.append(_iis_row(data, obj, name, "row", bound))
    for name, bound in iis_cols:
        obj = smap.get(name)
        r = _iis_row(data, obj, name, "col", bound)
        if r is not None:
            rows.append(r)
    rows = [r for r in rows if r is not None]
    if not rows:
        return [], []
    note = ("Conflicting constraints (HiGHS irreducible infeasible set of the LP relaxation; removing any one "
            "makes this set feasible): " + "; ".join(r[7] for r in rows) + ".")
    return rows, [note]


def _iis_row(data, obj, fallback: str, kind: str, bound: int):
    """One IIS member as a table row; None for plain non-negativity bounds."""
    # HiGHS IisBoundStatus: -1 dropped, 0 null, 1 free, 2 lower, 3 upper, 4 boxed
    if obj is None:
        return (None, "iis", fallback, math.nan, math.nan, math.nan, "", fallback)
    comp = obj.parent_component().name
    idx = obj.index()
    idx = idx if isinstance(idx, tuple) else ((idx,) if idx is not None else ())
    year = next((v for v in reversed(idx) if isinstance(v, int) and v in data.years), None)
    label = f"{comp}[{','.join(map(str, idx))}]" if idx else comp
    words = _iis_words(data, comp, idx, kind, bound)
    if words is None:
        return None
    return (year, "iis", label, math.nan, math.nan, math.nan, "", words)


def _iis_words(data, comp: str, idx: tuple, kind: str, bound: int) -> str | None:
    s = data.settings
    if kind == "row":
        if comp == "cell_demand":
            k, y = idx
            return (f"cell demand of {k} in {y} ({_num(data.demand_gwh(k, y))} GWh) must be met"
                    + ("" if s.allow_unmet_demand else " in full"))
        if comp == "cell_capacity":
            f, y = idx
            return f"cell output of {f} in {y} is limited by its capacity"
        if comp == "material_capacity":
            f, y = idx
            return f"output of {f} ({data.facilities[f].product}) in {y} is limited by its capacity"
        if comp == "material_balance":
            mat, y = idx
            return f"{mat} in {y}: local output + imports must equal what the cells use (plus exports)"
        if comp == "local_content":
            (y,) = idx
            return f"local-content target of {_pct(data.local_content_target[y])} in {y}"
        if comp == "module_limit":
            (f,) = idx
            return f"{f} can have at most {_modules(data.facilities[f].max_modules)}"
        if comp == "open_once":
            (f,) = idx
            return f"{f} opens at most once"
        if comp == "open_before_modules":
            f, y = idx
            return f"{f} must be opened before its modules run ({y})"
        return f"constraint {comp}[{','.join(map(str, idx))}]"
    # columns: only bounds that bind from above (or fixed) carry meaning for a planner
    if bound not in (3, 4):
        return None
    if comp == "unmet":
        k, y = idx
        return f"unmet demand of {k} in {y} is not allowed (allow_unmet_demand = false)"
    if comp == "build":
        f, y = idx
        return f"at most {_modules(data.facilities[f].max_modules)} of {f} can come online in {y}"
    if comp == "imp":
        mat, o, y = idx
        rt = data.imports[mat, o]
        return f"import limit of {mat} from {o}: {_num(rt.max_per_year)} {_unit(data, mat)} in {y}"
    if comp == "exp":
        mat, y = idx
        return f"export limit of {mat}: {_num(data.exports[mat].max_per_year)} {_unit(data, mat)} in {y}"
    if comp == "open":
        f, y = idx
        return f"{f} can open at most once ({y})"
    return f"bound on {comp}[{','.join(map(str, idx))}]"


# --------------------------------------------------------------------------- unbounded
def arbitrage_pairs(data) -> list[dict]:
    """(material, origin) pairs that make the case unbounded: import cheaper than the export price, no limits."""
    out = []
    for (mat, o), rt in data.imports.items():
        ex = data.exports.get(mat)
        if ex is None or ex.max_per_year is not None or rt.max_per_year is not None:
            continue
        years = [y for y in data.import_years(mat, o) if data.landed_cost(mat, o, y) < ex.price_usd_per_unit - 1e-9]
        if years:
            y0 = years[0]
            out.append({"material": mat, "origin": o, "years": years, "year": y0,
                        "landed": data.landed_cost(mat, o, y0), "export_price": ex.price_usd_per_unit})
    return out


def explain_unbounded(data) -> tuple[list[tuple], list[str]]:
    pairs = arbitrage_pairs(data)
    rows, notes = [], []
    for p in pairs:
        mat, o, y0 = p["material"], p["origin"], p["year"]
        unit = _unit(data, mat)
        margin = p["export_price"] - p["landed"]
        yrs = p["years"]
        span = f"{yrs[0]}" if len(yrs) == 1 else f"{yrs[0]}-{yrs[-1]}" if yrs == list(range(yrs[0], yrs[-1] + 1)) \
            else ", ".join(map(str, yrs))
        text = (f"Unbounded: {mat} can be imported from {o} at a landed cost of {_num(p['landed'])} USD/{unit} "
                f"({y0}) and exported at {_num(p['export_price'])} USD/{unit}, and neither the import route "
                f"{mat} from {o} nor the export of {mat} has a max_per_year: every {unit} earns "
                f"{_num(margin)} USD, so the plan can earn without bound (in {span}). Set max_per_year on the "
                f"export of {mat} or on the route from {o}, or check the prices.")
        rows.append((y0, "unbounded", f"{mat} from {o}", p["export_price"], p["landed"], margin, f"USD/{unit}", text))
        notes.append(text)
    if not pairs:
        notes.append("Unbounded: the plan can lower its cost without limit, but no import-for-export arbitrage was "
                     "found in the data; check export prices and limits (max_per_year) and the import routes.")
    return rows, notes
