"""Named collections: a folder of documents, the name it is asked by, and where its index lives.

The registry is one JSON file in the user data directory (`qa.settings.collections_file`), changed
under a file lock and replaced in one rename. A collection's index goes under the data directory
(`qa.settings.collections_dir`, in a folder named once, when it is registered, so a rename changes
the registry only) unless `--index-dir` names another place; it is never written into a folder of
documents (`qa.index.builder` refuses). Removing a collection deletes an index the registry placed,
never one the user placed, and never the documents.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path

from qa import settings
from qa.errors import QAError

ALL = "all"  # asks every registered collection
REGISTRY_VERSION = 1
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_NAME_RULE = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"


class CollectionError(QAError):
    """An unknown, clashing or badly named collection."""


class UnindexedFolderError(CollectionError):
    """A folder of documents was named where a collection was expected, and none holds it yet."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        super().__init__(f"{folder} is not indexed yet; index it with: qa index {folder}")


@dataclass(frozen=True, slots=True)
class Collection:
    """A folder of documents under a name, and where its index is."""

    name: str
    folder: Path  # absolute
    index_dir: Path  # absolute
    owned: bool  # the index is in the data directory, placed by the registry (removed with the collection)

    def to_dict(self) -> dict:
        return {"name": self.name, "folder": str(self.folder), "index_dir": str(self.index_dir), "owned": self.owned}

    @classmethod
    def from_dict(cls, data: dict) -> Collection:
        return cls(str(data["name"]), Path(data["folder"]), Path(data["index_dir"]), bool(data.get("owned", False)))


class CollectionState(Enum):
    """Whether a collection's index can be asked."""

    READY = "ready"
    NOT_BUILT = "not built"  # registered, no complete index yet (a first build running, or interrupted)
    DAMAGED = "damaged"  # its manifest cannot be read: qa index FOLDER rebuilds it


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    """A collection as `qa collections`, the MCP server and the chat list it."""

    collection: Collection
    state: CollectionState
    documents: int = 0
    skipped: int = 0
    passages: int = 0
    updated: datetime | None = None  # when its current index generation was made
    store: str = ""  # the store holding its vectors: "faiss", or a Milvus target
    model: str = ""
    folder_found: bool = True

    @property
    def name(self) -> str:
        return self.collection.name

    def to_dict(self) -> dict:
        return {
            "name": self.name, "folder": str(self.collection.folder), "index_dir": str(self.collection.index_dir),
            "state": self.state.value, "documents": self.documents, "skipped": self.skipped, "passages": self.passages,
            "updated": self.updated.isoformat(timespec="seconds") if self.updated else None, "store": self.store,
            "model": self.model, "folder_found": self.folder_found,
        }


def check_name(name: str) -> str:
    """The name, or a CollectionError saying what a name may hold."""
    if name == ALL:
        raise CollectionError(f"{ALL!r} is reserved (-c all asks every collection); choose another name")
    if not _NAME.fullmatch(name):
        raise CollectionError(f"invalid collection name {name!r}: use {_NAME_RULE}")
    return name


def default_name(folder: Path) -> str:
    """A name made from the folder's name: characters a name may not hold become '-'."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(folder).resolve().name).strip("-._")[:64]
    return name if name and name != ALL else "documents"


def info(collection: Collection) -> CollectionInfo:
    """What a collection's current index holds (read from its manifest; nothing is loaded)."""
    from qa.index import MANIFEST, read_manifest

    found = collection.folder.is_dir()
    try:
        manifest = read_manifest(collection.index_dir)
    except QAError:
        return CollectionInfo(collection, CollectionState.DAMAGED, folder_found=found)
    if manifest is None:
        return CollectionInfo(collection, CollectionState.NOT_BUILT, folder_found=found)
    try:
        updated: datetime | None = datetime.fromtimestamp((collection.index_dir / MANIFEST).stat().st_mtime)
    except OSError:
        updated = None
    return CollectionInfo(
        collection, CollectionState.READY, documents=manifest.document_count, skipped=manifest.skipped_count,
        passages=manifest.passage_count, updated=updated, store=_store_label(manifest.store), model=manifest.model, folder_found=found,
    )


def _store_label(record) -> str:
    """The store as --store names it: "faiss", "milvus:/path/x.db#notes", "http://host:19530#notes"."""
    from qa.stores import StoreTarget

    params = record.params or {}
    return StoreTarget(record.kind, str(params.get("uri") or ""), str(params.get("name") or "")).spec


class Catalog:
    """The registry of named collections."""

    def __init__(self, path: Path | None = None, home: Path | None = None) -> None:
        self.path = Path(path) if path is not None else settings.collections_file()
        self.home = Path(home) if home is not None else settings.collections_dir()

    # -- reading ------------------------------------------------------------------------------

    def collections(self) -> tuple[Collection, ...]:
        """Every registered collection, by name."""
        return tuple(sorted(self._read().values(), key=lambda c: c.name.lower()))

    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.collections())

    def find(self, name: str) -> Collection | None:
        return self._read().get(name)

    def get(self, name: str) -> Collection:
        """The collection of that name; CollectionError naming the registered ones otherwise."""
        found = self.find(name)
        if found is None:
            raise CollectionError(f"no collection named {name!r}; {self._known()}")
        return found

    def for_folder(self, folder: Path) -> Collection | None:
        """The collection of this folder of documents, if one holds it."""
        folder = Path(folder).expanduser().resolve()
        return next((c for c in self.collections() if c.folder == folder), None)

    def stamp(self) -> tuple[int, int] | None:
        """Changes when the registry is rewritten (a reader re-reads it then); None when there is none."""
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_ino, stat.st_mtime_ns

    def resolve(self, choices: Sequence[str]) -> tuple[Collection, ...]:
        """The collections that -c values name: a name, 'all', or a folder of documents that a
        collection holds (UnindexedFolderError for a folder none holds). In the order given, once each."""
        chosen: dict[str, Collection] = {}
        for choice in choices:
            if choice == ALL:
                everything = self.collections()
                if not everything:
                    raise CollectionError("no collections yet; make one with: qa index FOLDER")
                chosen.update((c.name, c) for c in everything)
                continue
            found = self.find(choice)
            if found is None and _looks_like_folder(choice):
                folder = Path(choice).expanduser()
                if not folder.is_dir():
                    raise CollectionError(f"folder not found: {choice}")
                found = self.for_folder(folder)
                if found is None:
                    raise UnindexedFolderError(folder)
            if found is None:
                raise CollectionError(f"no collection named {choice!r}; {self._known()}")
            chosen.setdefault(found.name, found)
        return tuple(chosen.values())

    # -- changing -----------------------------------------------------------------------------

    def register(self, folder: Path, name: str | None = None, index_dir: Path | None = None) -> tuple[Collection, bool]:
        """The collection of folder, and whether it is new: the one that holds it already (checked
        against name and index_dir when given), or a new one, registered (name: the folder's, by
        default; index: under the data directory, by default). Nothing is built here
        (qa.index.build_index does that; remove a new collection whose first build failed)."""
        folder = Path(folder).expanduser().resolve()
        wanted_index = Path(index_dir).expanduser().resolve() if index_dir is not None else None
        with self._locked() as registry:
            held = next((c for c in registry.values() if c.folder == folder), None)
            if name is not None:
                check_name(name)
                named = registry.get(name)
                if named is not None and named.folder != folder:
                    raise CollectionError(f"collection {name!r} holds another folder, {named.folder}; choose another --name")
                if named is None and held is not None:
                    raise CollectionError(
                        f"{folder} is already the collection {held.name!r}; rename it with: qa collections rename {held.name} {name}"
                    )
                held = named or held
            if held is not None:
                if wanted_index is not None and wanted_index != held.index_dir:
                    raise CollectionError(
                        f"collection {held.name!r} keeps its index in {held.index_dir}; leave out --index-dir, or remove it first "
                        f"with: qa collections remove {held.name}"
                    )
                return held, False
            name = name or default_name(folder)
            if name in registry:
                raise CollectionError(
                    f"a collection named {name!r} already holds {registry[name].folder}; give this folder a name with --name NAME"
                )
            check_name(name)
            owned = wanted_index is None
            target = wanted_index or (self.home / f"{name}-{secrets.token_hex(3)}").resolve()
            _check_not_among_documents(target, folder)
            collection = Collection(name, folder, target, owned)
            registry[name] = collection
            self._write(registry)
            return collection, True

    def remove(self, name: str) -> Collection:
        """Unregister a collection and delete its index when the registry placed it (an index the user
        placed with --index-dir stays where it is; the documents are never touched)."""
        with self._locked() as registry:
            collection = registry.pop(name, None)
            if collection is None:
                raise CollectionError(f"no collection named {name!r}; {self._known(registry)}")
            self._write(registry)
        if collection.owned and _inside(collection.index_dir, self.home):
            _delete_index(collection.index_dir)
        return collection

    def rename(self, old: str, new: str) -> Collection:
        """Give a collection another name; its index stays where it is."""
        check_name(new)
        with self._locked() as registry:
            collection = registry.get(old)
            if collection is None:
                raise CollectionError(f"no collection named {old!r}; {self._known(registry)}")
            if new in registry and new != old:
                raise CollectionError(f"a collection named {new!r} exists already ({registry[new].folder}); choose another name")
            renamed = Collection(new, collection.folder, collection.index_dir, collection.owned)
            del registry[old]
            registry[new] = renamed
            self._write(registry)
            return renamed

    # -- the file -----------------------------------------------------------------------------

    def _read(self) -> dict[str, Collection]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as error:
            raise CollectionError(f"cannot read the collections registry {self.path}: {error.strerror}") from error
        try:
            data = json.loads(text)
            return {c.name: c for c in (Collection.from_dict(item) for item in data["collections"])}
        except (ValueError, KeyError, TypeError) as error:
            raise CollectionError(
                f"the collections registry {self.path} is damaged ({error.__class__.__name__}); "
                "move it away and register the folders again with qa index FOLDER"
            ) from error

    def _write(self, registry: dict[str, Collection]) -> None:
        from qa.index.writer import write_atomic

        data = {"version": REGISTRY_VERSION, "collections": [c.to_dict() for c in sorted(registry.values(), key=lambda c: c.name.lower())]}
        write_atomic(self.path, json.dumps(data, indent=1, ensure_ascii=False))

    @contextmanager
    def _locked(self) -> Iterator[dict[str, Collection]]:
        from filelock import FileLock, Timeout

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(self.path.with_name(self.path.name + ".lock")))
            lock.acquire(timeout=30)
        except (OSError, Timeout) as error:
            raise CollectionError(f"cannot change the collections registry {self.path}: {getattr(error, 'strerror', None) or error}") from error
        try:
            yield self._read()
        finally:
            lock.release()

    def _known(self, registry: dict[str, Collection] | None = None) -> str:
        names = sorted(registry) if registry is not None else list(self.names())
        return f"the collections are: {', '.join(names)}" if names else "there are no collections yet; make one with: qa index FOLDER"


def _looks_like_folder(choice: str) -> bool:
    return os.sep in choice or choice.startswith(("~", ".")) or Path(choice).is_dir()


def _inside(path: Path, folder: Path) -> bool:
    path, folder = Path(path).resolve(), Path(folder).resolve()
    return path == folder or folder in path.parents


def _check_not_among_documents(index_dir: Path, folder: Path) -> None:
    if _inside(index_dir, folder):
        raise CollectionError(f"the index would be written into the documents folder {folder}; give it an --index-dir outside it")


def _delete_index(index_dir: Path) -> None:
    """Delete an index folder the registry made, under its write lock (a build writing it finishes first)."""
    import shutil

    from qa.index import IndexDirectory

    if not index_dir.exists():
        return
    with IndexDirectory(index_dir).lock(timeout=60):
        for path in index_dir.iterdir():
            if path.name != ".lock":
                shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    shutil.rmtree(index_dir, ignore_errors=True)
