"""The args and outputs tables of docs/library.md, generated from the code (the provider's inferred schema).

    python scripts/library_reference.py          # rewrite the tables in docs/library.md
    python scripts/library_reference.py --check  # exit 1 when docs/library.md differs (tests do this too)
"""

import json
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "library.md"
BEGIN, END = "<!-- reference:begin (scripts/library_reference.py) -->", "<!-- reference:end -->"
TOKEN = "milvus-zones:index:MilvusZones"


def _schema() -> dict:
    from milvus_zones.components.milvus_zones import MilvusZones
    from pulumi.provider.experimental.component import ComponentProvider

    return json.loads(ComponentProvider([MilvusZones], "milvus-zones").schema)


def _type(prop: dict) -> str:
    if "$ref" in prop:
        ref = prop["$ref"]
        return ref.rsplit(":", 1)[-1] if ref.startswith("#/types/") else ref.rsplit("/", 1)[-1].replace("%2F", "/")
    if prop.get("type") == "array":
        return f"list of {_type(prop['items'])}"
    if prop.get("type") == "object" and "additionalProperties" in prop:
        return f"map of {_type(prop['additionalProperties'])}"
    return prop.get("type", "any")


def _table(props: dict, required: list[str], inputs: bool) -> list[str]:
    columns = ["name (YAML/TS · Python)", "type", *(["required"] if inputs else []), "description"]
    head = "| " + " | ".join(columns) + " |"
    rows = [head, "|---|---|---|---|" if inputs else "|---|---|---|"]
    for key, prop in props.items():
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in key)
        name = f"`{key}`" if snake == key else f"`{key}` · `{snake}`"
        desc = " ".join(prop.get("description", "").split()).replace("|", "\\|")
        kind = _type(prop) + ("" if not inputs or prop.get("plain") else " (Input)")
        cells = [name, kind, "yes" if key in required else "", desc] if inputs else [name, kind, desc]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def reference() -> str:
    s = _schema()
    c = s["resources"][TOKEN]
    out = [f"### `{TOKEN}` args", "", *_table(c["inputProperties"], c["requiredInputs"], True), "",
           f"### `{TOKEN}` outputs", "", *_table(c["properties"], [], False), ""]
    for token, t in s["types"].items():
        if t.get("properties") and token.endswith("Args"):
            out += [f"#### `{token.rsplit(':', 1)[-1]}`", "", " ".join((t.get("description") or "").split()), "",
                    *_table(t["properties"], t.get("required", []), True), ""]
    return "\n".join(out).rstrip() + "\n"


def render(doc: str) -> str:
    head, _, rest = doc.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n\n{reference()}\n{END}{tail}"


if __name__ == "__main__":
    current = DOC.read_text()
    wanted = render(current)
    if "--check" in sys.argv:
        sys.exit(0 if current == wanted else f"{DOC} is out of date: run python scripts/library_reference.py")
    DOC.write_text(wanted)
