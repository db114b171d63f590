"""Command line: `python -m faircause_core {audit,discover,generate,sweep,evaluate} ...`.

Readable tables on stdout, machine-readable JSON with --json/--report/--out. Any bad input
exits with status 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

from faircause_core import engine, limits
from faircause_core.errors import InputError, one_line

class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage problem as one line with exit status 2."""

    def error(self, message):  # noqa: D401 - argparse hook
        raise InputError(f"{self.prog}: {message}")


def _common(p: argparse.ArgumentParser, group_values: bool = True) -> None:
    p.add_argument("--data", required=True, help="CSV, Parquet or Excel file of real rows")
    p.add_argument("--sensitive", required=True, metavar="X", help="sensitive attribute column")
    if group_values:
        p.add_argument("--x0", required=True, help="baseline group of X (e.g. Male)")
        p.add_argument("--x1", required=True, help="comparison group of X (e.g. Female)")
    p.add_argument("--outcome", required=True, metavar="Y", help="outcome column")
    if group_values:
        p.add_argument("--positive", default=None, metavar="VALUE",
                       help="the outcome value that counts as 1 (e.g. Deceased); default: the coding rule decides")
        p.add_argument("--labels", nargs="*", default=None, metavar="COL:VALUE=WORDS",
                       help="words for values of X and Y, used in every sentence and recorded in the JSON, e.g. "
                            "sex:0=men,1=women death:1=died (default: text values as they are, codes as 'sex = 0')")
    p.add_argument("--threshold", type=float, default=None, help="Y >= threshold counts as 1 for a numeric outcome")
    p.add_argument("--fixed", nargs="*", default=None,
                   help="baseline columns that nothing can cause (first tier, e.g. age race)")
    p.add_argument("--after-outcome", nargs="*", default=None, metavar="COL",
                   help="columns recorded after the outcome (follow-up time, cause of death): generated after Y, "
                        "never a cause of an earlier column, never a confounder or mediator")
    p.add_argument("--exclude", nargs="*", default=None, metavar="COL",
                   help="columns left out entirely (not modelled, not generated)")


def _generator_flags(p: argparse.ArgumentParser, default: str) -> None:
    """The reference group and generator choice shared by generate and sweep."""
    p.add_argument("--reference", choices=["x0", "x1", "marginal"], default="x1")
    p.add_argument("--generator", choices=["llm", "bayesnet", "prompt"], default=default)
    p.add_argument("--model", default=None, help="folder of a local Hugging Face causal LM (default: bundled SmolLM2-135M)")
    p.add_argument("--preset", choices=["quick", "thorough"], default="quick")
    p.add_argument("--steps", type=int, default=None, help="fine-tuning steps (overrides the preset)")


def _check_model(args) -> None:
    """--model names a usable model folder, and only for a generator that takes one."""
    if args.model and args.generator == "bayesnet":
        raise InputError("--model applies to the llm and prompt generators, not bayesnet")
    if args.model:
        from faircause_core.generators.lm.store import check_model_folder

        check_model_folder(args.model)


def _engine_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=list(engine.ENGINES), default="local",
                   help="where the independent pieces run (the audit's cross-fitting splits, the fair predictor's "
                        "sets and refits, the Bayes net's per-column fits and sampling batches): here, or as Ray "
                        "tasks; the same seeds give the same numbers on both")
    p.add_argument("--ray-address", default=None,
                   help="with --engine ray: the cluster's address (default: RAY_ADDRESS, else a local Ray)")


def _measure_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--measure", default=None,  # checked by GenerationSettings, the profiles' one home
                   help="measuring profile: full (default, or FAIRCAUSE_MEASURE), or light: fewer repetitions, "
                        "wider intervals on the synthetic side (a quick preview)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m faircause_core", description="FairCauseSyn engine")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    a = sub.add_parser("audit", help="decompose the real data's disparity (TV, Ctf-DE/IE/SE, ETT)")
    _common(a)
    a.add_argument("--dag", help="DAG JSON {nodes, edges}; roles are read off it")
    a.add_argument("--z", nargs="*", default=None, help="confounders (if no --dag)")
    a.add_argument("--w", nargs="*", default=None, help="mediators (if no --dag)")
    a.add_argument("--method", choices=["dr", "plugin"], default="dr")
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--splits", type=int, default=None,
                   help="dr only: the median over this many cross-fitting splits (default: the fewest whose "
                        "median moves less than a tenth of the standard error, at most 10; 10 up to about "
                        "134,000 rows, where one split's DE/IE can move by several points)")
    a.add_argument("--json", dest="json_out", help="write the decomposition as JSON here")
    _engine_flags(a)

    d = sub.add_parser("discover", help="discover a causal DAG with tiers and write its JSON")
    _common(d, group_values=False)
    d.add_argument("--method", choices=["hillclimb", "pc"], default="hillclimb")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--out", required=True, help="where to write dag.json")

    g = sub.add_parser("generate", help="generate causally fair synthetic rows")
    _common(g)
    g.add_argument("--dag", required=True, help="DAG JSON {nodes, edges}")
    g.add_argument("--remove", default="none", help="pathways to remove: none, DE, IE, SE or a list like DE,IE")
    g.add_argument("--alpha", default="", help="partial removal, e.g. DE=0.5,IE=1")
    g.add_argument("--rows", type=int, required=True)
    _generator_flags(g, default="llm")
    g.add_argument("--rounds", type=int, default=4, help="refinement rounds at most")
    g.add_argument("--no-refine", action="store_true", help="sample once, without the refinement loop")
    g.add_argument("--skip-lm", action="store_true",
                   help="llm: skip the language model (nothing loaded or trained; every column from the causal "
                        "model's fitted conditionals)")
    g.add_argument("--seed", type=int, default=0)
    _measure_flag(g)
    g.add_argument("--out", required=True, help="synthetic CSV to write")
    g.add_argument("--report", default=None, help="report JSON to write")
    _engine_flags(g)

    w = sub.add_parser("sweep", help="run one pathway's dial through several alphas with one fitted generator")
    _common(w)
    w.add_argument("--dag", required=True, help="DAG JSON {nodes, edges}")
    w.add_argument("--pathway", default="DE", help="DE, IE, SE or all")
    w.add_argument("--points", default="0,0.25,0.5,0.75,1", help="dial values in [0, 1] (share removed)")
    _generator_flags(w, default="bayesnet")
    w.add_argument("--rows", type=int, default=None, help="rows per point (default: the fitting split's size)")
    w.add_argument("--measure-rows", type=int, default=None, help="rows the effects are measured on per point")
    w.add_argument("--seed", type=int, default=0)
    w.add_argument("--json", dest="json_out", default=None, help="write the sweep (a list of points) as JSON here")
    w.add_argument("--summary", default=None, metavar="HTML", help="write the one-page stakeholder summary here")
    w.add_argument("--chosen", type=float, default=None, help="the dial value the summary highlights (default: 1)")
    _engine_flags(w)
    e = sub.add_parser("evaluate", help="measure a synthetic table made anywhere, as generate measures its own rows")
    _common(e)
    e.add_argument("--synthetic", required=True, metavar="SYN", help="CSV, Parquet or Excel file of synthetic rows")
    e.add_argument("--holdout", default=None, metavar="HOLDOUT",
                   help="real rows the synthetic table's maker never saw (default: split --data as generate does "
                        "and use its fitting part as the training rows)")
    e.add_argument("--dag", default=None, help="DAG JSON {nodes, edges} (default: discovered, as audit does)")
    e.add_argument("--method", choices=["hillclimb", "pc"], default="hillclimb", help="discovery method without --dag")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--report", required=True, help="report JSON to write (generate's keys)")
    _measure_flag(e)
    _engine_flags(e)
    return parser


_OPEN_LINE = [False]  # a progress line is on stderr without its newline: an error starts below it


def _progress_printer(quiet: bool = False):
    """Progress on stderr: one updating line per stage."""
    state = {"stage": None, "t0": time.perf_counter()}

    def show(stage: str, done: int, total: int) -> None:
        if quiet:
            return
        if stage != state["stage"]:
            if state["stage"] is not None:
                sys.stderr.write("\n")
            state["stage"], state["t0"] = stage, time.perf_counter()
        pct = 100.0 * done / total if total else 100.0
        sys.stderr.write(f"\r{stage}: {done}/{total} ({pct:.0f}%) {time.perf_counter() - state['t0']:.0f}s")
        sys.stderr.flush()
        _OPEN_LINE[0] = True

    return show


def _load(args):
    from faircause_core.causal.knowledge import check_column_marks
    from faircause_core.causal.question import FairnessProblem, validate_problem
    from faircause_core.io.data import exclude_columns, load_table, match_column, match_columns

    table = load_table(args.data)
    names = table.schema.names  # column flags as the file spells the names ('T Stage' finds 'T Stage ')
    args.sensitive, args.outcome = match_column(args.sensitive, names), match_column(args.outcome, names)
    left_out = [c for c in (table.raw.columns if table.raw is not None else []) if c not in table.df.columns]
    for flag, col in (("--sensitive", args.sensitive), ("--outcome", args.outcome)):
        if col in left_out:  # not "not found": it is there, read as an identifier
            raise InputError(f"{flag} {col!r} is left out of the model: it reads as an identifier or is empty "
                             f"(a different value on nearly every row, or none)")
    args.exclude = match_columns(args.exclude, names)
    check_column_marks(table.schema.names, args.sensitive, args.outcome, exclude=args.exclude)
    if args.exclude:
        table = exclude_columns(table, args.exclude)
    notes = _apply_suggestions(table, args)
    check_column_marks(list(table.df.columns), args.sensitive, args.outcome, args.fixed, args.after_outcome)
    x0 = getattr(args, "x0", None)
    x1 = getattr(args, "x1", None)
    warnings = list(table.warnings) + notes
    if x0 is not None:
        from faircause_core.causal.question import ValueLabels

        labels = ValueLabels.parse(args.labels, args.sensitive, args.outcome)
        problem = FairnessProblem(args.sensitive, x0, x1, args.outcome, args.threshold, args.positive, labels)
        warnings += validate_problem(table, problem)
        question = problem.resolve(table)
        x0, x1 = question.x0, question.x1
        args.positive = question.outcome.positive  # resolved once: the value every step codes as 1
        args.labels = question.labels or None  # keyed by the values as the data spells them
        print(f"Y = 1 means {question.outcome_label}; comparing {question.name1} with {question.name0}")
    return table, x0, x1, warnings  # unknown X or Y: check_column_marks has said so in one line


def _say(lines) -> None:
    """Notes on stdout: suggestions and graph checks as they are, anything else as a warning;
    a note said twice (the question's check and the decomposition) once."""
    for line in dict.fromkeys(lines):
        print(line if line.startswith(("suggestion", "graph check:")) else f"warning: {line}")


def _apply_suggestions(table, args) -> list[str]:
    """Marks the user left out (--fixed / --after-outcome not given) default to the tool's
    suggestions, each said in one line; a given flag (even empty) is the user's word."""
    from faircause_core.causal.suggest import suggest_marks

    flag = {"after_outcome": "--after-outcome", "fixed": "--fixed"}
    every = [s for s in suggest_marks(table, args.sensitive, args.outcome, args.threshold) if s.mark in flag]
    found = [s for s in every if s.firm]
    from faircause_core.io.data import match_columns

    notes = []
    args.after_outcome_given = args.after_outcome is not None
    for mark, label in (("fixed", "fixed (baseline)"), ("after_outcome", "recorded after the outcome")):
        given = getattr(args, mark)
        if given is None:
            setattr(args, mark, [s.column for s in found if s.mark == mark])
            notes += [f"suggestion applied: {s.column} marked {label}, because {s.reason} "
                      f"(give {flag[mark]} to choose yourself)" for s in found if s.mark == mark]
        else:
            setattr(args, mark, match_columns(given, table.schema.names))
            notes += [f"suggestion: {_flag_with(flag[mark], getattr(args, mark), s.column)} ({s.reason})" for s in found
                      if s.mark == mark and s.column not in getattr(args, mark)]
    args.to_check = [s for s in every if not s.firm and s.column not in (getattr(args, s.mark) or [])]
    notes += [f"suggestion to check: {s.reason} (give {_flag_with(flag[s.mark], getattr(args, s.mark), s.column)} "
              f"to mark it)" for s in args.to_check]
    return notes


def _flag_with(flag: str, given, column: str) -> str:
    """The flag as a shell takes it, the columns already marked kept: names with spaces quoted
    ("--after-outcome 'Estrogen Status' 'Survival Months'"), so the line can be copied."""
    import shlex

    return " ".join([flag, *(shlex.quote(c) for c in [*(given or []), column])])


def _graph_check(table, graph, args, x0=None, x1=None) -> list[str]:
    """Every pathway edge the graph leaves out that the data contradicts, in plain words."""
    from faircause_core.causal.implications import check_graph

    found = check_graph(table, graph, args.sensitive, args.outcome, x0=x0, x1=x1, threshold=args.threshold,
                        schema=table.schema, seed=args.seed)
    return [f"graph check: {r.sentence}" for r in found if r.contradicted]


def _read_dag(path: str, table, args=None):
    """The DAG file for this table: excluded columns dropped from it, after-outcome marks checked
    (one line naming the mark, and whether the user or the tool's suggestion made it)."""
    from faircause_core.causal.graph import CausalGraph
    from faircause_core.causal.knowledge import BackgroundKnowledge

    p = Path(path)
    if not p.is_file():
        raise InputError(f"DAG file not found: {path}")
    try:
        text = p.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as err:
        raise InputError(f"cannot read DAG file {path}: {err}")
    graph = CausalGraph.from_json(text)
    from faircause_core.io.data import match_column

    spelled = {n: match_column(n, table.schema.names) for n in graph.nodes}  # 'T Stage' -> 'T Stage '
    if any(k != v for k, v in spelled.items()):
        graph = graph.renamed(spelled)
    excluded = set(getattr(args, "exclude", None) or ())
    if excluded:
        graph = graph.subgraph([n for n in graph.nodes if n not in excluded])
    after = getattr(args, "after_outcome", None) or ()
    guessed = args is not None and getattr(args, "after_outcome_given", True) is False
    for problem in BackgroundKnowledge(after_outcome=[a for a in after if a in graph.nodes]).violations(graph):
        # a mark the tool suggested (the flag not given, as after `discover --after-outcome ...`):
        # say so, and how to decide, rather than leave the user to guess where the mark came from
        why = (" (marked by the tool's suggestion, as --after-outcome was not given: give the --after-outcome "
               "this DAG was discovered with; --after-outcome alone marks none)") if guessed else ""
        raise InputError(f"DAG {path}: {problem}{why}")
    missing = [c for c in table.df.columns if c not in graph.nodes]
    extra = [n for n in graph.nodes if n not in table.df.columns]
    if extra:
        raise InputError(f"DAG {path} names columns not in the data: {', '.join(extra)}")
    if missing:
        raise InputError(f"DAG {path} lacks data columns: {', '.join(missing)}")
    return graph


def _discover(table, args):
    """discover_report: the graph with the edges the search found and those the backbone assumed."""
    from faircause_core.causal.discovery import discover_report

    method = args.method if args.command == "discover" else "hillclimb"
    return discover_report(table, args.sensitive, args.outcome, fixed=tuple(args.fixed),
                           after_outcome=tuple(args.after_outcome), seed=args.seed, method=method)


def _print_sources(result, synthetic_note: str = "") -> None:
    """A run's effects as the pages and the report name them (explain.effect_sources): the real
    data (all rows) first, the generator's target (the fitting split), the synthetic rows and
    the target after the edits, then the one line saying why the two real answers differ."""
    from faircause_core.present.explain import effect_sources, run_why_two_real

    for name, dec in effect_sources(result).items():
        note = synthetic_note if name.startswith("synthetic") else ""
        print(effects_table(dec, f"\n{name[:1].upper()}{name[1:]}{note}:"))
    why = run_why_two_real(result)
    if why:
        print(why)


def effects_table(decomposition, title: str) -> str:
    """A Decomposition (or its to_dict()) as a text table: estimate, se and 95% interval."""
    from faircause_core.causal.effects import EFFECT_LABELS, as_decomposition

    lines = [title, f"{'effect':<24}{'estimate':>10}{'se':>9}   95% CI"]
    for key, row in as_decomposition(decomposition).to_frame().iterrows():
        exact = row[["se", "ci_low", "ci_high"]].isna().all()  # a target: a number asked for, not estimated
        lines.append(
            f"{EFFECT_LABELS[key]:<24}{row['estimate'] + 0.0:>+10.4f}" + (f"{'-':>9}   (a target, no interval)" if exact else
                                                                  f"{row['se']:>9.4f}   "
                                                                  f"[{row['ci_low']:+.4f}, {row['ci_high']:+.4f}]"))
    return "\n".join(lines)


def _write_json(path: str, obj) -> None:
    from faircause_core.io.export import json_bytes

    try:
        Path(path).write_bytes(json_bytes(obj))
    except OSError as err:
        raise InputError(f"cannot write {path}: {err.strerror or err}")


def cmd_audit(args) -> int:
    from faircause_core.causal.graph import derive_roles
    from faircause_core.workflow.pipeline import audit

    table, x0, x1, warnings = _load(args)
    if args.dag:
        graph = _read_dag(args.dag, table, args)
        roles = derive_roles(graph, args.sensitive, args.outcome, x0, x1, args.threshold, args.positive, args.labels)
        source = f"DAG {args.dag}"
    elif args.z is not None or args.w is not None:
        from faircause_core.io.data import match_columns

        z, w = match_columns(args.z, table.df.columns), match_columns(args.w, table.df.columns)
        for col in z + w:
            if col not in table.df.columns:
                raise InputError(f"unknown column {col!r} in --z/--w")
        from faircause_core.causal.graph import Roles

        other = tuple(c for c in table.df.columns if c not in set(z) | set(w) | {args.sensitive, args.outcome})
        roles = Roles(args.sensitive, args.outcome, tuple(z), tuple(w), other, x0, x1, args.threshold, args.positive,
                      args.labels)
        source, graph = "--z/--w", None
    else:
        graph = _discover(table, args).graph
        roles = derive_roles(graph, args.sensitive, args.outcome, x0, x1, args.threshold, args.positive, args.labels)
        source = "discovered DAG"
    dec = audit(table.df, roles, method=args.method, seed=args.seed, splits=args.splits)
    print(f"data: {args.data} ({len(table.df)} rows); X = {roles.x} ({x0} -> {x1}); Y = {roles.y}; roles from {source}")
    print(f"Z (confounders): {', '.join(roles.z) or '(none)'}")
    print(f"W (mediators):   {', '.join(roles.w) or '(none)'}")
    print(_roles_rule(args))
    print(effects_table(dec, f"\nDecomposition ({'doubly robust' if args.method == 'dr' else 'plug-in'}):"))
    print(_overlap_text(dec.overlap, roles))
    from faircause_core.present.explain import explain_roles

    print("\nIn plain words:")
    for line in explain_roles(dec, roles).values():
        print(f"  {line}")
    if graph is not None:
        from faircause_core.causal.implications import direct_effect_warning

        warnings += _graph_check(table, graph, args, x0, x1)
        note = direct_effect_warning(graph, dec, labels=roles.labels)
        warnings += [note] if note else []
    _say(list(warnings) + list(dec.warnings))
    if args.json_out:
        _write_json(args.json_out, {
            "data": str(args.data), "x": roles.x, "x0": str(x0), "x1": str(x1), "y": roles.y,
            "positive": roles.positive, "threshold": roles.threshold,
            "z": list(roles.z), "w": list(roles.w), "roles_from": source, **_words(roles),
            "decomposition": dec.to_dict(), "overlap": dict(dec.overlap),
            "warnings": list(dict.fromkeys(list(warnings) + list(dec.warnings))),
        })
    return 0


def _overlap_text(overlap: dict, roles) -> str:
    """The overlap line (causal.overlap) in the groups' words, and the warning rule it is read by."""
    from faircause_core.causal.overlap import ESS_SHARE, overlap_line
    from faircause_core.present.explain import names

    if not overlap:
        return "Overlap: not measured (no confounders or mediators to weigh)."
    n0, n1 = names(roles)
    return (f"\n{overlap_line(overlap, n0, n1)} (the audit warns when {n1}'s effective sample size is under "
            f"{ESS_SHARE:.0%} of the group)")


def _roles_rule(args) -> str:
    """The backbone's column rule in one sentence, with the baseline marks in force."""
    from faircause_core.causal.backbone import roles_rule

    fixed = ", ".join(args.fixed or ()) or "none"
    return f"How roles are made: {roles_rule(args.sensitive)} Marked baseline: {fixed}."


def _words(roles) -> dict:
    """The report's record of the words used: the typed labels and each group's name."""
    from faircause_core.present.explain import names

    n0, n1 = names(roles)
    return {"labels": roles.labels.to_dict() if roles.labels else {"x": {}, "y": {}},
            "group_names": {"x0": n0, "x1": n1}}


def cmd_discover(args) -> int:
    from faircause_core.causal.graph import derive_roles

    table, _, _, warnings = _load(args)
    from faircause_core.causal.question import Outcome

    try:  # discovery takes any outcome; the audit and the generators need it two-valued: say so now
        Outcome.resolve(table.df[args.outcome], args.threshold)
    except InputError as err:
        warnings.append(f"{err}: this graph can be drawn, but audit, generate, sweep and evaluate will refuse "
                        f"the outcome as it is")
    report = _discover(table, args)
    graph = report.graph
    roles = derive_roles(graph, args.sensitive, args.outcome)
    try:
        Path(args.out).write_text(graph.to_json(), encoding="utf-8")
    except OSError as err:
        raise InputError(f"cannot write {args.out}: {err.strerror or err}")
    print(f"{len(graph.edges)} edges among {len(graph.nodes)} columns written to {args.out}")
    if report.searched_rows and report.searched_rows < len(table.df):
        from faircause_core.present.explain import searched_note

        print(searched_note(report.searched_rows, len(table.df)))
    assumed = set(report.assumed)
    print(f"{len(graph.edges) - len(assumed)} found by the search, {len(assumed)} assumed by the standard fairness "
          "model (remove one only on purpose: its absence is a causal claim)")
    for parent, child in graph.edges:
        print(f"  {parent} -> {child}{'   (assumed)' if (parent, child) in assumed else ''}")
    from faircause_core.causal.graph import ASSOCIATION_WHY

    for a, b in graph.associations:
        print(f"  {a} - {b}   (may be associated, no arrow: {ASSOCIATION_WHY.format(a=a, b=b)})")
    for parent, child, why in report.refused:
        print(f"  not added: {parent} -> {child} ({why})")
    print(f"Z (confounders): {', '.join(roles.z) or '(none)'}")
    print(f"W (mediators):   {', '.join(roles.w) or '(none)'}")
    print(_roles_rule(args))
    _say(warnings + _graph_check(table, graph, args) + _leaves_to_check(table, args))
    return 0


def _leaves_to_check(table, args) -> list[str]:
    """When --after-outcome was left to the tool: columns a free search makes children of Y
    alone, offered to check (never applied: the evidence is weak)."""
    from faircause_core.causal.suggest import suggest_from_discovery, worth_checking

    if args.after_outcome_given:
        return []
    found = suggest_from_discovery(table, args.sensitive, args.outcome, fixed=args.fixed,
                                   after_outcome=args.after_outcome, seed=args.seed)
    # the page's order and rule (worth_checking): a column the name or leakage rules offered is not offered again
    offered = worth_checking(getattr(args, "to_check", []), found, {"after_outcome": args.after_outcome})
    return [f"suggestion to check: {s.reason} (give {_flag_with('--after-outcome', args.after_outcome, s.column)} "
            f"to mark it)" for s in offered
            if s.rule == "discovery"]


def cmd_generate(args) -> int:
    from faircause_core.io.export import to_csv_bytes
    from faircause_core.generators.base import FairnessSpec
    from faircause_core.causal.graph import derive_roles
    from faircause_core.workflow.pipeline import GenerationSettings, run_generation

    table, x0, x1, warnings = _load(args)
    graph = _read_dag(args.dag, table, args)
    roles = derive_roles(graph, args.sensitive, args.outcome, x0, x1, args.threshold, args.positive, args.labels)
    fairness = FairnessSpec.parse(args.remove, args.alpha, args.reference)
    _check_model(args)
    if args.skip_lm and args.generator != "llm":
        raise InputError(f"--skip-lm applies to the llm generator, not {args.generator}")
    settings = GenerationSettings(
        generator=args.generator, model_dir=args.model, preset=args.preset, train_steps=args.steps,
        rows=args.rows, seed=args.seed, fairness=fairness, refine=not args.no_refine, max_rounds=args.rounds,
        skip_lm=bool(args.skip_lm), **({} if args.measure is None else {"measure": args.measure}),
    )
    out_dir = Path(args.out).resolve().parent
    if not out_dir.is_dir():
        raise InputError(f"output folder does not exist: {out_dir}")
    if args.generator == "llm" and not args.skip_lm:  # what the measurement expects, before any training
        from faircause_core.generators.lm.record import advice

        note = advice(round(len(table.df) * (1 - settings.holdout)))
        if note:
            print(f"note: {note}; --skip-lm skips it", flush=True)
    result = run_generation(table, graph, roles, settings, progress=_progress_printer())
    sys.stderr.write("\n")
    try:
        Path(args.out).write_bytes(to_csv_bytes(result.synthetic))
    except OSError as err:
        raise InputError(f"cannot write {args.out}: {err.strerror or err}")
    print(f"{len(result.synthetic):,} synthetic rows written to {args.out} ({fairness.label()}, generator {args.generator})")
    _print_measure_note(result)
    from faircause_core.generators.lm.record import sentence as lm_sentence

    lm_line = lm_sentence(result.language_model)
    if lm_line:
        print(f"{lm_line[:1].upper()}{lm_line[1:]}.")
    _print_sources(result)
    if result.generator_effects:
        print(effects_table(result.generator_effects, f"\nThe generator's own effects (Monte Carlo on its mechanisms, "
                                                      f"{result.generator_effects['settings']['rows']:,} rows):"))
    print(_overlap_text(result.overlap, roles))
    print("\nRefinement rounds:")
    for r in result.rounds:
        alphas = " ".join(f"{p.upper()}={a:.2f}" for p, a in r["alphas"].items())
        measured = ", ".join(
            f"{e}={v:+.4f} [{r['intervals'][e][0]:+.4f}, {r['intervals'][e][1]:+.4f}] "
            f"(target {r['targets'][e]:+.4f}{', ok' if r['within'][e] else ''})"
            for e, v in r["measured"].items()
        ) if "intervals" in r else ""
        print(f"  round {r['round']}: alpha {alphas}: {measured}")
    print(result.message)
    print("alphas used: " + " ".join(f"{p.upper()}={a:.2f}" for p, a in result.alphas_used.items()))
    for pathway, why in result.frozen.items():
        print(f"{pathway.upper()} cannot be edited: {why}")
    from faircause_core.present.explain import is_mirror

    _print_measures(result.metrics, is_mirror(result.settings))
    from faircause_core.present.explain import known_edit, outcome_rate_lines

    for line in outcome_rate_lines(result.metrics.get("outcome"), known_edit(result.settings), roles):
        print(line)
    _say(list(warnings) + list(result.warnings))
    if args.report:
        _write_json(args.report, {**result.to_dict(), **_words(roles)})
    return 0


def _print_measure_note(result) -> None:
    """The light profile's sentence, and which measures used a seeded sample, and how large."""
    from faircause_core.present.explain import measure_note, sampled_lines

    note = measure_note(result.settings)
    if note:
        print(f"{note[:1].upper()}{note[1:]}.")
    sampled = sampled_lines(result.metrics, result.fitting_rows, len(result.synthetic))
    if sampled:
        print("Computed on samples:\n" + "\n".join(f"  {line}" for line in sampled))


def _print_measures(m: dict, mirror: bool = False) -> None:
    """Fidelity, utility, the fair predictor and privacy of one measured table (generate, evaluate);
    `mirror`: a run that removed nothing, its own fair-predictor control."""
    from faircause_core.present.explain import copies_text, fair_predictor_lines, fair_predictor_notes

    fid = m["fidelity"]
    print(f"\nSDMetrics Quality Score {fid['quality']:.3f} (Column Shapes {fid['shape']:.3f}, "
          f"Column Pair Trends {fid['trend']:.3f})")
    from faircause_core.present.explain import rule_rows, rules_warning

    for row in rule_rows(fid)[:5]:
        print(f"fidelity: {row['rule every real row keeps']} (every one of {row['real rows']} real rows): broken by "
              f"{row['synthetic rows breaking it']} synthetic rows")
    if said := rules_warning(fid):
        print(f"warning: fidelity: {said}")
    print(f"AUROC train-on-real {m['utility']['trtr']:.3f}, train-on-synthetic {m['utility']['tstr']:.3f}")
    fp = m["fair_predictor"]
    for line in fair_predictor_lines(fp, mirror):
        print(f"fair predictor: {line}")
    for note in fair_predictor_notes(fp, mirror):
        print(f"warning: fair predictor: {note}")
    pv = m["privacy"]
    print(f"privacy: exact copies {copies_text(pv)}, median DCR synthetic {pv['dcr_synth_median']:.3f} "
          f"vs holdout {pv['dcr_holdout_median']:.3f}" + (
              f", closeness AUC {pv['closeness_auc']:.2f} [{pv['closeness_auc_ci_low']:.2f}, "
              f"{pv['closeness_auc_ci_high']:.2f}] (0.5 = as close as unseen patients)"
              if isinstance(pv.get("closeness_auc"), (int, float)) and pv["closeness_auc"] == pv["closeness_auc"]
              else ""))
    from faircause_core.present.report import privacy_verdict

    print(privacy_verdict(pv))  # "Verdict: safe to share. ..."


def _read_rows(path: str):
    """A table file read as the data is read (same parser, limits and one-line errors)."""
    from faircause_core.io.data import load_table

    table = load_table(path)
    return table.raw if table.raw is not None else table.df


def cmd_evaluate(args) -> int:
    from faircause_core.causal.graph import derive_roles
    from faircause_core.workflow.evaluate import evaluate

    if not Path(args.report).resolve().parent.is_dir():
        raise InputError(f"--report: output folder does not exist: {Path(args.report).resolve().parent}")
    table, x0, x1, warnings = _load(args)
    synthetic = _read_rows(args.synthetic)
    holdout = _read_rows(args.holdout) if args.holdout else None
    if args.dag:
        graph, source = _read_dag(args.dag, table, args), f"DAG {args.dag}"
    else:
        graph, source = _discover(table, args).graph, "discovered DAG"
    roles = derive_roles(graph, args.sensitive, args.outcome, x0, x1, args.threshold, args.positive, args.labels)
    result = evaluate(table, synthetic, graph, roles, holdout=holdout, seed=args.seed,
                      source=Path(args.synthetic).name, holdout_source=Path(args.holdout).name if args.holdout else None,
                      progress=_progress_printer(), measure=args.measure)
    sys.stderr.write("\n")
    print(f"{result.message}; roles from {source}")
    _print_measure_note(result)
    _print_sources(result, f" ({Path(args.synthetic).name})")
    _print_measures(result.metrics)
    from faircause_core.present.explain import known_edit, outcome_rate_lines

    for line in outcome_rate_lines(result.metrics.get("outcome"), known_edit(result.settings), roles):
        print(line)
    _say(list(warnings) + list(result.warnings))
    _write_json(args.report, {**result.to_dict(), **_words(roles), "roles_from": source})
    print(f"report written to {args.report}")
    return 0


def _ci3(effect: dict) -> str:
    return f"[{effect['ci_low']:+.3f}, {effect['ci_high']:+.3f}]"


def cmd_sweep(args) -> int:
    from faircause_core.causal.graph import derive_roles
    from faircause_core.present.summary import build_summary, chosen_point
    from faircause_core.workflow.sweep import parse_pathway, parse_points, run_sweep

    pathway, points = parse_pathway(args.pathway), parse_points(args.points)  # bad flags: before loading anything
    chosen = points[-1] if args.chosen is None else args.chosen
    chosen_point({"points": [{"alpha": a} for a in points]}, chosen)
    for flag, path in (("--json", args.json_out), ("--summary", args.summary)):
        if path and not Path(path).resolve().parent.is_dir():
            raise InputError(f"{flag}: output folder does not exist: {Path(path).resolve().parent}")
    _check_model(args)
    table, x0, x1, warnings = _load(args)
    graph = _read_dag(args.dag, table, args)
    roles = derive_roles(graph, args.sensitive, args.outcome, x0, x1, args.threshold, args.positive)
    result = run_sweep(table, graph, roles, pathway, points, generator=args.generator, model_dir=args.model,
                       preset=args.preset, train_steps=args.steps, rows=args.rows, measure_rows=args.measure_rows,
                       seed=args.seed, reference=args.reference, progress=_progress_printer())
    sys.stderr.write("\n")
    sweep = result.to_dict()
    effect = sweep["effect"]
    print(f"sweep of {', '.join(m.upper() for m in result.moved)} with {args.generator} (fitted once in "
          f"{result.timings['fit_s']:.1f} s, {len(points)} points in {result.timings['points_s']:.1f} s); "
          f"{effect} and its 95% CI per dial value:")
    print(f"{'dial':>6}{effect:>10}{'95% CI':>20}{'quality':>9}{'TSTR':>7}{'reduction (95% CI)':>26}")
    real = sweep["real"]["effects"][effect]
    print(f"{'real':>6}{real['estimate']:>+10.4f}{_ci3(real):>20}"
          f"{'':>9}{sweep['real']['auroc_trtr']:>7.3f}")
    for p in sweep["points"]:
        e, f = p["effects"][effect], p["fair_predictor"]
        red = "n/a" if f.get("reduction") is None else (
            f"{f['reduction']:.0%} [{f['reduction_ci_low']:.0%}, {f['reduction_ci_high']:.0%}]")
        print(f"{p['alpha']:>6g}{e['estimate']:>+10.4f}{_ci3(e):>20}"
              f"{p['quality']:>9.3f}{p['auroc_tstr']:>7.3f}{red:>26}")
    _say(list(warnings) + list(result.warnings))
    if args.json_out:
        _write_json(args.json_out, {"data": str(args.data), **sweep})
        print(f"sweep written to {args.json_out}")
    if args.summary:
        page = build_summary(sweep, chosen, data_name=Path(args.data).name)
        try:
            Path(args.summary).write_text(page, encoding="utf-8")
        except OSError as err:
            raise InputError(f"cannot write {args.summary}: {err.strerror or err}")
        print(f"stakeholder summary written to {args.summary}")
    return 0


COMMANDS = {"audit": cmd_audit, "discover": cmd_discover, "generate": cmd_generate, "sweep": cmd_sweep,
            "evaluate": cmd_evaluate}


def main(argv: Optional[Sequence[str]] = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    _OPEN_LINE[0] = False
    try:
        args = build_parser().parse_args(argv)
        if limits.ENV_ERROR:  # a bad FAIRCAUSE_MAX_* value: said before any file is read
            raise InputError(limits.ENV_ERROR)
        engine.local_threads()  # a bad FAIRCAUSE_THREADS is said now, not only once an audit reads it
        with engine.use(engine.make(getattr(args, "engine", None), getattr(args, "ray_address", None))):
            return COMMANDS[args.command](args)
    except InputError as err:
        sys.stderr.write(("\n" if _OPEN_LINE[0] else "") + f"error: {err}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130
    except Exception as err:  # an engine bug: still one line for the user, details on request
        if os.environ.get("FAIRCAUSE_DEBUG"):
            raise
        sys.stderr.write(f"error: internal problem ({type(err).__name__}: {one_line(err)}); "
                         "set FAIRCAUSE_DEBUG=1 for details\n")
        return 1
