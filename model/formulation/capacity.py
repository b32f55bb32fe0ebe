"""Capacity block: integer modules, opening decisions, vintages, ramp-up and the capacity limit.

Variables
    build[f,y] in Z+   modules of f coming online in year y (y >= earliest_online_year, max_modules > 0)
    open[f,y]  in {0,1} f opens in year y (facilities with opening_cost_usd > 0)
Expressions
    N[f,y]   = sum(build[f,y'] for y' <= y and y - y' < lifetime_years[f])
    cap[f,y] = existing[f,y] + module_size[f] * (N[f,y] - (1 - ramp_up_first_year[f]) * build[f,y])

Version 2: ``committed_build[f,y]``: ``build[f,y] >= modules`` for each committed_builds row; the
capex of a module is that of its vintage, ``capex[f,v] = capex_usd_per_module * (1 +
capex_change_per_year) ** (v - base_year)``, charged ``CRF[f] * capex[f,v]`` in every horizon year
it is in service (registered on ``build[f,v]`` directly, so it does not depend on the form of N).

Two optional forms (switched by :mod:`.strengthen`, off in the plain statement):

* ``cumulative_link``: the opening link on cumulative builds ``K[f,y] = sum_{y'<=y} build[f,y']``,
  ``K[f,y] <= max_modules * C[f,y]`` with ``C[f,y] = sum_{y'<=y} open[f,y']`` (valid; implies the
  plain ``N[f,y] <= max_modules * C[f,y]`` because N <= K);
* ``stock_variables``: K and C become variables defined year by year (``K[f,y] = K[f,y-1] +
  build[f,y]``, ``C[f,y] = C[f,y-1] + open[f,y]``) and ``N[f,y] = K[f,y] - K[f,y-L]``: the same
  model (a change of variables), but each row that sums builds or openings over years has two or
  three entries instead of up to |Y|, so the LP relaxation is much sparser.

Both forms are unaffected by Version 2: committed builds are rows on ``build`` itself, and the
vintage capex is charged on ``build`` directly, whatever the form of K and N.

The block keeps, for the other blocks and the strengthening, the linear terms of K, C and N as
lists of ``(coefficient, variable)`` in ``m.shared.K_terms``, ``C_terms``, ``N_terms`` (keyed by
(f, y); empty when zero), and the expressions ``m.shared.cap``.
"""
from __future__ import annotations

import pyomo.core as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from ..data import CaseData
from .costs import add_constant, add_cost


def linear(terms, constant: float = 0.0):
    """A LinearExpression from ``[(coef, var)]``; 0 (or the constant) when there are no terms."""
    if not terms:
        return constant
    return LinearExpression(constant=constant, linear_coefs=[c for c, _ in terms], linear_vars=[v for _, v in terms])


def add(m: pyo.ConcreteModel, data: CaseData, *, cumulative_link: bool = False, stock_variables: bool = False,
        integer_stocks: bool = False) -> None:
    """Declare the capacity block (see the module docstring for the two optional forms)."""
    years = data.years
    facilities = data.facilities
    m.Y = pyo.Set(initialize=years, ordered=True)
    bys_of = {f: data.build_years(f) for f in facilities}
    build_idx = [(f, y) for f in facilities for y in bys_of[f]]
    m.BUILD_IDX = pyo.Set(initialize=build_idx, dimen=2, ordered=True)
    m.build = pyo.Var(m.BUILD_IDX, domain=pyo.NonNegativeIntegers,
                      bounds={(f, y): (0, facilities[f].max_modules) for f, y in build_idx})
    open_idx = [(f, y) for f, fac in facilities.items() if fac.has_opening_decision for y in bys_of[f]]
    m.OPEN_IDX = pyo.Set(initialize=open_idx, dimen=2, ordered=True)
    m.open = pyo.Var(m.OPEN_IDX, domain=pyo.Binary)
    b = {k: m.build[k] for k in build_idx}
    o = {k: m.open[k] for k in open_idx}

    # cumulative builds K, cumulative openings C, modules in service N: lists of (coef, var)
    K, C, N = {}, {}, {}
    if stock_variables:
        m.s_stock_K = pyo.Var(build_idx, domain=pyo.NonNegativeIntegers if integer_stocks else pyo.NonNegativeReals,
                              bounds={(f, y): (0, facilities[f].max_modules) for f, y in build_idx})
        m.s_stock_C = pyo.Var(open_idx, domain=pyo.Binary if integer_stocks else pyo.NonNegativeReals, bounds=(0, 1))
        rows_k, rows_c = {}, {}
        for f in facilities:
            prev = None
            for y in bys_of[f]:
                kv = m.s_stock_K[f, y]
                rows_k[f, y] = (0.0, linear([(1.0, kv), (-1.0, b[f, y])] + ([(-1.0, prev)] if prev is not None else [])), 0.0)
                prev = kv
            prev = None
            if facilities[f].has_opening_decision:
                for y in bys_of[f]:
                    cv = m.s_stock_C[f, y]
                    rows_c[f, y] = (0.0, linear([(1.0, cv), (-1.0, o[f, y])] + ([(-1.0, prev)] if prev is not None else [])), 0.0)
                    prev = cv
        m.s_stock_K_def = pyo.Constraint(list(rows_k), rule=lambda _m, f, y: rows_k[f, y])
        m.s_stock_C_def = pyo.Constraint(list(rows_c), rule=lambda _m, f, y: rows_c[f, y])
    for f, fac in facilities.items():
        bys = bys_of[f]
        first = bys[0] if bys else None
        life = fac.lifetime_years
        k_run: list = []
        c_run: list = []
        for y in years:
            if first is None or y < first:
                K[f, y], C[f, y], N[f, y] = [], [], []
                continue
            if stock_variables:
                K[f, y] = [(1.0, m.s_stock_K[f, y])]
                C[f, y] = [(1.0, m.s_stock_C[f, y])] if fac.has_opening_decision else []
                old = y - life  # modules of vintage <= y - L have retired by y
                N[f, y] = K[f, y] + ([(-1.0, m.s_stock_K[f, old])] if old >= first else [])
            else:
                k_run = k_run + [(1.0, b[f, y])]
                K[f, y] = k_run
                if fac.has_opening_decision:
                    c_run = c_run + [(1.0, o[f, y])]
                C[f, y] = c_run
                N[f, y] = [(1.0, b[f, v]) for v in bys if v <= y and y - v < life]
    sh = m.shared
    sh.K_terms, sh.C_terms, sh.N_terms = K, C, N

    # cap[f,y] as a plain dict of linear expressions (cheaper than Expression components)
    for f, fac in facilities.items():
        for y in years:
            nt = N[f, y]
            e = data.existing_capacity(f, y)
            if nt:
                terms = [(fac.module_size * c, v) for c, v in nt]
                if (f, y) in b and fac.ramp_up_first_year < 1:
                    terms.append((-fac.module_size * (1.0 - fac.ramp_up_first_year), b[f, y]))
                sh.cap[f, y] = linear(terms, e)
            else:
                sh.cap[f, y] = e

    builds_of = [f for f in facilities if bys_of[f]]
    m.module_limit = pyo.Constraint(builds_of, rule=module_limit_rule)
    opening_f = [f for f in facilities if facilities[f].has_opening_decision and bys_of[f]]
    m.OPENING_F = pyo.Set(initialize=opening_f, ordered=True)
    m.open_once = pyo.Constraint(m.OPENING_F, rule=open_once_rule)
    link = {}
    for f in opening_f:
        mm = float(facilities[f].max_modules)
        for y in bys_of[f]:
            lhs = K[f, y] if cumulative_link else N[f, y]
            link[f, y] = (None, linear(list(lhs) + [(-mm * c, v) for c, v in C[f, y]]), 0.0)
    m.open_before_modules = pyo.Constraint(list(link), rule=lambda _m, f, y: link[f, y])
    committed = [(f, y) for (f, y) in data.committed_builds if (f, y) in b]
    m.COMMITTED_IDX = pyo.Set(initialize=committed, dimen=2, ordered=True)
    m.committed_build = pyo.Constraint(m.COMMITTED_IDX, rule=committed_build_rule)

    # cost terms: annualised vintage capex on each build, fixed O&M per module in service;
    # existing fixed O&M (constant)
    for f, fac in facilities.items():
        crf = data.crf(f) if fac.can_build else 0.0
        life = fac.lifetime_years
        for v in bys_of[f]:
            capex = crf * data.capex_usd(f, v)
            for y in years:
                if v <= y and y - v < life:
                    add_cost(m, "capex_annualised", y, capex, b[f, v])
        for y in years:
            for c, v in N[f, y]:
                add_cost(m, "fixed_om", y, c * fac.fixed_om_usd_per_module_year, v)
            add_constant(m, "existing_fixed_om", y, data.existing_fixed_om(f, y))
        if fac.has_opening_decision:
            for y in bys_of[f]:
                add_cost(m, "opening", y, fac.opening_cost_usd, o[f, y])


def module_limit_rule(m: pyo.ConcreteModel, f: str):
    """sum_y build[f,y] <= max_modules[f]"""
    data = m.shared.data
    return linear([(1.0, m.build[f, y]) for y in data.build_years(f)]) <= data.facilities[f].max_modules


def open_once_rule(m: pyo.ConcreteModel, f: str):
    """sum_y open[f,y] <= 1"""
    return linear([(1.0, m.open[f, y]) for y in m.shared.data.build_years(f)]) <= 1


def committed_build_rule(m: pyo.ConcreteModel, f: str, y: int):
    """build[f,y] >= modules[f,y] (version 2, committed_builds)"""
    return m.build[f, y] >= m.shared.data.committed_builds[f, y]
