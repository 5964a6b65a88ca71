"""Commands on a run never overwrite an earlier output."""

from __future__ import annotations

from coopkit.outputs import fresh_path


def test_fresh_path_numbers_taken_names_only(tmp_path):
    assert fresh_path(tmp_path, "evaluation", ".json") == tmp_path / "evaluation.json"
    (tmp_path / "evaluation.json").write_text("{}")
    assert fresh_path(tmp_path, "evaluation", ".json") == tmp_path / "evaluation_2.json"
    (tmp_path / "fresh_seed12_S1_draft.png").write_text("")
    assert fresh_path(tmp_path, "fresh_seed1") == tmp_path / "fresh_seed1"  # not a prefix clash
    (tmp_path / "fresh_seed1_S1_draft.png").write_text("")
    assert fresh_path(tmp_path, "fresh_seed1") == tmp_path / "fresh_seed1_2"
    (tmp_path / "completion").mkdir()
    assert fresh_path(tmp_path, "completion") == tmp_path / "completion_2"
