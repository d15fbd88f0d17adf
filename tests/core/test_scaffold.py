"""`emporium plugins new`: a scaffolded plugin installs, is found, and passes its own tests.

The end-to-end test pip-installs the new distribution into this virtualenv for as
long as it runs (uninstalled at the end, whatever happens), under a name of its
own so that two runs at once do not meet.
"""
import contextlib
import io
import json
import os
import re
import subprocess
import sys
import textwrap
import uuid

import pytest
import sqlalchemy as sa

from core import cli
from core.scaffold import ScaffoldError, create, kernel_range
from tests.core.test_cli import ROOT, write_ini

EXPECTED_FILES = [
    "README.md",
    "emporium_{name}/__init__.py",
    "emporium_{name}/hooks.py",
    "emporium_{name}/migrations/0001_{name}.py",
    "emporium_{name}/models.py",
    "emporium_{name}/schemas.py",
    "emporium_{name}/services.py",
    "emporium_{name}/views.py",
    "pyproject.toml",
    "setup.cfg",
    "tests/test_{name}.py",
]


def emporium_new(*args, cwd, options=()):
    """``emporium [options] plugins new ARGS`` in this process, from ``cwd``; returns
    (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    before = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli.main([*options, "plugins", "new", *args])
    finally:
        os.chdir(before)
    return status, out.getvalue(), err.getvalue()


def test_new_writes_a_distribution_without_an_ini_file(tmp_path):
    # no development.ini here: scaffolding needs no shop
    status, out, err = emporium_new("gift_wrap", cwd=tmp_path)
    assert (status, err) == (0, "")
    target = tmp_path / "emporium-gift-wrap"
    assert out.startswith("Created plugin gift_wrap in emporium-gift-wrap/ ")
    assert "emporium plugins install gift_wrap" in out
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert files == [f.format(name="gift_wrap") for f in EXPECTED_FILES]
    for path in target.rglob("*.py"):
        compile(path.read_text(), str(path), "exec")  # a SyntaxError fails the test

    setup = (target / "setup.cfg").read_text()
    assert "name = emporium-gift-wrap" in setup
    assert re.search(r"emporium\.plugins =\n    gift_wrap = emporium_gift_wrap\n", setup)
    assert f"emporium{kernel_range()}" in setup
    package = target / "emporium_gift_wrap"
    init = (package / "__init__.py").read_text()
    assert 'name="gift_wrap"' in init and 'title="Gift Wrap"' in init
    assert f'requires_kernel="{kernel_range()}"' in init
    assert "class GiftWrapSettings(Schema)" in init
    assert '"/gift-wrap/items"' in init
    assert '__tablename__ = "gift_wrap_item"' in (package / "models.py").read_text()
    migration = (package / "migrations" / "0001_gift_wrap.py").read_text()
    for line in ('revision = "0001_gift_wrap"', "down_revision = None",
                 'branch_labels = ("gift_wrap",)', 'depends_on = "0001_kernel"'):
        assert line in migration
    readme = (target / "README.md").read_text()
    assert "emporium -c /path/to/shop.ini db revision --plugin gift_wrap" in readme
    assert "$" not in "".join(p.read_text() for p in target.rglob("*") if p.is_file())


def test_new_with_dir_and_json(tmp_path):
    status, out, err = emporium_new("notes", "--dir", "deep/er/place", cwd=tmp_path)
    assert status == 0, err
    status, out, err = emporium_new("wishes", "--dir", str(tmp_path / "w"), cwd=tmp_path)
    assert status == 0, err
    assert (tmp_path / "deep/er/place/emporium_notes/views.py").is_file()
    assert (tmp_path / "w/emporium_wishes/views.py").is_file()
    status, out, err = emporium_new("tags", cwd=tmp_path, options=["--json"])
    assert status == 0, err
    data = json.loads(out)
    assert (data["plugin"], data["path"]) == ("tags", "emporium-tags")
    assert data["files"] == [f.format(name="tags") for f in EXPECTED_FILES]


@pytest.mark.parametrize("name, message", [
    ("Gift", "plugin name 'Gift' must be 2-40 lowercase letters, digits or _, starting with "
             "a letter"),
    ("gift-wrap", "plugin name 'gift-wrap' must be"),
    ("9lives", "plugin name '9lives' must be"),
    ("x", "plugin name 'x' must be"),
    ("a" * 41, f"plugin name {'a' * 41!r} must be 2-40"),
    ("core", "plugin name 'core' is reserved for the kernel"),
    ("api", "plugin name 'api' is reserved for the kernel"),
])
def test_a_bad_name_is_one_line_and_writes_nothing(tmp_path, name, message):
    status, out, err = emporium_new(name, cwd=tmp_path)
    assert (status, out) == (1, "")
    assert err.startswith(f"emporium: error: {message}")
    assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_an_existing_directory_is_refused_and_left_alone(tmp_path):
    (tmp_path / "emporium-notes").mkdir()
    (tmp_path / "emporium-notes" / "mine.txt").write_text("keep")
    status, out, err = emporium_new("notes", cwd=tmp_path)
    assert (status, out) == (1, "")
    assert err == ("emporium: error: emporium-notes already exists; choose another "
                   "directory with --dir\n")
    assert [p.name for p in (tmp_path / "emporium-notes").iterdir()] == ["mine.txt"]
    (tmp_path / "file").write_text("")
    with pytest.raises(ScaffoldError, match="already exists"):
        create("notes", tmp_path / "file")
    with pytest.raises(ScaffoldError, match="cannot create"):
        create("notes", tmp_path / "file" / "below")


# --- end to end: pip install, discovery, `plugins install`, its own tests, a migration --


def run_python(*args, cwd=ROOT, env=None, check=True, timeout=300):
    result = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                            env=env or dict(os.environ), timeout=timeout)
    if check:
        assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.slow
def test_scaffolded_plugin_installs_is_found_and_passes_its_own_tests(make_database, tmp_path):
    name = f"scaffolded_{uuid.uuid4().hex[:8]}"
    distribution = f"emporium-{name.replace('_', '-')}"
    target, _ = create(name, tmp_path / distribution)
    run_python("-m", "pip", "install", "-q", "--no-build-isolation", "--no-deps", "-e",
               str(target))
    try:
        ini = write_ini(tmp_path / "shop.ini", make_database())

        def emporium(*args):
            return run_python("-m", "core.cli", "-c", ini, *args).stdout

        # found through its entry point, by a process started after the install
        emporium("init")
        listed = {p["name"]: p for p in json.loads(emporium("--json", "plugins", "list"))}
        assert listed[name]["state"] == "available", listed[name]
        assert listed[name]["distribution"] == distribution
        assert listed[name]["requires_kernel"] == kernel_range()

        out = emporium("plugins", "install", name)
        assert f"Done: install {name}" in out and f"tables: {name}_item" in out
        listed = {p["name"]: p for p in json.loads(emporium("--json", "plugins", "list"))}
        assert listed[name]["state"] == "enabled"
        engine = sa.create_engine(re.search(r"sqlalchemy.url = (\S+)", open(ini).read())[1])
        try:
            with engine.connect() as connection:
                rows = connection.execute(sa.text(f"SELECT name FROM {name}_item")).all()
        finally:
            engine.dispose()
        assert [row.name for row in rows] == ["Welcome"]

        # its generated tests, unchanged, with the kit's fixtures (on this run's database
        # server when EMPORIUM_TEST_DATABASE_URL is set)
        tests = run_python("-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=target,
                           check=False)
        assert tests.returncode == 0, tests.stdout + tests.stderr
        assert re.search(r"\b9 passed\b", tests.stdout), tests.stdout

        # a second revision of its branch, written by `emporium db revision`
        models = target / f"emporium_{name}" / "models.py"
        models.write_text(models.read_text() + textwrap.indent(
            "note: Mapped[str | None] = mapped_column(sa.String(100))\n", "    "))
        out = emporium("db", "revision", "--plugin", name, "-m", "add a note",
                       "--autogenerate")
        [written] = [p for p in (target / f"emporium_{name}" / "migrations").glob("*.py")
                     if not p.name.startswith("0001_")]
        assert out.splitlines()[-1] == f"Wrote {written}"
        source = written.read_text()
        assert f"down_revision = '0001_{name}'" in source
        assert "branch_labels = None" in source
        # only its own table, in batch mode on SQLite
        assert set(re.findall(r"(?<!\w)op\.(?!f\()\w+\('(\w+)'", source)) == {f"{name}_item"}
        assert re.search(r"add_column\((\S+, )?sa\.Column\('note', sa\.String\(length=100\)",
                         source)
        assert re.search(r"drop_column\((\S+, )?'note'\)", source)
        assert "upgrade " + name in emporium("db", "upgrade")
        engine = sa.create_engine(re.search(r"sqlalchemy.url = (\S+)", open(ini).read())[1])
        try:
            columns = {c["name"] for c in sa.inspect(engine).get_columns(f"{name}_item")}
        finally:
            engine.dispose()
        assert columns == {"id", "name", "created_at", "note"}
    finally:
        run_python("-m", "pip", "uninstall", "-q", "-y", distribution, check=False)
    assert distribution not in run_python("-m", "pip", "list").stdout
