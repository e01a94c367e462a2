"""Assemble the real-document folder: third-party documents that none of us wrote, copied from what
a fresh machine already has (the project's own install and the Debian base image), so nothing
third-party is committed.

    python benchmarks/realdocs/assemble.py [FOLDER]      # default: ~/.cache/qa-realdocs

Sources, per format:
- .txt   licence texts: Debian's /usr/share/common-licenses and the licences installed packages ship;
- .md    READMEs: Debian's /usr/share/doc/*/README.md and the Markdown descriptions (METADATA) of
         packages installed in this Python environment (badge lines, setext headings, HTML blocks);
- .html  documentation pages Debian packages ship (libxslt's pages lay out their menus in tables);
- .pdf   the manuals Debian ships as PDF (libtasn1, shared-mime-info: pdfTeX, one column, with tables), and
         PDFs from real generators in public repositories, read from snapshots brought here with the
         search tool's fetch (git --git-dir SNAPSHOT show HEAD:PATH); see PDF_FILES for each one's
         generator and licence. A snapshot that is not on this machine is reported as missing;
- .docx  none: no real .docx with text is installed anywhere on the machine (python-docx's
         default.docx is an empty template), so DOCX is covered by the built fixtures of the tests.

A source that is missing on this machine is reported and left out; questions about it are then
skipped by evaluate.py. Every file keeps its licence: the folder is for local measurement only.
"""

from __future__ import annotations

import shutil
import sys
from importlib import metadata
from pathlib import Path

DEFAULT_FOLDER = Path.home() / ".cache" / "qa-realdocs"

# (name in the folder, file on the Debian base image)
SYSTEM_FILES = (
    ("apache-2.0-license.txt", "/usr/share/common-licenses/Apache-2.0"),
    ("mpl-2.0-license.txt", "/usr/share/common-licenses/MPL-2.0"),
    ("bsd-license.txt", "/usr/share/common-licenses/BSD"),
    ("gpl-3-license.txt", "/usr/share/common-licenses/GPL-3"),
    ("git-README.md", "/usr/share/doc/git/README.md"),
    ("dejavu-fonts-README.md", "/usr/share/doc/fonts-dejavu-core/README.md"),
    ("libcbor-README.md", "/usr/share/doc/libcbor0.8/README.md"),
    ("glib-README.md", "/usr/share/doc/libglib2.0-0/README.md"),
    ("libxslt-FAQ.html", "/usr/share/doc/libxslt1-dev/html/FAQ.html"),
    ("libxslt-intro.html", "/usr/share/doc/libxslt1-dev/html/intro.html"),
    ("libxslt-xsltproc.html", "/usr/share/doc/libxslt1-dev/html/xsltproc.html"),
    ("libffi-Introduction.html", "/usr/share/doc/libffi8/html/Introduction.html"),
    ("zlib-how.html", "/usr/share/doc/zlib1g-dev/examples/zlib_how.html"),
    ("base-passwd-users-and-groups.html", "/usr/share/doc/base-passwd/users-and-groups.html"),
    ("libtasn1.pdf", "/usr/share/doc/libtasn1-doc/libtasn1.pdf"),
    ("shared-mime-info-spec.pdf", "/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf"),
)

MIRRORS = Path("/work/.mirror")  # where fetch puts repository snapshots, as OWNER+NAME/repo
# (name in the folder, repository, path in it, generator; licence)
PDF_FILES = (
    ("pdf-google-docs-example.pdf", "py-pdf/sample-files", "011-google-doc-document/google-doc-document.pdf",
     "Google Docs (Skia/PDF m103); CC-BY-SA-4.0"),
    ("pdf-libreoffice-tagged.pdf", "ocrmypdf/OCRmyPDF", "tests/resources/tagged.pdf", "LibreOffice 7.3 Writer; CC-BY-SA-4.0"),
    ("pdf-word-preservation-risks.pdf", "openpreserve/format-corpus", "pdfCabinetOfHorrors/test_fontArialNotEmbedded.pdf",
     "Microsoft Word, printed by Acrobat Distiller 9.5 (56 pages, running headers); CC0"),
    ("pdf-pdftex-two-column.pdf", "py-pdf/sample-files", "026-latex-multicolumn/multicolumn.pdf", "pdfTeX 1.40.21, two columns; CC-BY-SA-4.0"),
    ("pdf-typst-database-slides.pdf", "Aiven-Labs/the-5-types-of-database", "slides.pdf",
     "Typst 0.13 slide deck (53 slides, a footer on each); CC-BY-SA-4.0"),
    ("pdf-indesign-flyer.pdf", "openpreserve/format-corpus", "desktop-publishing/InDesign/Neddy_Flyer_HeatherRyan.pdf",
     "Adobe InDesign CS designed flyer; CC0"),
    ("pdf-scanned-linnsequencer.pdf", "ocrmypdf/OCRmyPDF", "tests/resources/linn.pdf",
     "a scanned two-column brochure page, no text layer; CC-BY-SA-3.0 (Wikimedia)"),
)
# The scanned page's text, for the OCR's character error rate: OCRmyPDF's own transcription
# (tests/resources/linn.txt, tesseract's) with its misreadings corrected against the image.
TRANSCRIPTION = ("ocrmypdf/OCRmyPDF", "tests/resources/linn.txt", "linn-transcription.txt")
TRANSCRIPTION_FIXES = (
    ("\n0 ", "\n• "), ("state—of—the-art", "state-of-the-art"), ("adjusted 0r defeated", "adjusted or defeated"),
    ("ﬁrst‘track", "first track"), ("sequence-—", "sequence—"), ("FOOTSWIT CH", "FOOTSWITCH"), ("\nEDI]\n", "\n"),
    ("real—time", "real-time"), ("high—speed", "high-speed"), ("PER—MINUTE", "PER-MINUTE"), ("PER—BEAT", "PER-BEAT"),
    ("PLAY/ STOP", "PLAY/STOP"), ("INSERT/ COPY", "INSERT/COPY"), ("synthesizers !", "synthesizers!"), ("3 1/2 ”", "3½″"),
    # tesseract read the last heading before the right column; on the page it heads the list below both
    ("within a sequence,\n\nAdditional Features\n\n", "within a sequence,\n\n"),
    ("\n• Simple, easy", "\nAdditional Features\n\n• Simple, easy"),
)


def snapshot_file(repository: str, path: str) -> bytes | None:
    """A file of a fetched repository snapshot, or None when the snapshot or the file is missing."""
    import subprocess

    git_dir = MIRRORS / repository.replace("/", "+") / "repo"
    if not git_dir.is_dir():
        return None
    shown = subprocess.run(["git", "--git-dir", str(git_dir), "show", f"HEAD:{path}"], capture_output=True, check=False)
    return shown.stdout if shown.returncode == 0 else None


# (name in the folder, installed distribution) whose Markdown description is copied
PACKAGE_READMES = (
    ("pypdf-README.md", "pypdf"),
    ("selectolax-README.md", "selectolax"),
    ("python-docx-README.md", "python-docx"),
    ("click-README.md", "click"),
)

# (name in the folder, installed distribution, file name the licence has in the distribution)
PACKAGE_LICENCES = (
    ("click-LICENSE.txt", "click", "LICENSE.txt"),
    ("numpy-LICENSE.txt", "numpy", "LICENSE.txt"),
)


def readme_of(distribution: str) -> str | None:
    """The long description of an installed package: the body of its METADATA after the headers."""
    try:
        text = metadata.distribution(distribution).read_text("METADATA")
    except metadata.PackageNotFoundError:
        return None
    if not text:
        return None
    _headers, _sep, body = text.partition("\n\n")
    return body.strip() + "\n" if body.strip() else None


def licence_of(distribution: str, file_name: str) -> Path | None:
    try:
        files = metadata.distribution(distribution).files or []
    except metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name == file_name and "licen" in str(file).lower():
            return Path(str(file.locate()))
    return None


def assemble(folder: Path) -> tuple[list[str], list[str]]:
    folder.mkdir(parents=True, exist_ok=True)
    copied, missing = [], []
    for name, source in SYSTEM_FILES:
        if Path(source).is_file():
            shutil.copyfile(source, folder / name)
            copied.append(name)
        else:
            missing.append(f"{name} ({source} not installed)")
    for name, distribution in PACKAGE_READMES:
        if (body := readme_of(distribution)) is not None:
            (folder / name).write_text(body, encoding="utf-8")
            copied.append(name)
        else:
            missing.append(f"{name} (package {distribution} not installed)")
    for name, distribution, file_name in PACKAGE_LICENCES:
        if (path := licence_of(distribution, file_name)) is not None and path.is_file():
            shutil.copyfile(path, folder / name)
            copied.append(name)
        else:
            missing.append(f"{name} ({distribution} ships no {file_name})")
    for name, repository, path, _generator in PDF_FILES:
        if (data := snapshot_file(repository, path)) is not None:
            (folder / name).write_bytes(data)
            copied.append(name)
        else:
            missing.append(f"{name} ({repository} not fetched, or has no {path})")
    repository, path, name = TRANSCRIPTION
    if (data := snapshot_file(repository, path)) is not None:
        text = data.decode("utf-8")
        for wrong, right in TRANSCRIPTION_FIXES:
            text = text.replace(wrong, right)
        (folder.parent / f"{folder.name}-{name}").write_text(text, encoding="utf-8")  # beside the folder: not a document
    return copied, missing


def main(argv: list[str]) -> int:
    folder = Path(argv[0]).expanduser() if argv else DEFAULT_FOLDER
    copied, missing = assemble(folder)
    print(f"{len(copied)} documents in {folder}")
    for line in missing:
        print(f"missing: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
