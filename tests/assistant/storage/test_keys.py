import pytest

from assistant.storage import Database
from assistant.storage.keys import Role, hash_key
from assistant.storage.tables import ApiKeyRow
from core.errors import ConflictError, NotFoundError


def test_a_key_authenticates_until_it_is_revoked(any_database: Database) -> None:
    keys = any_database.keys
    issued = keys.create("alice", Role.AGENT)
    assert issued.secret.startswith("tth_")
    found = keys.authenticate(issued.secret)
    assert found is not None
    assert (found.name, found.role) == ("alice", Role.AGENT)
    assert keys.authenticate(issued.secret + "x") is None
    keys.revoke(issued.key.id)
    assert keys.authenticate(issued.secret) is None
    assert keys.all() == []
    assert [k.name for k in keys.all(include_revoked=True)] == ["alice"]


def test_only_the_hash_of_a_key_is_stored(database: Database) -> None:
    issued = database.keys.create("bob", Role.ADMIN)
    with database.session() as session:
        stored = [(r.key_hash, r.prefix) for r in session.query(ApiKeyRow)]
    assert stored == [(hash_key(issued.secret), issued.secret[:10])]
    assert issued.secret not in str(stored)


def test_revoking_by_name_revokes_every_key_of_that_name(database: Database) -> None:
    first = database.keys.create("carol", Role.AGENT)
    second = database.keys.create("carol", Role.AGENT)
    assert len(database.keys.revoke("carol")) == 2
    assert database.keys.authenticate(first.secret) is None
    assert database.keys.authenticate(second.secret) is None
    with pytest.raises(NotFoundError):
        database.keys.revoke("carol")


def test_a_name_keeps_one_role(database: Database) -> None:
    database.keys.create("dave", Role.CUSTOMER)
    with pytest.raises(ConflictError, match="one name, one role"):
        database.keys.create("dave", Role.ADMIN)
    with pytest.raises(ValueError, match="needs a name"):
        database.keys.create("  ", Role.AGENT)
