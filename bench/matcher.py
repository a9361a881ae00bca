"""Recurrence suggestions: how often each matcher is right, how many repeats it finds, and its cost.

    make bench-matcher                      # sets up bench/.venv-embeddings, then runs this
    python bench/matcher.py                 # the table: precision, recall, F1, latency, memory, size
    python bench/matcher.py --sweep mpnet   # thresholds x margins on the tune split, to re-tune
    python bench/matcher.py --cross-validate mpnet  # leave one team out over all 15 teams

The labelled set is `bench/data/recurrence/` (its README has the schema). Thresholds were chosen on
the `tune` teams only; the `holdout` teams and the tests' own teams (`tests/matching/data/`) were
never tuned on, so their figures are the honest ones. Each matcher runs in a child process of its
own, so its peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.similarity import LexicalMatcher, Match, Matcher, confident  # noqa: E402
from bot.core.similarity_eval import Outcome, Score, Team, load_teams  # noqa: E402

BENCH_DATA = ROOT / "bench" / "data" / "recurrence"
TEST_DATA = ROOT / "tests" / "matching" / "data"
MATCHERS = ("lexical", "embedding", "mpnet")


def build(name: str) -> Matcher:
    if name == "lexical":
        return LexicalMatcher()
    if name == "mpnet":
        from bot.core.mpnet import SentenceMatcher

        return SentenceMatcher.load()
    from bot.core.embedding import EmbeddingMatcher

    return EmbeddingMatcher.load()


def splits() -> dict[str, list[Team]]:
    bench = load_teams(BENCH_DATA)
    return {
        "tune": [t for t in bench if t.split == "tune"],
        "holdout": [t for t in bench if t.split == "holdout"],
        "full": bench,
        "tests": load_teams(TEST_DATA),
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(name: str) -> dict[str, object]:
    """Run in a child process: score every split, timing each suggestion as `/retro oops` asks it."""
    rss_before = peak_rss_mb()
    unpacks = name == "mpnet" and not mpnet_folder().is_dir()
    started = time.perf_counter()
    try:
        matcher = build(name)
    except ImportError as error:  # EmbeddingUnavailable is one
        return {"matcher": name, "unavailable": str(error)}
    load_s = time.perf_counter() - started
    teams = splits()
    first: list[float] = []  # the first suggestion per team also encodes its history
    warm: list[float] = []
    outcomes: dict[str, list[Outcome]] = {}
    for team in teams["full"] + teams["tests"]:
        documents = [entry.document() for entry in team.history]
        for i, case in enumerate(team.cases):
            t0 = time.perf_counter()
            matches = matcher.suggest(case.document(), documents)
            (warm if i else first).append(time.perf_counter() - t0)
            outcomes.setdefault(team.name, []).append(Outcome(case, matches[0].key if matches else None))
    scores = {
        split: Score.of(o for team in members for o in outcomes[team.name])
        for split, members in teams.items()
    }
    return {
        "matcher": name,
        "scores": {split: score_fields(score) for split, score in scores.items()},
        "load_s": load_s,
        "unpacked": unpacks,
        "first_ms": statistics.median(first) * 1000,
        "median_ms": statistics.median(warm) * 1000,
        "p95_ms": statistics.quantiles(warm, n=20)[-1] * 1000,
        "suggestions_timed": len(first) + len(warm),
        "peak_rss_mb": peak_rss_mb(),
        "added_rss_mb": peak_rss_mb() - rss_before,
    }


def score_fields(score: Score) -> dict[str, float | int]:
    return {
        "precision": score.precision,
        "recall": score.recall,
        "f1": score.f1,
        "suggested": score.suggested,
        "correct": score.correct,
        "repeats": score.repeats,
        "cases": score.cases,
    }


def extra_install_mb(extra: str = "embeddings") -> tuple[float, list[str]] | None:
    """Disk taken by what the extra adds to a plain install: its requirements, recursively, minus
    everything the base project already needs. Summed from each distribution's RECORD."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    def closure(requirements: Iterable[str], env: dict[str, str]) -> set[str]:
        seen: set[str] = set()
        todo = list(requirements)
        while todo:
            requirement = Requirement(todo.pop())
            if requirement.marker and not requirement.marker.evaluate(env):
                continue
            name = canonicalize_name(requirement.name)
            if name in seen:
                continue
            try:
                todo.extend(metadata.distribution(name).requires or ())
            except metadata.PackageNotFoundError:
                continue
            seen.add(name)
        return seen

    try:
        project = metadata.distribution("retro").requires or ()
    except metadata.PackageNotFoundError:
        return None
    base = closure(project, {"extra": ""})
    added = closure(project, {"extra": extra}) - base
    if not added:
        return None
    size = 0
    for name in added:
        files = metadata.distribution(name).files or ()
        size += sum(f.locate().stat().st_size for f in files if f.locate().is_file())
    return size / 2**20, sorted(added)


def mpnet_folder() -> Path:
    from bot.core.mpnet import model_folder

    return model_folder()


def mpnet_install_mb() -> tuple[float, float] | None:
    """Disk taken by the mpnet model: its five packages (from their RECORD), and the folder they are
    unpacked into on first load (0 before that)."""
    from bot.core.mpnet import PARTS

    try:
        distributions = [metadata.distribution(name) for name in PARTS]
    except metadata.PackageNotFoundError:
        return None
    packages = sum(
        f.locate().stat().st_size for d in distributions for f in d.files or () if f.locate().is_file()
    )
    folder = mpnet_folder()
    unpacked = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
    return packages / 2**20, unpacked / 2**20


def run_child(name: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, __file__, "--measure", name], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def report() -> None:
    teams = splits()
    full, tests = teams["full"], teams["tests"]
    cases = [c for t in full for c in t.cases]
    print(
        f"Recurrence suggestions: {len(full)} teams in {BENCH_DATA.relative_to(ROOT)} "
        f"({sum(len(t.history) for t in full)} earlier missteps with lessons; {len(cases)} new ones, "
        f"{sum(c.repeats is not None for c in cases)} of them repeats),\n"
        f"plus {len(tests)} teams of the tests in {TEST_DATA.relative_to(ROOT)}.\n"
        f"tune: {', '.join(t.name for t in teams['tune'])} (thresholds chosen here)\n"
        f"holdout: {', '.join(t.name for t in teams['holdout'])} (never tuned on)\n"
        "A suggestion is right when the one earlier misstep suggested is the one labelled; "
        "precision = right / suggested, recall = right / repeats.\n"
    )
    rows = [run_child(name) for name in MATCHERS]
    print(f"{'matcher':10} {'split':8} {'precision':>9} {'recall':>7} {'F1':>5}  right/suggested  repeats")
    for row in rows:
        if "unavailable" in row:
            print(f"{row['matcher']:10} not measured: {row['unavailable']}")
            continue
        for split, s in row["scores"].items():  # type: ignore[union-attr]
            print(
                f"{row['matcher']:10} {split:8} {s['precision']:9.2f} {s['recall']:7.2f} {s['f1']:5.2f}"
                f"  {s['correct']:>5}/{s['suggested']:<9}  {s['repeats']:>7}"
            )
    print(
        f"\n{'matcher':10} {'load':>7} {'1st/team':>9} {'median':>8} {'p95':>8} {'peak RSS':>9} {'added':>7}"
    )
    for row in rows:
        if "unavailable" not in row:
            print(
                f"{row['matcher']:10} {row['load_s']:6.2f}s {row['first_ms']:7.1f}ms"
                f" {row['median_ms']:6.2f}ms {row['p95_ms']:6.2f}ms"
                f" {row['peak_rss_mb']:7.0f}MB {row['added_rss_mb']:5.0f}MB"
                + ("  (load includes unpacking the model)" if row["unpacked"] else "")
            )
    installed = extra_install_mb()
    if installed is None:
        print("\ninstall size of the embeddings extra: not installed in this interpreter")
    else:
        size, names = installed
        print(
            f"\ninstall size of the embeddings extra (embedding and mpnet both need it): {size:.0f} MB"
            f" on disk, {len(names)} packages:"
        )
        print(
            textwrap.fill(
                ", ".join(names), 100, initial_indent="  ", subsequent_indent="  ", break_on_hyphens=False
            )
        )
    model = mpnet_install_mb()
    if model is None:
        print("mpnet model: its packages are not installed in this interpreter")
    else:
        print(
            f"mpnet model, on top of the extra: {model[0]:.0f} MB in its five packages, "
            f"{model[1]:.0f} MB unpacked into {mpnet_folder()}"
        )
    how = (
        "How measured: each matcher in its own child process, one `suggest` per new misstep against its "
        "team's history, as `/retro oops` does. load = building the matcher (the embedding ones load their "
        "model). 1st/team = the first suggestion of each team, which also encodes the team's history "
        "(median over teams). median/p95 = every other suggestion (warm cache). Wall clock "
        f"(time.perf_counter) on this machine: {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f} at the end; torch on one thread. peak RSS = the child's ru_maxrss; "
        "added = peak RSS minus the peak before the matcher was built. Install size = the files in the "
        "RECORD of every distribution the extra adds to a plain install of retro, recursively; the mpnet "
        "model's packages are installed apart, with --no-deps (README: Spotting repeats)."
    )
    print("\n" + textwrap.fill(how, 100))


Ranked = list[tuple[int | None, list[Match]]]
"""Per new misstep: the earlier number it repeats (or None), and the matcher's ranking."""


def ranked_cases(matcher: Matcher, teams: Iterable[Team]) -> Ranked:
    return [
        (case.repeats, matcher.rank(case.document(), [e.document() for e in team.history]))
        for team in teams
        for case in team.cases
    ]


def picks(ranked: Ranked, threshold: float, margin: float) -> tuple[int, int, int]:
    """Right suggestions, suggestions and repeats when `confident` decides with these settings."""
    made = [(label, p[0].key) for label, r in ranked if (p := confident(r, threshold, margin))]
    return sum(label == key for label, key in made), len(made), sum(label is not None for label, _ in ranked)


def grid(ranked: Ranked) -> list[tuple[float, float, float, float]]:
    """(precision, recall, threshold, margin) for every setting of the grid."""
    rows = []
    for threshold in frange(0.10, 0.80, 0.01):
        for margin in (0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.08, 0.10, 0.15, 0.20):
            right, made, repeats = picks(ranked, threshold, margin)
            rows.append((right / made if made else 1.0, right / repeats, threshold, margin))
    return rows


def best(rows: Iterable[tuple[float, float, float, float]]) -> tuple[float, float, float, float] | None:
    """The setting with the highest recall at precision >= 0.9 (the higher precision on a tie)."""
    return max((r for r in rows if r[0] >= 0.9), key=lambda r: (r[1], r[0]), default=None)


def sweep(name: str) -> None:
    """Precision and recall on the tune split for a grid of thresholds and margins."""
    rows = grid(ranked_cases(build(name), splits()["tune"]))
    for precision, recall, threshold, margin in rows:
        print(f"threshold {threshold:.2f} margin {margin:.2f}: precision {precision:.2f} recall {recall:.2f}")
    chosen = best(rows)
    if chosen:
        print(
            f"\nhighest recall at precision >= 0.9 on tune: threshold {chosen[2]:.2f}, margin {chosen[3]:.2f}"
        )


def cross_validate(name: str) -> None:
    """Leave one team out over all 15 teams: each team is scored with the settings that the other 14
    would choose. It judges a matcher with its settings re-chosen, not the settings it ships with,
    and on more teams than one fixed split, so a difference between matchers shows above the noise
    of a few cases."""
    matcher = build(name)
    teams = splits()
    everyone = teams["full"] + teams["tests"]
    ranked = {team.name: ranked_cases(matcher, [team]) for team in everyone}
    right = made = repeats = 0
    for team in everyone:
        others = [case for other in everyone if other is not team for case in ranked[other.name]]
        chosen = best(grid(others))
        r, m, n = picks(ranked[team.name], chosen[2], chosen[3]) if chosen else (0, 0, 0)
        right, made, repeats = right + r, made + m, repeats + n
    print(
        f"{name}: leave one team out over {len(everyone)} teams: precision {right / made:.2f} "
        f"recall {right / repeats:.2f} ({right} right of {made} suggested, {repeats} repeats)"
    )


def frange(start: float, stop: float, step: float) -> Iterable[float]:
    return (round(start + i * step, 4) for i in range(int((stop - start) / step) + 1))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", choices=MATCHERS, help="re-tune: the tune-split grid for one matcher")
    parser.add_argument(
        "--cross-validate", choices=MATCHERS, help="leave one team out over every team, for one matcher"
    )
    parser.add_argument("--measure", choices=MATCHERS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure)))
    elif args.sweep:
        sweep(args.sweep)
    elif args.cross_validate:
        cross_validate(args.cross_validate)
    else:
        report()


if __name__ == "__main__":
    main()
