"""The ``ct1-sim`` command line (typer). Library code logs; only this layer prints."""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import click
import typer

from ct1_sim import __version__

app = typer.Typer(
    name="ct1-sim",
    help="ct1-sim: a driving world model (one front-camera frame + an instruction -> camera trajectories + video).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

F = TypeVar("F", bound=Callable[..., object])

#: Errors that mean "the user's input is wrong": shown as one line, no traceback (file-system errors, OSErrors,
#: are handled by ``friendly_errors`` before these).
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, KeyError)


def _os_error(err: OSError) -> str:
    """One line for a file-system error: our own checks' message, or the path and what to do."""
    where = err.filename
    if where is None:
        return str(err)
    if isinstance(err, IsADirectoryError):
        return f"{where} is a folder; give a file path there"
    if isinstance(err, NotADirectoryError):
        return f"cannot use {where}: a part of that path is a file, not a folder; pick another path"
    if isinstance(err, FileExistsError):
        return f"{where} already exists as a file; pick another path (or remove it)"
    if isinstance(err, PermissionError):
        return f"no permission to write {where}; pick a folder you can write to"
    return f"{err.strerror or err}: {where}"


def friendly_errors(fn: F) -> F:
    """Turn errors into ``error: ...`` instead of a traceback: user-input errors (exit code 2) and file-system errors
    name the problem; anything else is reported as unexpected (exit code 1), with the traceback only when
    ``CT1_SIM_DEBUG=1`` is set."""

    @functools.wraps(fn)
    def wrapper(*args: object, **kwargs: object) -> object:
        try:
            return fn(*args, **kwargs)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, KeyboardInterrupt):
            raise
        except (OSError, *USER_ERRORS) as err:
            if isinstance(err, OSError):
                message = _os_error(err)
            else:
                message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
            typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
            raise typer.Exit(code=2) from None
        except Exception as err:  # the CLI never shows a bare traceback
            if os.environ.get("CT1_SIM_DEBUG"):
                raise
            typer.secho(f"error: unexpected {type(err).__name__}: {err}", fg=typer.colors.RED, err=True)
            typer.secho("(set CT1_SIM_DEBUG=1 for the traceback; if the input looks valid, please report it)", err=True)
            raise typer.Exit(code=1) from None

    return wrapper  # type: ignore[return-value]


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show debug logs.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
        force=True,  # this invocation's stderr, also when the app runs several times in one process
    )


@app.command()
def version() -> None:
    """Print the ct1-sim version."""
    typer.echo(__version__)


@app.command()
@friendly_errors
def convert(
    src: Annotated[Path, typer.Argument(help="Input trajectory file.")],
    dst: Annotated[Path, typer.Argument(help="Output trajectory file (written atomically).")],
    from_format: Annotated[str, typer.Option("--from", help="realestate10k | ct1 | motionctrl | json")],
    to_format: Annotated[str, typer.Option("--to", help="realestate10k | ct1 | motionctrl | json")],
    width: Annotated[int | None, typer.Option(help="Image width (px) for formats without pixel sizes.")] = None,
    height: Annotated[int | None, typer.Option(help="Image height (px) for formats without pixel sizes.")] = None,
    fps: Annotated[float | None, typer.Option(help="Pose rate (Hz) for formats without timestamps.")] = None,
) -> None:
    """Convert a camera trajectory file between pose formats."""
    from ct1_sim.cli.options import pixel_size
    from ct1_sim.formats import convert_trajectory_file

    traj = convert_trajectory_file(src, dst, from_format, to_format, image_size=pixel_size(width, height), rate_hz=fps)
    typer.echo(f"wrote {dst} ({len(traj)} poses, {to_format})")


def _register_subcommands() -> None:
    """Attach sub-apps that live in their own modules."""
    from ct1_sim.cli.demo import demo
    from ct1_sim.cli.generate import generate
    from ct1_sim.cli.predict import predict
    from ct1_sim.cli.ros_bridge import ros_bridge
    from ct1_sim.cli.serve import serve
    from ct1_sim.cli.training import eval_app, train_app

    app.command()(friendly_errors(demo))
    app.command()(friendly_errors(predict))
    app.command(name="ros-bridge")(friendly_errors(ros_bridge))
    app.command()(friendly_errors(generate))
    from ct1_sim.cli.replay import replay
    from ct1_sim.cli.viz import viz

    for command in (replay, viz):
        app.command()(friendly_errors(command))
    app.command()(friendly_errors(serve))
    for sub in (train_app, eval_app):
        for command in sub.registered_commands:
            command.callback = friendly_errors(command.callback)
    app.add_typer(train_app, name="train")
    app.add_typer(eval_app, name="eval")
    from ct1_sim.cli.curate import curate_app
    from ct1_sim.cli.export import export_app
    from ct1_sim.cli.scenarios import scenarios_app
    from ct1_sim.cli.sim import sim_app

    for name, sub_app in (("scenarios", scenarios_app), ("curate", curate_app), ("sim", sim_app), ("export", export_app)):
        for command in sub_app.registered_commands:
            command.callback = friendly_errors(command.callback)
        app.add_typer(sub_app, name=name)


_register_subcommands()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # python -m ct1_sim.cli.app ..., as torchrun -m runs it
    main()
