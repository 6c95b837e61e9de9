"""Schemathesis against the app's own OpenAPI schema, every operation, over real HTTP with the admin key, WeChat
and WeCom enabled and a small temp corpus (writable: uploads and deletes really run): no response is a 5xx, every
response is documented (status code, content type, headers, body schema), and schema-invalid input is rejected
with a 4xx.

Bounded and repeatable: ``FUZZ_EXAMPLES`` (50) positive and as many negative cases per operation, the same each
run, about a minute in all; ``FUZZ_RANDOM=1 FUZZ_EXAMPLES=200`` hunts with new cases. ``make test-reliability``
runs it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api import test_wechat as wx
from tests.api import test_wecom as wecom
from tests.api.conftest import make_server, settings_for
from tests.conftest import CORPUS, make_settings

pytestmark = [pytest.mark.slow, pytest.mark.reliability]

KEY = "fuzz-admin-key-0123456789"
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
FUZZ_RANDOM = os.environ.get("FUZZ_RANDOM") == "1"  # new random cases each run (default: the same cases each run)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection]
SEEN: dict[str, int] = {}  # operation → cases sent (printed at the end of the module)


@pytest.fixture(scope="module")
def fuzz_base(tmp_path_factory, shared_embeddings) -> Iterator[str]:
    from api.main import create_app
    from assistant.ingest.pipeline import run_ingest
    from assistant.service import Assistant

    corpus = tmp_path_factory.mktemp("fuzz-corpus")
    for doc in CORPUS.iterdir():
        if doc.is_file():
            shutil.copy(doc, corpus / doc.name)
    settings = make_settings(tmp_path_factory.mktemp("fuzz-data"), corpus_dir=corpus)
    run_ingest(settings, embeddings=shared_embeddings)
    assistant = Assistant(settings, embeddings=shared_embeddings)
    app_settings = settings_for(
        settings, tmp_path_factory.mktemp("fuzz-state"), admin_key=KEY, wechat_token=wx.TOKEN,
        wechat_app_id=wx.APP_ID, wechat_aes_key=wx.AES_KEY, wecom_corp_id=wecom.CORP_ID, wecom_token=wecom.TOKEN,
        wecom_aes_key=wecom.AES_KEY, wechat_answer_budget_s=2.0,
    )
    with make_server(create_app(settings=app_settings, assistant=assistant)) as base:
        yield base
    print("\nfuzzed operations:", len(SEEN), "cases:", sum(SEEN.values()))
    for name, n in sorted(SEEN.items()):
        print(f"  {n:4d}  {name}")


def fuzz_operation(operation, mode: GenerationMode, stats: dict, failures: dict) -> None:
    """``FUZZ_EXAMPLES`` cases of ``operation`` in ``mode``, each response counted and checked; the first failure
    ends the operation's run (no shrinking) and is collected, so every operation gets its turn."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
              derandomize=not FUZZ_RANDOM, database=None, phases=[Phase.generate])
    def run(case) -> None:
        response = case.call(headers={"X-Admin-Key": KEY}, timeout=60)
        stats["cases"] += 1
        stats["statuses"][response.status_code] = stats["statuses"].get(response.status_code, 0) + 1
        SEEN[operation.label] = SEEN.get(operation.label, 0) + 1
        case.validate_response(response, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:  # nothing to get wrong (no parameters, no body): no negative cases
        assert mode is GenerationMode.NEGATIVE, operation.label
    except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - schemathesis' FailureGroup: a block per check
        failures[f"{operation.label} [{mode.value}]"] = str(exc)[:2000]


def test_every_operation_against_the_schema(fuzz_base) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzz_base}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    stats: dict = {"cases": 0, "statuses": {}}
    failures: dict[str, str] = {}
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz_operation(operation, mode, stats, failures)
    server_errors = sum(n for code, n in stats["statuses"].items() if code >= 500)
    print(f"\n{len(operations)} operations, {stats['cases']} cases, statuses {dict(sorted(stats['statuses'].items()))}, "
          f"5xx: {server_errors}")
    assert set(SEEN) == {op.label for op in operations}  # every operation was called
    assert not failures, "\n\n".join(f"{k}\n{v}" for k, v in sorted(failures.items()))
    assert server_errors == 0
