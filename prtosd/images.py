"""Which image (and custom files) each partition runs.

Upstream keeps partition images outside the XML (its packer takes ``-p ID:IMAGE[:CUSTOMFILE...]``).
prtosd accepts the same option on its command line, and the project attributes ``pd:image`` /
``pd:sources`` / ``pd:customFiles`` in the XML. Precedence: a ``-p`` option for a partition
replaces everything the XML says about it; otherwise ``pd:image``; otherwise ``pd:sources``,
built through the guest SDK (cached). A partition with none of these has no image and stays
HALTED at boot (config.md §10 rule 4).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from prtosd.config.model import System


class ImageOptionError(ValueError):
    """A ``-p`` option that does not name a partition and an existing file."""


@dataclass(frozen=True, slots=True)
class ImageSpec:
    """One ``-p`` option, with the partition resolved to its id."""

    partition_id: int
    image: Path
    custom_files: tuple[Path, ...] = ()


@dataclass(frozen=True, slots=True)
class PartitionImage:
    """What a partition process loads: the ELF image and its custom files, in slot order."""

    image: Path
    custom_files: tuple[Path, ...] = ()


def parse_image_option(text: str, system: System) -> ImageSpec:
    """Parse ``ID:IMAGE[:CUSTOMFILE...]``; ID is a partition id or name."""
    parts = text.split(":")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise ImageOptionError(f'-p "{text}": expected ID:IMAGE[:CUSTOMFILE...]')
    key, image, *customs = parts
    if key.isdigit():
        pid = int(key)
        if pid >= len(system.partitions):
            raise ImageOptionError(f'-p "{text}": no partition {pid} (the system has {len(system.partitions)})')
    else:
        match = [p.id for p in system.partitions if p.name and p.name == key]
        if not match:
            raise ImageOptionError(f'-p "{text}": no partition named "{key}"')
        pid = match[0]
    paths = [Path(image), *(Path(c) for c in customs)]
    for p in paths:
        if not p.is_file():
            raise ImageOptionError(f'-p "{text}": file "{p}" not found')
    return ImageSpec(pid, paths[0].resolve(), tuple(c.resolve() for c in paths[1:]))


Builder = Callable[[int, tuple[Path, ...]], Path]


def resolve_images(system: System, options: list[ImageSpec], build: Builder | None = None) -> dict[int, PartitionImage]:
    """Partition id → image to run, for every partition that has one.

    ``build(partition_id, sources)`` turns ``pd:sources`` into an ELF path; it is only called for
    partitions that need it, so systems with prebuilt images never touch the compiler.
    """
    by_id: dict[int, ImageSpec] = {}
    for spec in options:
        if spec.partition_id in by_id:
            raise ImageOptionError(f"partition {spec.partition_id} is given more than one -p option")
        by_id[spec.partition_id] = spec
    out: dict[int, PartitionImage] = {}
    for part in system.partitions:
        if part.id in by_id:
            spec = by_id[part.id]
            out[part.id] = PartitionImage(spec.image, spec.custom_files)
        elif part.image:
            out[part.id] = PartitionImage(Path(part.image), tuple(Path(c) for c in part.custom_files))
        elif part.sources:
            if build is None:
                raise ImageOptionError(f"partition {part.id} is given as C sources but no builder is available")
            elf = build(part.id, tuple(Path(s) for s in part.sources))
            out[part.id] = PartitionImage(elf, tuple(Path(c) for c in part.custom_files))
    return out
