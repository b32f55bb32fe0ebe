"""Capacity block: integer modules, opening decisions, vintages, ramp-up and the capacity limit.

Variables
    build[f,y] in Z+   modules of f coming online in year y (y >= earliest_online_year, max_modules > 0)
    open[f,y]  in {0,1} f opens in year y (facilities with opening_cost_usd > 0)
Expressions
    N[f,y]   = sum(build[f,y'] for y' <= y and y - y' < lifetime_years[f])
    cap[f,y] = existing[f,y] + module_size[f] * (N[f,y] - (1 - ramp_up_first_year[f]) * build[f,y])
"""
from __future__ import annotations

import pyomo.environ as pyo

from .costs import add_constant, add_cost


def add(m, data) -> None:
    years = data.years
    m.Y = pyo.Set(initialize=years, ordered=True)
    build_idx = [(f, y) for f in data.facilities for y in data.build_years(f)]
    m.BUILD_IDX = pyo.Set(initialize=build_idx, dimen=2, ordered=True)
    m.build = pyo.Var(m.BUILD_IDX, domain=pyo.NonNegativeIntegers,
                      bounds=lambda m, f, y: (0, data.facilities[f].max_modules))
    open_idx = [(f, y) for f, fac in data.facilities.items() if fac.has_opening_decision for y in data.build_years(f)]
    m.OPEN_IDX = pyo.Set(initialize=open_idx, dimen=2, ordered=True)
    m.open = pyo.Var(m.OPEN_IDX, domain=pyo.Binary)

    # N[f,y] and cap[f,y] as plain dicts of linear expressions (cheaper than Expression components)
    builds_of = {}
    for f, y in build_idx:
        builds_of.setdefault(f, []).append(y)
    m._N = {}
    m._cap = {}
    for f, fac in data.facilities.items():
        bys = builds_of.get(f, [])
        for y in years:
            in_service = [m.build[f, v] for v in bys if v <= y and y - v < fac.lifetime_years]
            n_expr = sum(in_service) if in_service else 0
            m._N[f, y] = n_expr
            cap = data.existing_capacity(f, y)
            if in_service:
                ramp_loss = (1.0 - fac.ramp_up_first_year) * m.build[f, y] if (f, y) in m.build and fac.ramp_up_first_year < 1 else 0
                cap = cap + fac.module_size * (n_expr - ramp_loss)
            m._cap[f, y] = cap

    m.module_limit = pyo.Constraint(list(builds_of), rule=module_limit_rule)
    opening_f = sorted({f for f, _ in open_idx}, key=list(data.facilities).index)
    m.OPENING_F = pyo.Set(initialize=opening_f, ordered=True)
    m.open_once = pyo.Constraint(m.OPENING_F, rule=open_once_rule)
    m.open_before_modules = pyo.Constraint(
        [(f, y) for f in opening_f for y in data.build_years(f)], rule=open_before_modules_rule)

    # cost terms: annualised capex and fixed O&M per module in service; existing fixed O&M (constant)
    for f, fac in data.facilities.items():
        crf = data.crf(f) if fac.can_build else 0.0
        for y in years:
            for v in builds_of.get(f, []):
                if v <= y and y - v < fac.lifetime_years:  # module of vintage v in service in y
                    add_cost(m, "capex_annualised", y, crf * fac.capex_usd_per_module, m.build[f, v])
                    add_cost(m, "fixed_om", y, fac.fixed_om_usd_per_module_year, m.build[f, v])
            add_constant(m, "existing_fixed_om", y, data.existing_fixed_om(f, y))
        if fac.has_opening_decision:
            for y in data.build_years(f):
                add_cost(m, "opening", y, fac.opening_cost_usd, m.open[f, y])


def module_limit_rule(m, f):
    """sum_y build[f,y] <= max_modules[f]"""
    data = m._data
    return sum(m.build[f, y] for y in data.build_years(f)) <= data.facilities[f].max_modules


def open_once_rule(m, f):
    """sum_y open[f,y] <= 1"""
    return sum(m.open[f, y] for y in m._data.build_years(f)) <= 1


def open_before_modules_rule(m, f, y):
    """N[f,y] <= max_modules[f] * sum(open[f,y'] for y' <= y)"""
    data = m._data
    opened = sum(m.open[f, v] for v in data.build_years(f) if v <= y)
    return m._N[f, y] <= data.facilities[f].max_modules * opened
