"""Chat channels (WeChat Official Account, WeCom, generic bot webhook): reply formatting, message dedupe and the
answer cache shared across worker processes, the answer-within-a-budget relay, and active push."""
