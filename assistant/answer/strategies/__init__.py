"""The extractive answerer's strategies, one module each (see ``assistant.answer.extractive`` for their order).

- ``structure``: the sub-headings of a section ("分成哪几大类？"), and 第N项 of them;
- ``list``: every numbered item of the section whose heading names the list ("申报需要哪些材料？"), with a count;
- ``policy``: 施行日期 / 有效期 / 试行·征求意见稿·废止, from what ingest read out of the text;
- ``metadata``: 文号 / 签发人 / 联系人 / 日期 / 发文机关 questions, from the document's own lines;
- ``ordinal``: 第N项 of an 一是/二是 enumeration;
- ``table``: the header row + matching row(s) when the best sentence is a table row;
- ``sentence``: the best-scoring sentences (the default).
"""

from assistant.answer.strategies.base import AnswerContext, Draft, Scored, Strategy
from assistant.answer.strategies.listing import ListStrategy
from assistant.answer.strategies.metadata import MetadataStrategy
from assistant.answer.strategies.ordinal import OrdinalStrategy
from assistant.answer.strategies.policy import PolicyStrategy
from assistant.answer.strategies.sentence import SentenceStrategy
from assistant.answer.strategies.structure import StructureStrategy
from assistant.answer.strategies.table import TableStrategy

# The order the extractive answerer tries them in; the first that returns a Draft decides.
DEFAULT_ORDER: tuple[type, ...] = (
    StructureStrategy, ListStrategy, PolicyStrategy, MetadataStrategy, OrdinalStrategy, TableStrategy, SentenceStrategy,
)

__all__ = [
    "DEFAULT_ORDER",
    "ListStrategy",
    "AnswerContext",
    "Draft",
    "MetadataStrategy",
    "OrdinalStrategy",
    "PolicyStrategy",
    "Scored",
    "SentenceStrategy",
    "Strategy",
    "StructureStrategy",
    "TableStrategy",
]
