"""Run directories and checkpoints under bad conditions: each case gets exit 2 (or a warning and a
safe fallback) with a message naming the file and the fix, and loses nothing."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from safetensors.torch import load_file

import coopkit
import coopkit.api
import coopkit.engine.checkpoint as checkpoint_module
from coopkit.cli import main
from coopkit.engine.checkpoint import list_checkpoints
from coopkit.engine.lock import RunLock
from coopkit.errors import CheckpointError, CoopkitWarning, TrainingDiverged


@pytest.fixture
def cli(host, monkeypatch, capsys):
    """``coopkit ARGS`` in-process with the toy host; returns (exit code, stdout, stderr)."""
    monkeypatch.setattr(coopkit.api, "default_host", lambda: host)
    monkeypatch.setattr("coopkit.plugins.default_host", lambda: host)
    monkeypatch.setattr("coopkit.cli.register_plugin_commands", lambda *a: None)

    def invoke(*args: str) -> tuple[int, str, str]:
        quiet = ["--no-progress"] if args[0] == "run" else []
        monkeypatch.setattr(sys, "argv", ["coopkit", *args, *quiet])
        with pytest.raises(SystemExit) as exited:
            main()
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return exited.value.code, out, "".join(err.split())  # rich wraps long lines anywhere

    return invoke


@pytest.fixture
def trained(host, write_recipe):
    """A 4-iteration run with checkpoints at 2 and 4; returns (recipe path, run directory)."""
    path = write_recipe(output={"checkpoint_every": 2, "sample_every": 100, "keep_checkpoints": 3})
    run = coopkit.build(path, host=host)
    run.fit(progress=False)
    return path, run.directory


def says(err: str, text: str) -> bool:
    return "".join(text.split()) in err


def snapshot(directory) -> dict[str, bytes]:
    """Every file of a run directory, to show that a refused command changed nothing."""
    return {
        str(p.relative_to(directory.path)): p.read_bytes()
        for p in sorted(directory.path.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def damage(path, offset_from_end: int = 64) -> None:
    """Flips bytes in the tensor data (the end of a safetensors file), leaving the header intact."""
    data = bytearray(path.read_bytes())
    for index in range(len(data) - offset_from_end, len(data) - offset_from_end + 8):
        data[index] ^= 0xFF
    path.write_bytes(bytes(data))


# ---------------------------------------------------------------------------- one writer


def test_a_second_writer_is_refused_naming_the_holder(host, trained, cli):
    path, directory = trained
    before = snapshot(directory)
    with RunLock(directory.path):
        code, _, err = cli("run", str(path), "train.iterations=6", "--resume")
    assert code == 2 and says(err, f"pid {os.getpid()}") and "output.dir" in err
    assert snapshot(directory) == before


def test_a_lock_left_by_a_killed_process_is_taken_over(host, trained):
    path, directory = trained
    holder = textwrap.dedent(f"""
        import os, signal
        from coopkit.engine.lock import RunLock
        RunLock({str(directory.path)!r}).acquire()
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    killed = subprocess.run([sys.executable, "-c", holder])
    assert killed.returncode == -9
    assert (directory.path / ".lock").read_text().strip().isdigit()
    run = coopkit.build(path, ["train.iterations=6"], host=host)
    run.fit(progress=False, resume=True)
    assert run.iteration == 6


# ---------------------------------------------------------------------------- checkpoints


def test_resume_skips_a_damaged_checkpoint_and_says_so(host, trained):
    path, directory = trained
    newest = directory.latest_checkpoint()
    damage(newest)
    run = coopkit.build(path, ["train.iterations=5"], host=host)
    with pytest.warns(CoopkitWarning, match="iter_0000004.*damaged"):
        run.fit(progress=False, resume=True)
    assert [m["iteration"] for m in directory.iteration_metrics()] == [1, 2, 3, 4, 5]
    loaded = coopkit.load(directory.path, host=host)
    assert loaded.iteration == 5


def test_a_damaged_checkpoint_is_never_loaded(host, trained, cli):
    _, directory = trained
    newest = directory.latest_checkpoint()
    damage(newest)
    with pytest.raises(CheckpointError, match="damaged.*SHA-256"):
        coopkit.load(newest, host=host)
    code, _, err = cli("sample", str(newest), "-n", "1")
    assert code == 2 and "damaged" in err


def test_a_truncated_checkpoint_is_skipped_too(host, trained):
    path, directory = trained
    newest = directory.latest_checkpoint()
    newest.write_bytes(newest.read_bytes()[:100])
    run = coopkit.build(path, ["train.iterations=4"], host=host)
    with pytest.warns(CoopkitWarning, match="not a readable safetensors"):
        run.fit(progress=False, resume=True)
    assert run.iteration == 4 and load_file(directory.latest_checkpoint())


def test_resume_from_a_chosen_checkpoint(host, trained, cli):
    path, directory = trained
    older = list_checkpoints(directory.checkpoints)[0]
    code, out, err = cli("run", str(path), "--resume-from", str(older))
    assert code == 0, err
    assert [m["iteration"] for m in directory.iteration_metrics()] == [1, 2, 3, 4]
    code, _, err = cli("run", str(path), "--resume-from", str(directory.path / "nope.safetensors"))
    assert code == 2 and "nope.safetensors" in err


def test_stale_temporary_files_are_removed_at_start(host, trained):
    path, directory = trained
    stale = [
        directory.checkpoints / ".iter_0000006.safetensors.abc123",
        directory.path / ".metrics.jsonl.xyz",
    ]
    for file in stale:
        file.write_bytes(b"half")
    coopkit.build(path, ["train.iterations=5"], host=host).fit(progress=False, resume=True)
    assert not any(file.exists() for file in stale)


def test_a_full_disk_while_checkpointing_keeps_the_earlier_checkpoints(host, trained, monkeypatch):
    path, directory = trained
    before = {p.name: p.read_bytes() for p in list_checkpoints(directory.checkpoints)}
    real_save = checkpoint_module.save_file

    def disk_full(tensors, filename, metadata):
        real_save(tensors, filename, metadata)
        with open(filename, "r+b") as handle:
            handle.truncate(50)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint_module, "save_file", disk_full)
    run = coopkit.build(path, ["train.iterations=6"], host=host)
    with pytest.raises(CheckpointError, match="No space left.*untouched.*--resume"):
        run.fit(progress=False, resume=True)
    after = {p.name: p.read_bytes() for p in list_checkpoints(directory.checkpoints)}
    assert after == before
    assert not [p for p in directory.checkpoints.iterdir() if p.name.startswith(".")]


# ---------------------------------------------------------------------------- metrics.jsonl


def test_a_torn_last_metrics_line_is_dropped_with_a_warning(host, trained):
    path, directory = trained
    with directory.metrics.open("a") as handle:
        handle.write('{"iteration": 5, "descriptor_lo')
    run = coopkit.build(path, ["train.iterations=5"], host=host)
    with pytest.warns(CoopkitWarning, match="torn last line"):
        run.fit(progress=False, resume=True)
    assert [m["iteration"] for m in directory.iteration_metrics()] == [1, 2, 3, 4, 5]


def test_damage_inside_the_history_is_an_error_not_a_silent_loss(host, trained, cli):
    path, directory = trained
    lines = directory.metrics.read_text().splitlines()
    lines[1] = "garbage"
    directory.metrics.write_text("\n".join(lines) + "\n")
    before = snapshot(directory)
    code, _, err = cli("run", str(path), "train.iterations=6", "--resume")
    assert code == 2 and says(err, "line 2 is not JSON")
    assert snapshot(directory) == before


def test_resume_without_a_checkpoint_keeps_the_history_unless_restart(host, trained, cli):
    path, directory = trained
    for file in list_checkpoints(directory.checkpoints):
        file.unlink()
    before = snapshot(directory)
    code, _, err = cli("run", str(path), "--resume")
    assert code == 2 and "--restart" in err and says(err, "no checkpoint")
    assert snapshot(directory) == before
    code, _, err = cli("run", str(path))
    assert code == 2 and "--restart" in err
    assert snapshot(directory) == before

    code, _, err = cli("run", str(path), "--restart")
    assert code == 0, err
    kept = directory.path / "metrics.before-restart-1.jsonl"
    assert kept.read_bytes() == before["metrics.jsonl"]
    assert [m["iteration"] for m in directory.iteration_metrics()] == [1, 2, 3, 4]


def test_restart_refuses_where_checkpoints_exist(trained, cli):
    path, directory = trained
    before = snapshot(directory)
    code, _, err = cli("run", str(path), "--restart")
    assert code == 2 and "--resume" in err and "output.dir" in err
    assert snapshot(directory) == before


# ---------------------------------------------------------------------------- output.dir


@pytest.mark.parametrize(
    "where, message",
    [
        ("file", "is a file, not a folder"),
        ("under-file", "lies under"),
        ("nul", "NUL byte"),
        ("samples-file", "samples is a file"),
        ("metrics-folder", "metrics.jsonl is a folder"),
    ],
)
def test_an_unusable_output_dir_is_refused(tmp_path, write_recipe, cli, where, message):
    target = tmp_path / "out"
    if where == "file":
        target.write_text("mine")
    elif where == "under-file":
        (tmp_path / "blocker").write_text("mine")
        target = tmp_path / "blocker" / "run"
    elif where == "nul":
        target = tmp_path / "o\0ut"
    elif where == "samples-file":
        target.mkdir()
        (target / "samples").write_text("mine")
    elif where == "metrics-folder":
        (target / "metrics.jsonl").mkdir(parents=True)
    path = write_recipe(output={"dir": str(target)})
    code, _, err = cli("run", str(path))
    assert code == 2 and says(err, message) and "output.dir" in err
    assert (tmp_path / "blocker").read_text() == "mine" if where == "under-file" else True
    assert target.read_text() == "mine" if where == "file" else True


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_output_dir_is_refused(tmp_path, write_recipe, cli):
    target = tmp_path / "locked"
    target.mkdir()
    target.chmod(0o555)
    code, _, err = cli("run", str(write_recipe(output={"dir": str(target)})))
    assert code == 2 and "read-only" in err


def test_nothing_is_checkpointed_with_non_finite_weights(host, write_recipe):
    """Even with the guard loosened, NaN weights never reach a checkpoint."""
    run = coopkit.build(write_recipe(train={"max_escape": 1e30}), host=host)
    with torch.no_grad():
        next(run.descriptor.parameters()).fill_(float("nan"))
    with pytest.warns(CoopkitWarning), pytest.raises(TrainingDiverged, match="non-finite"):
        run.fit(progress=False)
    assert not list_checkpoints(run.directory.checkpoints)


def test_a_full_disk_while_logging_is_a_user_error_naming_the_file(host, trained, monkeypatch, cli):
    path, directory = trained
    before = snapshot(directory)

    def disk_full(self, metrics):
        raise OSError(errno.ENOSPC, "No space left on device", str(self.metrics))

    monkeypatch.setattr("coopkit.engine.rundir.RunDirectory.log", disk_full)
    code, _, err = cli("run", str(path), "train.iterations=6", "--resume")
    assert code == 2 and says(err, "metrics.jsonl: cannot write (No space left on device)")
    assert says(err, "iter_0000004.safetensors") and "--resume" in err
    after = snapshot(directory)
    kept = [k for k in before if k.startswith("checkpoints") or k == "metrics.jsonl"]
    assert all(after[k] == before[k] for k in kept)
