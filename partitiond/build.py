"""The build driver: partition C sources + the guest SDK → a partition ELF image.

Why a driver at all: users of prtosd write partition programs the way they would for upstream
PRTOS (``#include <prtos.h>``, ``partition_main``) and must not need to know a single compiler
flag. This module knows the target (bare-metal i386, freestanding, BAIL's libc only), builds the
SDK libraries (BAIL and libprtos) from the sources shipped in ``partitiond/sdk``, and links the
program with the SDK linker script at the partition's load address.

Why a cache: systems are rebuilt every time prtosd starts from ``pd:sources``, so a warm build
must cost next to nothing. Every compiled object is stored under a key made of the toolchain
fingerprint, the flags and the source's content, together with a manifest of the headers it
included (with their content hashes); archives and linked images are keyed by the hashes of
what went into them. Nothing is trusted by timestamp, and every cache write is an atomic
rename, so concurrent builds sharing one cache directory are safe.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from partitiond.toolchain import GUEST_TARGET, SDK_DIR, ToolchainError, run_zig, zig_executable

#: Bump when the cache layout or the meaning of a cached artefact changes.
CACHE_FORMAT = "1"

#: Where the SDK's public headers live (BAIL and libprtos).
SDK_INCLUDE = SDK_DIR / "include"

#: The linker script; the load address is prepended to a copy as the symbol PRTOS_LOAD_ADDRESS.
LINKER_SCRIPT = SDK_DIR / "link" / "partition.ld"

#: SDK libraries, in link order: (archive name, source directory).
SDK_LIBRARIES: tuple[tuple[str, Path], ...] = (("bail", SDK_DIR / "bail"), ("prtos", SDK_DIR / "libprtos"))

#: Flags of every guest translation unit. gnu89 (with its inline semantics) and -fcommon are
#: what upstream partition code was written against; -g0 and no unwind tables keep images small.
#: No -ffunction-sections: a function called "init" would otherwise land in .text.init.
COMPILE_FLAGS: tuple[str, ...] = (
    *GUEST_TARGET,
    "-std=gnu89",
    "-O2",
    "-g0",
    "-ffreestanding",
    "-fno-builtin",
    "-nostdlib",
    "-fno-stack-protector",
    "-fno-pic",
    "-fcommon",
    "-fno-sanitize=all",
    "-fno-asynchronous-unwind-tables",
    "-fno-unwind-tables",
    "-fno-function-sections",
    "-fno-data-sections",
    "-fno-strict-aliasing",
)

#: Flags of the link step; compiler-rt brings the 64-bit division helpers. -O2 makes zig link
#: its optimised compiler-rt and pass --gc-sections, so unused helpers stay out of the image.
LINK_FLAGS: tuple[str, ...] = (
    *GUEST_TARGET,
    "-O2",
    "-nostdlib",
    "-rtlib=compiler-rt",
    "-Wl,-u,start",
    "-Wl,-u,prtos_image_hdr",
    "-Wl,-e,start",
)

SOURCE_SUFFIXES = (".c", ".S", ".s")


def cache_dir() -> Path:
    """The build cache: ``$PRTOSD_CACHE_DIR`` or ``~/.cache/prtosd``."""
    env = os.environ.get("PRTOSD_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "prtosd"


def _fingerprint() -> str:
    """Identifies the compiler, so a new zig never reuses objects of an old one.

    The binary's size and modification time change with every reinstall of the ``ziglang``
    wheel; they are read with one ``stat`` instead of the wheel's version, whose lookup imports
    ``importlib.metadata`` (~20 ms of every ``prtosd start``).
    """
    exe = zig_executable()
    st = exe.stat()
    return f"prtosd-build-{CACHE_FORMAT}|zig-{st.st_size}-{st.st_mtime_ns}|{exe}"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: path → (mtime ns, size, inode, SHA-256) of every file hashed in this process: the partitions of
#: one system, and the builds of a test run, check the same SDK sources and headers.
_DIGESTS: dict[str, tuple[int, int, int, str]] = {}


class _Hasher:
    """Content hashes of files, looked at once per build; read again only when their ``stat`` changed."""

    def __init__(self) -> None:
        self._memo: dict[str, str | None] = {}  # this build's answers (hundreds of header checks)

    def file(self, path: Path | str) -> str | None:
        """SHA-256 of the file's content, or None if it cannot be read."""
        name = str(path)
        if name in self._memo:
            return self._memo[name]
        try:
            st = os.stat(name)
            known = _DIGESTS.get(name)
            if known is not None and known[:3] == (st.st_mtime_ns, st.st_size, st.st_ino):
                digest: str | None = known[3]
            else:
                with open(name, "rb") as f:
                    digest = _sha(f.read())
                _DIGESTS[name] = (st.st_mtime_ns, st.st_size, st.st_ino, digest)
        except OSError:
            digest = None
        self._memo[name] = digest
        return digest


def _atomic_write(path: Path, data: bytes) -> None:
    """Write through a temporary file and rename, so readers never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _parse_depfile(text: str) -> list[Path]:
    """Prerequisites of a Makefile-style dependency file (the first target only)."""
    text = text.replace("\\\n", " ")
    _, _, deps = text.partition(": ")
    out: list[str] = []
    current = ""
    i = 0
    while i < len(deps):
        c = deps[i]
        if c == "\\" and i + 1 < len(deps) and deps[i + 1] == " ":
            current += " "
            i += 2
            continue
        if c.isspace():
            if current:
                out.append(current)
            current = ""
            if c == "\n":
                break
        else:
            current += c
        i += 1
    if current:
        out.append(current)
    return [Path(p) for p in out]


def _clean_diagnostics(text: str) -> str:
    """The compiler's messages without zig's own wrapper noise."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("error: unable to build")]
    return "\n".join(lines).strip() or "the compiler failed without a message"


class _Builder:
    """One build: compiles what the cache lacks, archives, links."""

    def __init__(self, cache: Path) -> None:
        self.cache = cache
        self.fingerprint = _fingerprint()
        self.hasher = _Hasher()

    # -- objects -----------------------------------------------------------------------------

    def _object_key(self, source: Path, flags: Sequence[str]) -> str:
        digest = self.hasher.file(source)
        if digest is None:
            raise ToolchainError(f"{source}: cannot read the source file")
        return _sha("\0".join([self.fingerprint, str(source), digest, *flags]).encode())

    def _cached_object(self, key: str) -> str | None:
        """The object's hash if the cached object is still valid (every dependency unchanged)."""
        manifest = self.cache / "obj" / f"{key}.json"
        obj = self.cache / "obj" / f"{key}.o"
        try:
            data = json.loads(manifest.read_text())
        except (OSError, ValueError):
            return None
        for dep, digest in data.get("deps", []):
            if self.hasher.file(dep) != digest:
                return None
        if not obj.is_file():
            return None
        return str(data["sha"])

    def _compile(self, source: Path, flags: Sequence[str], key: str) -> str:
        """Compile one source into the cache; returns the object's hash."""
        with tempfile.TemporaryDirectory(prefix="prtosd-cc-") as tmp:
            obj = Path(tmp) / "out.o"
            dep = Path(tmp) / "out.d"
            proc = run_zig(["cc", *flags, "-MD", "-MF", str(dep), "-c", str(source), "-o", str(obj)])
            if proc.returncode != 0 or not obj.is_file():
                raise ToolchainError(_clean_diagnostics(proc.stderr + proc.stdout))
            data = obj.read_bytes()
            deps = _parse_depfile(dep.read_text()) if dep.is_file() else [source]
        resolved = sorted({str(d if d.is_absolute() else (source.parent / d).resolve()) for d in deps})
        entries = []
        for d in resolved:
            digest = self.hasher.file(d)
            if digest is not None:
                entries.append([d, digest])
        sha = _sha(data)
        _atomic_write(self.cache / "obj" / f"{key}.o", data)
        _atomic_write(self.cache / "obj" / f"{key}.json", json.dumps({"deps": entries, "sha": sha}).encode())
        return sha

    def objects(self, sources: Sequence[Path], flags: Sequence[str]) -> list[tuple[Path, str]]:
        """(cached object path, object hash) per source, compiling the misses in parallel."""
        keys = [self._object_key(s, flags) for s in sources]
        hashes: list[str | None] = [self._cached_object(k) for k in keys]
        misses = [i for i, h in enumerate(hashes) if h is None]
        if misses:
            workers = min(len(misses), os.cpu_count() or 1)
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = {i: pool.submit(self._compile, sources[i], flags, keys[i]) for i in misses}
                errors: list[str] = []
                for i, fut in futures.items():
                    try:
                        hashes[i] = fut.result()
                    except ToolchainError as exc:
                        errors.append(str(exc))
                if errors:
                    raise ToolchainError("\n".join(errors))
        return [(self.cache / "obj" / f"{k}.o", str(h)) for k, h in zip(keys, hashes, strict=True)]

    # -- libraries ---------------------------------------------------------------------------

    def library(self, name: str, directory: Path) -> tuple[Path, str] | None:
        """The SDK library built from every source under ``directory`` (None if it has none).

        Builds that start together (parallel test workers, several partitions of one system)
        would all miss the cache and compile the same library at once; a lock file makes one
        of them compile while the others wait and then find everything cached.
        """
        sources = sorted(p for p in directory.rglob("*") if p.suffix in SOURCE_SUFFIXES and p.is_file())
        if not sources:
            return None
        flags = [*COMPILE_FLAGS, f"-I{SDK_INCLUDE}", f"-I{directory}"]
        lock = self.cache / "lib" / f".lock-{name}"
        lock.parent.mkdir(parents=True, exist_ok=True)
        with lock.open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                return self._library(name, sources, flags)
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _library(self, name: str, sources: list[Path], flags: list[str]) -> tuple[Path, str]:
        objs = self.objects(sources, flags)
        key = _sha("\0".join([self.fingerprint, name, *(h for _, h in objs)]).encode())
        archive = self.cache / "lib" / f"lib{name}-{key}.a"
        if not archive.is_file():
            archive.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(prefix="prtosd-ar-") as tmp:
                # Members are named after the source so that link errors are readable.
                members = []
                for i, (src, (obj, _)) in enumerate(zip(sources, objs, strict=True)):
                    member = Path(tmp) / f"{i:03d}-{src.stem}.o"
                    shutil.copyfile(obj, member)
                    members.append(str(member))
                out = Path(tmp) / "lib.a"
                proc = run_zig(["ar", "rcs", str(out), *members])
                if proc.returncode != 0:
                    raise ToolchainError(f"building lib{name}.a failed:\n{_clean_diagnostics(proc.stderr)}")
                _atomic_write(archive, out.read_bytes())
        return archive, key

    # -- link --------------------------------------------------------------------------------

    def link(self, objs: Sequence[tuple[Path, str]], libs: Sequence[tuple[Path, str]], load_address: int) -> Path:
        """Link (or fetch from the cache) the image; returns the cached ELF path."""
        # zig cc accepts neither -Ttext nor --defsym, so the load address is prepended to a
        # copy of the script, which therefore also lives in the cache.
        script = f"PRTOS_LOAD_ADDRESS = {load_address:#x};\n".encode() + LINKER_SCRIPT.read_bytes()
        script_sha = _sha(script)
        script_path = self.cache / "ld" / f"{script_sha}.ld"
        if not script_path.is_file():
            _atomic_write(script_path, script)
        flags = [*LINK_FLAGS, "-T", str(script_path)]
        key = _sha("\0".join([self.fingerprint, *flags, *(h for _, h in objs), *(h for _, h in libs)]).encode())
        elf = self.cache / "elf" / f"{key}.elf"
        if elf.is_file():
            return elf
        with tempfile.TemporaryDirectory(prefix="prtosd-ld-") as tmp:
            out = Path(tmp) / "image.elf"
            args = ["cc", *flags, *(str(p) for p, _ in objs), *(str(p) for p, _ in libs), "-o", str(out)]
            proc = run_zig(args)
            if proc.returncode != 0 or not out.is_file():
                raise ToolchainError(f"linking failed:\n{_clean_diagnostics(proc.stderr + proc.stdout)}")
            _atomic_write(elf, out.read_bytes())
        return elf


def _check_custom_files(image: Path, custom_files: Sequence[Path]) -> None:
    """The image must declare one slot per custom file, each large enough (§15.1)."""
    from partitiond.image import ImageError, read_image

    try:
        hdr = read_image(image).header
    except ImageError as exc:
        raise ToolchainError(str(exc)) from None
    if hdr.num_of_custom_files != len(custom_files):
        raise ToolchainError(
            f"the image declares {hdr.num_of_custom_files} custom file(s) in prtos_image_hdr "
            f"but {len(custom_files)} were given"
        )
    for i, path in enumerate(custom_files):
        try:
            size = path.stat().st_size
        except OSError:
            raise ToolchainError(f"custom file {path} not found") from None
        slot = hdr.custom_file_table[i].size
        if size > slot:
            raise ToolchainError(f"custom file {path} ({size} bytes) does not fit custom-file slot {i} ({slot} bytes)")


def build_partition(
    sources: Sequence[Path],
    output: Path,
    load_address: int,
    include_dirs: Iterable[Path] = (),
    defines: Iterable[str] = (),
    custom_files: Sequence[Path] = (),
    *,
    cache: Path | None = None,
) -> Path:
    """Build a partition image from C (or assembly) sources and return ``output``.

    ``load_address`` is the start of the partition's first memory area. ``defines`` are
    ``NAME`` or ``NAME=VALUE``. When ``custom_files`` are given, the image header must declare
    exactly that many custom-file slots, each large enough for its file. ``cache`` overrides
    :func:`cache_dir`. Errors (missing files, compiler diagnostics with file:line, link errors)
    raise ``ToolchainError`` with a message meant for the user.
    """
    if not sources:
        raise ToolchainError("no source files given")
    if not 0 <= load_address < 0xFC000000 or load_address % 4096:
        raise ToolchainError(f"load address {load_address:#x} is not a page-aligned address below 0xFC000000")
    srcs = [Path(s).resolve() for s in sources]
    for s in srcs:
        if not s.is_file():
            raise ToolchainError(f"source file {s} not found")
        if s.suffix not in SOURCE_SUFFIXES:
            raise ToolchainError(f"{s}: unsupported source type (expected {', '.join(SOURCE_SUFFIXES)})")
    user_flags = [*COMPILE_FLAGS]
    for d in include_dirs:
        user_flags.append(f"-I{Path(d).resolve()}")
    user_flags.append(f"-I{SDK_INCLUDE}")
    for define in defines:
        if not define or define.startswith("="):
            raise ToolchainError(f'bad define "{define}" (expected NAME or NAME=VALUE)')
        user_flags.append(f"-D{define}")

    builder = _Builder(cache if cache is not None else cache_dir())
    libs = [lib for name, directory in SDK_LIBRARIES if (lib := builder.library(name, directory)) is not None]
    objs = builder.objects(srcs, user_flags)
    elf = builder.link(objs, libs, load_address)
    if custom_files:
        _check_custom_files(elf, [Path(c) for c in custom_files])
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.tmp-{os.getpid()}")
    shutil.copyfile(elf, tmp)
    os.replace(tmp, output)
    return output


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m partitiond.build``: build one partition image from the command line."""
    parser = argparse.ArgumentParser(prog="python -m partitiond.build", description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="+", type=Path, help="C or assembly sources of the partition")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the ELF image to write")
    parser.add_argument(
        "--load-address", type=lambda s: int(s, 0), required=True, help="start of the first memory area"
    )
    parser.add_argument("-I", dest="include_dirs", action="append", type=Path, default=[], help="include directory")
    parser.add_argument("-D", dest="defines", action="append", default=[], help="NAME or NAME=VALUE")
    parser.add_argument("--custom-file", dest="custom_files", action="append", type=Path, default=[])
    args = parser.parse_args(argv)
    try:
        build_partition(
            args.sources, args.output, args.load_address, args.include_dirs, args.defines, args.custom_files
        )
    except ToolchainError as exc:
        msg = str(exc)
        print(msg if msg.startswith("error:") else f"error: {msg}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
