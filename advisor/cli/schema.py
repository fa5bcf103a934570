"""``advisor schema``: the JSON Schemas of the profile and of the JSON output."""

from __future__ import annotations

import click

from advisor.cli.common import catalog_option, guarded


@click.command(short_help="Print the JSON Schema of a profile or a decision.")
@click.argument("which", type=click.Choice(["profile", "decision"]))
@catalog_option
@guarded
def schema(which: str, catalog_dir: str | None) -> None:
    """Print the JSON Schema of a profile or of the JSON decision output.

    The profile schema is as strict as 'advisor validate': country codes are
    ISO 3166, and the model, API model and currency are those of the catalog
    (the bundled one, or --catalog).
    """
    import json

    if which == "profile":
        from advisor.catalog.costdata import load_catalog
        from advisor.profile.jsonschema import profile_json_schema

        data = profile_json_schema(load_catalog(catalog_dir))
    else:
        from advisor.decision import Decision

        data = Decision.model_json_schema()
        data["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        data["$id"] = "urn:advisor:schema:decision:1"
    click.echo(json.dumps(data, indent=2, sort_keys=True))
