"""One run, end to end: workbook -> overrides -> validated data -> model -> solve -> tables -> check.

``solve_case`` is the function the CLI, the tests and the sweep call; it does no file writing.
``run_case`` adds the report. Each phase is timed for the summary and the benchmarks.
"""
from __future__ import annotations

import dataclasses
import platform
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Sequence

from . import MODEL_VERSION, __version__
from .data import CaseData, build_case
from .errors import InputError
from .results import Results
from .solve import SolverOptions, solve_model, solver_version, write_model
from .report import inputs_from_report
from .workbook import RawWorkbook, read_workbook


@dataclass
class Timer:
    phases: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def phase(self, name: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + time.perf_counter() - t0


def prepare_case(path_or_raw, overrides: Sequence[str] = (), scenario: str | None = None,
                 timer: Timer | None = None) -> tuple[CaseData, list[dict]]:
    """Read (unless given a RawWorkbook), apply scenario rows then ``--set`` overrides, validate."""
    timer = timer or Timer()
    with timer.phase("read"):
        raw = path_or_raw if isinstance(path_or_raw, RawWorkbook) else read_workbook(path_or_raw)
        raw = inputs_from_report(raw)  # a results workbook is a valid case: use its echoed inputs
    log: list[dict] = []
    with timer.phase("validate"):
        if overrides or scenario:
            from .overrides import apply_run, explain

            raw, log = apply_run(raw, scenario, overrides)
            try:
                data = build_case(raw)
            except InputError as exc:  # point problems back at the override that wrote the cell
                raise explain(exc, log) from None
        else:
            data = build_case(raw)
    return data, log


def solve_case(data: CaseData, *, time_limit_s: float | None = None, mip_rel_gap: float | None = None,
               threads: int | None = None, write_model_path: str | None = None, tee: bool = False,
               timer: Timer | None = None, check: bool = True, solver_options: dict | None = None) -> Results:
    """Build, solve, extract and independently verify; never writes the report."""
    from .formulation import build_model
    from .results import extract

    timer = timer or Timer()
    with timer.phase("build"):
        m = build_model(data)
    if write_model_path:
        with timer.phase("write_model"):
            write_model(m, write_model_path)
    opts = SolverOptions.from_settings(data.settings, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap,
                                       threads=threads, tee=tee)
    if solver_options:  # further HiGHS options by name, e.g. {"mip_max_improving_sols": 1}
        opts = dataclasses.replace(opts, extra=tuple(solver_options.items()))
    with timer.phase("solve"):
        info = solve_model(m, opts)
    if info.has_solution:
        with timer.phase("extract"):
            results = extract(m, data, info)
        if check:
            from .verify import verify

            with timer.phase("verify"):
                results.notes.extend(verify(results))
    else:
        results = Results(case=data, solve=info)
    results.model = m  # kept for follow-up analyses (marginal costs, infeasibility explanation)
    results.timings = timer.phases
    results.solver_options = opts
    return results


def summarise(results: Results, *, input_file: str = "", overrides_log: Sequence[dict] = (),
              scenario: str | None = None) -> dict:
    """The summary sheet: status, KPIs and everything needed to repeat the run exactly."""
    import pyomo

    data, info = results.case, results.solve
    t = results.tables
    s: dict = {}
    s["status"] = info.status
    s["objective_npv_usd"] = info.objective
    s["best_bound_usd"] = info.bound
    s["mip_gap"] = info.mip_gap
    s["solve_seconds"] = round(info.solve_seconds, 3)
    unmet = float(t["demand"]["unmet_gwh"].sum()) if "demand" in t else None
    s["unmet_gwh_total"] = unmet
    if "build_schedule" in t:
        b = t["build_schedule"]
        for prod, cap in b[b.year == data.years[-1]].groupby("product")["capacity"].sum().items():
            s[f"capacity_{prod}_{data.years[-1]}"] = cap
        s["modules_built_total"] = int(b["modules_built"].sum())
    if "local_content" in t:
        lc = t["local_content"].dropna(subset=["local_value_share"])
        if len(lc):
            s[f"local_value_share_{int(lc.year.iloc[-1])}"] = float(lc.local_value_share.iloc[-1])
    s["solver_message"] = info.message or info.termination
    s["input_file"] = input_file or (data.raw.path if data.raw is not None else "")
    s["input_sha256"] = data.raw.sha256 if data.raw is not None else ""
    s["scenario"] = scenario or ""
    if overrides_log:
        from .overrides import describe

        for i, line in enumerate(describe(overrides_log), start=1):
            s[f"override_{i}"] = line
    else:
        s["overrides"] = "none"
    s["solver"] = info.solver
    s["solver_version"] = info.solver_version or solver_version()
    s["model_version"] = MODEL_VERSION
    s["battery_plan_version"] = __version__
    s["pyomo_version"] = pyomo.version.version
    s["python_version"] = platform.python_version()
    opts = getattr(results, "solver_options", None)
    if opts is not None:
        s["setting_mip_rel_gap"] = opts.mip_rel_gap
        s["setting_time_limit_s"] = opts.time_limit_s
        s["setting_threads"] = opts.threads or "HiGHS default"
    for key, value in vars(data.settings).items():
        s[f"case_{key}"] = value
    s["run_at_utc"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for phase, sec in results.timings.items():
        s[f"seconds_{phase}"] = round(sec, 4)
    for i, w in enumerate(data.warnings, start=1):
        s[f"warning_{i}"] = w
    return s
