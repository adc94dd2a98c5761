"""Run Ace by DAISY (the EPUB accessibility checker) on EPUBs the tests build.

Use it like this::

    from ace_runner import run_ace, assert_ace_clean

    results = run_ace([a, b, c])       # {Path: AceResult}; a few Node processes for all of them
    assert results[a].clean, results[a].report()
    assert_ace_clean(a, b, c)          # no violation of any impact, else every violation listed

Ace (``@daisy/ace`` from npm, pinned in ``tools/ace/package.json``) is installed by ``make setup``
(``tools/setup-ace.sh``: ``npm ci --ignore-scripts`` with ``PUPPETEER_SKIP_DOWNLOAD=1``, so no
browser is downloaded) and runs with the system's Chromium through ``PUPPETEER_EXECUTABLE_PATH``.
When Ace is missing and npm is there, the first call installs it the same way; when it cannot be
had (no Node, no npm, no Chromium, no registry) the calling test is skipped and the reason says
which. Each EPUB costs about 3 s (Chromium renders every document); the EPUBs are split over two
Node processes (``tools/ace/ace-batch.js`` checks several EPUBs in one process). Results are
memoized by file content within a test session.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ACE_DIR = REPO / "tools" / "ace"
BATCH = ACE_DIR / "ace-batch.js"
SETUP = REPO / "tools" / "setup-ace.sh"
TIMEOUT_PER_EPUB = 240  # seconds; Ace's own default per document is 240 s
WORKERS = 2  # Node processes at once (each drives one Chromium)


@dataclass
class Violation:
    rule: str  # e.g. "link-in-text-block", "epub-lang"
    impact: str  # minor | moderate | serious | critical
    file: str  # document inside the EPUB
    description: str
    where: str = ""  # CSS selector of the first element involved, when Ace gives one

    def __str__(self) -> str:
        at = f" [{self.where}]" if self.where else ""
        return f"{self.impact} {self.rule} in {self.file}{at}: {self.description}"


@dataclass
class AceResult:
    outcome: str = ""  # "pass" | "fail" (Ace's earl:outcome)
    violations: list[Violation] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)  # the package metadata Ace read (report "data")
    a11y_metadata: dict = field(default_factory=dict)  # present / missing / empty a11y properties
    properties: dict = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.violations

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for v in self.violations:
            out[v.rule] = out.get(v.rule, 0) + 1
        return out

    def report(self) -> str:
        head = f"Ace by DAISY: {len(self.violations)} violations {self.counts()}"
        return "\n".join([head, *(f"  {v}" for v in self.violations)])


def parse_report(data: dict) -> AceResult:
    """An AceResult from Ace's report.json."""
    r = AceResult(outcome=(data.get("earl:result") or {}).get("earl:outcome", ""),
                  metadata=(data.get("data") or {}).get("metadata") or {},
                  a11y_metadata=data.get("a11y-metadata") or {},
                  properties=data.get("properties") or {})
    for subject in data.get("assertions") or []:
        url = (subject.get("earl:testSubject") or {}).get("url", "")
        for a in subject.get("assertions") or []:
            if (a.get("earl:result") or {}).get("earl:outcome") != "fail":
                continue
            test = a.get("earl:test") or {}
            pointer = (a.get("earl:result") or {}).get("earl:pointer") or {}
            css = pointer.get("css") or []
            r.violations.append(Violation(test.get("dct:title", "?"), test.get("earl:impact", "?"),
                                          url, " ".join(str((a.get("earl:result") or {}).get(
                                              "dct:description", "")).split()),
                                          css[0] if css else ""))
    return r


# --------------------------------------------------------------------------------------------
# Finding (or installing) Ace and Chromium


def _chromium() -> str | None:
    env = os.environ.get("PUPPETEER_EXECUTABLE_PATH", "")
    if env and os.access(env, os.X_OK):
        return env
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


_unavailable: str | None = None  # why Ace cannot run here (decided once per session)
_checked = False


def ace_unavailable() -> str | None:
    """None when Ace can run; else the reason it cannot (installs it once if npm is here)."""
    global _unavailable, _checked
    if _checked:
        return _unavailable
    _checked = True
    node = shutil.which("node")
    if node is None:
        _unavailable = "Ace by DAISY needs Node.js: not installed (make setup installs it)"
    elif _chromium() is None:
        _unavailable = ("Ace by DAISY needs Chromium: not installed (make setup installs Debian's"
                        " chromium; or set PUPPETEER_EXECUTABLE_PATH)")
    elif not (ACE_DIR / "node_modules" / "@daisy" / "ace-core").is_dir():
        try:
            proc = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True,
                                  timeout=900)
            said = proc.stderr or proc.stdout
        except (OSError, subprocess.SubprocessError) as e:
            said = str(e)
        if not (ACE_DIR / "node_modules" / "@daisy" / "ace-core").is_dir():
            tail = " ".join(said.split())[-300:]
            _unavailable = f"Ace by DAISY could not be installed with npm ({tail or 'no output'})"
    return _unavailable


def require_ace() -> None:
    """Skip the calling test, with the reason, when Ace cannot run here."""
    why = ace_unavailable()
    if why:
        pytest.skip(why)


# --------------------------------------------------------------------------------------------
# Running it


def _run_batch(paths: list[Path]) -> dict[Path, AceResult]:
    env = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": _chromium() or "",
           "PUPPETEER_SKIP_DOWNLOAD": "1"}
    out: dict[Path, AceResult] = {}
    with tempfile.TemporaryDirectory(prefix="pubpipe-ace-") as tmp:
        proc = subprocess.run(["node", str(BATCH), tmp, *map(str, paths)], cwd=ACE_DIR, env=env,
                              capture_output=True, text=True,
                              timeout=TIMEOUT_PER_EPUB * len(paths) + 60)
        errors = {}
        for line in proc.stdout.splitlines():
            parts = line.split("\t")
            if parts[0] == "ERROR" and len(parts) >= 3:
                errors[int(parts[1])] = parts[2]
        for n, p in enumerate(paths):
            report = Path(tmp) / str(n) / "report.json"
            if report.is_file():
                out[p] = parse_report(json.loads(report.read_text(encoding="utf-8")))
            else:
                why = errors.get(n) or (proc.stderr or "no report written")[-1000:]
                raise AssertionError(f"Ace by DAISY could not check {p}: {why}")
    return out


_memo: dict[str, AceResult] = {}


def run_ace(paths: list[Path]) -> dict[Path, AceResult]:
    """Ace's findings for every EPUB, checked in up to two Node processes at once."""
    require_ace()
    paths = [Path(p) for p in paths]
    digests = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
    todo = list({digests[p]: p for p in paths if digests[p] not in _memo}.values())
    if todo:
        groups = [todo[k::WORKERS] for k in range(min(WORKERS, len(todo)))]
        with ThreadPoolExecutor(max_workers=len(groups)) as pool:
            for found in pool.map(_run_batch, groups):
                for p, r in found.items():
                    _memo[digests[p]] = r
    return {p: _memo[digests[p]] for p in paths}


def assert_ace_clean(*paths: Path) -> dict[Path, AceResult]:
    """No Ace violation of any impact in any of the EPUBs; the failure lists them all."""
    results = run_ace(list(paths))
    bad = {p: r for p, r in results.items() if not r.clean}
    if bad:
        raise AssertionError("\n".join(f"{p.name}:\n{r.report()}" for p, r in bad.items()))
    return results
