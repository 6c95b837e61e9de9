"""Index distribution: with a Chroma server, every replica serves the same index generation.

A generation is a Chroma collection (vectors) plus files under ``<data_dir>/generations/<gen>/`` (documents,
chunks, the BM25 index, sentence vectors, the measures catalogue, manifest). A replica on another machine has
another data dir, so with a Chroma server (``ASSISTANT_CHROMA_HOST``) ingest also publishes the generation next to its collection:

- ``<prefix>-<gen>-files``: the generation's files, zlib-compressed, in pieces of ``PIECE_BYTES``, each piece a
  record whose metadata holds it base64-encoded (metadata, not ``documents``: Chroma full-text-indexes documents,
  which made a 4 MB piece take 3 s to add instead of 75 ms); a 1-d dummy vector per record;
- ``<prefix>-current``: an empty collection whose metadata ``pointer`` names the live generation — the pointer
  every replica polls (``ASSISTANT_INDEX_POLL_S``).

A replica that sees a generation it lacks fetches the files into its own data dir (checked against their sha256,
renamed into place atomically) and loads it like a local one. ``<prefix>`` is ``ASSISTANT_COLLECTION``: replicas
that share an index share the prefix; several indexes can share one Chroma server under different prefixes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import shutil
import uuid
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import IndexNotFoundError
from assistant.index.snapshot import GENERATIONS, read_pointer

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

    from assistant.settings import Settings

log = logging.getLogger(__name__)

PIECE_BYTES = 2 * 1024 * 1024  # compressed bytes per record (≈ 2.7 MB of base64)
PIECES_PER_ADD = 4  # records per request to the server
# pipeline.run_ingest's names: they sort by creation time (microseconds since 2026-12-02; older names have seconds,
# and still sort before any newer name of the same second)
GENERATION = r"g\d{8}T\d{6}(?:\d{6})?-[0-9a-f]{6}"


def is_shared(settings: Settings) -> bool:
    """Replicas share the index only through a Chroma server; the embedded store lives in one data dir."""
    return bool(settings.chroma_host)


def generation_of(prefix: str, collection: str) -> str | None:
    """The generation a collection of this prefix belongs to (vectors or files), None for any other name."""
    m = re.fullmatch(re.escape(prefix) + rf"-({GENERATION})(?:-files)?", collection)
    return m.group(1) if m else None


class SharedIndex:
    """The published generations and the live pointer of one index (collection prefix) on a Chroma server."""

    def __init__(self, client: ClientAPI, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    @property
    def pointer_collection(self) -> str:
        return f"{self.prefix}-current"

    def files_collection(self, generation: str) -> str:
        return f"{self.prefix}-{generation}-files"

    # ---- the pointer --------------------------------------------------------------------------------
    def read_pointer(self) -> dict | None:
        """The live generation's pointer (as in ``current.json``), None before the first published ingest."""
        try:
            col = self.client.get_collection(self.pointer_collection, embedding_function=None)  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - chromadb raises NotFoundError or ValueError by version
            if _missing(exc):
                return None
            raise
        raw = (col.metadata or {}).get("pointer")
        return json.loads(raw) if isinstance(raw, str) and raw else None

    def write_pointer(self, pointer: dict) -> None:
        """One metadata update: replicas see either the old generation or the new one."""
        col = self.client.get_or_create_collection(self.pointer_collection, embedding_function=None)  # type: ignore[arg-type]
        col.modify(metadata={"pointer": json.dumps(pointer, ensure_ascii=False)})

    # ---- the files ----------------------------------------------------------------------------------
    def publish(self, generation: str, gen_dir: Path) -> int:
        """Upload every file of ``gen_dir``; returns the compressed bytes sent. Call before ``write_pointer``."""
        name = self.files_collection(generation)
        try:
            self.client.delete_collection(name)  # a half-published earlier attempt
        except Exception:  # noqa: BLE001 - absent is the normal case
            pass
        col = self.client.create_collection(name, embedding_function=None)  # type: ignore[arg-type]
        records: list[tuple[str, dict[str, Any]]] = []
        sent = 0
        for path in sorted(p for p in gen_dir.rglob("*") if p.is_file()):
            rel = path.relative_to(gen_dir).as_posix()
            raw = path.read_bytes()
            packed = zlib.compress(raw, 1)
            pieces = [packed[i : i + PIECE_BYTES] for i in range(0, len(packed), PIECE_BYTES)] or [b""]
            sha = hashlib.sha256(raw).hexdigest()
            for i, piece in enumerate(pieces):
                meta = {"path": rel, "part": i, "parts": len(pieces), "sha256": sha,
                        "data": base64.b64encode(piece).decode("ascii")}
                records.append((f"{rel}#{i}", meta))
                sent += len(piece)
        for i in range(0, len(records), PIECES_PER_ADD):
            batch = records[i : i + PIECES_PER_ADD]
            col.add(ids=[r[0] for r in batch], metadatas=[r[1] for r in batch], embeddings=[[0.0]] * len(batch))
        return sent

    def fetch(self, generation: str, gen_root: Path) -> Path:
        """``gen_root/<generation>``, downloaded from the server if this data dir does not have it yet."""
        target = gen_root / generation
        if target.is_dir():
            return target
        try:
            col = self.client.get_collection(self.files_collection(generation), embedding_function=None)  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001
            if not _missing(exc):
                raise
            raise IndexNotFoundError(
                f"索引版本 {generation} 的文件不在 Chroma 服务中（{exc}）",
                "请在导入节点上重新运行 `assistant ingest`，并确认各副本的 ASSISTANT_COLLECTION 和 Chroma 服务相同。",
            ) from exc
        files: dict[str, dict[int, dict[str, Any]]] = {}
        total, offset = col.count(), 0
        while offset < total:
            page = col.get(include=["metadatas"], limit=PIECES_PER_ADD, offset=offset)  # type: ignore[list-item]
            for meta in page["metadatas"] or []:
                files.setdefault(str(meta["path"]), {})[int(meta["part"])] = dict(meta)  # type: ignore[arg-type]
            offset += PIECES_PER_ADD
        gen_root.mkdir(parents=True, exist_ok=True)
        tmp = gen_root / f".fetch-{generation}-{uuid.uuid4().hex[:6]}"
        try:
            for rel, parts in files.items():
                first = parts[min(parts)]
                if sorted(parts) != list(range(int(first["parts"]))):
                    raise IndexNotFoundError(
                        f"索引版本 {generation} 的文件 {rel} 不完整（{len(parts)}/{first['parts']} 段）",
                        "请在导入节点上重新运行 `assistant ingest`。",
                    )
                raw = zlib.decompress(b"".join(base64.b64decode(str(parts[i]["data"])) for i in sorted(parts)))
                if hashlib.sha256(raw).hexdigest() != first["sha256"]:
                    raise IndexNotFoundError(
                        f"索引版本 {generation} 的文件 {rel} 校验失败", "请在导入节点上重新运行 `assistant ingest`。"
                    )
                out = tmp / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(raw)
            if not (tmp / "chunks.jsonl").is_file():
                raise IndexNotFoundError(f"索引版本 {generation} 在 Chroma 服务中没有文件", "请在导入节点上重新运行 `assistant ingest`。")
            try:
                tmp.rename(target)
            except OSError:
                if not target.is_dir():  # another worker process of this replica fetched it first: keep that one
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        log.info("fetched index generation %s (%d files) from the Chroma server", generation, len(files))
        return target

    def drop(self, generation: str) -> None:
        try:
            self.client.delete_collection(self.files_collection(generation))
        except Exception:  # noqa: BLE001 - already gone is fine
            pass


def _missing(exc: Exception) -> bool:
    """Does this chromadb error mean 'no such collection'? (NotFoundError in 1.x, ValueError before)."""
    from chromadb.errors import NotFoundError

    return isinstance(exc, NotFoundError | ValueError) or "does not exist" in str(exc)


def live_pointer(settings: Settings, client: ClientAPI | None) -> dict | None:
    """The pointer every replica follows: the Chroma server's when the index is shared and published there,
    else ``<data_dir>/current.json``."""
    if is_shared(settings) and client is not None:
        pointer = SharedIndex(client, settings.collection).read_pointer()
        if pointer is not None:
            return pointer
    return read_pointer(settings.data_dir)


def local_generation(
    settings: Settings, client: ClientAPI | None, generation: str, keep: Iterable[str] = ()
) -> Path:
    """The generation's directory in this data dir, fetched from the Chroma server when this replica lacks it.

    After a fetch, local generations other than ``generation`` and ``keep`` (the one still being served) are
    removed, so a replica holds two at most, like the ingest node."""
    gen_root = settings.data_dir / GENERATIONS
    target = gen_root / generation
    if target.is_dir() or not is_shared(settings) or client is None:
        return target
    path = SharedIndex(client, settings.collection).fetch(generation, gen_root)
    for child in gen_root.iterdir():
        if child.is_dir() and re.fullmatch(GENERATION, child.name) and child.name not in {generation, *keep}:
            shutil.rmtree(child, ignore_errors=True)
    return path
