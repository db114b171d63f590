"""The README stays short and every link in it and in docs/ leads somewhere.

- README.md is at most 200 lines: a newcomer reads it in five minutes, the details live in docs/.
- Every relative link (and image) in README.md and docs/*.md points to a file that exists.
- Every page in docs/ is linked from the README, so nothing moved there is lost.
- The README's test command is `make test` (CI runs what the README says), and it says how
  long the suite takes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MAX_README_LINES = 200

FENCE = re.compile(r"^(```|~~~)[^\n]*\n(.*?)^\1[^\n]*$", re.M | re.S)
CODE_SPAN = re.compile(r"(`+).+?\1", re.S)
# [text](target) and ![alt](target); the target may carry a "title" after a space.
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# [label]: target (reference definitions)
REFERENCE_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.I)


def prose(text: str) -> str:
    """The text without fenced code blocks and inline code, where brackets are not links."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def code_lines(text: str) -> list[str]:
    """The lines inside fenced code blocks."""
    return [line for _, block in FENCE.findall(text) for line in block.splitlines()]


def link_targets(text: str) -> list[str]:
    body = prose(text)
    return INLINE_LINK.findall(body) + REFERENCE_DEF.findall(body)


def broken_links(md: Path) -> list[str]:
    """Relative link targets in one markdown file that name no existing file or folder."""
    broken = []
    for target in link_targets(md.read_text(encoding="utf-8")):
        if EXTERNAL.match(target) or target.startswith("#"):
            continue
        path = target.split("#", 1)[0].split("?", 1)[0]
        if not (md.parent / path).exists():
            broken.append(target)
    return broken


def markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def test_the_readme_is_at_most_200_lines():
    n = len(README.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_README_LINES, f"README.md has {n} lines; move details into docs/ (at most {MAX_README_LINES})"


@pytest.mark.parametrize("md", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_to_an_existing_file(md):
    assert broken_links(md) == [], f"{md.relative_to(ROOT)} links to files that do not exist"


def test_every_docs_page_is_linked_from_the_readme():
    linked = {
        (README.parent / t.split("#", 1)[0]).resolve()
        for t in link_targets(README.read_text(encoding="utf-8"))
        if not EXTERNAL.match(t)
    }
    unlinked = [p.name for p in sorted(DOCS.glob("*.md")) if p.resolve() not in linked]
    assert unlinked == [], f"docs pages the README does not link: {unlinked}"


def test_the_readme_test_command_is_make_test():
    text = README.read_text(encoding="utf-8")
    commands = [line.split("#", 1)[0].split() for line in code_lines(text)]
    assert ["make", "test"] in commands, "the README's code blocks must give `make test` as the test command"
    assert re.search(r"`make test` takes about [\d.]+ minutes on a 2-core machine", text), (
        "the README must say how long `make test` takes: '`make test` takes about N minutes on a 2-core machine'"
    )


# The link check itself must be able to fail.


def test_the_link_check_finds_a_broken_link(tmp_path):
    (tmp_path / "there.md").write_text("x\n")
    md = tmp_path / "page.md"
    md.write_text(
        "[ok](there.md) [ok too](there.md#part) [web](https://example.org) [anchor](#top)\n"
        "![missing figure](figs/none.png) and [gone](nowhere.md#x)\n"
        "`[not a link](in_code.md)`\n```\n[not a link](in_fence.md)\n```\n"
        "[ref]: also_missing.md\n"
    )
    assert broken_links(md) == ["figs/none.png", "nowhere.md#x", "also_missing.md"]


def test_make_bench_runs_every_benchmark_script():
    """Every figure names the script that regenerates it, so `make bench` (bench/run_all.py,
    with --long for the hours-long ones) must reach every script in bench/."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("run_all", ROOT / "bench" / "run_all.py")
    run_all = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_all)
    listed = {e if isinstance(e, str) else e[0] for e in run_all.SCRIPTS + run_all.LONG}
    scripts = {p.name for p in (ROOT / "bench").glob("*.py")} - {"run_all.py"}
    assert scripts - listed == set(), "bench scripts make bench never runs"
    assert listed - scripts == set(), "run_all.py lists scripts that do not exist"
