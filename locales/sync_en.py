"""English is the source language: its catalog repeats each msgid (as gettext's msgen does)."""

from pathlib import Path

from babel.messages.pofile import read_po, write_po

path = Path(__file__).parent / "en" / "LC_MESSAGES" / "messages.po"
with path.open("rb") as fh:
    catalog = read_po(fh, locale="en")
for message in catalog:
    if message.id and not message.string:
        message.string = message.id
    elif message.id and message.pluralizable and not all(message.string):
        message.string = tuple(message.id)
with path.open("wb") as fh:
    write_po(fh, catalog, width=100, omit_header=False)
