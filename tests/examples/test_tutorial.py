"""docs/tutorial.md shows the code of examples/emporium-tutorial, whose own tests run
in the same test run (setup.cfg testpaths): the tutorial cannot fall behind."""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "tutorial.md"
EXAMPLE = ROOT / "examples" / "emporium-tutorial"
BLOCK = re.compile(r"<!-- (example|excerpt): (\S+) -->\n```\w*\n(.*?)\n```", re.S)


def blocks():
    return BLOCK.findall(TUTORIAL.read_text())


def test_the_tutorial_shows_every_file_of_the_plugin():
    shown = {path for kind, path, _ in blocks() if kind == "example"}
    package = EXAMPLE / "emporium_purchase_limits"
    files = {path.relative_to(EXAMPLE).as_posix() for path in package.rglob("*.py")}
    assert shown == files


@pytest.mark.parametrize("kind, path, code", blocks(), ids=lambda value: str(value)[:60])
def test_each_block_is_the_examples_code(kind, path, code):
    source = (EXAMPLE / path).read_text()
    if kind == "example":
        assert code == source.rstrip("\n"), f"docs/tutorial.md shows an old {path}"
    else:
        assert code in source, f"docs/tutorial.md quotes {path} as it no longer is"


def test_the_example_is_collected_by_the_test_run():
    setup = (ROOT / "setup.cfg").read_text()
    testpaths = re.search(r"^testpaths =(.*(?:\n    .*)*)", setup, re.M)[1].split()
    assert "examples/emporium-tutorial/tests" in testpaths
    # CI runs the README's test command, word for word
    command = re.search(r"^TEST_COMMAND='(.*)'$", (ROOT / ".ci" / "run").read_text(), re.M)[1]
    assert "-e examples/emporium-tutorial " in command
    assert f"\n{command}\n" in (ROOT / "README.md").read_text()
