"""Hub sources: ``datasets.load_dataset`` turned into the reader's table.

``datasets`` is imported only here and only when a hub source is read: it
is slow to import and file sources do not need it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pyarrow as pa

from dsc.hub_ids import repo_id_problem

from .formats import rows_not_text
from .model import HubRef, InputFile, SourceError


def hub_label(ref: HubRef) -> str:
    """How a hub source is named in ``_dsc_src`` and in messages.

    >>> hub_label(HubRef("tatsu-lab/alpaca", revision="abc123"))
    'hub:tatsu-lab/alpaca:train@abc123'
    """
    label = f"hub:{ref.id}"
    if ref.config:
        label += f":{ref.config}"
    label += f":{ref.split}"
    if ref.revision:
        label += f"@{ref.revision}"
    return label


class _HashSink:
    """A write-only file that hashes what it is given, keeping nothing."""

    closed = False

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass


def _fingerprint(table: pa.Table, label: str) -> InputFile:
    # The hub's own files are not visible through load_dataset, so the
    # digest is of the loaded table itself, as an Arrow IPC stream.
    sink = _HashSink()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    digest = sink.digest.hexdigest()
    return InputFile(path=label, sha256=digest, bytes=sink.size, rows=table.num_rows)


def local_folder(dataset_id: str, base_dir: Path) -> Path | None:
    """The dataset folder `dataset_id` names under `base_dir`, or None when it names a hub dataset."""
    folder = Path(base_dir) / dataset_id
    return folder if os.path.isdir(folder) else None  # False, not an error, for a name too long to be a folder


def loader_path(ref: HubRef, base_dir: Path) -> str:
    """What ``datasets.load_dataset`` is given for ``ref``: the absolute path of its folder under
    ``base_dir`` (`local_folder`), or ``hf://datasets/OWNER/NAME``, which the loader resolves on the
    hub or in its cache only. Never the bare id: the loader would first look for a folder of that
    name under the working directory, and read it. SourceError when the id is neither.

    >>> loader_path(HubRef("tatsu-lab/alpaca"), Path("/nowhere"))
    'hf://datasets/tatsu-lab/alpaca'
    """
    local = local_folder(ref.id, base_dir)
    if local is not None:
        return str(local.resolve())
    why = repo_id_problem(ref.id)
    if why is not None:
        raise SourceError(f"cannot load {hub_label(ref)}: '{ref.id}' is neither a folder in "
                          f"{Path(base_dir).resolve()} nor a hub id ({why}); write a hub dataset as \"owner/name\"",
                          code="DSC301")
    return "hf://datasets/" + ref.id


def load_hub(ref: HubRef, base_dir: Path) -> tuple[pa.Table, InputFile]:
    """Load ``ref`` and return its rows and a description of the input.

    ``ref.id`` naming a folder under ``base_dir`` loads that folder; a hub
    id ``owner/name`` goes to the hub (or its cache), pinned to
    ``ref.revision``; see `loader_path`.  Every failure of the loader
    (unknown dataset, offline, bad split or config) becomes a
    :class:`SourceError` naming the dataset, and so does text that is not
    UTF-8 (``datasets`` does not check it; see `rows_not_text`).
    """
    label = hub_label(ref)
    target = loader_path(ref, base_dir)
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - datasets is a dependency
        raise SourceError(f"cannot load {label}: the 'datasets' package is not installed", code="DSC312") from exc
    try:
        dataset = datasets.load_dataset(
            target, name=ref.config, split=ref.split, revision=ref.revision
        )
    except Exception as exc:
        # load_dataset raises many unrelated types (FileNotFoundError,
        # ConnectionError, ValueError, its own DatasetNotFoundError...) for
        # what are all problems with the declared input.
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise SourceError(f"cannot load {label}: {type(exc).__name__}: {detail}", code="DSC301") from exc
    if not isinstance(dataset, datasets.Dataset):
        raise SourceError(f"cannot load {label}: expected one split, got {type(dataset).__name__}")
    # The arrow format returns the backing table (zero-copy when there is no
    # index mapping), so no per-row Python is spent here.
    table = dataset.with_format("arrow")[:].replace_schema_metadata(None)
    bad = rows_not_text(table, f"cannot load {label}")
    if bad:
        row, column = min(bad.items())
        raise SourceError(f"cannot load {label}: text that is not UTF-8 in {len(bad)} of its {table.num_rows} rows, "
                          f"the first {label}#{row} (column '{column}')")
    return table, _fingerprint(table, label)
