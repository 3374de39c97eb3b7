"""Property-based fuzzing of the JSON API from its own OpenAPI schema (schemathesis).

Every operation of /api/v1/openapi.json is called with generated data — valid and invalid
bodies, paths and queries — against the ASGI app in process (no network), authenticated with a
personal API token of a delegate (the Bearer header: no CSRF token needed), on a small
negotiation whose ids are the small integers the generator likes, so many calls reach real
objects. Each response must not be a server error (`not_a_server_error`) and its body must match
the schema the API declares (`response_schema_conformance`).

One database is enough for fuzzing: this runs on SQLite only (the JSON API's behaviour on both
databases is covered by test_api.py and test_hostile_input.py). The run is bounded and repeatable:
at most 25 examples per operation, derandomized Hypothesis (a fixed seed), no example database,
no deadline. Its size is written to test-artifacts/fuzz.txt.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from app.config import Settings
from app.db.session import Database
from app.domain.amendments import AmendmentKind
from app.domain.outline import parse_outline
from app.domain.roles import Role
from app.main import create_app
from app.services import accounts, amendments, documents, inputs
from app.services.views import IssuedToken
from tests.conftest import SMALL_RESOLUTION, _person

ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = ROOT / "test-artifacts" / "fuzz.txt"
MAX_EXAMPLES = 25
TALLY: Counter[str] = Counter()


@dataclass
class Target:
    app: Any
    token: IssuedToken


@pytest.fixture(scope="module")
def fuzz_target(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    path = tmp_path_factory.mktemp("fuzz") / "rolltext.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    secretariat = _person(database, "secretariat", Role.SECRETARIAT)
    _person(database, "cofac.mexico", Role.COFACILITATOR, "MEX")
    eu = _person(database, "eu", Role.DELEGATE, "EU", ("EU",))
    usa = _person(database, "usa", Role.DELEGATE, "USA")
    ngo = _person(database, "ngo", Role.STAKEHOLDER)
    negotiation = documents.create_negotiation(
        database,
        actor=secretariat,
        symbol="GCM/fuzz",
        title="Fuzzing",
        cofacilitators=["MEX", "CHE"],
    )
    document = documents.import_outline(
        database,
        actor=secretariat,
        negotiation_id=negotiation.id,
        outline=parse_outline(SMALL_RESOLUTION),
        issued_on=date(2016, 11, 23),
    )
    documents.set_visibility(
        database, actor=secretariat, document_id=document.id, visibility="public"
    )
    op1 = next(p.id for p in document.provisions if p.label == "OP1")
    amendments.propose(
        database,
        actor=usa,
        provision_id=op1,
        kind=AmendmentKind.WORDING,
        text=next(p.text for p in document.provisions if p.id == op1)[:-1] + " and beyond;",
    )
    inputs.submit_input(
        database,
        actor=ngo,
        document_id=document.id,
        text="Mention migrant children.",
        organisation="Children's Network",
        provision_id=op1,
    )
    token = accounts.issue_token(database, actor=eu, name="fuzzing")
    app = create_app(
        Settings(secret_key="fuzz-secret", database_url=database.url, settle_interval_seconds=3600),
        database=database,
    )
    yield Target(app, token)
    database.dispose()
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    operations = len(TALLY)
    ARTIFACT.write_text(
        f"API fuzz (tests/integration/test_api_fuzz.py): schemathesis {schemathesis.__version__}, "
        f"hypothesis derandomized, SQLite\n"
        f"operations: {operations}; generated examples per operation: at most {MAX_EXAMPLES} "
        f"(fuzzing phase: {operations} x {MAX_EXAMPLES} = {operations * MAX_EXAMPLES}), plus "
        f"schemathesis' coverage cases (boundaries, missing fields, other methods)\n"
        f"requests sent in this run: {sum(TALLY.values())}\n"
        + "".join(f"  {op}: {n}\n" for op, n in sorted(TALLY.items()))
    )


# The schema is the app's own; the app that answers is built on the fuzzing database above.
schema = schemathesis.openapi.from_dict(
    create_app(Settings(secret_key="schema-only", database_url="sqlite://")).openapi()
)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_fuzz(case: Any, fuzz_target: Target) -> None:
    token = fuzz_target.token
    # Revoking the token the fuzzer signs in with would end the run's authentication.
    parameters = case.path_parameters or {}
    if (
        case.operation.path == "/api/v1/tokens/{token_id}"
        and parameters.get("token_id") == token.id
    ):
        parameters["token_id"] = token.id + 1
    TALLY[f"{case.operation.method.upper()} {case.operation.path}"] += 1
    case.call_and_validate(
        app=fuzz_target.app,
        headers={"Authorization": f"Bearer {token.token}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
