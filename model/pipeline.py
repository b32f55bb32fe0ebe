"""One run, put together in one place; nothing here writes a file.

* :func:`prepare_case`: workbook -> scenario rows and ``--set`` overrides -> validated :class:`CaseData`;
* :func:`solve_case`: build the model -> solve -> result tables -> independent check (:mod:`model.verify`);
* :func:`run_case`: the whole run of ``battery-plan run``: read and prepare -> in the solver's child
  process (:mod:`model.isolate`) ``solve_case`` and then the marginal costs (a plan) or the
  explanation (no plan) -> the summary (:func:`summarise`). The CLI writes the report from its
  Results; the sweep worker calls ``prepare_case`` and ``solve_case``.

Each phase is timed (:class:`Timer`) for the summary and the benchmarks.
"""
from __future__ import annotations

import dataclasses
import platform
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from . import MODEL_VERSION, __version__
from .data import CaseData, build_case
from .errors import InputError
from .results import Results
from .solve import SolverOptions, solve_model, solver_version, write_model
from .results_workbook import inputs_from_report
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
                 timer: Timer | None = None, reapply_scenario: bool = False) -> tuple[CaseData, list[dict]]:
    """Read (unless given a RawWorkbook), apply scenario rows then ``--set`` overrides, validate.

    A results workbook whose inputs already carry ``scenario`` (its summary row
    ``scenarios_applied``) is refused unless ``reapply_scenario``: applying a scenario twice
    compounds its changes (a x1.3 demand becomes x1.69) without a word.
    """
    timer = timer or Timer()
    with timer.phase("read"):
        raw = path_or_raw if isinstance(path_or_raw, RawWorkbook) else read_workbook(path_or_raw)
        if scenario and not reapply_scenario:
            _refuse_reapplied_scenario(raw, scenario)
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


def _refuse_reapplied_scenario(raw: RawWorkbook, scenario: str) -> None:
    from .errors import Problem
    from .results_workbook import run_history

    applied = run_history(raw).scenarios
    if any(str(s).strip().lower() == str(scenario).strip().lower() for s in applied):
        name = Path(raw.path).name if raw.path else "the input"
        raise InputError(Problem(
            "summary", None, "scenarios_applied",
            f"{name} is a results workbook whose inputs already carry scenario '{scenario}' (applied by an "
            f"earlier run: {'; '.join(applied)}); applying it again would compound its changes. Run the original "
            f"case with --scenario {scenario}, or add --reapply-scenario to apply it once more on purpose."))


def solve_case(data: CaseData, *, time_limit_s: float | None = None, mip_rel_gap: float | None = None,
               threads: int | None = None, write_model_path: str | None = None, tee: bool = False,
               timer: Timer | None = None, check: bool = True, solver_options: dict | None = None,
               solver=None) -> Results:
    """Build, solve, extract and independently verify; never writes the report.

    ``solver``: an object with ``solve(model, SolverOptions) -> SolveInfo`` (the
    sweep worker's, which times the solve's CPU); by default :func:`model.solve.solve_model`.
    """
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
        info = solver.solve(m, opts) if solver is not None else solve_model(m, opts)
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


class _Silent:
    """The progress reporter of a run nobody watches."""

    def step(self, what: str) -> None:
        pass

    def write(self, text: str) -> None:
        pass


def run_case(case, *, overrides: Sequence[str] = (), scenario: str | None = None, reapply_scenario: bool = False,
             prepared: tuple[CaseData, list[dict]] | None = None, time_limit_s: float | None = None,
             mip_rel_gap: float | None = None, threads: int | None = None, write_model_path: str | None = None,
             tee: bool = False, progress=None) -> Results:
    """One run of a case (a path or a RawWorkbook), without writing the report.

    Read -> :func:`prepare_case` (unless ``prepared``, the ``(data, log)`` it returned) -> in a forked
    child (:func:`model.isolate.run_isolated`: a crash of HiGHS becomes a reported failure)
    :func:`solve_case`, then the marginal costs when there is a plan or the explanation when there
    is none -> :func:`summarise`, carrying on the provenance of a results workbook given as input.
    ``progress`` has ``step(text)`` and ``write(text)`` (the CLI's progress bar); raises
    :class:`ModelError` when HiGHS fails, so a failed solve never replaces an earlier output.
    """
    from .errors import ModelError
    from .isolate import run_isolated
    from .results_workbook import run_history

    progress = progress or _Silent()
    case_path = Path(case.path) if isinstance(case, RawWorkbook) else Path(case)
    timer = Timer()
    progress.step("reading and validating")
    with timer.phase("read"):
        raw = case if isinstance(case, RawWorkbook) else read_workbook(case)
    prior = run_history(raw)  # a results workbook as input: carry its provenance on
    if prepared is not None:
        data, log = prepared
    else:
        data, log = prepare_case(raw, overrides=overrides, scenario=scenario, timer=timer,
                                 reapply_scenario=reapply_scenario)
    n_int = sum(1 for f in data.facilities for _ in data.build_years(f))
    progress.write(f"case {case_path.name}{' / scenario ' + scenario if scenario else ''}: {len(data.years)} years, "
                   f"{len(data.facilities)} facilities, {len(data.imports)} import routes, {n_int} build decisions")
    for w in data.warnings:
        progress.write(f"warning: {w}")
    progress.step("building and solving with HiGHS")
    # Modules are imported here first, so that each child (one per scenario) does not import them again.
    from . import diagnose, formulation, marginals, results as _results, verify  # noqa: F401
    import pyomo.contrib.solver.solvers.highs  # noqa: F401
    results = run_isolated(_solve_and_analyse, data, timer, dict(
        time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap, threads=threads, write_model_path=write_model_path,
        tee=tee))
    results.case = data
    timer.phases = results.timings
    if results.solve.status == "error":
        raise ModelError(f"HiGHS failed: {results.solve.message or results.solve.termination}")
    # the input is recorded by its absolute path and SHA-256 (default outputs are checked against them)
    results.summary = summarise(results, input_file=str(case_path.resolve()), overrides_log=log,
                                scenario=scenario, history=prior.runs, scenarios_applied=prior.scenarios)
    return results


def _solve_and_analyse(data: CaseData, timer: Timer, solve_args: dict) -> Results:
    """Everything of a run that calls HiGHS: solve, verify, marginal costs or the explanation.

    Runs in the solver's child process; returns the Results without the Pyomo model and the case
    (the parent has the case; neither travels through a pipe)."""
    from .diagnose import explain
    from .marginals import add_marginal_costs

    results = solve_case(data, timer=timer, **solve_args)
    if results.solve.status != "error":
        with timer.phase("explain"):
            if results.solve.has_solution:
                add_marginal_costs(results)
            else:
                explain(results)
    results.timings = timer.phases
    results.model = None
    results.case = None
    return results


def summarise(results: Results, *, input_file: str = "", overrides_log: Sequence[dict] = (),
              scenario: str | None = None, history: Sequence[str] = (),
              scenarios_applied: Sequence[str] = ()) -> dict:
    """The summary sheet: status, the planner's KPIs (:func:`model.kpis.kpis`) and the run's provenance.

    ``history`` lists the earlier runs whose results workbook became this run's input and
    ``scenarios_applied`` the scenarios those runs applied (:func:`model.results_workbook.run_history`), so
    the provenance survives re-runs. The report groups the keys in sections (plan, cost, demand,
    local content, run provenance) with units and meanings.
    """
    import pyomo

    from .kpis import kpis
    from .output_schema import COST_KEY

    data, info = results.case, results.solve
    t = results.tables
    s: dict = {}
    s["status"] = info.status
    k = kpis(results) if info.has_solution else {}
    s[COST_KEY] = info.objective if info.objective is not None else k.get(COST_KEY)
    s.update({key: v for key, v in k.items() if key != COST_KEY})
    if "unmet_gwh_total" not in s:
        s["unmet_gwh_total"] = float(t["demand"]["unmet_gwh"].sum()) if "demand" in t else None
    if "demand" in t:
        s["demand_gwh_total"] = float(t["demand"]["demand_gwh"].sum())
        for col in ("local_gwh", "imported_gwh"):  # version 2 demand columns
            if col in t["demand"].columns:
                s[f"{col}_total"] = float(t["demand"][col].sum())
    if "costs" in t and len(t["costs"]):
        by = t["costs"].groupby("category", sort=False)["discounted_usd"].sum()
        for cat, v in by.items():
            if cat != "unmet_penalty":
                s[f"cost_{cat}_usd"] = float(v)
    s["best_bound_usd"] = info.bound
    s["mip_gap"] = info.mip_gap
    s["solve_seconds"] = round(info.solve_seconds, 3)
    s["solver_message"] = info.message or info.termination
    s["input_file"] = input_file or (data.raw.path if data.raw is not None else "")
    s["input_sha256"] = data.raw.sha256 if data.raw is not None else ""
    s["scenario"] = scenario or ""
    applied = list(scenarios_applied) + ([scenario] if scenario else [])
    s["scenarios_applied"] = "; ".join(applied) if applied else "none"
    if overrides_log:
        from .overrides import describe

        for i, line in enumerate(describe(overrides_log), start=1):
            s[f"override_{i}"] = line
    else:
        s["overrides"] = "none"
    for i, line in enumerate(history, start=1):
        s[f"history_{i}"] = line
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
