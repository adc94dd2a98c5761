"""Run the real EPUBCheck 5.3 on many EPUBs in one JVM: the helper every EPUB test uses.

Committed early for the whole team. Use it like this::

    from epubcheck_runner import run_epubcheck, assert_epubcheck_clean

    results = run_epubcheck([a, b, c])      # {Path: Result}, one JVM for all of them
    assert results[a].clean, results[a].report()
    assert_epubcheck_clean(a, b, c)         # asserts 0 fatal / 0 errors / 0 warnings, prints messages

or as a fixture (import it into the test module: ``from epubcheck_runner import epubcheck``)::

    def test_x(epubcheck):
        epubcheck(path)                      # same as assert_epubcheck_clean

A JVM start plus schema loading costs ~8-10 s, so validate all of a test's books in one call. The
jar bundled in the ``epubcheck`` PyPI package is found through the package's location; the small
Java program ``EpubcheckRunner.java`` next to this file calls ``com.adobe.epubcheck.api.EpubCheck``
once per file in the same JVM. It is compiled once into a cache folder keyed by its source hash
(falls back to Java's single-file source mode, and finally to one ``java -jar ... --json`` process
per file if the API route fails). Results are memoized by file content within a test session.
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

HERE = Path(__file__).resolve().parent
RUNNER_SRC = HERE / "EpubcheckRunner.java"
TIMEOUT = 600  # seconds for one JVM run


@dataclass
class Message:
    severity: str  # FATAL | ERROR | WARNING
    id: str  # e.g. RSC-005
    path: str  # file inside the EPUB
    line: int
    column: int
    text: str

    def __str__(self) -> str:
        where = self.path + (f":{self.line}:{self.column}" if self.line > 0 else "")
        return f"{self.severity}({self.id}) {where}: {self.text}"


@dataclass
class Result:
    fatal: int = 0
    errors: int = 0
    warnings: int = 0
    messages: list[Message] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.fatal == 0 and self.errors == 0 and self.warnings == 0

    def report(self) -> str:
        head = f"EPUBCheck: {self.fatal} fatal, {self.errors} errors, {self.warnings} warnings"
        return "\n".join([head, *(f"  {m}" for m in self.messages)])


def jar_path() -> Path:
    import epubcheck  # the PyPI package; bundles epubcheck.jar and its lib/

    jar = Path(epubcheck.__file__).resolve().parent / "epubcheck.jar"
    if not jar.is_file():
        raise FileNotFoundError(f"epubcheck.jar not found next to {epubcheck.__file__}")
    return jar


def _java() -> str:
    java = shutil.which("java")
    if not java:
        pytest.skip("java is not installed (make setup installs it)")
    return java


def _compiled_dir(jar: Path) -> Path | None:
    """Folder holding EpubcheckRunner.class, compiled once per source version; None if no javac."""
    src = RUNNER_SRC.read_bytes()
    key = hashlib.sha256(src + str(jar).encode()).hexdigest()[:16]
    out = Path(tempfile.gettempdir()) / f"pubpipe-epubcheck-runner-{key}"
    if (out / "EpubcheckRunner.class").is_file():
        return out
    javac = shutil.which("javac")
    if not javac:
        return None
    tmp = Path(tempfile.mkdtemp(prefix="pubpipe-ecr-"))
    proc = subprocess.run([javac, "-cp", str(jar), "-d", str(tmp), str(RUNNER_SRC)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        return None
    try:
        tmp.rename(out)  # atomic; a parallel test run may have won the race
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
    return out if (out / "EpubcheckRunner.class").is_file() else None


def _run_api(paths: list[Path], jar: Path) -> dict[Path, Result] | None:
    """All files in one JVM through the EPUBCheck API. None when the runner cannot start."""
    classes = _compiled_dir(jar)
    if classes is not None:
        cmd = [_java(), "-cp", f"{jar}{os.pathsep}{classes}", "EpubcheckRunner"]
    else:  # Java 11+ single-file source mode
        cmd = [_java(), "-cp", str(jar), str(RUNNER_SRC)]
    proc = subprocess.run(cmd + [str(p) for p in paths], capture_output=True, timeout=TIMEOUT)
    results: dict[int, Result] = {}
    done: set[int] = set()
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        parts = line.split("\t")
        if parts[0] == "MSG" and len(parts) >= 8:
            r = results.setdefault(int(parts[1]), Result())
            r.messages.append(Message(parts[2], parts[3], parts[4], int(parts[5]), int(parts[6]),
                                      "\t".join(parts[7:])))
        elif parts[0] == "END" and len(parts) == 5:
            i = int(parts[1])
            r = results.setdefault(i, Result())
            r.fatal, r.errors, r.warnings = int(parts[2]), int(parts[3]), int(parts[4])
            done.add(i)
    if len(done) != len(paths):
        return None
    return {p: results[i] for i, p in enumerate(paths)}


def _run_cli_one(path: Path, jar: Path) -> Result:
    """Fallback: one `java -jar epubcheck.jar FILE --json OUT` process for one file."""
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "out.json"
        proc = subprocess.run([_java(), "-jar", str(jar), str(path), "--json", str(out)],
                              capture_output=True, text=True, timeout=TIMEOUT)
        if not out.is_file():
            return Result(fatal=1, messages=[Message("FATAL", "RUNNER", str(path), -1, -1,
                                                     proc.stderr[-2000:])])
        data = json.loads(out.read_text(encoding="utf-8"))
    r = Result()
    for m in data.get("messages", []):
        sev = m.get("severity", "")
        if sev not in ("FATAL", "ERROR", "WARNING"):
            continue
        locs = m.get("locations") or [{}]
        for loc in locs:  # the CLI reports one message with several locations; count each
            r.messages.append(Message(sev, m.get("ID", ""), loc.get("path", ""),
                                      loc.get("line", -1), loc.get("column", -1),
                                      m.get("message", "")))
            if sev == "FATAL":
                r.fatal += 1
            elif sev == "ERROR":
                r.errors += 1
            else:
                r.warnings += 1
    return r


_memo: dict[str, Result] = {}


def run_epubcheck(paths: list[Path]) -> dict[Path, Result]:
    """EPUBCheck results for every path, validated in as few JVM runs as possible."""
    paths = [Path(p) for p in paths]
    jar = jar_path()
    digests = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
    todo = list(dict.fromkeys(p for p in paths if digests[p] not in _memo))
    if todo:
        found = _run_api(todo, jar)
        if found is None:
            with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
                found = dict(zip(todo, pool.map(lambda p: _run_cli_one(p, jar), todo)))
        for p, r in found.items():
            _memo[digests[p]] = r
    return {p: _memo[digests[p]] for p in paths}


def assert_epubcheck_clean(*paths: Path) -> dict[Path, Result]:
    """Assert 0 fatal / 0 errors / 0 warnings for every path; the failure lists every message."""
    results = run_epubcheck(list(paths))
    bad = {p: r for p, r in results.items() if not r.clean}
    if bad:
        raise AssertionError("\n".join(f"{p}:\n{r.report()}" for p, r in bad.items()))
    return results


@pytest.fixture
def epubcheck():
    """The assert_epubcheck_clean function, as a fixture."""
    return assert_epubcheck_clean
