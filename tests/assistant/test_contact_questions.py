"""Contact questions on a notice in the shape offices hold, beside the shipped corpus: the contact block sits under
the sentence about the application and names no topic; a smaller city's number has 7 digits. A contact detail the
notice does not give (a fax, a web address) is refused, not answered with the line next to it."""

from __future__ import annotations

import pytest

from tests.conftest import bot_beside_shipped

pytestmark = pytest.mark.slow

NOTICE = """关于组织申报2026年某市工业设计中心的通知
各县区工业和信息化局，有关企业：
为推动工业设计发展，现组织申报2026年某市工业设计中心，有关事项通知如下：
一、对认定的市级工业设计中心，给予一次性奖励30万元。
二、请于2026年9月7日前将工业设计中心申报书一式三份及电子版报送市工业和信息化局科技科。
联 系 人：李明星
联系电话：3569409
电子邮箱：gxj409@126.com
某市工业和信息化局
2026年8月1日
"""

# A crawled notice with no title line (its title falls back to the file name) and a contact table by district:
# the table is a passage of its own that says little of the topic. End to end, the district's row is answered; the
# gate rule that lets such a table count (the best passage's document's passages) is pinned in test_gate.py.
TABLE_NOTICE = """各区科委，有关单位：
为弘扬科学精神，普及科学知识，现开展2026年某市科普基地认定工作，有关事项通知如下：
一、申报范围。在本市注册的科普场馆、科研院所、企业等单位均可申报科普基地。
二、申报方式。申报单位通过网上平台在线提交科普基地认定申请表，并按要求上传证明材料。
三、认定程序。各区初审受理后报市科委，市科委组织专家评审和实地考察，择优认定科普基地。
四、支持政策。对新认定的科普基地，按规定给予运行经费补助，并纳入科普基地年度评估。
五、其他事项。纸质材料报送至各区受理点，受理点地址和联系人见下表。
区 | 受理地址 | 邮编 | 联系人 | 联系电话
甲区 | 人民路1号 | 200001 | 张三 | 62001234
乙区 | 解放路2号 | 200002 | 李四 | 62005678
丙区 | 建设路3号 | 200003 | 王五 | 62009012
"""


@pytest.fixture(scope="module")
def bot(tmp_path_factory, shared_embeddings):
    return bot_beside_shipped(tmp_path_factory.mktemp("contact-questions"), {"design-centre.txt": NOTICE, "science-base-2026.txt": TABLE_NOTICE}, shared_embeddings)


@pytest.mark.parametrize(("question", "want"), [
    ("工业设计中心申报找谁联系？电话多少？", "3569409"),  # 7 digits, in a line that names no topic
    ("工业设计中心申报书的电子版发到哪个邮箱？", "gxj409@126.com"),  # three lines below the topic sentence
])
def test_the_contact_block_answers_the_topic_above_it(bot, question, want) -> None:
    a = bot.ask(question)
    assert a.grounded, a.answer
    assert want in a.answer and a.citations[0].source == "design-centre.txt", a.answer


@pytest.mark.parametrize("question", [
    "工业设计中心申报材料的传真号是多少？",  # the notice gives a phone number, no fax
    "工业设计中心申报书模板从哪个网址下载？",  # and no web address
])
def test_a_contact_detail_the_notice_does_not_give_is_refused(bot, question) -> None:
    a = bot.ask(question)
    assert not a.grounded and a.citations == [], a.answer


def test_a_contact_table_of_the_notice_answers_though_its_passage_says_little_of_the_topic(bot) -> None:
    a = bot.ask("乙区的单位申报2026年科普基地认定，找哪位联系人、电话多少？")
    assert a.grounded, a.answer
    assert "62005678" in a.answer, a.answer


def test_an_offices_short_name_finds_its_full_name_in_a_signature(embedded_bot) -> None:
    from assistant.synonyms import load_synonyms, variants

    assert "科学技术委员会" in variants("科委", load_synonyms())  # the packaged table (assistant/data/synonyms.txt)
    # the shipped reply's signature block writes 长宁区科学技术委员会, never 科委, above its contact line
    a = embedded_bot.ask("长宁区科委的联系电话是多少？")
    assert a.grounded and "22050980" in a.answer, a.answer
