"""A command group that answers an unknown command with the list of valid ones."""

from __future__ import annotations

from typing import Any

from typer.core import TyperGroup


class VerbGroup(TyperGroup):
    """Typer group: `alvh frobnicate` names the verb and lists the choices (exit 2)."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except Exception as exc:  # click's UsageError (vendored by typer): add the choices
            message = getattr(exc, "message", None)
            if isinstance(message, str) and args:
                choices = ", ".join(self.list_commands(ctx))
                exc.message = f"{message.rstrip('.')}. The choices are: {choices}."  # type: ignore[attr-defined]
            raise
