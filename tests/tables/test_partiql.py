"""The PartiQL parser and its translation into DynamoDB expressions, without a database."""

from __future__ import annotations

import pytest

from tables import partiql
from tables.errors import TableValidation
from tables.partiql import Between, Call, Compare, Delete, In, Insert, Is, Literal, Logical, Not, Path, Select, Update


def test_select_with_columns_index_where_and_order() -> None:
    statement = partiql.statement_parse('SELECT a, "b c".d[2] FROM "Music"."by-year" WHERE x = 1 AND y > \'s\' ORDER BY y DESC')
    assert statement == Select("Music", "by-year", (Path(("a",)), Path(("b c", "d", 2))),
                               Logical("AND", (Compare("=", Path(("x",)), Literal({"N": "1"})), Compare(">", Path(("y",)), Literal({"S": "s"})))),
                               (Path(("y",)), False))
    assert partiql.statement_target(statement) == ("Music", "by-year")
    star = partiql.statement_parse("select * from t")
    assert isinstance(star, Select) and star.columns is None and star.where is None and star.action == "PartiQLSelect"


def test_literals_escapes_sets_and_parameters() -> None:
    statement = partiql.statement_parse(
        "INSERT INTO t VALUE {'it''s': 'O''Hara', \"q\": -1.5e3, 'b': TRUE, 'n': NULL, 'l': [1, 'x', [ ]], 'm': {}, 'ss': <<'a', 'b'>>, "
        "'ns': <<1, 2>>, 'p': ?}", [{"B": "AAE="}])
    assert isinstance(statement, Insert) and statement.action == "PartiQLInsert"
    assert statement.item == {"it's": {"S": "O'Hara"}, "q": {"N": "-1.5e3"}, "b": {"BOOL": True}, "n": {"NULL": True},
                              "l": {"L": [{"N": "1"}, {"S": "x"}, {"L": []}]}, "m": {"M": {}}, "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]},
                              "p": {"B": "AAE="}}
    with pytest.raises(TableValidation, match="members must all be strings, all numbers or all binary"):
        partiql.statement_parse("INSERT INTO t VALUE {'s': <<'a', 1>>}")
    with pytest.raises(TableValidation, match="Duplicate attribute name 'a'"):
        partiql.statement_parse("INSERT INTO t VALUE {'a': 1, 'a': 2}")
    with pytest.raises(TableValidation, match="don't match"):
        partiql.statement_parse("SELECT * FROM t WHERE a = ?")
    with pytest.raises(TableValidation, match="don't match"):
        partiql.statement_parse("SELECT * FROM t", [{"S": "x"}])
    with pytest.raises(TableValidation, match="exactly one of the supported datatypes"):
        partiql.statement_parse("SELECT * FROM t WHERE a = ?", [{"S": "x", "N": "1"}])


def test_conditions_parse_with_precedence() -> None:
    statement = partiql.statement_parse(
        "SELECT * FROM t WHERE NOT a = 1 OR b BETWEEN 1 AND 2 AND c NOT IN [1, 2] AND d IS NOT MISSING AND begins_with(e, 'x') AND size(f) >= 3 AND g != 1")
    assert isinstance(statement, Select)
    assert statement.where == Logical("OR", (
        Not(Compare("=", Path(("a",)), Literal({"N": "1"}))),
        Logical("AND", (Between(Path(("b",)), Literal({"N": "1"}), Literal({"N": "2"})),
                        Not(In(Path(("c",)), (Literal({"N": "1"}), Literal({"N": "2"})))),
                        Is(Path(("d",)), "MISSING", True),
                        Call("begins_with", (Path(("e",)), Literal({"S": "x"}))),
                        Compare(">=", Call("size", (Path(("f",)),)), Literal({"N": "3"})),
                        Compare("<>", Path(("g",)), Literal({"N": "1"})))),
    ))


def test_update_and_delete_forms() -> None:
    update = partiql.statement_parse("UPDATE t SET a = a + 1, b = list_append(b, [1]) SET c = 'x' REMOVE d, e[0] WHERE k = 1 RETURNING MODIFIED NEW *")
    assert isinstance(update, Update) and update.returning == "UPDATED_NEW" and update.action == "PartiQLUpdate"
    assert [p.elements for p, _ in update.sets] == [("a",), ("b",), ("c",)] and [p.elements for p in update.removes] == [("d",), ("e", 0)]
    delete = partiql.statement_parse("DELETE FROM t WHERE k = 1 RETURNING ALL OLD *")
    assert isinstance(delete, Delete) and delete.returning == "ALL_OLD"
    with pytest.raises(TableValidation, match="RETURNING ALL NEW \\* is not supported"):
        partiql.statement_parse("DELETE FROM t WHERE k = 1 RETURNING ALL NEW *")
    with pytest.raises(TableValidation, match="Expected SET or REMOVE"):
        partiql.statement_parse("UPDATE t WHERE k = 1")
    with pytest.raises(TableValidation, match="Expected WHERE"):
        partiql.statement_parse("DELETE FROM t")


def test_exists_only_in_a_transaction() -> None:
    assert isinstance(partiql.statement_parse("EXISTS(SELECT * FROM t WHERE k = 1)", in_transaction=True), partiql.Exists)
    with pytest.raises(TableValidation, match="Expected SELECT, INSERT, UPDATE or DELETE, found 'EXISTS'"):
        partiql.statement_parse("EXISTS(SELECT * FROM t WHERE k = 1)")


def test_statement_length_edge() -> None:
    text = "SELECT * FROM t"
    partiql.statement_parse(text + " " * (partiql.MAX_STATEMENT - len(text)))
    with pytest.raises(TableValidation, match="less than or equal to 8192"):
        partiql.statement_parse(text + " " * (partiql.MAX_STATEMENT - len(text) + 1))
    with pytest.raises(TableValidation, match="must not be null"):
        partiql.statement_parse("")


def test_conditions_become_dynamodb_expressions() -> None:
    statement = partiql.statement_parse("SELECT * FROM t WHERE a.b[1] = 'x' AND (c IS NULL OR NOT d IN (1, 2)) AND e IS MISSING")
    assert isinstance(statement, Select)
    e = partiql._Expressions()
    text = e.condition(statement.where)
    assert text == ("#n0.#n1[1] = :v0 AND ((attribute_not_exists(#n2) OR attribute_type(#n2, :v1)) OR NOT (#n3 IN (:v2, :v3))) "
                    "AND attribute_not_exists(#n4)")
    assert e.names == {"#n0": "a", "#n1": "b", "#n2": "c", "#n3": "d", "#n4": "e"}
    assert e.values == {":v0": {"S": "x"}, ":v1": {"S": "NULL"}, ":v2": {"N": "1"}, ":v3": {"N": "2"}}
    condition = e.context().filter(text)  # the table service's own parser takes it
    assert condition.evaluate({"a": {"M": {"b": {"L": [{"S": "y"}, {"S": "x"}]}}}, "d": {"N": "3"}})
    assert not condition.evaluate({"a": {"M": {"b": {"L": [{"S": "y"}, {"S": "x"}]}}}, "c": {"S": "set"}, "d": {"N": "1"}})


def test_key_terms_of_a_where() -> None:
    statement = partiql.statement_parse("SELECT * FROM t WHERE (k = 1 AND 'v' = s) AND x = 2 OR y = 3")
    assert isinstance(statement, Select) and partiql._conjuncts(statement.where) == [statement.where]  # an OR names no key
    anded = partiql.statement_parse("SELECT * FROM t WHERE (k = 1 AND 'v' = s) AND x.y = 2")
    assert isinstance(anded, Select)
    terms = partiql._conjuncts(anded.where)
    assert [partiql._equality(t) for t in terms] == [("k", {"N": "1"}), ("s", {"S": "v"}), None]  # a nested path is not a key
    assert partiql._sort_term(Compare("<", Path(("s",)), Literal({"S": "a"})), "s")
    assert not partiql._sort_term(Compare("<", Literal({"S": "a"}), Path(("s",))), "s")
    assert not partiql._sort_term(Compare("<>", Path(("s",)), Literal({"S": "a"})), "s")


def test_unexpected_characters_and_trailing_words() -> None:
    with pytest.raises(TableValidation, match="Unexpected character ';' at position 16"):
        partiql.statement_parse("SELECT * FROM t;")
    with pytest.raises(TableValidation, match="Expected the end of the statement, found 'x' at position 17"):
        partiql.statement_parse("SELECT * FROM t x")
    with pytest.raises(TableValidation, match="A list index must be a whole number"):
        partiql.statement_parse("SELECT a[1.5] FROM t")


def test_nesting_is_bounded_at_its_edge() -> None:
    """Deep parentheses, NOTs or lists would run Python out of stack (a 500): refused past 32 levels."""
    deepest = "SELECT * FROM t WHERE " + "NOT " * 32 + "a = 1"
    statement = partiql.statement_parse(deepest)
    e = partiql._Expressions()
    assert isinstance(statement, Select)
    text = e.condition(statement.where)
    assert e.context().filter(text).evaluate({"a": {"N": "1"}})  # 32 NOTs: true when a = 1
    with pytest.raises(TableValidation, match="more than 32 levels deep"):
        partiql.statement_parse("SELECT * FROM t WHERE " + "NOT " * 33 + "a = 1")
    partiql.statement_parse("SELECT * FROM t WHERE " + "(" * 32 + "a = 1" + ")" * 32)
    with pytest.raises(TableValidation, match="more than 32 levels deep"):
        partiql.statement_parse("SELECT * FROM t WHERE " + "(" * 33 + "a = 1" + ")" * 33)
    with pytest.raises(TableValidation, match="more than 32 levels deep"):
        partiql.statement_parse("SELECT * FROM t WHERE " + "(" * 4000 + "a = 1" + ")" * 4000)
    assert partiql.statement_parse("INSERT INTO t VALUE {'a': " + "[" * 31 + "1" + "]" * 31 + "}")  # the tuple and 31 lists
    with pytest.raises(TableValidation, match="more than 32 levels deep"):
        partiql.statement_parse("INSERT INTO t VALUE {'a': " + "[" * 32 + "1" + "]" * 32 + "}")
    with pytest.raises(TableValidation, match="more than 32 levels deep"):
        partiql.statement_parse("INSERT INTO t VALUE {'a': " + "[" * 2000 + "1" + "]" * 2000 + "}")


def test_generated_statements_parse_or_are_refused_with_a_validation_error() -> None:
    """5,000 statements made of DynamoDB PartiQL's own words in random order: each parses (and its WHERE compiles
    through the table service's expression parser) or is refused with ``TableValidation``, never another error."""
    import random

    words = ["SELECT", "INSERT", "INTO", "VALUE", "UPDATE", "SET", "REMOVE", "DELETE", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "IS", "MISSING",
             "NULL", "TRUE", "BETWEEN", "ORDER", "BY", "DESC", "RETURNING", "ALL", "OLD", "NEW", "MODIFIED", "EXISTS", "*", "=", "<>", "<", ">=",
             "(", ")", "[", "]", "{", "}", "<<", ">>", ",", ".", ":", "?", "+", "-", "t", '"T"', "a", "b", "'s'", "''", "1", "2.5", "-3", "size",
             "begins_with", "contains", "attribute_type", "list_append", "set_add", "if_not_exists", ";", "'", '"']
    chance = random.Random(15)
    starts = ["SELECT * FROM t WHERE", "UPDATE t SET a =", "DELETE FROM t WHERE a =", "INSERT INTO t VALUE {", "SELECT a FROM t WHERE NOT"]
    outcomes = {"parsed": 0, "refused": 0}
    for _ in range(5000):
        text = " ".join([chance.choice(starts), *(chance.choice(words) for _ in range(chance.randint(0, 12)))])
        parameters = [{"S": "p"}] * text.count("?") or None
        try:
            statement = partiql.statement_parse(text, parameters, in_transaction=chance.random() < 0.5)
            where = getattr(statement, "where", None)
            if where is not None:
                e = partiql._Expressions()
                condition = e.condition(where)
                e.context().filter(condition)
            outcomes["parsed"] += 1
        except TableValidation:
            outcomes["refused"] += 1
    assert outcomes["parsed"] > 50 and outcomes["refused"] > 1000  # both kinds were exercised


def test_request_limits_at_their_edges() -> None:
    """What botocore refuses before sending (so a boto3 test cannot reach it), refused by the service as DynamoDB does."""
    select = partiql.statement_parse("SELECT * FROM t")
    with pytest.raises(TableValidation, match="Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"):
        partiql.statement_run({"Statement": "SELECT * FROM t", "Limit": 0}, select)
    with pytest.raises(TableValidation, match="at 'limit'"):
        partiql.statement_run({"Statement": "SELECT * FROM t", "Limit": True}, select)
    delete = partiql.statement_parse("DELETE FROM t WHERE k = 1")
    with pytest.raises(TableValidation, match="NextToken is only for a SELECT statement"):
        partiql.statement_run({"Statement": "DELETE FROM t WHERE k = 1", "NextToken": "x"}, delete)
    with pytest.raises(TableValidation, match="at 'parameters' failed to satisfy constraint: Member must have length greater than or equal to 1"):
        partiql.statement_parse("SELECT * FROM t", [])

    def never(statement: object) -> None:
        raise AssertionError("no statement of a refused request is authorized")

    for request, run, member in (({"Statements": []}, partiql.statements_batch, "statements"),
                                 ({"TransactStatements": []}, partiql.statements_transact, "transactStatements")):
        with pytest.raises(TableValidation, match=f"Value at '{member}' failed to satisfy constraint: Member must have length greater than or equal to 1"):
            run(request, never)
    with pytest.raises(TableValidation, match="less than or equal to 25"):
        partiql.statements_batch({"Statements": [{"Statement": "SELECT * FROM t WHERE k = 1"}] * 26}, never)
    with pytest.raises(TableValidation, match="less than or equal to 100"):
        partiql.statements_transact({"TransactStatements": [{"Statement": "DELETE FROM t WHERE k = 1"}] * 101}, never)
