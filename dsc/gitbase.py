"""A spec as it was at a git revision, with the files it reads as they were there.

`dsc diff --base REF SPEC` compares the policy in the working tree with the one at `REF`. A copy of
the old spec (`git show REF:spec`) alone does not do: its paths (`../examples/data/…`, a pairs
file, a template) resolve against wherever the copy lies, not against the repository as it was.
`materialize(ref, spec)` builds, in a fresh temporary folder that mirrors the repository's layout,
the old spec and every file it reads that is tracked at `REF`, and returns where the old spec is:

    with materialize("origin/main", Path("specs/code_alpaca.dspec")) as old:
        compiled = compile_file(old.spec)     # paths resolve as they did at origin/main
        old.from_ref, old.from_worktree       # which file came from where

It reads with git plumbing only (`rev-parse`, `ls-tree`, `ls-files`, `cat-file`, `hash-object`
without `-w`): no worktree, no checkout, nothing written to the repository, its index or its
working tree (`GIT_OPTIONAL_LOCKS=0`, so not even a refreshed index).

What the old spec reads is found by compiling its text on its own (`dsc.api.compile_text`): the
sources' `files` patterns, a local hub dataset folder, dedupe `pairs` files, annotation `from`
files (and the annotator roster beside one), augmentation prompt templates and local model
folders, export templates, and a finetune block's local `base` model folder.
When the old spec does not compile (its base version may be broken), the paths its syntax names
are used (those `dsc check` looks at), so the copy compiles to the same diagnostics it had at `REF`.

Where each file comes from:

- tracked at `REF`: its content at `REF` (patterns are matched against `REF`'s tree, as
  `dsc.io.files.glob` matches them on disk: `**` across folders, a name starting with `.` only
  where the pattern's does);
- not tracked at `REF` and not tracked now (data kept out of git: untracked or ignored): the
  working tree's file, listed in `from_worktree` — both sides of a diff read the same bytes;
- not tracked at `REF` but tracked now: added since `REF`, so the old spec did not read it; it is
  left out and listed in `missing`, with the patterns and files that match nothing.

Refused, with a `GitBaseError` (a `DscError`; exit codes of dsc/exitcodes.py): git not installed,
a folder that is not in a git repository, a `REF` that names no commit (exit 4); a path of the
old spec that is absolute or leaves the repository with `..`, a file that is (or lies under) a
symlink at `REF`, a working-tree file a symlink leads out of the repository (exit 2, DSC218:
nothing outside the project is ever read). A spec that did not exist at `REF` is a `SpecNotAtRef`
(exit 4), so a diff can say that everything is added.

The temporary folder is removed when the `Materialized` is closed (it is a context manager) or,
failing that, when it is garbage-collected or the interpreter exits.

Limits: a file stored with Git LFS is copied as its pointer at `REF` (`lfs_pointers` lists them);
a submodule's files at `REF` are not read (a path into one counts as not tracked at `REF`).
"""
from __future__ import annotations

import os
import posixpath
import re
import shutil
import subprocess
import tempfile
import weakref
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from dsc.errors import DscError
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_SPEC_ERROR
from dsc.paths import unsafe

FROM_REF = "ref"
FROM_WORKTREE = "worktree"
_MAGIC = re.compile(r"[*?\[]")
_SYMLINK = "120000"
_MARKERS = ("pyproject.toml", "dsc.toml")  # dsc.project.MARKERS but .git, which the mirror's root gets
_LFS_POINTER = b"version https://git-lfs.github.com/spec/"
_CHUNK = 1 << 20
_HINT_PATH = "paths resolve inside the project; write it relative to the spec's folder"


class GitBaseError(DscError):
    """The old side of a spec cannot be read from git: no git, no repository, no such revision (exit 4),
    or a path that would read outside the repository (DSC218, exit 2)."""

    default_code = "DSC314"
    default_exit_code = EXIT_INPUT_ERROR


class SpecNotAtRef(GitBaseError):
    """The spec did not exist at the revision: everything in it is new (`ref`, `path`: the spec's
    path in the repository)."""

    default_code = "DSC301"

    def __init__(self, ref: str, path: str):
        super().__init__(f"{path} does not exist at {ref}: the spec is new",
                         hint="everything in it is added; compare with a revision that has it, or drop --base")
        self.ref = ref
        self.path = path


@dataclass(frozen=True)
class ReadFile:
    """One file the old spec reads: its path in the repository (`/`-separated), where its bytes came
    from (`FROM_REF` or `FROM_WORKTREE`) and what the spec reads it as (`what`)."""

    path: str
    origin: str
    what: str


@dataclass(frozen=True)
class Missing:
    """A path or pattern of the old spec that reads nothing in the copy, and why."""

    what: str
    path: str
    reason: str


@dataclass
class Materialized(os.PathLike):
    """The old spec in its mirror of the repository. `os.fspath(m)` and `m.spec` are the spec's path
    in the mirror; `root` the mirror of the repository's top folder; `repo` the repository; `path`
    the spec's path in it; `commit` the full id `ref` names; `files`, `missing` and `lfs_pointers`
    say what was read from where. Close it (or use it in a `with`) to remove the copy."""

    ref: str
    commit: str
    repo: Path
    path: str
    root: Path
    spec: Path
    compiled: bool = False  # the old spec compiled on its own (else its syntax gave the paths)
    files: list[ReadFile] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    lfs_pointers: list[str] = field(default_factory=list)
    _cleanup: weakref.finalize | None = field(default=None, repr=False, compare=False)

    def __fspath__(self) -> str:
        return os.fspath(self.spec)

    @property
    def from_ref(self) -> list[str]:
        """The files read from `ref` (paths in the repository)."""
        return [f.path for f in self.files if f.origin == FROM_REF]

    @property
    def from_worktree(self) -> list[str]:
        """The files not tracked at `ref`, read from the working tree (both sides read the same bytes)."""
        return [f.path for f in self.files if f.origin == FROM_WORKTREE]

    def changed_since(self) -> list[str]:
        """The files read from `ref` whose working-tree version differs from it, or is gone: the data
        changed too (as git sees it, after its clean filters; `git hash-object` writes nothing)."""
        paths = [p for p in self.from_ref if p != self.path]
        present = [p for p in paths if os.path.isfile(self.repo / p) and not os.path.islink(self.repo / p)]
        changed = [p for p in paths if p not in present]
        if present:
            tree = _tree(self.repo, self.commit)
            ids = _git(self.repo, "hash-object", "--stdin-paths", stdin="\n".join(present) + "\n").split()
            changed += [p for p, oid in zip(present, ids) if tree[p][2] != oid]
        return sorted(changed)

    def compile(self):
        """The old spec compiled in the mirror (`dsc.api.Compiled`): its paths resolve as at `ref`, and
        its diagnostics name it `REF:path` (`origin/main:specs/a.dspec:12:3: error[…]`)."""
        from dsc.api import Compiled, compile_text
        from dsc.syntax.load import read_source

        source, diags = read_source(self.spec, display=f"{self.ref}:{self.path}")
        if source is None:
            return Compiled(None, diagnostics=diags, missing=any(d.code == "DSC107" for d in diags))
        return compile_text(source, base_dir=self.spec.resolve().parent)

    def close(self) -> None:
        """Remove the temporary copy (again: nothing)."""
        if self._cleanup is not None:
            self._cleanup()

    def __enter__(self) -> Materialized:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def materialize(ref: str, spec: str | os.PathLike, *, tmp_dir: str | os.PathLike | None = None,
                allow_outside_project: bool = False) -> Materialized:
    """The spec at `spec` (a path in a git working tree) as of `ref`, copied with the files it reads
    into a new temporary folder (under `tmp_dir`, else the system's) that mirrors the repository.

    `allow_outside_project` lets a working-tree file a symlink leads out of the repository be read
    (as `dsc run --allow-outside-project` does); it never applies to the tree at `ref`.
    """
    repo, rel = _locate(Path(spec))
    commit = _commit(repo, ref)
    tree = _tree(repo, commit)
    entry = _entry(tree, rel, ref, "the spec")
    if entry is None:
        raise SpecNotAtRef(ref, rel)

    folder = tempfile.mkdtemp(prefix="dsc-base-", dir=tmp_dir)
    try:
        root = Path(folder) / (repo.name or "repo")
        (root / ".git").mkdir(parents=True)  # the project's root, as dsc.project finds it
        result = Materialized(ref, commit, repo, rel, root, root / rel)
        result._cleanup = weakref.finalize(result, shutil.rmtree, folder, True)
        _Copier(result, tree, allow_outside_project).run(entry)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return result


# --- git ---------------------------------------------------------------------------------------

def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["GIT_OPTIONAL_LOCKS"] = "0"  # a read never refreshes (writes) the index
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.setdefault("LC_ALL", "C")
    return env


def _git(cwd: Path, *args: str, stdin: str | None = None, check: bool = True):
    """git's standard output as text, or with `check` off its `CompletedProcess`; GitBaseError when
    git is missing or, with `check`, when it fails (its first line of error said)."""
    try:
        done = subprocess.run(["git", "-C", str(cwd), *args], input=stdin.encode() if stdin is not None else None,
                              capture_output=True, env=_env(), check=False)
    except FileNotFoundError:
        raise GitBaseError("git is not installed (no 'git' on PATH)", hint="install git to compare with a revision")
    except OSError as err:
        raise GitBaseError(f"git cannot be started ({err.strerror})", hint="install git to compare with a revision")
    if check and done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitBaseError(f"git {args[0]} failed: {said[0] if said else f'exit {done.returncode}'}")
    return done.stdout.decode("utf-8", "surrogateescape") if check else done


def _locate(spec: Path) -> tuple[Path, str]:
    """The repository that holds `spec` (its top folder) and the spec's path in it."""
    absolute = Path(os.path.abspath(spec))
    folder, rest = absolute.parent, [absolute.name]
    while not folder.is_dir() and folder != folder.parent:  # a spec deleted since, and its folder
        folder, rest = folder.parent, [folder.name, *rest]
    done = _git(folder, "rev-parse", "--show-toplevel", check=False)
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip()
        if "not a git repository" in said:
            raise GitBaseError(f"{spec} is not in a git repository, so it has no revisions to compare with",
                               hint="run it inside a git working tree, or compare two files: dsc diff OLD NEW")
        raise GitBaseError(f"git cannot read the repository of {spec}: {said.splitlines()[0] if said else ''}")
    top = done.stdout.decode("utf-8", "surrogateescape").strip()
    if not top:
        raise GitBaseError(f"{spec} is in a bare git repository, which has no working tree to compare")
    repo = Path(os.path.realpath(top))
    rel = os.path.relpath(os.path.join(os.path.realpath(folder), *rest), repo)
    if rel == ".." or rel.startswith("../") or os.path.isabs(rel):
        raise GitBaseError(f"{spec} lies outside its git repository {repo} (through a symlink)",
                           code="DSC218", exit_code=EXIT_SPEC_ERROR, hint="name the spec by its path in the repository")
    return repo, Path(rel).as_posix()


def _commit(repo: Path, ref: str) -> str:
    """The full id of the commit `ref` names; GitBaseError when it names none."""
    if not ref.strip() or ref.startswith("-") or any(c in ref for c in "\0\n\r"):
        raise GitBaseError(f"'{ref}' is not a git revision", hint="name a branch, tag or commit, e.g. origin/main")
    done = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    if done.returncode != 0:
        raise GitBaseError(f"revision '{ref}' does not exist in {repo}",
                           hint="fetch it first (git fetch origin main; in CI, check out with fetch-depth: 0), "
                                "or name a branch, tag or commit that exists")
    return done.stdout.decode().strip()


def _tree(repo: Path, commit: str) -> dict[str, tuple[str, str, str]]:
    """Every entry of the commit's tree (files, symlinks, submodules): path -> (mode, type, object id)."""
    out = _git(repo, "ls-tree", "-r", "-z", "--full-tree", commit)
    tree = {}
    for record in out.split("\0"):
        if record:
            meta, _, path = record.partition("\t")
            mode, kind, oid = meta.split()
            tree[path] = (mode, kind, oid)
    return tree


def _entry(tree: dict, path: str, ref: str, what: str) -> tuple[str, str, str] | None:
    """The tree's entry for the file `path`, None when there is none; a symlink on the way (the file
    or a folder above it) is refused, and a submodule's files are not in the tree."""
    parts = path.split("/")
    for i in range(1, len(parts) + 1):
        got = tree.get("/".join(parts[:i]))
        if got is None:
            continue
        if got[0] == _SYMLINK:
            link = "/".join(parts[:i])
            where = "is a symlink" if i == len(parts) else f"lies under '{link}', a symlink"
            raise GitBaseError(f"{what} '{path}' {where} at {ref}; dsc reads no symlinks from git history",
                               code="DSC218", exit_code=EXIT_SPEC_ERROR,
                               hint="commit the file itself rather than a link to it")
        if got[1] == "commit":  # a submodule: its files are not in this tree
            return None
        if i == len(parts):
            return got if got[1] == "blob" else None
    return None


# --- what the old spec reads --------------------------------------------------------------------

@dataclass(frozen=True)
class _Read:
    kind: str  # "glob" (a data pattern), "file" or "folder" (read only when it is a folder here)
    what: str
    path: str  # as the spec writes it: relative to the spec's folder


def _reads(text: str, display: str) -> tuple[bool, list[_Read]]:
    """Whether the spec text compiles on its own, and what it reads."""
    from dsc.api import compile_text
    from dsc.syntax.source import SourceFile

    compiled = compile_text(SourceFile(display, text))
    if compiled.plan is not None:
        return True, _plan_reads(compiled.plan)
    if compiled.spec is None:
        return False, []
    from dsc.checks.paths import _paths  # the paths dsc check looks at: a broken spec shows the same diagnostics

    reads = []
    for path, what, _code in _paths(compiled.spec):
        if what not in ("export path", "task file"):
            reads.append(_Read("glob" if what == "file pattern" else "file", what, path.value))
            reads += _rosters(path.value) if what == "annotation file" else []
    return False, reads


def _rosters(annotation_file: str) -> list[_Read]:
    """The rosters an annotation file may have beside it (`dsc.annotation.ingest.roster_path`)."""
    from dsc.annotation.ingest import ROSTER_SUFFIXES

    folder, name = posixpath.split(annotation_file.replace("\\", "/"))
    stem = name[: -len(posixpath.splitext(name)[1])] if posixpath.splitext(name)[1] else name
    return [_Read("optional", "annotator roster", posixpath.join(folder, stem + suffix)) for suffix in ROSTER_SUFFIXES]


def _plan_reads(plan) -> list[_Read]:
    """What a compiled plan reads (`dsc.engines.permissions.files_read`, as paths and patterns)."""
    reads = []
    for src in plan.sources:
        reads += [_Read("glob", f"file pattern '{p}'", p) for p in src.files]
        if src.hub is not None:
            reads.append(_Read("folder", "hub dataset folder", src.hub.id))
    for step in plan.steps:
        if isinstance(step.params.get("pairs"), str):
            reads.append(_Read("file", "labelled-pairs file", step.params["pairs"]))
    for ann in plan.annotations:
        reads += [_Read("file", "annotation file", ann.source), *_rosters(ann.source)]
    for rule in plan.augment:
        if rule.template:
            reads.append(_Read("file", "prompt template", rule.template))
        if rule.backend == "local":
            model = rule.model
            if "{src}" in model or "{tgt}" in model:
                pattern = re.sub(r"([*?\[])", r"[\1]", model).replace("{src}", "*").replace("{tgt}", "*")
                reads.append(_Read("folder", "model folder", pattern))
            else:
                reads.append(_Read("folder", "model folder", model))
    reads += [_Read("file", "export template", e.template) for e in plan.exports if e.template]
    for block in plan.finetune:
        base = block.settings.get("base")
        if isinstance(base, str):
            reads.append(_Read("folder", "base model folder", base))
    return reads


def _match(pattern: list[str], names: list[str]) -> bool:
    """Whether the path `names` matches the pattern, as `dsc.io.files.glob` matches on disk."""
    if not pattern:
        return not names
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        for taken in range(len(names) + 1):
            if taken and names[taken - 1].startswith("."):
                break
            if _match(rest, names[taken:]):
                return True
        return False
    if not names:
        return False
    name = names[0]
    if _MAGIC.search(head):
        if (name.startswith(".") and not head.startswith(".")) or not fnmatchcase(name, head):
            return False
    elif name != head:
        return False
    return _match(rest, names[1:])


class _Copier:
    """Copies the old spec and what it reads into the mirror, recording where each file came from."""

    def __init__(self, result: Materialized, tree: dict, allow_outside_project: bool):
        self.m = result
        self.tree = tree
        self.allow_outside = allow_outside_project
        self.spec_dir = posixpath.dirname(result.path)
        self.copied: dict[str, ReadFile] = {}
        self.from_ref: list[tuple[str, str]] = []  # (path, object id), written in one `cat-file --batch`
        self._tracked_now: set[str] | None = None
        self._folders: set[str] | None = None

    def run(self, spec_entry: tuple[str, str, str]) -> None:
        m = self.m
        self._markers()
        self._write_blobs([(m.path, spec_entry[2])])
        text = m.spec.read_bytes()
        from dsc.syntax.load import decode_source

        source, _diags = decode_source(text, f"{m.ref}:{m.path}")
        self.copied[m.path] = ReadFile(m.path, FROM_REF, "spec")
        if source is not None:
            m.compiled, reads = _reads(source.text, source.path)
            for read in reads:
                getattr(self, f"_{read.kind}")(read)
        self._write_blobs(self.from_ref)
        m.files = sorted(self.copied.values(), key=lambda f: f.path)

    # where a path of the spec lies in the repository

    def _resolve(self, read: _Read, strict: bool) -> str | None:
        """The repository path of what the spec names, or None (a hub id, a model name) when `strict`
        is off; with it, an absolute or escaping path is refused."""
        text = read.path.replace("\\", "/")
        why = unsafe(text)
        if why is None:
            joined = posixpath.normpath(posixpath.join(self.spec_dir, text))
            if joined == ".." or joined.startswith("../"):
                why = "it leaves the repository with '..'"
            else:
                return "" if joined == "." else joined
        if not strict:
            return None
        raise GitBaseError(f"{read.what} '{read.path}' of {self.m.ref}:{self.m.path} is not allowed: {why}",
                           code="DSC218", exit_code=EXIT_SPEC_ERROR, hint=_HINT_PATH)

    def _glob(self, read: _Read) -> None:
        pattern = self._resolve(read, strict=True)
        parts = [p for p in pattern.split("/") if p]
        literal = "/".join(parts[:next((i for i, p in enumerate(parts) if _MAGIC.search(p) or p == "**"),
                                       len(parts))])
        found = 0
        for path in self.tree:
            if path.startswith(literal) and _match(parts, path.split("/")):
                found += self._take_ref(path, read.what + " matches")
        found += sum(self._take_worktree(path, read.what + " matches")
                     for path in self._worktree_glob(pattern))
        if not found:
            self._missing(read, pattern)

    def _file(self, read: _Read) -> None:
        path = self._resolve(read, strict=True)
        if path and (self._take_ref(path, read.what) or self._take_worktree(path, read.what)):
            return
        self._missing(read, path)

    def _optional(self, read: _Read) -> None:
        path = self._resolve(read, strict=False)
        if path:
            self._take_ref(path, read.what) or self._take_worktree(path, read.what)

    def _folder(self, read: _Read) -> None:
        pattern = self._resolve(read, strict=False)
        if not pattern:
            return  # a hub id or a model name, not a path in the repository
        parts = pattern.split("/")
        folders = [f for f in self._ref_folders() if _match(parts, f.split("/"))]
        for folder in folders:
            for path in self.tree:
                if path.startswith(folder + "/") and not any(n.startswith(".") for n in
                                                             path[len(folder) + 1:].split("/")):
                    self._take_ref(path, read.what)
        for folder in self._worktree_glob(pattern, folders_only=True):
            self._walk(folder, read.what)

    # the two origins

    def _take_ref(self, path: str, what: str) -> bool:
        """Copy `path` from the revision when it is a file there (a symlink there is refused)."""
        if path in self.copied:
            return True
        entry = _entry(self.tree, path, self.m.ref, what)
        if entry is None:
            return False
        self.copied[path] = ReadFile(path, FROM_REF, what)
        self.from_ref.append((path, entry[2]))
        return True

    def _take_worktree(self, path: str, what: str) -> bool:
        """Copy `path` from the working tree when it is a file there that git tracks neither at the
        revision nor now (a file tracked now but not then was added since: the old spec did not read it)."""
        if path in self.copied or _entry(self.tree, path, self.m.ref, what) is not None:
            return path in self.copied
        source = self.m.repo / path
        if not os.path.isfile(source) or path in self._tracked():
            return False
        self._refuse_link_out(path, what)
        target = self.m.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        self.copied[path] = ReadFile(path, FROM_WORKTREE, what)
        return True

    def _refuse_link_out(self, path: str, what: str) -> None:
        if self.allow_outside:
            return
        real = Path(os.path.realpath(self.m.repo / path))
        if not real.is_relative_to(self.m.repo):
            raise GitBaseError(f"{what} '{path}' in the working tree is a symlink, or lies under one, that leads "
                               f"out of the repository ({real})", code="DSC218", exit_code=EXIT_SPEC_ERROR,
                               hint="pass --allow-outside-project to read it, or copy the file into the project")

    def _worktree_glob(self, pattern: str, folders_only: bool = False) -> list[str]:
        """Repository paths in the working tree the pattern matches (files, or folders)."""
        from dsc.io.files import glob

        found = []
        for match in glob(pattern, self.m.repo):
            path = posixpath.normpath(match)
            if path == ".." or path.startswith("../") or os.path.isabs(path):
                continue
            full = self.m.repo / path
            if (os.path.isdir(full) if folders_only else os.path.isfile(full)):
                found.append(path)
        return sorted(found)

    def _walk(self, folder: str, what: str) -> None:
        """The files under a working-tree folder that git does not track (a model's weights kept out
        of git, say), names starting with '.' left out; links that leave the repository refused."""
        self._refuse_link_out(folder, what)
        for top, dirs, files in os.walk(self.m.repo / folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if not name.startswith("."):
                    path = Path(os.path.relpath(os.path.join(top, name), self.m.repo)).as_posix()
                    self._take_worktree(path, what)

    def _missing(self, read: _Read, path: str) -> None:
        added = path in self._tracked() and not _MAGIC.search(path)
        reason = f"added since {self.m.ref}" if added else f"not at {self.m.ref} nor in the working tree"
        self.m.missing.append(Missing(read.what, path, reason))

    def _tracked(self) -> set[str]:
        """The paths git tracks now (its index), read once."""
        if self._tracked_now is None:
            out = _git(self.m.repo, "ls-files", "-z", "--full-name")
            self._tracked_now = {p for p in out.split("\0") if p}
        return self._tracked_now

    def _ref_folders(self) -> set[str]:
        if self._folders is None:
            every = set()
            for path in self.tree:
                parts = path.split("/")[:-1]
                every |= {"/".join(parts[:i]) for i in range(1, len(parts) + 1)}
            self._folders = every
        return self._folders

    # writing

    def _markers(self) -> None:
        """The project markers (pyproject.toml, dsc.toml) of the spec's folders at the revision, as
        empty files: the copy's project is where the original's was."""
        parts = self.spec_dir.split("/") if self.spec_dir else []
        for i in range(len(parts) + 1):
            folder = "/".join(parts[:i])
            for marker in _MARKERS:
                if posixpath.join(folder, marker) in self.tree:
                    target = self.m.root / folder / marker
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.touch()

    def _write_blobs(self, items: list[tuple[str, str]]) -> None:
        """Write each (path, object id) from the object store into the mirror, streamed through one
        `git cat-file --batch`."""
        if not items:
            return
        try:
            proc = subprocess.Popen(["git", "-C", str(self.m.repo), "cat-file", "--batch"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env())
        except OSError as err:
            raise GitBaseError(f"git cannot be started ({err.strerror})", hint="install git to compare with a revision")
        try:
            for path, oid in items:
                proc.stdin.write(oid.encode() + b"\n")
                proc.stdin.flush()
                header = proc.stdout.readline().split()
                if len(header) != 3 or header[1] != b"blob":
                    raise GitBaseError(f"git cannot read {path} at {self.m.ref} (object {oid})")
                target = self.m.root / path
                target.parent.mkdir(parents=True, exist_ok=True)
                left = int(header[2])
                with open(target, "wb") as out:
                    first = True
                    while left:
                        chunk = proc.stdout.read(min(left, _CHUNK))
                        if not chunk:
                            raise GitBaseError(f"git stopped while reading {path} at {self.m.ref}")
                        if first and chunk.startswith(_LFS_POINTER) and int(header[2]) < 1024:
                            self.m.lfs_pointers.append(path)
                        first = False
                        out.write(chunk)
                        left -= len(chunk)
                proc.stdout.read(1)  # the newline after each object
        finally:
            proc.stdin.close()
            proc.stdout.close()
            proc.wait()
