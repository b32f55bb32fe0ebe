"""The validated case as immutable records: :class:`CaseData` and its parts, the only thing the model sees.

Built by :func:`model.data.build_case`; mappings are read-only and derived quantities are methods.
Nothing here imports Pyomo or reads files.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from . import schema as S
from .workbook import RawWorkbook

@dataclass(frozen=True)
class Settings:
    start_year: int
    end_year: int
    base_year: int
    discount_rate: float = 0.08
    allow_unmet_demand: bool = True
    unmet_penalty_usd_per_kwh: float = 1000.0
    mip_rel_gap: float = 1e-4
    time_limit_s: float = 600.0
    cell_conversion_value_usd_per_kwh: float = 0.0  # version 2: local value added per kWh of local cells


@dataclass(frozen=True)
class Material:
    material: str
    unit: str
    reference_price_usd_per_unit: float


@dataclass(frozen=True)
class Facility:
    facility: str
    product: str
    site: str
    existing_capacity: float
    existing_from_year: int
    module_size: float
    max_modules: int
    earliest_online_year: int
    lead_time_years: int
    lifetime_years: int
    capex_usd_per_module: float
    fixed_om_usd_per_module_year: float
    existing_fixed_om_usd_per_year: float
    variable_cost_usd_per_unit: float
    opening_cost_usd: float
    ramp_up_first_year: float
    capex_change_per_year: float = 0.0  # version 2: capex of a module online in v scales by (1+c)**(v-base_year)

    @property
    def makes_cells(self) -> bool:
        return self.product == S.CELLS

    @property
    def can_build(self) -> bool:
        return self.max_modules > 0

    @property
    def has_opening_decision(self) -> bool:
        return self.opening_cost_usd > 0 and self.max_modules > 0


@dataclass(frozen=True)
class ImportRoute:
    material: str
    origin: str
    price_usd_per_unit: float
    price_escalation_per_year: float
    freight_usd_per_unit: float
    tariff_rate: float
    max_per_year: float | None
    first_year: int


@dataclass(frozen=True)
class ExportOption:
    material: str
    price_usd_per_unit: float
    max_per_year: float | None


@dataclass(frozen=True)
class CellImportRoute:
    """Version 2: cells of one chemistry bought from one origin (GWh; prices per kWh)."""

    chemistry: str
    origin: str
    price_usd_per_kwh: float
    price_escalation_per_year: float
    freight_usd_per_kwh: float
    tariff_rate: float
    max_gwh_per_year: float | None
    first_year: int


def _empty() -> Mapping:
    return MappingProxyType({})


@dataclass(frozen=True)
class CaseData:
    """A whole case, validated. Mappings are read-only; derived quantities are methods."""

    settings: Settings
    years: tuple[int, ...]
    chemistries: tuple[str, ...]
    materials: Mapping[str, Material]
    vehicles: Mapping[int, float]
    kwh_per_vehicle: Mapping[int, float]
    share: Mapping[tuple[str, int], float]  # (chemistry, year) -> share
    intensity: Mapping[tuple[str, str], float]  # (chemistry, material) -> units per GWh
    facilities: Mapping[str, Facility]
    imports: Mapping[tuple[str, str], ImportRoute]  # (material, origin)
    exports: Mapping[str, ExportOption]
    local_content_target: Mapping[int, float]  # year -> min local value share (years with a target)
    # version 2 (formulation.md "Version 2"); empty when the optional sheets are absent
    recipes: Mapping[tuple[str, str], float] = field(default_factory=_empty)  # (product, input) -> input units per unit of product
    cell_imports: Mapping[tuple[str, str], CellImportRoute] = field(default_factory=_empty)  # (chemistry, origin)
    committed_builds: Mapping[tuple[str, int], int] = field(default_factory=_empty)  # (facility, year) -> modules committed
    raw: RawWorkbook | None = field(default=None, compare=False, repr=False)
    warnings: tuple[str, ...] = ()

    # ---- derived parameters (formulation.md, "Derived parameters")
    def demand_gwh(self, k: str, y: int) -> float:
        """D[k,y] = vehicles[y] * kwh_per_vehicle[y] * share[k,y] / 1e6."""
        return self.vehicles[y] * self.kwh_per_vehicle[y] * self.share.get((k, y), 0.0) / 1e6

    def discount_factor(self, y: int) -> float:
        """DF[y] = (1 + r) ** -(y - base_year)."""
        return (1.0 + self.settings.discount_rate) ** -(y - self.settings.base_year)

    def crf(self, f: str) -> float:
        """CRF = r / (1 - (1 + r) ** -n), and 1/n when r = 0."""
        r = self.settings.discount_rate
        n = self.facilities[f].lifetime_years
        # r / -expm1(-n log1p(r)) is r / (1 - (1 + r) ** -n) without the cancellation that divides
        # by zero for a denormal rate such as 5e-324 (it then tends to 1/n, as it should)
        return 1.0 / n if r == 0 else r / -math.expm1(-n * math.log1p(r))

    def landed_cost(self, m: str, o: str, y: int) -> float:
        """c[m,o,y] = (1 + tariff) * price * (1 + escalation) ** (y - base_year) + freight."""
        rt = self.imports[(m, o)]
        return ((1.0 + rt.tariff_rate) * rt.price_usd_per_unit
                * (1.0 + rt.price_escalation_per_year) ** (y - self.settings.base_year) + rt.freight_usd_per_unit)

    def cell_landed_cost_usd_per_kwh(self, k: str, o: str, y: int) -> float:
        """(1 + tariff) * price * (1 + escalation) ** (y - base_year) + freight, USD/kWh (version 2)."""
        rt = self.cell_imports[(k, o)]
        return ((1.0 + rt.tariff_rate) * rt.price_usd_per_kwh
                * (1.0 + rt.price_escalation_per_year) ** (y - self.settings.base_year) + rt.freight_usd_per_kwh)

    def cell_import_years(self, k: str, o: str) -> tuple[int, ...]:
        first = self.cell_imports[(k, o)].first_year
        return tuple(y for y in self.years if y >= first)

    def capex_usd(self, f: str, v: int) -> float:
        """capex[f,v] = capex_usd_per_module * (1 + capex_change_per_year) ** (v - base_year) (version 2)."""
        fac = self.facilities[f]
        if fac.capex_change_per_year == 0:
            return fac.capex_usd_per_module
        return fac.capex_usd_per_module * (1.0 + fac.capex_change_per_year) ** (v - self.settings.base_year)

    def recipe_inputs(self, p: str) -> tuple[tuple[str, float], ...]:
        """``(input, amount_per_unit)`` of product p's recipe rows with a positive amount."""
        return tuple((i, a) for (pp, i), a in self.recipes.items() if pp == p and a > 0)

    @property
    def cell_materials(self) -> tuple[str, ...]:
        """M_c: materials with an intensity row of positive amount (the cells' direct materials)."""
        mc = {mat for (k, mat), a in self.intensity.items() if a > 0}
        return tuple(mat for mat in self.materials if mat in mc)

    def existing_capacity(self, f: str, y: int) -> float:
        fac = self.facilities[f]
        return fac.existing_capacity if y >= fac.existing_from_year else 0.0

    def existing_fixed_om(self, f: str, y: int) -> float:
        fac = self.facilities[f]
        return fac.existing_fixed_om_usd_per_year if (fac.existing_capacity > 0 and y >= fac.existing_from_year) else 0.0

    def build_years(self, f: str) -> tuple[int, ...]:
        """Years in which modules of f may come online (build[f,y] exists)."""
        fac = self.facilities[f]
        if not fac.can_build:
            return ()
        return tuple(y for y in self.years if y >= fac.earliest_online_year)

    def import_years(self, m: str, o: str) -> tuple[int, ...]:
        first = self.imports[(m, o)].first_year
        return tuple(y for y in self.years if y >= first)

    def facilities_making(self, product: str) -> tuple[str, ...]:
        return tuple(f for f, fac in self.facilities.items() if fac.product == product)

    @property
    def cell_facilities(self) -> tuple[str, ...]:
        return self.facilities_making(S.CELLS)

    @property
    def material_facilities(self) -> tuple[str, ...]:
        return tuple(f for f, fac in self.facilities.items() if not fac.makes_cells)
