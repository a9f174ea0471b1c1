"""The ``pricestream`` command line: one entry point, one module per subcommand."""

from __future__ import annotations

import importlib
import logging

import click

__all__ = ["main"]

# Subcommand name -> "module:click command". Modules are imported only when their
# command runs, so `pricestream --help` does not pay for importing torch.
COMMANDS = {
    "demo": "app.commands.demo:demo",
    "replay": "app.commands.replay:replay",
    "simulate": "app.commands.simulate:simulate",
    "topics": "app.commands.topics:topics",
    "train": "app.commands.train:train",
    "evaluate": "app.commands.evaluate:evaluate",
    "worker": "app.commands.worker:worker",
}


class LazyGroup(click.Group):
    """A click group that imports each subcommand's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            msg = f"{target} is not a click command"
            raise TypeError(msg)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--log-level",
    envvar="PRICESTREAM_LOG_LEVEL",
    show_envvar=True,
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    help="Logging threshold.",
)
def main(log_level: str) -> None:
    """Personalized prices and recommendations from Kafka events."""
    logging.basicConfig(
        level=log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # aiokafka logs every metadata refresh and subscription change at INFO.
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, logging.root.level))


if __name__ == "__main__":
    main()
