"""The integers the JSON API accepts, declared once: ids, counts and pages.

Every id is a database integer: 1 to 2,147,483,647 (a PostgreSQL `integer`; SQLite would take
up to 2**63 - 1 and overflow beyond). A number outside that range names nothing, so it is
refused as invalid (422, naming the parameter) before any query is made — never a server error
when it reaches the driver. JSON `true` is not the id 1: booleans are refused wherever an
integer is expected, and so are numbers with a fraction. The same types serve paths, queries
and bodies (a query parameter with a description: `Annotated[Id, Query(description=…)]`), and
the OpenAPI schema states their range.
"""

from __future__ import annotations

from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

#: The largest id (and version number) the database holds.
MAX_ID = 2_147_483_647
#: The most items one page of a list returns.
MAX_LIMIT = 1000


def _not_a_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer, not true or false")
    return value


#: Booleans are refused; it comes after the range, which is then what the schema shows.
_NOT_BOOLEAN = BeforeValidator(_not_a_boolean)

#: The id of a negotiation, document, provision, proposal, round, input, token, meeting…
Id = Annotated[int, Ge(1), Le(MAX_ID), _NOT_BOOLEAN]
#: A version number of a provision (1, 2…), as last seen by the client.
Version = Annotated[int, Ge(1), Le(MAX_ID), _NOT_BOOLEAN]
#: A position counted from 0: a disputed passage in a provision, an alternative in it.
Index = Annotated[int, Ge(0), Le(MAX_ID), _NOT_BOOLEAN]
#: Paging: how many items, and how many to skip (past the end: an empty page).
Limit = Annotated[int, Ge(1), Le(MAX_LIMIT), _NOT_BOOLEAN]
Offset = Annotated[int, Ge(0), Le(MAX_ID), _NOT_BOOLEAN]
