"""The command line's exit codes, in-process through typer's CliRunner: the same mapping
(coopkit.cli._Commands) runs in a real process, where test_plugins.py's smoke test and
test_kill_resume.py check it."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import coopkit
from coopkit.cli import app, app_with_plugins
from coopkit.errors import PluginError


@pytest.fixture
def invoke(host, monkeypatch):
    """``coopkit ARGS`` in-process with the toy host: the typer ``Result``."""
    monkeypatch.setattr("coopkit.api.default_host", lambda: host)
    monkeypatch.setattr("coopkit.plugins.default_host", lambda: host)
    return lambda *args: CliRunner().invoke(app, [str(arg) for arg in args])


class InterruptAt:
    """Ctrl-C at one iteration of training."""

    def __init__(self, iteration: int):
        self.iteration = iteration

    @coopkit.hookimpl
    def coopkit_log_step(self, iteration):
        if iteration == self.iteration:
            raise KeyboardInterrupt


def test_ctrl_c_in_training_exits_130_and_says_how_to_continue(host, write_recipe, invoke):
    host.manager.register(InterruptAt(3), name="interrupter")
    recipe = write_recipe(train={"iterations": 4})
    result = invoke("run", recipe, "seed=1", "--no-progress")
    assert result.exit_code == 130, result.output
    said = " ".join(result.stderr.split())
    assert "interrupted at iteration 3" in said and "iter_0000002.safetensors" in said
    assert f"Continue with: coopkit run {recipe} seed=1 --resume" in said


def test_ctrl_c_in_any_command_exits_130(host, invoke, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("coopkit.recipe.load_resolved", interrupted)
    result = invoke("show", "anything")
    assert result.exit_code == 130 and "interrupted" in result.stderr


def test_a_plugin_error_exits_1_with_a_message_and_a_bug_keeps_its_traceback(
    host, invoke, monkeypatch
):
    def plugin_fails(*args, **kwargs):
        raise PluginError("plugin 'toy' failed: boom")

    monkeypatch.setattr("coopkit.recipe.load_resolved", plugin_fails)
    result = invoke("show", "anything")
    assert result.exit_code == 1 and type(result.exception) is SystemExit
    assert "plugin error: plugin 'toy' failed: boom" in result.stderr

    def bug(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("coopkit.recipe.load_resolved", bug)
    result = invoke("show", "anything")
    assert result.exit_code == 1 and isinstance(result.exception, ZeroDivisionError)


def test_plugin_commands_are_added_to_a_copy_of_the_app(host):
    class Hello:
        @coopkit.hookimpl
        def coopkit_register_commands(self, app):
            @app.command()
            def hello(name: str = "world"):
                print(f"hello {name}")

    host.manager.register(Hello(), name="hello")
    combined = app_with_plugins(host)
    result = CliRunner().invoke(combined, ["hello", "--name", "coopkit"])
    assert result.exit_code == 0 and result.stdout == "hello coopkit\n"
    assert CliRunner().invoke(app, ["hello"]).exit_code == 2  # the shared app is left alone
