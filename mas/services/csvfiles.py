"""CSV files as schools, DUO and the BRP export them: `;` or `,`, UTF-8 with or without BOM,
or Windows-1252; Dutch dates (dd-mm-jjjj). Problems are told in Dutch, by line.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

DELIMITERS = (";", ",")
_DUTCH_DATE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


class FileProblem(ValueError):
    """The file as a whole cannot be read (empty, no header, unknown delimiter)."""


@dataclass(frozen=True)
class Table:
    """A readable file: its encoding, delimiter and header, and its rows as (line, cells)."""

    encoding: str
    delimiter: str
    header: tuple[str, ...]
    text: str | None = None  # the decoded text (small files); None: stream from `path`
    path: Path | None = None

    def reader(self):
        """A csv reader positioned after the header, for a loop that must be lean (the vangnet's
        millions of rows): it yields every row, an empty line as []; `line_num` is the line."""
        handle = io.StringIO(self.text) if self.text is not None else open(
            self.path, encoding=self.encoding, newline="")
        reader = csv.reader(handle, delimiter=self.delimiter)
        for cells in reader:
            if cells and "".join(cells).strip():
                break  # the header
        return handle, reader

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number, cells) of each non-empty row after the header."""
        handle = io.StringIO(self.text) if self.text is not None else open(
            self.path, encoding=self.encoding, newline="")
        with handle:
            reader = csv.reader(handle, delimiter=self.delimiter)
            seen_header = False
            for cells in reader:
                if not cells or not "".join(cells).strip():
                    continue  # an empty line
                if not seen_header:
                    seen_header = True
                    continue
                yield reader.line_num, cells


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding's name: UTF-8 (a BOM is dropped), else Windows-1252."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252"


def _header(first_line: str) -> tuple[str, tuple[str, ...]]:
    counts = {d: first_line.count(d) for d in DELIMITERS}
    delimiter = max(counts, key=counts.get)
    if counts[delimiter] == 0:
        raise FileProblem("Kan het scheidingsteken niet bepalen: de kopregel bevat geen ';' of ','. "
                          "Sla het bestand op als CSV met ; of , tussen de kolommen.")
    header = next(csv.reader([first_line], delimiter=delimiter))
    return delimiter, tuple(h.strip() for h in header)


def read_bytes(data: bytes) -> Table:
    """A file held in memory (an upload, an import file)."""
    if not data.strip():
        raise FileProblem("Het bestand is leeg.")
    text, encoding = decode(data)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter, header = _header(first)
    return Table(encoding, delimiter, header, text=text)


def open_path(path: Path | str) -> Table:
    """A large file on disk, read as a stream (the vangnet's population files)."""
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
        if not head.strip():
            raise FileProblem(f"Het bestand {path.name} is leeg.")
        encoding = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else _guess(fh, head)
    with open(path, encoding=encoding, newline="") as fh:
        first = ""
        for line in fh:
            if line.strip():
                first = line
                break
    delimiter, header = _header(first.rstrip("\r\n"))
    return Table(encoding, delimiter, header, path=path)


def _guess(fh, head: bytes) -> str:
    """UTF-8 if the whole file decodes as UTF-8, else Windows-1252 (read in chunks)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    chunk = head
    try:
        while chunk:
            decoder.decode(chunk)
            chunk = fh.read(1 << 20)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def parse_date(value: str) -> date:
    """dd-mm-jjjj (also d-m-jjjj, with / or .), or jjjj-mm-dd; ValueError with a Dutch message."""
    text = (value or "").strip()
    found = _DUTCH_DATE.match(text)
    try:
        if found:
            return date(int(found.group(3)), int(found.group(2)), int(found.group(1)))
        found = _ISO_DATE.match(text)
        if found:
            return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError:
        raise ValueError(f"'{text}' is geen bestaande datum.") from None
    raise ValueError(f"'{text}' is geen datum; gebruik dd-mm-jjjj.")


def normalise_header(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "", (name or "").strip().lower())
