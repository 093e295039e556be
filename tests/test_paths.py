"""The suite reads nothing from beside the repository (a user's clone has only the repository)."""

import pathlib

from tests import conftest
from tests.paths import DATA, ROOT, neighbours, outside_repository


def test_outside_repository_tells_neighbours_from_the_repository(tmp_path):
    root = tmp_path / "project"
    assert outside_repository(tmp_path / "shared" / "reference" / "positions.jsonl", root)
    assert outside_repository(tmp_path / "project-other" / "x.txt", root)
    assert not outside_repository(root / "tests" / "data" / "x.jsonl", root)
    assert not outside_repository(tmp_path / ".cache" / "jax" / "entry", root)
    assert not outside_repository("/usr/lib/python3/os.py", root)


def test_the_guard_records_a_read_beside_the_repository(monkeypatch):
    monkeypatch.setattr(conftest, "_NEIGHBOURS", frozenset({"shared"}))
    sibling = ROOT.parent / "shared" / "reference" / "positions.jsonl"
    conftest._audit("open", (str(sibling), "r", 0))
    conftest._audit("open", (str(DATA / "reference_positions.jsonl"), "r", 0))
    recorded, conftest._OUTSIDE_READS[:] = list(conftest._OUTSIDE_READS), []
    assert recorded == [str(sibling)]


def test_no_test_names_the_folder_beside_the_checkout():
    for path in (ROOT / "tests").rglob("*.py"):
        if path.name == "test_paths.py":
            continue
        text = path.read_text()
        assert '"shared" / "reference"' not in text and "../shared" not in text, path


def test_the_reference_positions_are_in_the_repository():
    assert (DATA / "reference_positions.jsonl").stat().st_size > 0
    assert pathlib.Path(DATA).resolve().is_relative_to(ROOT)


def test_only_what_was_beside_the_repository_is_guarded(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    (tmp_path / "shared").mkdir()
    (tmp_path / "pytest-of-someone").mkdir()
    among = neighbours(root)
    assert among == {"shared"}
    assert outside_repository(tmp_path / "shared" / "x", root, among)
    # made later (a test's temporary folder beside a clone in /tmp): not guarded
    assert not outside_repository(tmp_path / "tmpabc" / "x", root, among)
    assert not outside_repository(tmp_path / "pytest-of-someone" / "x", root, among)
