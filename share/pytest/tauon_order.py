"""pytest plugin: run the tests Tauon expects to fail first.

Before a job with a JUnit report runs, Tauon writes the job's known tests,
most likely to fail first, to the file named by $TAUON_TEST_ORDER: one test
per line, as its JUnit report named it, "CLASSNAME::NAME" (pytest's
junitxml: "tests.test_math.TestAdd::test_big[2]"). This plugin reorders the
collected tests to match: known tests in the file's order, then the tests the
file does not list (new ones), in pytest's order. Without the variable, or
with an unreadable file, nothing changes.

Load it with `-p tauon_order` and its directory on PYTHONPATH, or import it
from a conftest.py: `from tauon_order import pytest_collection_modifyitems`
(see docs/history.md). Pure Python, no dependency but pytest.
"""
import os
import re

_ORDER_ENV = "TAUON_TEST_ORDER"


def junit_id(nodeid):
    """The id pytest's junitxml gives a test: "CLASSNAME::NAME".

    Mirrors _pytest.junitxml.mangle_test_address: the file path becomes a
    dotted module path, classes join it, parameters stay on the name.
    """
    path, bracket, params = nodeid.partition("[")
    names = path.split("::")
    names[0] = re.sub(r"\.py$", "", names[0].replace("/", "."))
    names[-1] += bracket + params
    classname = ".".join(names[:-1])
    return f"{classname}::{names[-1]}" if classname else names[-1]


def read_order(path):
    """Ranks by id, from the order file; {} if it cannot be read."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = [line.rstrip("\n") for line in f]
    except OSError:
        return {}
    ranks = {}
    for rank, test in enumerate(lines):
        if test and test not in ranks:
            ranks[test] = rank
    return ranks


def pytest_collection_modifyitems(session, config, items):
    path = os.environ.get(_ORDER_ENV)
    if not path:
        return
    ranks = read_order(path)
    if not ranks:
        return
    unknown = len(ranks)
    # sorted() is stable: unlisted tests keep pytest's order, after the known ones.
    items[:] = sorted(items, key=lambda item: ranks.get(junit_id(item.nodeid), unknown))
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    known = sum(1 for item in items if junit_id(item.nodeid) in ranks)
    if reporter is not None:
        reporter.write_line(f"tauon: {known} known tests ordered most-likely-to-fail first "
                            f"({len(items) - known} new)")
