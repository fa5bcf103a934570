"""``advisor schema``: the JSON Schemas of the profile and of the JSON output."""

from __future__ import annotations

import click

from advisor.cli.common import guarded


@click.command()
@click.argument("which", type=click.Choice(["profile", "decision"]))
@guarded
def schema(which: str) -> None:
    """Print the JSON Schema of a profile or of the JSON decision output."""
    import json

    if which == "profile":
        from advisor.profile import Profile as model
    else:
        from advisor.decision import Decision as model  # type: ignore[assignment]
    data = model.model_json_schema()
    data["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    click.echo(json.dumps(data, indent=2, sort_keys=True))
