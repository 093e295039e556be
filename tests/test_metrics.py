"""MetricsWriter's TensorBoard part: tensorboardX, else the `tensorboard` package's own writer,
else one line saying TensorBoard logging is off while metrics.jsonl goes on."""

import sys
import types

import pytest

from keisei_jax.metrics import TENSORBOARD_OFF, MetricsWriter, read_metrics


def _write_two(workdir):
    writer = MetricsWriter(workdir, tensorboard=True)
    writer.write(64, {"loss/policy": 1.5, "nan_metric": float("nan"), "flag": True,
                      "termination": "mate"})
    writer.write(128, {"loss/policy": 1.25})
    writer.close()


def _event_bytes(workdir) -> bytes:
    files = sorted((workdir / "tensorboard").glob("events.out.tfevents.*"))
    assert files, f"no event file under {workdir / 'tensorboard'}"
    return b"".join(f.read_bytes() for f in files)


def _hide(monkeypatch, *modules):
    # A None entry in sys.modules makes `import name` raise ImportError, as if not installed.
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)


def test_tensorboardx_writes_scalars(tmp_path):
    pytest.importorskip("tensorboardX")
    _write_two(tmp_path)
    data = _event_bytes(tmp_path)
    assert b"loss/policy" in data
    # Non-finite, boolean and text values stay in metrics.jsonl only.
    assert b"nan_metric" not in data and b"flag" not in data and b"termination" not in data
    assert [r["env_steps"] for r in read_metrics(tmp_path / "metrics.jsonl")] == [64, 128]


def test_tensorboard_package_writer_without_tensorboardx(tmp_path, monkeypatch):
    # What GPU images ship: tensorboard (no TensorFlow), no tensorboardX.
    _hide(monkeypatch, "tensorboardX")
    pytest.importorskip("tensorboard.summary", reason="the tensorboard package is not installed")
    _write_two(tmp_path)
    data = _event_bytes(tmp_path)
    assert b"loss/policy" in data and b"nan_metric" not in data


def test_fallback_calls_the_tensorboard_writer_api(tmp_path, monkeypatch):
    # The same fallback against a stand-in with tensorboard.summary.Writer's interface, so the
    # wiring is checked where the tensorboard package is not installed.
    calls = []

    class Writer:
        def __init__(self, logdir):
            calls.append(("init", logdir))

        def add_scalar(self, tag, data, step):
            calls.append(("scalar", tag, data, step))

        def flush(self):
            calls.append(("flush",))

        def close(self):
            calls.append(("close",))

    package, summary = types.ModuleType("tensorboard"), types.ModuleType("tensorboard.summary")
    summary.Writer, package.summary = Writer, summary
    _hide(monkeypatch, "tensorboardX")
    monkeypatch.setitem(sys.modules, "tensorboard", package)
    monkeypatch.setitem(sys.modules, "tensorboard.summary", summary)
    _write_two(tmp_path)
    assert calls == [
        ("init", str(tmp_path / "tensorboard")),
        ("scalar", "loss/policy", 1.5, 64), ("flush",),
        ("scalar", "loss/policy", 1.25, 128), ("flush",),
        ("close",),
    ]


def test_without_any_writer_one_line_and_the_run_goes_on(tmp_path, monkeypatch, capsys):
    _hide(monkeypatch, "tensorboardX", "tensorboard", "tensorboard.summary")
    _write_two(tmp_path)
    err = capsys.readouterr().err
    assert err.splitlines() == [TENSORBOARD_OFF]
    assert [r["loss/policy"] for r in read_metrics(tmp_path / "metrics.jsonl")] == [1.5, 1.25]
    assert not (tmp_path / "tensorboard").exists()


def test_tensorboard_false_says_nothing(tmp_path, monkeypatch, capsys):
    _hide(monkeypatch, "tensorboardX", "tensorboard", "tensorboard.summary")
    MetricsWriter(tmp_path, tensorboard=False).close()
    assert capsys.readouterr().err == ""
