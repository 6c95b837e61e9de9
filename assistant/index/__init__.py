"""Indexes: the Chroma vector collection and the jieba/BM25 lexical index, one generation at a time."""
