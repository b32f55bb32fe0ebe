"""Optional strengthening of the core model: same optimum, much less search (GenX-style switches).

``build_model(data, strengthen=...)`` takes ``True`` (the default: the switches of
:class:`Strengthening` at their defaults), ``False`` (the plain statement of formulation.md) or a
:class:`Strengthening`. Every switch **keeps the optimal objective of the core model exactly**, and
is one of three kinds:

* **reformulation** (``stock_variables``): a change of variables; the same model.
* **valid** (``bounds``, ``cumulative_link``, ``cover_cuts``, ``open_output``, ``supply_covers``,
  ``recipe_covers``, ``content_covers``, ``window_covers``, ``integer_*``):
  satisfied by every integer-feasible point of the core model, so the feasible set is unchanged;
  only the LP relaxation gets tighter.
* **optimum-preserving** (``open_at_first_build``, ``symmetry``, ``dominance``): cuts off feasible
  points, but maps every feasible point x of the core model to a feasible point x' that satisfies
  the added rows with cost(x') <= cost(x). Hence the same optimal value, and feasible, infeasible
  or unbounded together. The map is given in each docstring; applied in the order *module
  reassignment within a chain* then *opening at the first module*, one x' satisfies all rows.

Rows and variables added here are named ``s_...`` so that an IIS, an LP file or a reader can tell
them from the core rows. Notation: ``K[f,y]`` cumulative builds ``sum_{y'<=y} build[f,y']``,
``C[f,y]`` cumulative openings, ``N[f,y]`` modules in service, ``E[f,y]`` existing capacity,
``M`` = max_modules, ``s`` = module_size, ``r`` = ramp_up_first_year (terms in ``m.shared.K_terms``
etc. from :mod:`.capacity`).

Version 2 (formulation.md "Version 2") keeps every switch valid:

* imported cells ``cimp >= 0`` only lower the local cells a demand needs: every row here bounds
  local output *from above* by what can be used (``cells <= D`` still holds), none derives a
  capacity *from* demand, so all stay valid;
* recipes add local use of their inputs: :func:`consumption_max` adds ``sum_p r[p,m] Lmax[p,y]``
  (the most of p that can be made locally), so the bounds and cover cuts built on it stay valid;
* ``exp <= local`` only shrinks the feasible set of the core rows the bounds are derived from;
* committed builds: a facility with a committed row is left out of the symmetry / dominance
  chains (reassigning its modules could break ``build >= committed``); moving an opening to the
  first module's year (``open_at_first_build``) does not move any build;
* vintage capex: ``capex_change_per_year`` is compared like every other field (identical groups
  compare whole records; dominance requires it equal and, when it is not 0, capex, fixed O&M and
  opening cost each non-decreasing along a chain, see :func:`fill_chains`).

Assumption of ``symmetry`` and ``dominance``: the model reads a facility only through its record
(:class:`model.data.Facility`). An extension that reads a facility by name or by site must add what
it reads to the comparison (``IDENTITY_IGNORES``, ``_TECHNICAL``) or switch these two off.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

import pyomo.core as pyo

from .capacity import linear as _lin

if TYPE_CHECKING:
    from ..data import CaseData

#: Facility fields that may differ between candidates treated as identical by the symmetry
#: breaking. The core model never reads them. An extension that reads one of them (e.g. a limit
#: per site) must remove it from this tuple.
IDENTITY_IGNORES: tuple[str, ...] = ("facility", "site")

#: Facility fields that must be equal for the dominance order: everything the core model reads
#: except the compared costs (capex, fixed O&M per module, opening cost).
_TECHNICAL = ("product", "existing_capacity", "existing_from_year", "module_size", "max_modules",
              "earliest_online_year", "lifetime_years", "existing_fixed_om_usd_per_year",
              "variable_cost_usd_per_unit", "ramp_up_first_year", "capex_change_per_year")


@dataclass(frozen=True)
class Strengthening:
    """Switches of the strengthening functions (GenX style: one function per switch)."""

    #: explicit upper bounds implied by the constraints (production, imports, unmet demand)
    bounds: bool = True
    #: opening link on cumulative builds ``K <= M C`` instead of ``N <= M C`` (valid, stronger)
    cumulative_link: bool = True
    #: cumulative builds and openings as variables defined year by year (sparse rows; same model)
    stock_variables: bool = True
    #: declare the stock variables integer (K) and binary (C): valid, lets HiGHS branch on them
    integer_stocks: bool = False
    #: a facility opens in the year its first module comes online: ``open[f,y] <= build[f,y]``
    open_at_first_build: bool = True
    #: fill identical candidates of one product in order (symmetry breaking)
    symmetry: bool = True
    #: also fill candidates that differ only in cost in order, cheaper first (dominance)
    dominance: bool = True
    #: mixed-integer rounding cuts: a product's output against the most that can be used
    cover_cuts: bool = True
    #: output of a facility with an opening decision only once open: ``prod <= E + big * C``
    open_output: bool = True
    #: integer variables for modules in service, ``s_n[f,y] = N[f,y]`` (measured: no gain)
    integer_in_service: bool = False
    #: integer variables for a product's modules in service, ``s_np[p,y] = sum_{f makes p} N[f,y]``
    integer_product_total: bool = True
    #: mixed-integer rounding of "local supply covers the demand": whole modules or the remainder imported
    #: (measured, issue 13 second pass: root gap and time to 1e-4 down on the large cases)
    supply_covers: bool = True
    #: the supply covers also for recipe inputs, with the floor their products' own floors force
    recipe_covers: bool = False
    #: mixed-integer rounding of the local-content row over the material modules in service
    #: (measured: no gain across the benchmark set; off)
    content_covers: bool = False
    #: c-MIR of the supply covers summed over windows of years, in whole builds (a module built in v
    #: serves v..v+L-1)
    window_covers: bool = False

    @classmethod
    def of(cls, strengthen: "bool | Strengthening") -> "Strengthening":
        if isinstance(strengthen, Strengthening):
            return strengthen
        return cls() if strengthen else cls.none()

    @classmethod
    def none(cls) -> "Strengthening":
        return cls(**{f.name: False for f in fields(cls)})

    @classmethod
    def everything(cls) -> "Strengthening":
        return cls(**{f.name: True for f in fields(cls)})

    @property
    def any(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


# --------------------------------------------------------------------------- helpers
def _rows(m, name: str, rows: dict) -> None:
    """Add ``rows`` {index: (lb, expr, ub)} as one indexed Constraint named ``name``."""
    if not rows:
        return
    keys = list(rows)
    m.add_component(name, pyo.Constraint(keys, rule=lambda _m, *i: rows[i if len(i) > 1 else i[0]]))


def _output_terms(m, data, f, y) -> list:
    """The linear terms of f's total output in year y."""
    if data.facilities[f].makes_cells:
        return [(1.0, m.prodc[f, k, y]) for k in data.chemistries]
    return [(1.0, m.prodm[f, y])]


def consumption_max(data) -> dict[tuple[str, int], float]:
    """V[p,y]: the most of product p the cells and the local recipes can use in year y (cells: the demand).

    ``V[cells,y] = sum_k D[k,y]``; ``V[m,y] = sum_k a[k,m] D[k,y] + sum_p r[p,m] Lmax[p,y]`` since
    the local cells[k,y] <= D[k,y] (imported cells and unmet demand are >= 0) and local[p,y] <=
    ``Lmax[p,y] = min(V[p,y] + X[p], sum_{f makes p} E[f,y] + s_f M_f)`` (X[p] the export cap,
    infinite when uncapped; the capacity sum counts modules only once they can be online).
    Products come before their inputs (recipes are acyclic). The balance then gives: total local
    output of p <= V[p,y] + exp[p,y] (imports >= 0).
    """
    D = {(k, y): data.demand_gwh(k, y) for k in data.chemistries for y in data.years}
    out = {("cells", y): sum(D[k, y] for k in data.chemistries) for y in data.years}
    for mat in data.materials:
        for y in data.years:
            out[mat, y] = 0.0
    for (k, mat), a in data.intensity.items():
        for y in data.years:
            out[mat, y] += a * D[k, y]
    for p in _products_first(data):
        inputs = data.recipe_inputs(p)
        if not inputs:
            continue
        for y in data.years:
            lmax = sum(_cap_max(data, f, y) for f in data.facilities_making(p))
            if p not in data.exports:
                lmax = min(lmax, out[p, y])
            elif data.exports[p].max_per_year is not None:
                lmax = min(lmax, out[p, y] + data.exports[p].max_per_year)
            for i, a in inputs:
                out[i, y] += a * lmax
    return out


def _products_first(data) -> list[str]:
    """Materials ordered so that every recipe product comes before its inputs (recipes are acyclic)."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(mat: str) -> None:  # post-order on "is an input of"
        if mat in seen:
            return
        seen.add(mat)
        for (p, i), a in data.recipes.items():
            if i == mat and a > 0:
                visit(p)
        order.append(mat)

    for mat in data.materials:
        visit(mat)
    return order


def _cap_max(data, f: str, y: int) -> float:
    """The most capacity f can have in year y: existing + every module, once modules can be online."""
    fac = data.facilities[f]
    e = data.existing_capacity(f, y)
    if fac.can_build and fac.earliest_online_year <= y:
        e += fac.module_size * fac.max_modules
    return e


def max_local_output(data) -> dict[tuple[str, int], float]:
    """U[p,y]: an upper bound on the total local output of p in year y implied by the constraints.

    ``U = V[p,y] + X[p]`` (:func:`consumption_max`) when p's export is capped at X[p] (X = 0 when p
    is not exportable, and for cells); absent when the export is uncapped.
    """
    out = {}
    for (p, y), v in consumption_max(data).items():
        if p in data.exports:
            x = data.exports[p].max_per_year
            if x is None:
                continue
            out[p, y] = v + x
        else:
            out[p, y] = v
    return out


# --------------------------------------------------------------------------- implied bounds
def implied_bounds(m, data) -> None:
    """Upper bounds implied by the constraints (valid: the feasible set is unchanged).

    * ``unmet[k,y] <= D[k,y]``: the demand row gives ``unmet = D - sum_f prod`` with prod >= 0.
    * ``prod[f,k,y] <= D[k,y]`` (cells): the same row with unmet >= 0.
    * ``prod[f,y] <= E[f,y] + s M`` when f can have modules by y, else ``<= E[f,y]``: the capacity
      row with ``N - (1-r) build <= N <= K <= M``.
    * ``prod[f,y] <= U[m,y]`` and ``imp[m,o,y] <= U[m,y]`` for material m with a finite
      :func:`max_local_output` U: local + imports = use + exports, use <= V, exports <= X.

    Version 2: imported cells are >= 0 in the demand row, so the first two still hold; V counts the
    most recipe use (:func:`consumption_max`), so use <= V still holds; committed builds and vintage
    capex do not enter any of these rows. Still valid.
    """
    years = data.years
    if data.settings.allow_unmet_demand:
        for k in data.chemistries:
            for y in years:
                m.unmet[k, y].setub(data.demand_gwh(k, y))

    def cap_max(f, y):
        return _cap_max(data, f, y)

    for f in data.cell_facilities:
        for y in years:
            c = cap_max(f, y)
            for k in data.chemistries:
                _tighten(m.prodc[f, k, y], min(c, data.demand_gwh(k, y)))
    U = max_local_output(data)
    for mat in data.materials:
        for y in years:
            if (mat, y) not in U:
                continue
            for f in m.shared.makers[mat]:
                _tighten(m.prodm[f, y], U[mat, y])
            for o in m.shared.routes.get((mat, y), ()):
                _tighten(m.imp[mat, o, y], U[mat, y])
    for f in data.material_facilities:
        for y in years:
            _tighten(m.prodm[f, y], cap_max(f, y))


def _tighten(v, ub: float) -> None:
    if v.ub is None or ub < v.ub:
        v.setub(max(0.0, ub))


# --------------------------------------------------------------------------- opening
def open_at_first_build(m, data) -> None:
    """``open[f,y] <= build[f,y]``: a facility opens in the year its first module comes online.

    Optimum-preserving. Map: if f opens in y0 and its first module comes online in y1, then
    y1 >= y0 (the opening link needs ``C[f,y1] = 1``); move the opening to y1: the link still holds
    (no module before y1) and the cost changes by ``opening_cost * (DF[y1] - DF[y0]) <= 0`` since
    DF is non-increasing (discount_rate >= 0). If f opens but never builds, drop the opening (its
    cost is > 0). Nothing else depends on the opening year.

    Version 2: the map moves no build, so committed builds (``build >= modules``) and vintage capex
    (charged on builds) are untouched; recipes and cell imports do not read ``open``.
    """
    rows = {(f, y): (None, _lin([(1.0, m.open[f, y]), (-1.0, m.build[f, y])]), 0.0) for (f, y) in m.OPEN_IDX}
    _rows(m, "s_open_at_first_build", rows)


def open_output(m, data) -> None:
    """Output needs the facility open (valid): ``prod[f,y] <= E[f,y] + big * C[f,y]``.

    ``big = min(s M, U[p,y] - E[f,y])`` (:func:`max_local_output`). If C = 0 the facility has no
    module in service (opening link), so its output is at most E; if C = 1 the row reads
    ``prod <= min(E + s M, U)``, already implied. In the LP relaxation a facility is otherwise
    opened by N / M only, although its output may need far fewer than M modules.

    Version 2: U stays an upper bound on local output (recipe use counted in V, exports <= local
    only shrinks the set), and C = 0 still means no module (committed builds force C = 1 through the
    opening link, like any build). Still valid.
    """
    U = max_local_output(data)
    rows = {}
    for f, fac in data.facilities.items():
        if not fac.has_opening_decision:
            continue
        for y in data.years:
            C = m.shared.C_terms[f, y]
            if not C:
                continue
            e = data.existing_capacity(f, y)
            big = fac.module_size * fac.max_modules
            if (fac.product, y) in U:
                big = min(big, max(0.0, U[fac.product, y] - e))
            rows[f, y] = (None, _lin(_output_terms(m, data, f, y) + [(-big * c, v) for c, v in C]), e)
    _rows(m, "s_open_output", rows)


# --------------------------------------------------------------------------- symmetry and dominance
def identical_groups(data) -> list[tuple[str, ...]]:
    """Groups (2 or more, in data order) of buildable facilities equal in every field but the name.

    Equality is exact (floats compared with ==): near-identical candidates are never grouped.
    """
    blank = {name: "" for name in IDENTITY_IGNORES}
    groups: dict[object, list[str]] = {}
    committed = {f for f, _ in data.committed_builds}
    for f, fac in data.facilities.items():
        if fac.can_build and data.build_years(f) and f not in committed:
            groups.setdefault(replace(fac, **blank), []).append(f)
    return [tuple(g) for g in groups.values() if len(g) > 1]


def fill_chains(data, dominance: bool = False) -> list[tuple[str, ...]]:
    """Chains f_1, f_2, ... of buildable facilities that may be filled in order (:func:`fill_order`).

    Without ``dominance``: the :func:`identical_groups`. With it: facilities equal in every field of
    ``_TECHNICAL``, sorted by the module cost per year in service ``c = CRF * capex + fixed_om``,
    then the opening cost, then data order; a chain runs as long as the opening cost does not fall.
    When the group's ``capex_change_per_year`` g is not 0, a module's cost is not ``c_f`` times one
    weight, so a chain also needs capex and fixed O&M non-decreasing (capex equal when g > 0; see
    the module docstring). Facilities with a committed build are never chained.
    """
    if not dominance:
        return identical_groups(data)
    order = {f: i for i, f in enumerate(data.facilities)}
    groups: dict[tuple, list[str]] = {}
    committed = {f for f, _ in data.committed_builds}
    for f, fac in data.facilities.items():
        if fac.can_build and data.build_years(f) and f not in committed:
            groups.setdefault(tuple(getattr(fac, k) for k in _TECHNICAL), []).append(f)
    chains = []
    for fs in groups.values():
        if len(fs) < 2:
            continue
        fac = data.facilities
        g = fac[fs[0]].capex_change_per_year  # equal in a group (_TECHNICAL)
        key = {f: (data.crf(f) * fac[f].capex_usd_per_module + fac[f].fixed_om_usd_per_module_year,
                   fac[f].opening_cost_usd, order[f]) for f in fs}
        if g != 0:
            # vintage capex: cost = CRF capex_f W_c(v) + fom_f W(v), two weights; W_c(v) =
            # (1+g)^(v-b) W(v) is non-increasing only for g < 0. Sort by (capex, fom) and chain only
            # while each cost is non-decreasing (for g > 0 capex must be equal).
            key = {f: (fac[f].capex_usd_per_module, fac[f].fixed_om_usd_per_module_year,
                       fac[f].opening_cost_usd, order[f]) for f in fs}

        def follows(f: str, prev: str) -> bool:
            if g == 0:
                return key[f][1] >= key[prev][1]
            a, b = fac[prev], fac[f]
            capex_ok = b.capex_usd_per_module == a.capex_usd_per_module if g > 0 else \
                b.capex_usd_per_module >= a.capex_usd_per_module
            return (capex_ok and b.fixed_om_usd_per_module_year >= a.fixed_om_usd_per_module_year
                    and b.opening_cost_usd >= a.opening_cost_usd)

        fs = sorted(fs, key=key.get)
        chain = [fs[0]]
        for f in fs[1:]:
            if follows(f, chain[-1]):
                chain.append(f)
            else:
                if len(chain) > 1:
                    chains.append(tuple(chain))
                chain = [f]
        if len(chain) > 1:
            chains.append(tuple(chain))
    return chains


def fill_order(m, data, dominance: bool = False) -> None:
    """Fill interchangeable candidates in order: f_i+1 gets modules only once f_i has all of its own.

    For consecutive facilities a, b of a chain (:func:`fill_chains`) and every build year y:

        M * C[b,y] <= K[a,y]      when b has an opening decision: b opens only once a is full
                                  (with the opening link K[b,y] <= M C[b,y]: "fill a first")
        K[b,y] <= K[a,y]          otherwise (the convex hull of "K[b,y] > 0 only if K[a,y] = M")

    Optimum-preserving. Map: take the chain's modules in order of vintage (ties in any order) and
    give the first M to f_1, the next M to f_2, ...; open each facility in the year of its first
    module (none if it gets none); split each year's output of the chain among its members in
    proportion to their new capacities. Then

    * the chain's total capacity is the same in every year (same module size, lifetime, ramp-up and
      existing capacity), no member's capacity is negative, so the output split fits; every member
      has the same variable cost; each gets at most M modules;
    * module costs: a module of vintage v costs ``c_f * w(v)``, ``w(v)`` = sum of DF over its years
      in service, which does not increase with v (DF non-increasing); giving the earliest modules to
      the facilities with the smallest c (the chain's order) minimises the sum;
    * opening costs: the j-th member to open opens no earlier than the j-th opening of x (by then x
      had more than (j-1) M of the chain's modules, hence at least j open members), and the
      cheapest openings go with the earliest years: no dearer.

    For identical facilities (``dominance=False``) c and the opening cost are equal and this is
    symmetry breaking plus the opening normalisation of :func:`open_at_first_build`.

    Version 2: the map reassigns modules among a chain's members, so a facility with a committed
    build is never in a chain (:func:`fill_chains`). With vintage capex a module of vintage v costs
    ``CRF capex_f W_c(v) + fom_f W(v)`` with ``W_c(v) = (1+g)^(v-b) W(v)``; members share g (and
    identical ones share everything), and for g != 0 chains need capex and fixed O&M each
    non-decreasing (capex equal for g > 0, where W_c may increase), so every exchange of an earlier
    module to an earlier member is still no dearer. Recipes and cell imports see only the chain's
    total output, which the map keeps (same product, variable cost, capacity each year).
    """
    K, C = m.shared.K_terms, m.shared.C_terms
    rows = {}
    for chain in fill_chains(data, dominance):
        mm = float(data.facilities[chain[0]].max_modules)
        for a, b in zip(chain, chain[1:]):
            for y in data.build_years(a):
                if C[b, y]:
                    terms = [(mm * c, v) for c, v in C[b, y]] + [(-c, v) for c, v in K[a, y]]
                else:
                    terms = list(K[b, y]) + [(-c, v) for c, v in K[a, y]]
                rows[a, b, y] = (None, _lin(terms), 0.0)
    _rows(m, "s_fill_order", rows)


# --------------------------------------------------------------------------- rounding cuts

def module_classes(data, product: str) -> tuple[tuple[str, ...], list[str], dict[tuple[float, float], list[str]]]:
    """Facilities making ``product``: all of them, those that cannot build, and those that can,
    grouped by (module_size, ramp_up_first_year) — the classes the cover cuts round over."""
    fs = data.facilities_making(product)
    fixed = [f for f in fs if not data.facilities[f].can_build]
    classes: dict[tuple[float, float], list[str]] = {}
    for f in fs:
        fac = data.facilities[f]
        if fac.can_build and data.build_years(f):
            classes.setdefault((fac.module_size, fac.ramp_up_first_year), []).append(f)
    return fs, fixed, classes


def cover_classes(data):
    """``(product, facilities making it, those that cannot build, module_size, ramp_up, class members, q)``
    for every class of :func:`module_classes` whose first-year ramp is a fraction with a small
    denominator q (the cover cuts count capacity in units of ``module_size / q``)."""
    for product in dict.fromkeys(fac.product for fac in data.facilities.values()):
        fs, fixed, classes = module_classes(data, product)
        for (size, r), members in classes.items():
            q = _ramp_denominator(r)
            if q is not None:
                yield product, fs, fixed, size, r, members, q

def _ramp_denominator(r: float) -> int | None:
    """Smallest q in 1..12 with r q whole (a facility's capacity in units of module_size / q)."""
    for q in range(1, 13):
        if abs(r * q - round(r * q)) < 1e-9:
            return q
    return None


def cover_cuts(m, data) -> None:
    """Mixed-integer rounding of "output <= capacity" against "output <= what can be used" (valid).

    Take a product p, a year y and a set S of p's facilities whose buildable members share the
    module size s and first-year ramp-up r (q: the smallest whole number making r q whole), plus
    every facility of p that cannot build. S's capacity is ``E_S + u Z`` with u = s/q and the whole
    number ``Z = sum_{f in S} (q N[f,y] - q (1 - r) build[f,y])``; its output X_S is at most
    ``B + T`` where B is a constant and T >= 0 a variable: either ``B = U[p,y]``, T = 0
    (:func:`max_local_output`) or ``B = V[p,y]``, ``T = exp[p,y]`` (:func:`consumption_max`). With
    ``k = floor((B - E_S) / u)`` and ``g = B - E_S - k u`` (0 < g < u):

        X_S <= E_S + k u + g (Z - k) + T

    holds at every whole Z: for Z <= k the right side is >= E_S + u Z (g < u, T >= 0), for
    Z >= k + 1 it is >= B + T. It is the mixed-integer rounding facet that the LP relaxation
    otherwise cuts through by building a fraction of a module to cover B exactly. S is each
    (size, ramp-up) class of p's facilities and, in classes of two or more, each facility alone.

    Version 2: B bounds the output from above by what can be used, recipe use included
    (:func:`consumption_max`); imported cells only lower the local output needed; committed
    builds are whole modules like any other. Still valid at every whole Z.
    """
    U = max_local_output(data)
    V = consumption_max(data)
    rows = {}
    for product, fs, fixed, size, r, members, q in cover_classes(data):
        bounds = (("V", V), ("U", U)) if product in data.exports else (("U", U),)
        subsets = [tuple(members)] + ([(f,) for f in members] if len(members) > 1 else [])
        for sub in subsets:
            label = sub[0] if len(sub) == 1 else f"all of size {size:g} ramp-up {r:g}"
            for which, table in bounds:
                for y in data.years:
                    bound = table.get((product, y))
                    if bound is None:
                        continue
                    row = _cover_row(m, data, product, sub, fixed, q, size / q, r, y, bound, which == "V")
                    if row is not None:
                        rows[product, label, which, y] = row
    _rows(m, "s_cover_cut", rows)


def _cover_row(m, data, product, members, fixed, q, unit, r, y, bound, with_export):
    S = list(members) + fixed
    e = sum(data.existing_capacity(f, y) for f in S)
    zmax = sum(q * data.facilities[f].max_modules for f in members if data.build_years(f)[0] <= y)
    ratio = (bound - e) / unit
    if ratio < 0 or zmax == 0:
        return None
    k = int(ratio + 1e-9)
    g = bound - e - k * unit
    if k >= zmax or g < 1e-6 * unit:
        return None  # the capacity can never exceed the bound, or the bound is a whole number of units
    z_terms = []
    for f in members:
        z_terms += [(q * c, v) for c, v in m.shared.N_terms[f, y]]
        if (f, y) in m.build and r < 1:
            z_terms.append((-q * (1.0 - r), m.build[f, y]))
    if not z_terms:
        return None
    terms = [t for f in S for t in _output_terms(m, data, f, y)]
    terms += [(-g * c, v) for c, v in z_terms]
    if with_export:
        terms.append((-1.0, m.exp[product, y]))
    return (None, _lin(terms), e + k * unit - g * k)


# --------------------------------------------------------------------------- supply covers
def demand_floor(data) -> dict[tuple[str, int], list[tuple[str, float]]]:
    """For each product p and year y, ``(B[p,y], [(chemistry, a)])``: the supply p's demand forces.

    Cells: ``B = sum_k D[k,y]`` with weights ``a = 1`` (the demand row). Material m: ``B = sum_k
    a[k,m] D[k,y]`` with the weights ``a[k,m] > 0`` of its intensity rows; a material with a negative
    intensity row is left out. Every cell not made locally is imported (``cimp``) or unmet.
    """
    out = {}
    for y in data.years:
        out["cells", y] = (sum(data.demand_gwh(k, y) for k in data.chemistries), [(k, 1.0) for k in data.chemistries])
    for mat in data.materials:
        rows = [(k, a) for (k, mm), a in data.intensity.items() if mm == mat and a != 0]
        if not rows or any(a < 0 for _, a in rows):
            continue
        for y in data.years:
            out[mat, y] = (sum(a * data.demand_gwh(k, y) for k, a in rows), rows)
    return out


def recipe_floors(m, data) -> dict[tuple[str, int], tuple[float, list]]:
    """For recipe inputs i: ``(B[i,y], X terms)`` with ``local[i,y] + X >= B[i,y]`` (valid).

    Products before their inputs (:func:`_products_first`). For a material q whose intensity rows
    are all >= 0: ``B_q = sum_k a[k,q] D[k,y] + sum_p r[p,q] B_p`` and ``X_q = sum_o imp[q,o,y] +
    sum_k a[k,q] (sum_o cimp[k,o,y] + unmet[k,y]) + sum_p r[p,q] X_p``. By induction: the balance of
    q gives ``local_q + imp_q >= sum_k a cells_k + sum_p r[p,q] local_p`` (exports >= 0), cells_k =
    D_k - cimp_k - unmet_k, and ``local_p >= B_p - X_p`` for every product p of q's recipes (r >= 0).
    A material with a negative intensity row gets no floor, and contributes nothing to its inputs'
    floors (``local_p >= 0`` is all that is used then). Only inputs of some recipe are returned.
    """
    allow_unmet = data.settings.allow_unmet_demand
    base = demand_floor(data)
    rows_of = {mat: [(k, a) for (k, mm), a in data.intensity.items() if mm == mat and a != 0] for mat in data.materials}
    floors: dict[tuple[str, int], tuple[float, list]] = {}
    inputs = {i for (p, i), a in data.recipes.items() if a > 0}
    for q in _products_first(data):
        if any(a < 0 for _, a in rows_of[q]):
            continue
        for y in data.years:
            B = base[q, y][0] if (q, y) in base else 0.0
            X = [(1.0, m.imp[q, o, y]) for o in m.shared.routes.get((q, y), ())]
            for k, a in rows_of[q]:
                X += [(a, m.cimp[k, o, y]) for o in m.shared.cell_routes.get((k, y), ())]
                if allow_unmet:
                    X.append((a, m.unmet[k, y]))
            for p, r in m.shared.recipe_uses.get(q, ()):
                if (p, y) in floors:
                    Bp, Xp = floors[p, y]
                    B += r * Bp
                    X += [(r * c, v) for c, v in Xp]
            floors[q, y] = (B, X)
    return {k: v for k, v in floors.items() if k[0] in inputs}


def supply_covers(m, data, recipes: bool = False) -> None:
    """Mixed-integer rounding of "local output plus the rest covers the demand" (valid).

    With ``recipes`` (switch ``recipe_covers``) the same rounding for recipe inputs, with the floor
    ``local[i,y] + X >= B[i,y]`` of :func:`recipe_floors` in place of the cells' use (rows
    ``s_recipe_cover``); the argument below holds with x = X + the other facilities' output.

    For a product p and year y let B = B[p,y] (:func:`demand_floor`). The demand row and the
    material balance give (``cells[k,y] = D[k,y] - sum_o cimp[k,o,y] - unmet[k,y]``; recipe use and
    exports only add to the use side, and a >= 0)

        sum_{f makes p} prod[f,y] + W >= B,   W = sum_o imp[p,o,y] + sum_k a[k,p] (sum_o cimp[k,o,y] + unmet[k,y])

    (for cells: W = sum_k (sum_o cimp[k,o,y] + unmet[k,y]), no material imports). Take a set S of
    p's facilities as in :func:`cover_cuts` (one class of buildable members sharing module size s
    and ramp-up r, plus every facility of p that cannot build), ``u = s/q`` and the whole number
    ``Z = sum_{f in S} (q N[f,y] - q (1 - r) build[f,y])``, so that ``sum_{f in S} prod[f,y] <=
    E_S + u Z``. With ``x = W + sum_{f makes p, f not in S} prod[f,y] >= 0`` this is
    ``Z + x / u >= b``, ``b = (B - E_S) / u``. When b > 0 is not whole, with ``g = B - E_S - u
    floor(b)`` (0 < g < u) the mixed-integer rounding inequality is

        x + g Z >= g ceil(b)

    It holds at every whole Z: for Z >= ceil(b) the right side is <= g Z (x >= 0); at Z = floor(b)
    it reads x >= g, which the cover needs; for Z < floor(b) the cover needs x >= B - E_S - u Z =
    g + u (floor(b) - Z) >= g (ceil(b) - Z) since u > g. The LP relaxation otherwise covers B with
    a fraction of a module (Z = b, x = 0); the cut makes it pay for the fraction's complement by
    importing g per missing whole module or building the module. S is each class and, in classes of
    two or more, each facility alone (the others go to x).

    Version 2: cell imports and recipes are in the derivation (imported cells are in W; recipe use
    only raises the use side); committed builds are whole modules like any other; vintage capex and
    ``exp <= local`` do not enter. Valid with every feature, so the optimum is unchanged.
    """
    floor_of = recipe_floors(m, data) if recipes else demand_floor(data)
    allow_unmet = data.settings.allow_unmet_demand
    rows = {}
    for product, fs, fixed, size, r, members, q in cover_classes(data):
        unit = size / q
        subsets = [tuple(members)] + ([(f,) for f in members] if len(members) > 1 else [])
        for sub in subsets:
            label = sub[0] if len(sub) == 1 else f"all of size {size:g} ramp-up {r:g}"
            S = set(sub) | set(fixed)
            for y in data.years:
                if (product, y) not in floor_of:
                    continue
                B, weights = floor_of[product, y]
                e = sum(data.existing_capacity(f, y) for f in S)
                b = (B - e) / unit
                if b <= 1e-9:
                    continue
                lo = math.floor(b + 1e-9)
                g = B - e - lo * unit
                if g < 1e-6 * unit:
                    continue  # b is whole: the LP relaxation of the cover is already tight
                z_terms = []
                for f in sub:
                    z_terms += [(q * c, v) for c, v in m.shared.N_terms[f, y]]
                    if (f, y) in m.build and r < 1:
                        z_terms.append((-q * (1.0 - r), m.build[f, y]))
                if not z_terms:
                    continue
                x_terms = [t for f in fs if f not in S for t in _output_terms(m, data, f, y)]
                if recipes:
                    x_terms += list(weights)  # the X terms of recipe_floors
                elif product != "cells":
                    x_terms += [(1.0, m.imp[product, o, y]) for o in m.shared.routes.get((product, y), ())]
                for k, a in (() if recipes else weights):
                    x_terms += [(a, m.cimp[k, o, y]) for o in m.shared.cell_routes.get((k, y), ())]
                    if allow_unmet:
                        x_terms.append((a, m.unmet[k, y]))
                rows[product, label, y] = (g * (lo + 1), _lin(x_terms + [(g * c, v) for c, v in z_terms]), None)
    _rows(m, "s_recipe_cover" if recipes else "s_supply_cover", rows)


# --------------------------------------------------------------------------- local-content covers
def content_covers(m, data) -> None:
    """Mixed-integer rounding (c-MIR) of the local-content row as a knapsack over modules (valid).

    In a year y with target s > 0 write ``w_k = s (1e6 v + sum_{m in M_c} p_m a[k,m]) - 1e6 v`` for
    the net local value each GWh of local cells of chemistry k needs. The row of
    :mod:`.local_content` reads ``sum_{m in M_c} p_m (local[m,y] - exp[m,y]) >= sum_k w_k
    cells[k,y]``; with ``exp >= 0``, ``cells[k,y] = D[k,y] - sum_o cimp[k,o,y] - unmet[k,y] <=
    D[k,y]`` it implies

        sum_{m in M_c} p_m local[m,y] + x >= R,   x = sum_{k: w_k > 0} w_k (sum_o cimp[k,o,y] + unmet[k,y]) >= 0,
        R = sum_k w_k D[k,y]

    Each facility f making m in M_c (p_m > 0) has ``prod[f,y] <= E[f,y] + u_f Z_f`` with
    ``u_f = s_f / q_f`` and the whole number ``Z_f = q_f N[f,y] - q_f (1 - r_f) build[f,y] >= 0``
    (:func:`cover_cuts`; a facility that cannot build has Z_f = 0). Hence the knapsack
    ``sum_f a_f Z_f + x >= beta`` with ``a_f = p_m u_f`` and ``beta = R - sum_f p_m E[f,y]``. For a
    divisor delta > 0 let ``alpha_f = a_f / delta``, ``b = beta / delta``, f0 = b - floor(b) > 0 and
    ``f_f = alpha_f - floor(alpha_f)``; the mixed-integer rounding inequality

        sum_f delta f0 (floor(alpha_f) + min(1, f_f / f0)) Z_f + x >= delta f0 ceil(b)

    is valid for every whole Z >= 0 and x >= 0 (the MIR of the <= form ``-sum alpha Z - x/delta <=
    -b``, multiplied by -delta f0). Divisors: each distinct a_f of a facility that can build. Facilities
    whose ramp-up has no small denominator stay out of the knapsack (their output is then moved to
    x, still >= 0).

    Version 2: imported cells are in x (they lower the local cells the row counts), recipes add no
    term to the row, ``exp <= local`` and exports only lower its left side, committed builds are whole
    modules, vintage capex does not enter. Valid with every feature; the optimum is unchanged.
    """
    v = data.settings.cell_conversion_value_usd_per_kwh
    mats = [mat for mat in data.cell_materials if data.materials[mat].reference_price_usd_per_unit > 0]
    price = {mat: data.materials[mat].reference_price_usd_per_unit for mat in mats}
    allow_unmet = data.settings.allow_unmet_demand
    rows = {}
    for y, s in data.local_content_target.items():
        if s <= 0 or y not in data.years:
            continue
        w = {}
        for k in data.chemistries:
            w[k] = s * 1e6 * v - 1e6 * v + s * sum(price[mat] * a for (kk, mat), a in data.intensity.items()
                                                      if kk == k and mat in price)
        R = sum(w[k] * data.demand_gwh(k, y) for k in data.chemistries)
        x_terms = []
        for k in data.chemistries:
            if w[k] > 0:
                x_terms += [(w[k], m.cimp[k, o, y]) for o in m.shared.cell_routes.get((k, y), ())]
                if allow_unmet:
                    x_terms.append((w[k], m.unmet[k, y]))
        beta = R
        items = []  # (a_f, Z terms)
        for mat in mats:
            for f in m.shared.makers[mat]:
                fac = data.facilities[f]
                q = _ramp_denominator(fac.ramp_up_first_year)
                if fac.can_build and q is None:
                    x_terms.append((price[mat], m.prodm[f, y]))
                    continue
                beta -= price[mat] * data.existing_capacity(f, y)
                if not (fac.can_build and m.shared.N_terms[f, y]):
                    continue
                z = [(q * c, var) for c, var in m.shared.N_terms[f, y]]
                if (f, y) in m.build and fac.ramp_up_first_year < 1:
                    z.append((-q * (1.0 - fac.ramp_up_first_year), m.build[f, y]))
                items.append((price[mat] * fac.module_size / q, z))
        if beta <= 0 or not items:
            continue
        for j, delta in enumerate(sorted({round(a, 6) for a, _ in items})):
            b = beta / delta
            f0 = b - math.floor(b)
            if f0 < 1e-3 or f0 > 1 - 1e-3:
                continue
            terms = list(x_terms)
            for a, z in items:
                alpha = a / delta
                fa = alpha - math.floor(alpha)
                coef = delta * f0 * (math.floor(alpha) + min(1.0, fa / f0))
                terms += [(coef * c, var) for c, var in z]
            rows[y, j] = (delta * f0 * math.ceil(b), _lin(terms), None)
    _rows(m, "s_content_cover", rows)


# --------------------------------------------------------------------------- window covers
#: window lengths (years) of :func:`window_covers`
WINDOW_LENGTHS: tuple[int, ...] = (2, 3, 5, 8)


def window_covers(m, data) -> None:
    """c-MIR of the supply covers summed over a window of years, in whole builds (valid).

    Take p, a class S as in :func:`supply_covers` (buildable members sharing module size s and
    ramp-up r, q and u = s/q as there, plus every facility of p that cannot build) and a window
    W = [y1, y2] of years. Summing the cover of :func:`supply_covers` over W:

        x_W + u sum_{y in W} Z_y >= beta,   x_W = sum_{y in W} x_y >= 0,   beta = sum_{y in W} (B[p,y] - E_S[y])

    In builds: ``Z_y = sum_{f in S} (q N[f,y] - q (1 - r) build[f,y])`` and ``N[f,y] = sum_{v <= y,
    y - v < L_f} build[f,v]``, so ``sum_{y in W} Z_y = sum_{f,v} c[f,v] build[f,v]`` with the whole
    numbers ``c[f,v] = q n[f,v] - q (1 - r) [v in W]`` (r q is whole), ``n[f,v]`` = the years of W in
    which a module of vintage v is in service (v..v+L_f-1). This is the knapsack ``sum alpha[f,v]
    build[f,v] + x_W / delta >= b`` with divisor ``delta = u |W|`` (a whole module over the whole
    window), ``alpha = u c / delta = c / |W|``, ``b = beta / delta``; builds are whole and >= 0,
    x_W >= 0. With f0 = b - floor(b) > 0 and ``f_a = alpha - floor(alpha)`` its mixed-integer
    rounding (the MIR of the <= form ``-sum alpha z - x/delta <= -b``, times -delta f0) is

        sum_{f,v} delta f0 (floor(alpha) + min(1, f_a / f0)) build[f,v] + x_W >= delta f0 ceil(b)

    valid at every whole build >= 0 and x_W >= 0. A module serving the whole window has alpha = 1,
    one serving part of it alpha < 1: the row says that the window's cumulative need, not met by
    imports, forces whole modules, each worth at most its share of the window. Rows with
    ``beta <= 0`` or f0 within 1e-3 of a whole number are skipped. S is each whole class (not its
    members alone); windows of :data:`WINDOW_LENGTHS` ending in each year.

    Version 2: the yearly covers it sums are valid with every feature (:func:`supply_covers`);
    committed builds are whole builds >= 0 like any other; vintage capex does not enter.
    """
    floor_of = demand_floor(data)
    allow_unmet = data.settings.allow_unmet_demand
    years = list(data.years)
    rows = {}
    for product, fs, fixed, size, r, members, q in cover_classes(data):
        unit = size / q
        S = set(members) | set(fixed)
        label = f"size {size:g} ramp-up {r:g}"
        for j2, y2 in enumerate(years):
            for w in WINDOW_LENGTHS:
                if j2 - w + 1 < 0:
                    continue
                win = years[j2 - w + 1: j2 + 1]
                if any((product, y) not in floor_of for y in win):
                    continue
                beta = sum(floor_of[product, y][0] - sum(data.existing_capacity(f, y) for f in S) for y in win)
                delta = unit * w
                b = beta / delta
                if b <= 1e-9:
                    continue
                f0 = b - math.floor(b)
                if f0 < 1e-3 or f0 > 1 - 1e-3:
                    continue
                terms = []
                for f in members:
                    life = data.facilities[f].lifetime_years
                    for v in data.build_years(f):
                        if v > y2 or (f, v) not in m.build:
                            continue
                        n = sum(1 for y in win if v <= y and y - v < life)
                        c = q * n - (round(q * (1.0 - r)) if v in win else 0)
                        if c == 0:
                            continue
                        alpha = c / w
                        fa = alpha - math.floor(alpha)
                        coef = delta * f0 * (math.floor(alpha) + min(1.0, fa / f0))
                        if coef != 0:
                            terms.append((coef, m.build[f, v]))
                if not terms:
                    continue
                for y in win:
                    _, weights = floor_of[product, y]
                    terms += [t for f in fs if f not in S for t in _output_terms(m, data, f, y)]
                    if product != "cells":
                        terms += [(1.0, m.imp[product, o, y]) for o in m.shared.routes.get((product, y), ())]
                    for k, a in weights:
                        terms += [(a, m.cimp[k, o, y]) for o in m.shared.cell_routes.get((k, y), ())]
                        if allow_unmet:
                            terms.append((a, m.unmet[k, y]))
                rows[product, label, y2, w] = (delta * f0 * math.ceil(b), _lin(terms), None)
    _rows(m, "s_window_cover", rows)


# --------------------------------------------------------------------------- integer stocks
def integer_in_service(m, data) -> None:
    """``s_n[f,y] = N[f,y]``, integer in [0, M] (valid: N is a sum of integers, N <= K <= M; unchanged
    by Version 2, whose committed builds are integer builds too)."""
    idx = [(f, y) for f in data.facilities for y in data.years if m.shared.N_terms[f, y]]
    m.s_n = pyo.Var(idx, domain=pyo.NonNegativeIntegers, bounds=lambda _m, f, y: (0, data.facilities[f].max_modules))
    rows = {(f, y): (0.0, _lin([(1.0, m.s_n[f, y])] + [(-c, v) for c, v in m.shared.N_terms[f, y]]), 0.0) for f, y in idx}
    _rows(m, "s_n_def", rows)


def integer_product_total(m, data) -> None:
    """``s_np[p,y] = sum_{f making p} N[f,y]``, integer (valid: a sum of integers; unchanged by Version 2)."""
    terms = {}
    for f, fac in data.facilities.items():
        for y in data.years:
            if m.shared.N_terms[f, y]:
                terms.setdefault((fac.product, y), []).extend(m.shared.N_terms[f, y])
    m.s_np = pyo.Var(list(terms), domain=pyo.NonNegativeIntegers)
    rows = {k: (0.0, _lin([(1.0, m.s_np[k])] + [(-c, v) for c, v in t]), 0.0) for k, t in terms.items()}
    _rows(m, "s_np_def", rows)


# --------------------------------------------------------------------------- entry point
def add(m: pyo.ConcreteModel, data: "CaseData", s: Strengthening) -> None:
    """Apply the switched-on functions (after the core blocks; the capacity block did the link forms)."""
    if s.bounds:
        implied_bounds(m, data)
    if s.open_at_first_build:
        open_at_first_build(m, data)
    if s.symmetry or s.dominance:
        fill_order(m, data, dominance=s.dominance)
    if s.cover_cuts:
        cover_cuts(m, data)
    if s.open_output:
        open_output(m, data)
    if s.supply_covers:
        supply_covers(m, data)
    if s.recipe_covers:
        supply_covers(m, data, recipes=True)
    if s.content_covers:
        content_covers(m, data)
    if s.window_covers:
        window_covers(m, data)
    if s.integer_in_service:
        integer_in_service(m, data)
    if s.integer_product_total:
        integer_product_total(m, data)
