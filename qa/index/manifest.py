"""The manifest: the one file naming everything an index is (the model, the splitter, the corpus
and its files, the passages file, the store and its files, the lexicon, every file's checksum).
Replacing it in one rename is what makes a new generation current (qa.index.writer)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from qa.errors import IndexMismatchError, IndexMissingError
from qa.index.file_table import FileTable
from qa.stores import StoreRecord

FORMAT_VERSION = 3  # 2: sentence vectors beside passage vectors; 3: stable passage ids, vectors in a named store
MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class Manifest:
    model: str
    dimension: int
    splitter_version: str
    corpus_root: str
    files: FileTable  # given as any mapping of document to FileRecord, kept as a FileTable
    passage_count: int
    passages_file: str
    store: StoreRecord  # which store holds the vectors, and its files
    next_id: int = 0  # the id the next new passage gets
    sentence_count: int = 0
    lexicon: dict[str, str] = field(default_factory=dict)  # BM25 and IDF files (qa.lexicon), by role
    checksums: dict[str, str] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)  # bytes of each file in checksums
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", FileTable.of(self.files))

    @property
    def document_count(self) -> int:
        """The files indexed, not counting those skipped: what `qa index` reports as indexed."""
        return len(self.files) - self.skipped_count

    @property
    def skipped_count(self) -> int:
        return self.files.count_skipped()

    def to_json(self) -> str:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["store"] = asdict(self.store)
        data["files"] = self.files.to_json()
        return json.dumps(data, indent=1, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        data["files"] = FileTable.from_json(data["files"])
        if data.get("format_version") != FORMAT_VERSION:
            # An older format: keep what names the corpus and the model, so the reader can say to rebuild.
            data = {name: data[name] for name in ("model", "dimension", "splitter_version", "corpus_root", "files", "format_version")}
            return cls(**data, passage_count=0, passages_file="", store=StoreRecord(kind=""))
        data["store"] = StoreRecord.from_dict(data["store"])
        return cls(**data)


def read_manifest(index_dir: Path) -> Manifest | None:
    """The current manifest, or None when there is none; IndexMismatchError when it is damaged."""
    path = Path(index_dir) / MANIFEST
    if not path.exists():
        return None
    try:
        return Manifest.from_json(path.read_text(encoding="utf-8"))
    except (ValueError, TypeError, KeyError) as error:
        raise IndexMismatchError(
            f"damaged manifest in {index_dir} ({error.__class__.__name__}); {rebuild_command(index_dir)}"
        ) from error


@dataclass(frozen=True, slots=True)
class Generation:
    """Which generation of an index is current, as its manifest file's identity tells: every build
    that commits replaces manifest.json by a rename, so the inode changes (and the time and size with
    it). One stat: a reader checks it before each question to move to a new generation."""

    inode: int
    mtime_ns: int
    size: int


def current_generation(index_dir: Path) -> Generation | None:
    """The current generation of the index in index_dir; None when it has no manifest."""
    try:
        stat = (Path(index_dir) / MANIFEST).stat()
    except OSError:
        return None
    return Generation(stat.st_ino, stat.st_mtime_ns, stat.st_size)


def require_manifest(index_dir: Path) -> Manifest:
    """The current manifest; IndexMissingError, naming the command that builds one, when there is none."""
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexMissingError(f"no index in {index_dir}; build one with: qa index CORPUS_DIR --index-dir {index_dir}")
    return manifest


def rebuild_command(index_dir: Path, manifest: Manifest | None = None, model: str | None = None) -> str:
    """The fix named by every message about an index that cannot be used as it is."""
    corpus = manifest.corpus_root if manifest is not None else "CORPUS_DIR"
    return f"rebuild it with: qa index {corpus} --index-dir {index_dir}" + (f" --model {model}" if model else "")
