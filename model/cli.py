"""Command line: ``battery-plan [run|validate|template|compare|sweep|verify] ...`` (interface.md).

Thin by design: parse arguments, call the pipeline, print a short summary, map outcomes to exit
statuses (0 solved, 1 infeasible/unbounded/no plan, 2 bad input or arguments). Bad input never
shows a traceback and never writes or overwrites an output file.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from .errors import InputError, ModelError
from .interrupt import request_stop, stop_requested
from .outputs import MODEL_SUFFIXES, figure_paths, plan_outputs

EXIT_OK, EXIT_NO_PLAN, EXIT_BAD_INPUT = 0, 1, 2
DEFAULT_CASE = Path("inputs") / "base_case.xlsx"


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # exit 2 with a short usage line, as argparse does, but in our words
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def _default_case() -> Path:
    if DEFAULT_CASE.exists():
        return DEFAULT_CASE
    repo = Path(__file__).resolve().parents[1] / DEFAULT_CASE
    return repo if repo.exists() else DEFAULT_CASE


def default_output(case: Path, suffix: str = "results") -> Path:
    return Path("outputs") / f"{Path(case).stem}_{suffix}.xlsx"


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="battery-plan", description="Plan Morocco's EV battery value chain: what to build, when, make or buy.")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    r = sub.add_parser("run", help="solve one case and write the results workbook")
    r.add_argument("case", type=Path, help="input workbook (.xlsx); an output workbook also works")
    r.add_argument("-o", "--output", type=Path, help="results workbook (default outputs/<case>_results.xlsx)")
    r.add_argument("--set", dest="overrides", action="append", default=[], metavar="ADDR=VALUE",
                   help="override an input, e.g. settings.discount_rate=0.05 or 'facilities[*].capex_usd_per_module*=1.2'")
    r.add_argument("--scenario", help="apply the rows of this scenario from the 'scenarios' sheet ('all' runs the base "
                   "case and each scenario, and compares them with the base case)")
    r.add_argument("--reapply-scenario", action="store_true",
                   help="apply --scenario even if the input (a results workbook) already carries it")
    r.add_argument("--time-limit", type=float, help="HiGHS time limit in seconds (overrides the settings sheet)")
    r.add_argument("--mip-gap", type=float, help="relative MIP gap (overrides the settings sheet)")
    r.add_argument("--threads", type=int, help="HiGHS threads (default: HiGHS's own choice)")
    r.add_argument("--write-model", type=Path, metavar="FILE.mps", help="also write the model (MPS or LP by extension)")
    # PNG figures are on request: the workbook carries its own Excel charts, and drawing the PNGs
    # (matplotlib) costs more than everything else of a small run (docs/performance.md)
    r.add_argument("--figures", action="store_true", help="also write PNG figures next to the workbook (in figures/)")
    r.add_argument("--no-figures", action="store_true", help="do not write PNG figures (the default; kept for scripts)")
    r.add_argument("--tee", action="store_true", help="show the HiGHS log")
    r.add_argument("-q", "--quiet", action="store_true", help="print only the result line")

    v = sub.add_parser("validate", help="check a workbook against the schema; writes nothing")
    v.add_argument("case", type=Path)

    t = sub.add_parser("template", help="write an empty, documented input workbook")
    t.add_argument("output", type=Path)

    c = sub.add_parser("compare", help="compare two results workbooks")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    c.add_argument("-o", "--output", type=Path, help="write the comparison workbook here")

    s = sub.add_parser("sweep", help="batch sensitivity sweep defined in the case's 'sensitivity' sheet")
    s.add_argument("case", type=Path)
    s.add_argument("-o", "--output", type=Path)
    s.add_argument("--workers", type=int, default=None, help="worker processes (default: number of cores)")
    s.add_argument("--scheduler", help="address of an existing Dask scheduler, e.g. tcp://host:8786")
    s.add_argument("--samples", type=int, help="number of samples for sampled designs")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--fresh", action="store_true", help="ignore stored results of an earlier run of this sweep")
    s.add_argument("--definition", type=Path, metavar="FILE.csv",
                   help="sweep definition (.csv or .xlsx, columns of the 'sensitivity' sheet) instead of the case's sheet")

    w = sub.add_parser("verify", help="recheck a results workbook (every constraint and cost) against a case")
    w.add_argument("workbooks", type=Path, nargs="+", metavar="WORKBOOK",
                   help="CASE.xlsx RESULTS.xlsx, or RESULTS.xlsx alone (checked against the inputs it carries)")
    return p


def _on_signal(signum, frame):
    request_stop()  # a HiGHS solve cut short by this signal reports 'interrupted', not a solver error
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv:
        argv = ["run", str(_default_case())]
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
    except ValueError:  # not in the main thread (embedded use)
        pass
    try:
        try:
            return COMMANDS[args.command](args)
        except Exception:
            if stop_requested():  # a signal surfaced as another error (e.g. inside a library import)
                raise KeyboardInterrupt from None
            raise
    except InputError as exc:
        print(exc.report(), file=sys.stderr)
        return EXIT_BAD_INPUT
    except ModelError as exc:
        print(f"error: {exc}\nNo results were written.", file=sys.stderr)
        return EXIT_NO_PLAN
    except KeyboardInterrupt:
        print("interrupted: no partial output was written", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        # leave at once: finalizers of half-built objects (an open zip being saved) would only
        # print noise; temporary files were already removed by the atomic writers
        os._exit(130)
    except MemoryError:
        print("error: out of memory; no output was written", file=sys.stderr)
        return EXIT_NO_PLAN
    except BrokenPipeError:
        # the reader of our output went away (``battery-plan verify ... | head``): files were already
        # published or not started; say nothing more (stdout is gone) and leave like other CLI tools do
        try:  # so that the interpreter's own flush at exit does not fail again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):  # stdout is not a file (embedded use, tests)
            pass
        return EXIT_NO_PLAN
    except Exception as exc:  # last resort: a clear line, the traceback only on request
        if os.environ.get("BATTERY_PLAN_DEBUG"):
            raise
        print(f"internal error: {type(exc).__name__}: {exc}\n(set BATTERY_PLAN_DEBUG=1 to see the traceback; "
              "no output was written)", file=sys.stderr)
        return EXIT_NO_PLAN


# --------------------------------------------------------------------------- commands
def cmd_validate(args) -> int:
    from .data import load_case

    data = load_case(args.case)
    fac = data.facilities
    print(f"{args.case}: valid. {len(data.years)} years {data.years[0]}-{data.years[-1]}, "
          f"{len(data.chemistries)} chemistries, {len(data.materials)} materials, {len(fac)} facilities, "
          f"{len(data.imports)} import routes, {len(data.exports)} exportable, "
          f"{len(data.local_content_target)} local-content targets")
    for w in data.warnings:
        print(f"warning: {w}")
    return EXIT_OK


def cmd_template(args) -> int:
    from .template import write_template

    _refuse_overwriting_inputs(args.output, [])
    path = write_template(args.output)
    print(f"template written to {path}")
    return EXIT_OK


def _refuse_overwriting_inputs(out: Path, inputs: list[Path]) -> None:
    plan_outputs([out], inputs, workbooks=[out])


def scenario_outputs(base: Path, names: list[str], *, with_base: bool = False) -> tuple[dict[str, Path], Path]:
    """One workbook per scenario (and, keyed :data:`BASE_KEY`, the base case) and the comparison,
    all distinct whatever the names.

    Names are made file-safe (``a b``, ``a_b`` and ``a/b`` all become ``a_b``); names that would
    then share a file (case ignored) get a short hash of the real name, so no scenario's results
    overwrite another's.
    """
    import hashlib

    cmp_out = base.with_name(f"{base.stem}_comparison.xlsx")
    taken = {cmp_out.name.casefold()}
    if with_base:
        outs0 = {BASE_KEY: base.with_name(f"{base.stem}_base.xlsx")}
        taken.add(outs0[BASE_KEY].name.casefold())
    else:
        outs0 = {}
    safe = {n: _safe(n) for n in names}
    count: dict[str, int] = {}
    for n in names:
        count[safe[n].casefold()] = count.get(safe[n].casefold(), 0) + 1
    outs: dict[str, Path] = dict(outs0)
    for n in names:
        stem = safe[n]
        if count[stem.casefold()] > 1:
            stem = f"{stem}_{hashlib.sha256(str(n).encode()).hexdigest()[:8]}"
        out = base.with_name(f"{base.stem}_{stem}.xlsx")
        if out.name.casefold() in taken:
            out = base.with_name(f"{base.stem}_{stem}_scenario.xlsx")
        outs[n] = out
    return outs, cmp_out


def _check_run_arguments(args) -> None:
    """Arguments are checked before any work (exit 2), never discovered wrong after a solve."""
    problems = []
    if args.time_limit is not None and not (args.time_limit > 0 and args.time_limit < float("inf")):
        problems.append("--time-limit must be a number of seconds > 0")
    if args.mip_gap is not None and not 0 <= args.mip_gap < 1:
        problems.append("--mip-gap must be in [0, 1)")
    if args.threads is not None and not 1 <= args.threads <= 1024:
        problems.append("--threads must be between 1 and 1024")
    if args.write_model is not None and Path(args.write_model).suffix.lower() not in MODEL_SUFFIXES:
        problems.append(f"--write-model {args.write_model}: the file must end in .mps or .lp (the format follows "
                        "the extension)")
    if problems:
        raise InputError(problems)


def cmd_run(args) -> int:
    from .pipeline import prepare_case
    from .workbook import file_sha256

    _check_run_arguments(args)
    case_path = Path(args.case)
    extra = [Path(args.write_model)] if args.write_model else []
    if args.scenario and args.scenario.lower() == "all":
        from .overrides import scenario_names
        from .workbook import read_workbook

        raw = read_workbook(args.case)
        names = scenario_names(raw)
        if not names:
            raise InputError(f"{args.case} has no 'scenarios' sheet (or it is empty)")
        # validate every scenario before solving any, so bad input writes nothing
        problems = []
        prepared = {}
        for name in names:
            try:
                prepared[name] = prepare_case(raw, overrides=args.overrides, scenario=name,
                                              reapply_scenario=args.reapply_scenario)
            except InputError as exc:
                problems.extend(exc.problems)
        if problems:
            raise InputError(problems)
        base = args.output or default_output(args.case)
        outs, cmp_out = scenario_outputs(base, names, with_base=True)
        base_out = outs.pop(BASE_KEY)  # the base case first: every scenario is compared with it
        books = [base_out, *outs.values(), cmp_out]
        figures = [f for o in books[:-1] for f in figure_paths(o)] if _want_figures(args) else []
        keep = plan_outputs(books + figures + extra, [case_path], workbooks=books,
                            default_outputs=books[:-1] if args.output is None else [],
                            case=case_path, case_sha256=raw.sha256)
        worst = EXIT_OK
        solved = []
        code, res = _solve_one(args, raw, None)
        solved.append((BASE_LABEL, base_out, res))
        worst = max(worst, code)
        for name in names:
            code, res = _solve_one(args, raw, name, prepared[name])
            solved.append((name, outs[name], res))
            worst = max(worst, code)
        from .compare import compare_scenarios
        from .xlsx_util import publish_together

        with publish_together() as pub:  # every scenario, its figures and the comparison, or nothing
            _keep_aside(pub, keep)
            for name, out, res in solved:
                _write_one(args, res, out)
            compare_scenarios([(n, pub.staged_path(o) or o) for n, o, r in solved], cmp_out,
                              shown_paths=[o for n, o, r in solved])
        for name, out, res in solved:
            _print_summary(res, out, (lambda *a: None) if args.quiet else print, quiet=args.quiet)
        print(f"comparison of the base case and {len(solved) - 1} scenarios written to {cmp_out}")
        _say_kept(pub)
        return worst
    out = args.output or default_output(args.case)
    figures = figure_paths(out) if _want_figures(args) else []
    sha = file_sha256(case_path) if args.output is None and out.exists() and case_path.is_file() else ""
    keep = plan_outputs([out, *figures, *extra], [case_path], workbooks=[out],
                        default_outputs=[out] if args.output is None else [], case=case_path, case_sha256=sha)
    code, results = _solve_one(args, args.case, args.scenario, None)
    from .xlsx_util import publish_together

    with publish_together() as pub:  # the workbook and its figures, or nothing
        _keep_aside(pub, keep)
        path = _write_one(args, results, out)
    _print_summary(results, path, (lambda *a: None) if args.quiet else print, quiet=args.quiet)
    _say_kept(pub)
    return code


def _keep_aside(pub, keep: dict) -> None:
    """Default outputs holding another input's results are kept under a new name when ours are published."""
    for out, backup in keep.items():
        pub.keep_aside(out, backup)


def _say_kept(pub) -> None:
    for target, backup in pub.kept:
        print(f"note: {target.name} held the results of another input; they are kept as {backup}",
              file=sys.stderr)


#: Name of the base case (no scenario) in a scenario comparison.
BASE_LABEL = "base case"
#: Key of the base case's workbook in :func:`scenario_outputs` (not a possible scenario name).
BASE_KEY = ("base",)


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(name))[:60]


def _solve_one(args, case, scenario, prepared=None):
    """One run (:func:`model.pipeline.run_case`) with the progress bar; writes nothing."""
    from .pipeline import run_case

    with _Progress(enabled=not args.quiet and not args.tee) as progress:
        results = run_case(case, overrides=args.overrides, scenario=scenario, prepared=prepared,
                           reapply_scenario=getattr(args, "reapply_scenario", False), time_limit_s=args.time_limit,
                           mip_rel_gap=args.mip_gap, threads=args.threads,
                           write_model_path=str(args.write_model) if args.write_model else None, tee=args.tee,
                           progress=progress)
        if args.write_model:
            progress.write(f"model written to {args.write_model}")
    return (EXIT_OK if results.solve.has_solution else EXIT_NO_PLAN), results


def _write_one(args, results, out: Path) -> Path:
    from .pipeline import Timer
    from .report import write_report

    with Timer(results.timings).phase("report"):
        return write_report(results, out, figures_dir=out.parent / "figures" if _want_figures(args) else None)


def _want_figures(args) -> bool:
    """PNG figures are written on request (``--figures``); the workbook carries native charts."""
    return bool(getattr(args, "figures", False)) and not getattr(args, "no_figures", False)


class _Progress:
    """A phase progress bar on stderr (only on a terminal): a run takes several seconds."""

    STEPS = 4

    def __init__(self, enabled: bool):
        self.bar = None
        self.enabled = enabled
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=self.STEPS, file=sys.stderr, leave=False, bar_format="{l_bar}{bar:20}| {elapsed}")

    def step(self, what: str) -> None:
        if self.bar is not None:
            if self.bar.n or self.bar.desc:
                self.bar.update(1)
            self.bar.set_description_str(what)

    def write(self, text: str) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.write(text)
        else:
            print(text)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
        return False


def _fmt_usd(x) -> str:
    return "n/a" if x is None else f"{x / 1e9:,.3f} bn USD"


def _print_summary(results, path, say, quiet: bool) -> None:
    from .kpis import unmet_alert

    info, t, data = results.solve, results.tables, results.case
    s = results.summary or {}
    line = f"status: {info.status}"
    if info.has_solution:
        line += f" | net present cost {_fmt_usd(info.objective)}"
        if info.mip_gap is not None:
            line += f" | gap {info.mip_gap:.2e}"
    print(line + f" | results: {path}")
    alert = None
    if info.has_solution:
        alert = unmet_alert(s.get("unmet_gwh_total"), s.get("penalty_share_of_cost"), s.get("unmet_penalty_usd"))
    if alert:  # loud even with --quiet: a plan that buys its way out with a penalty is not a plan
        bar = "!" * 78
        print(f"{bar}\n{alert}\n{bar}", file=sys.stderr)
    if quiet:
        return
    if info.has_solution:
        b = t["build_schedule"]
        builds = b[b.modules_built > 0]
        if len(builds):
            say("builds (modules coming online):")
            for f, grp in builds.groupby("facility", sort=False):
                fac = data.facilities[f]
                items = ", ".join(f"{int(n)} in {int(y)}" for y, n in zip(grp.year, grp.modules_built))
                say(f"  {f} ({fac.product}, {fac.module_size:g}/module): {items}")
        else:
            say("builds: none")
        for kind, verb in (("imports", "imported"), ("exports", "exported")):
            traded = _traded_line(s, data, kind)
            if traded:
                say(f"{verb} over the horizon: {traded}")
        shares = [(k, v) for k, v in s.items() if k.startswith("local_value_share_") and v is not None]
        if shares:
            say("local value share: " + ", ".join(f"{k.rsplit('_', 1)[1]} {float(v) * 100:.1f}%" for k, v in shares))
        for n in results.notes:
            say(f"note: {n}")
    else:
        for n in results.notes:
            say(n)
    phases = ", ".join(f"{k} {v:.2f}s" for k, v in results.timings.items())
    say(f"time: {phases}")


def _traded_line(summary: dict, data, kind: str) -> str:
    """``cathode_LFP 1,223,800 t, cells_LFP 21.0 GWh, ...``: the ``<kind>_<material>_total`` KPIs of the
    summary (``kind`` "imports" or "exports") that are above zero, in the summary's order."""
    from .kpis import material_units

    units = material_units(data)
    parts = []
    for key, q in summary.items():
        if not (key.startswith(kind + "_") and key.endswith("_total")) or not q or q <= 1e-9:
            continue
        mat = key[len(kind) + 1:-len("_total")]
        unit = units.get(mat, "")
        parts.append(f"{mat} {q:,.1f} {unit}" if unit == "GWh" else f"{mat} {q:,.0f} {unit}".rstrip())
    return ", ".join(parts)


def cmd_compare(args) -> int:
    from .compare import compare_workbooks

    out = args.output
    if out is not None:
        _refuse_overwriting_inputs(out, [args.a, args.b])
    text = compare_workbooks(args.a, args.b, out)
    print(text)
    return EXIT_OK


def cmd_sweep(args) -> int:
    from .sweep import run_sweep_cli

    return run_sweep_cli(args)


def cmd_verify(args) -> int:
    from .verify import verify_workbooks

    if len(args.workbooks) > 2:
        raise InputError("verify takes CASE.xlsx RESULTS.xlsx, or RESULTS.xlsx alone")
    verdict = verify_workbooks(*args.workbooks)
    print(verdict.report(args.workbooks[-1].name))
    return EXIT_OK if verdict.passed else EXIT_NO_PLAN


COMMANDS = {"run": cmd_run, "validate": cmd_validate, "template": cmd_template, "compare": cmd_compare,
            "sweep": cmd_sweep, "verify": cmd_verify}

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
