"""PartiQL over the AWS endpoint with real boto3 clients: ExecuteStatement (SELECT as Query or Scan, INSERT,
UPDATE, DELETE, parameters, pagination, ORDER BY, indexes), BatchExecuteStatement, ExecuteTransaction, their
errors and limits, and IAM's PartiQL actions."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ddb(root: Callable[[str], Any]) -> Any:
    client = root("dynamodb")
    client.create_table(TableName="Music", KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"}, {"AttributeName": "Song", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"}, {"AttributeName": "Song", "AttributeType": "S"},
                                              {"AttributeName": "Year", "AttributeType": "N"}],
                        GlobalSecondaryIndexes=[{"IndexName": "by-year", "KeySchema": [{"AttributeName": "Year", "KeyType": "HASH"}],
                                                 "Projection": {"ProjectionType": "ALL"}}],
                        BillingMode="PAY_PER_REQUEST")
    return client


def _code(info: Any) -> tuple[str, str]:
    error = info.value.response["Error"]
    return error["Code"], error["Message"]


def _run(ddb: Any, statement: str, *parameters: Any, **extra: Any) -> dict[str, Any]:
    if parameters:
        extra["Parameters"] = list(parameters)
    return ddb.execute_statement(Statement=statement, **extra)


def _fill(ddb: Any) -> None:
    for artist, song, year in (("Acme", "A", 2001), ("Acme", "B", 2002), ("Acme", "C", 2003), ("Bell", "X", 2002), ("Bell", "Y", 1999)):
        _run(ddb, "INSERT INTO Music VALUE {'Artist': ?, 'Song': ?, 'Year': ?, 'Tags': <<'rock', 'live'>>, 'Info': {'plays': 1, 'charts': [1, 2]}}",
             {"S": artist}, {"S": song}, {"N": str(year)})


def test_insert_then_select_by_key_and_by_scan(ddb: Any) -> None:
    assert _run(ddb, "INSERT INTO \"Music\" VALUE {'Artist': 'Acme Band', 'Song': 'PartiQL Rocks', 'Year': 2020, 'Live': TRUE, 'Notes': NULL}")["Items"] == []
    got = _run(ddb, "SELECT * FROM \"Music\" WHERE \"Artist\" = 'Acme Band' AND Song = 'PartiQL Rocks'")["Items"]
    assert got == [{"Artist": {"S": "Acme Band"}, "Song": {"S": "PartiQL Rocks"}, "Year": {"N": "2020"}, "Live": {"BOOL": True}, "Notes": {"NULL": True}}]
    # the item is the same one the item API sees
    assert ddb.get_item(TableName="Music", Key={"Artist": {"S": "Acme Band"}, "Song": {"S": "PartiQL Rocks"}})["Item"] == got[0]
    _fill(ddb)
    # a partition-key equality is a Query: the partition's items in sort-key order
    acme = _run(ddb, "SELECT Song, Info.plays FROM Music WHERE Artist = ?", {"S": "Acme"})["Items"]
    assert acme == [{"Song": {"S": s}, "Info": {"M": {"plays": {"N": "1"}}}} for s in "ABC"]
    # ORDER BY the sort key, descending
    assert [i["Song"]["S"] for i in _run(ddb, "SELECT * FROM Music WHERE Artist = 'Acme' ORDER BY Song DESC")["Items"]] == ["C", "B", "A"]
    # a sort-key term and a filter on another attribute
    rows = _run(ddb, "SELECT Song FROM Music WHERE Artist = 'Acme' AND Song > 'A' AND \"Year\" <= 2002")["Items"]
    assert rows == [{"Song": {"S": "B"}}]
    # anything else is a Scan, filtered by the whole WHERE
    found = _run(ddb, "SELECT Artist, Song FROM Music WHERE \"Year\" BETWEEN 2000 AND 2002 AND contains(Tags, 'rock') AND Info.charts[1] = 2")["Items"]
    assert sorted((i["Artist"]["S"], i["Song"]["S"]) for i in found) == [("Acme", "A"), ("Acme", "B"), ("Bell", "X")]
    # IN on the partition key: one Query per value
    both = _run(ddb, "SELECT Song FROM Music WHERE Artist IN ['Bell', 'Acme'] AND begins_with(Song, 'X') OR Artist IN ['nobody']")["Items"]
    assert both == [] or all(i["Song"]["S"] == "X" for i in both)
    keyed = _run(ddb, "SELECT Song FROM Music WHERE Artist IN ('Bell', 'Acme') AND Song IN ['X', 'C']")["Items"]
    assert keyed == [{"Song": {"S": "X"}}, {"Song": {"S": "C"}}]
    # an OR whose sides each name a partition reads those partitions, each once (as DynamoDB does: no full scan)
    either = _run(ddb, "SELECT Song FROM Music WHERE Artist = 'Bell' OR Artist = 'Acme' AND Song = 'A' OR Artist IN ['Bell']")["Items"]
    assert either == [{"Song": {"S": "X"}}, {"Song": {"S": "Y"}}, {"Song": {"S": "A"}}]
    assert len(_run(ddb, "SELECT Song FROM Music WHERE Artist IN ['Bell', 'Bell']")["Items"]) == 2
    # MISSING, NULL, NOT, OR, size(), attribute_type()
    assert [i["Song"]["S"] for i in _run(ddb, "SELECT Song FROM Music WHERE Notes IS NOT MISSING")["Items"]] == ["PartiQL Rocks"]
    assert len(_run(ddb, "SELECT * FROM Music WHERE Notes IS MISSING AND size(Tags) = 2 AND attribute_type(Info, 'M')")["Items"]) == 5
    assert [i["Song"]["S"] for i in _run(ddb, "SELECT Song FROM Music WHERE Artist = 'Bell' AND NOT (\"Year\" > 2000 OR Song = 'Z')")["Items"]] == ["Y"]
    assert [i["Song"]["S"] for i in _run(ddb, "SELECT Song FROM Music WHERE Artist = 'Bell' AND \"Year\" <> 1999")["Items"]] == ["X"]
    assert [i["Song"]["S"] for i in _run(ddb, "SELECT Song FROM Music WHERE Live = TRUE AND Notes IS NULL AND Notes = NULL")["Items"]] == ["PartiQL Rocks"]
    assert len(_run(ddb, "SELECT Song FROM Music WHERE Notes IS NULL")["Items"]) == 6  # MISSING IS NULL too, as PartiQL has it
    assert len(_run(ddb, "SELECT Song FROM Music WHERE Notes IS NOT NULL")["Items"]) == 0
    # a SELECT of a global index reads the index
    by_year = _run(ddb, 'SELECT Artist, Song FROM "Music"."by-year" WHERE "Year" = 2002')["Items"]
    assert sorted((i["Artist"]["S"], i["Song"]["S"]) for i in by_year) == [("Acme", "B"), ("Bell", "X")]


def test_pagination_with_limit_and_next_token(ddb: Any) -> None:
    _fill(ddb)
    page = _run(ddb, "SELECT Song FROM Music WHERE Artist = 'Acme'", Limit=2)
    assert page["Items"] == [{"Song": {"S": "A"}}, {"Song": {"S": "B"}}] and "NextToken" in page
    assert page["LastEvaluatedKey"] == {"Artist": {"S": "Acme"}, "Song": {"S": "B"}}
    rest = _run(ddb, "SELECT Song FROM Music WHERE Artist = 'Acme'", Limit=2, NextToken=page["NextToken"])
    assert rest["Items"] == [{"Song": {"S": "C"}}]
    # Limit counts the items read, not those the WHERE keeps: a page may be empty and still go on
    filtered = _run(ddb, "SELECT Song FROM Music WHERE Artist = 'Acme' AND \"Year\" = 2003", Limit=1)
    assert filtered["Items"] == [] and "NextToken" in filtered
    songs = []
    token = None
    while True:
        answer = _run(ddb, "SELECT Song FROM Music WHERE \"Year\" > 2000", Limit=2, **({"NextToken": token} if token else {}))
        songs += [i["Song"]["S"] for i in answer["Items"]]
        token = answer.get("NextToken")
        if token is None:
            break
    assert sorted(songs) == ["A", "B", "C", "X"]
    # IN over partitions pages across them
    pages = []
    token = None
    while True:
        answer = _run(ddb, "SELECT Song FROM Music WHERE Artist IN ['Bell', 'Acme']", Limit=2, **({"NextToken": token} if token else {}))
        pages.append([i["Song"]["S"] for i in answer["Items"]])
        token = answer.get("NextToken")
        if token is None:
            break
    assert [s for p in pages for s in p] == ["X", "Y", "A", "B", "C"]
    # a token from another statement, or a made-up one
    with pytest.raises(ClientError) as info:
        _run(ddb, "SELECT Song FROM Music WHERE Artist = 'Bell'", NextToken=page["NextToken"])
    assert _code(info)[0] == "ValidationException" and "another statement" in _code(info)[1]
    with pytest.raises(ClientError) as info:
        _run(ddb, "SELECT Song FROM Music", NextToken="not-a-token")
    assert _code(info) == ("ValidationException", "Invalid NextToken: pass back the NextToken of the previous answer unchanged")


def test_update_and_delete_one_item(ddb: Any) -> None:
    _fill(ddb)
    out = _run(ddb, "UPDATE Music SET Info.plays = Info.plays + 1 SET Award = 'Grammy', Tags = set_add(Tags, <<'pop'>>) REMOVE Info.charts "
                    "WHERE Artist = 'Acme' AND Song = 'A' RETURNING ALL NEW *")
    item = out["Items"][0]
    assert item["Info"] == {"M": {"plays": {"N": "2"}}} and item["Award"] == {"S": "Grammy"}
    assert sorted(item["Tags"]["SS"]) == ["live", "pop", "rock"]
    modified = _run(ddb, "UPDATE Music SET Tags = set_delete(Tags, <<'live'>>), Hits = list_append([0], [1]) WHERE Artist = 'Acme' AND Song = 'A' "
                         "RETURNING MODIFIED OLD *")["Items"]
    assert modified == [{"Tags": {"SS": ["live", "pop", "rock"]}}]
    assert _run(ddb, "UPDATE Music SET Award = 'none' WHERE Artist = 'Acme' AND Song = 'B'")["Items"] == []
    # UPDATE changes an item that is there, and meets the other terms of its WHERE
    with pytest.raises(ClientError) as info:
        _run(ddb, "UPDATE Music SET Award = 'x' WHERE Artist = 'Acme' AND Song = 'nope'")
    assert _code(info) == ("ConditionalCheckFailedException", "The conditional request failed")
    assert ddb.get_item(TableName="Music", Key={"Artist": {"S": "Acme"}, "Song": {"S": "nope"}}).get("Item") is None  # nothing created
    with pytest.raises(ClientError) as info:
        _run(ddb, "UPDATE Music SET Award = 'x' WHERE Artist = 'Acme' AND Song = 'B' AND \"Year\" = 1900", ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert _code(info)[0] == "ConditionalCheckFailedException" and info.value.response["Item"]["Award"] == {"S": "none"}
    # every key attribute needs an equality
    for statement in ("UPDATE Music SET Award = 'x' WHERE Artist = 'Acme'", "DELETE FROM Music WHERE Artist = 'Acme' AND Song > 'A'",
                      "UPDATE Music SET Award = 'x' WHERE Artist = 'Acme' OR Song = 'A'"):
        with pytest.raises(ClientError) as info:
            _run(ddb, statement)
        assert _code(info) == ("ValidationException", "Where clause does not contain a mandatory equality on all key attributes")
    # a key attribute can not be set
    with pytest.raises(ClientError) as info:
        _run(ddb, "UPDATE Music SET Song = 'Z' WHERE Artist = 'Acme' AND Song = 'B'")
    assert _code(info)[0] == "ValidationException" and "part of the key" in _code(info)[1]
    # DELETE: an absent item is no error; a present one must meet the other terms
    assert _run(ddb, "DELETE FROM Music WHERE Artist = 'Acme' AND Song = 'nope' AND \"Year\" = 1")["Items"] == []
    with pytest.raises(ClientError) as info:
        _run(ddb, "DELETE FROM Music WHERE Artist = 'Acme' AND Song = 'C' AND \"Year\" = 1")
    assert _code(info)[0] == "ConditionalCheckFailedException"
    gone = _run(ddb, "DELETE FROM Music WHERE Artist = 'Acme' AND Song = 'C' AND \"Year\" = 2003 RETURNING ALL OLD *")["Items"]
    assert gone[0]["Song"] == {"S": "C"} and gone[0]["Year"] == {"N": "2003"}
    assert [i["Song"]["S"] for i in _run(ddb, "SELECT Song FROM Music WHERE Artist = 'Acme'")["Items"]] == ["A", "B"]


def test_insert_of_a_present_key_and_bad_items(ddb: Any) -> None:
    _run(ddb, "INSERT INTO Music VALUE {'Artist': 'A', 'Song': 'S', 'n': 1}")
    with pytest.raises(ClientError) as info:
        _run(ddb, "INSERT INTO Music VALUE {'Artist': 'A', 'Song': 'S', 'n': 2}")
    assert _code(info) == ("DuplicateItemException", "Duplicate primary key exists in table")
    assert info.value.__class__.__name__ == "DuplicateItemException"  # botocore knows the code from the model
    assert _run(ddb, "SELECT n FROM Music WHERE Artist = 'A' AND Song = 'S'")["Items"] == [{"n": {"N": "1"}}]  # unchanged
    with pytest.raises(ClientError) as info:
        _run(ddb, "INSERT INTO Music VALUE {'Artist': 'A'}")
    assert _code(info) == ("ValidationException", "One or more parameter values were invalid: Missing the key Song in the item")
    with pytest.raises(ClientError) as info:
        _run(ddb, "INSERT INTO Music VALUE {'Artist': 'A', 'Song': 'T', 'n': 1e200}")
    assert _code(info)[0] == "ValidationException" and "Number overflow" in _code(info)[1]
    with pytest.raises(ClientError) as info:
        _run(ddb, "INSERT INTO Nowhere VALUE {'Artist': 'A', 'Song': 'T'}")
    assert _code(info) == ("ResourceNotFoundException", "Requested resource not found")


def test_malformed_statements_and_parameters(ddb: Any) -> None:
    cases = {
        "SELEC * FROM Music": "Statement wasn't well formed, can't be processed: Expected SELECT, INSERT, UPDATE or DELETE, found 'SELEC' at position 1",
        "SELECT * FROM Music WHERE": "Statement wasn't well formed, can't be processed: Expected an attribute or a value, found end of statement at position 26",
        "SELECT * FROM Music WHERE Artist = 'x": "Statement wasn't well formed, can't be processed: Unexpected character ''' at position 36",
        "INSERT INTO Music VALUE 'x'": "Statement wasn't well formed, can't be processed: The item to insert must be a tuple: {'attribute': value, ...}",
        "SELECT * FROM Music LIMIT 1": "Statement wasn't well formed, can't be processed: Expected the end of the statement, found 'LIMIT' at position 21",
    }
    for statement, message in cases.items():
        with pytest.raises(ClientError) as info:
            _run(ddb, statement)
        assert _code(info) == ("ValidationException", message), statement
    with pytest.raises(ClientError) as info:
        _run(ddb, "SELECT * FROM Music WHERE Artist = ? AND Song = ?", {"S": "a"})
    assert _code(info) == ("ValidationException", "Number of parameters in request and statement don't match.")
    with pytest.raises(ClientError) as info:
        _run(ddb, "SELECT * FROM Music WHERE Artist = ?", {"S": "a"}, {"S": "b"})
    assert _code(info) == ("ValidationException", "Number of parameters in request and statement don't match.")
    with pytest.raises(ClientError) as info:
        _run(ddb, "SELECT * FROM Music ORDER BY Song")
    assert _code(info) == ("ValidationException", "Must have at least one non-optional hash key condition in WHERE clause when using ORDER BY clause.")
    with pytest.raises(ClientError) as info:  # nested past 32 levels: a clear refusal, never a server error
        _run(ddb, "SELECT * FROM Music WHERE " + "(" * 4000 + "Artist = 'a'" + ")" * 4000)
    assert _code(info)[0] == "ValidationException" and "more than 32 levels deep" in _code(info)[1]
    # the statement's length: 8192 characters at most
    padding = " " * (8192 - len("SELECT * FROM Music"))
    assert _run(ddb, "SELECT * FROM Music" + padding)["Items"] == []
    with pytest.raises(ClientError) as info:
        _run(ddb, "SELECT * FROM Music" + padding + " ")
    assert _code(info)[0] == "ValidationException" and "less than or equal to 8192" in _code(info)[1]


def test_batch_execute_statement(ddb: Any) -> None:
    statements = [{"Statement": "INSERT INTO Music VALUE {'Artist': ?, 'Song': 'S'}", "Parameters": [{"S": str(i)}]} for i in range(24)]
    statements.append({"Statement": "INSERT INTO Music VALUE {'Artist': '0', 'Song': 'S'}"})  # a duplicate: its own error, the rest stand
    answer = ddb.batch_execute_statement(Statements=statements)["Responses"]
    assert answer[:24] == [{"TableName": "Music"}] * 24
    assert answer[24] == {"TableName": "Music", "Error": {"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"}}
    reads = ddb.batch_execute_statement(Statements=[
        {"Statement": "SELECT Artist FROM Music WHERE Artist = '3' AND Song = 'S'"},
        {"Statement": "SELECT * FROM Music WHERE Artist = 'none' AND Song = 'S'", "ConsistentRead": True},
        {"Statement": "SELECT * FROM Music WHERE Artist = '3'"},
        {"Statement": "SELECT * FROM Music WHERE"},
    ])["Responses"]
    assert reads[0] == {"TableName": "Music", "Item": {"Artist": {"S": "3"}}}
    assert reads[1] == {"TableName": "Music"}
    assert reads[2] == {"TableName": "Music", "Error": {"Code": "ValidationError", "Message": "Where clause does not contain a mandatory equality on all key attributes"}}
    assert reads[3]["Error"]["Code"] == "ValidationError" and "well formed" in reads[3]["Error"]["Message"]
    with pytest.raises(ClientError) as info:  # 25 at most
        ddb.batch_execute_statement(Statements=statements + statements[:1])
    assert _code(info) == ("ValidationException", "1 validation error detected: Value at 'statements' failed to satisfy constraint: Member must have length less than or equal to 25")
    with pytest.raises(ClientError) as info:
        ddb.batch_execute_statement(Statements=[statements[0], {"Statement": "SELECT * FROM Music WHERE Artist = '1' AND Song = 'S'"}])
    assert _code(info)[0] == "ValidationException" and "mixed" in _code(info)[1]


def test_execute_transaction(ddb: Any) -> None:
    _fill(ddb)
    ddb.execute_transaction(TransactStatements=[
        {"Statement": "INSERT INTO Music VALUE {'Artist': 'New', 'Song': 'One'}"},
        {"Statement": "UPDATE Music SET Award = 'yes' WHERE Artist = ? AND Song = ?", "Parameters": [{"S": "Acme"}, {"S": "A"}]},
        {"Statement": "DELETE FROM Music WHERE Artist = 'Bell' AND Song = 'Y'"},
        {"Statement": "EXISTS(SELECT * FROM Music WHERE Artist = 'Acme' AND Song = 'B' AND \"Year\" = 2002)"},
    ])
    reads = ddb.execute_transaction(TransactStatements=[
        {"Statement": "SELECT Song FROM Music WHERE Artist = 'New' AND Song = 'One'"},
        {"Statement": "SELECT Award FROM Music WHERE Artist = 'Acme' AND Song = 'A'"},
        {"Statement": "SELECT * FROM Music WHERE Artist = 'Bell' AND Song = 'Y'"},
    ])["Responses"]
    assert reads == [{"Item": {"Song": {"S": "One"}}}, {"Item": {"Award": {"S": "yes"}}}, {}]
    # all or nothing: a failed check and a duplicate insert cancel every statement, with a reason for each
    with pytest.raises(ClientError) as info:
        ddb.execute_transaction(TransactStatements=[
            {"Statement": "UPDATE Music SET Award = 'no' WHERE Artist = 'Acme' AND Song = 'A'"},
            {"Statement": "INSERT INTO Music VALUE {'Artist': 'New', 'Song': 'One'}"},
            {"Statement": "EXISTS(SELECT * FROM Music WHERE Artist = 'Acme' AND Song = 'B' AND \"Year\" = 1)"},
        ])
    assert _code(info) == ("TransactionCanceledException",
                           "Transaction cancelled, please refer cancellation reasons for specific reasons [None, DuplicateItem, ConditionalCheckFailed]")
    reasons = info.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "DuplicateItem", "ConditionalCheckFailed"]
    assert reasons[1]["Message"] == "Duplicate primary key exists in table"
    assert _run(ddb, "SELECT Award FROM Music WHERE Artist = 'Acme' AND Song = 'A'")["Items"] == [{"Award": {"S": "yes"}}]  # unchanged
    with pytest.raises(ClientError) as info:
        ddb.execute_transaction(TransactStatements=[{"Statement": "SELECT * FROM Music WHERE Artist = 'Acme' AND Song = 'A'"},
                                                    {"Statement": "DELETE FROM Music WHERE Artist = 'Acme' AND Song = 'A'"}])
    assert _code(info)[0] == "ValidationException" and "mixed" in _code(info)[1]
    with pytest.raises(ClientError) as info:
        ddb.execute_transaction(TransactStatements=[{"Statement": f"INSERT INTO Music VALUE {{'Artist': 'T', 'Song': '{i}'}}"} for i in range(101)])
    assert _code(info)[0] == "ValidationException" and "less than or equal to 100" in _code(info)[1]
    ddb.execute_transaction(TransactStatements=[{"Statement": f"INSERT INTO Music VALUE {{'Artist': 'T', 'Song': '{i}'}}"} for i in range(100)])
    assert len(_run(ddb, "SELECT Song FROM Music WHERE Artist = 'T'")["Items"]) == 100
    # EXISTS is a transaction's check, not a statement of its own
    with pytest.raises(ClientError) as info:
        _run(ddb, "EXISTS(SELECT * FROM Music WHERE Artist = 'T' AND Song = '1')")
    assert _code(info)[0] == "ValidationException"


def test_iam_partiql_actions(ddb: Any, root: Callable[[str], Any], make_client: Callable[..., Any]) -> None:
    iam = root("iam")
    iam.create_user(UserName="reader")
    arn = "arn:aws:dynamodb:us-east-1:000000000000:table/Music"
    iam.put_user_policy(UserName="reader", PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["dynamodb:PartiQLSelect", "dynamodb:PartiQLInsert"], "Resource": arn}]}))
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    reader = make_client("dynamodb", (key["AccessKeyId"], key["SecretAccessKey"]))
    reader.execute_statement(Statement="INSERT INTO Music VALUE {'Artist': 'a', 'Song': 'b'}")
    assert reader.execute_statement(Statement="SELECT * FROM Music")["Items"] == [{"Artist": {"S": "a"}, "Song": {"S": "b"}}]
    with pytest.raises(ClientError) as info:
        reader.execute_statement(Statement="DELETE FROM Music WHERE Artist = 'a' AND Song = 'b'")
    assert _code(info) == ("AccessDeniedException", "User: arn:aws:iam::000000000000:user/reader is not authorized to perform: dynamodb:PartiQLDelete on "
                           f"resource: {arn} because no identity-based policy allows the dynamodb:PartiQLDelete action")
    with pytest.raises(ClientError) as info:  # an index is its own resource
        reader.execute_statement(Statement='SELECT * FROM "Music"."by-year"')
    assert _code(info)[0] == "AccessDeniedException" and f"{arn}/index/by-year" in _code(info)[1]
    # dynamodb:FullTableScan: a SELECT that reads every partition says so, and a policy can refuse it
    iam.put_user_policy(UserName="reader", PolicyName="no-scans", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "dynamodb:PartiQLSelect", "Resource": arn, "Condition": {"Bool": {"dynamodb:FullTableScan": "true"}}}]}))
    assert reader.execute_statement(Statement="SELECT * FROM Music WHERE Artist = 'a' OR Artist = 'c'")["Items"] == [{"Artist": {"S": "a"}, "Song": {"S": "b"}}]
    for scan in ("SELECT * FROM Music", "SELECT * FROM Music WHERE Song = 'b'", "SELECT * FROM Music WHERE Artist = 'a' OR Song = 'b'"):
        with pytest.raises(ClientError) as info:
            reader.execute_statement(Statement=scan)
        assert _code(info)[0] == "AccessDeniedException" and "explicit deny" in _code(info)[1], scan
    with pytest.raises(ClientError) as info:  # the item API's actions are not PartiQL's
        reader.get_item(TableName="Music", Key={"Artist": {"S": "a"}, "Song": {"S": "b"}})
    assert _code(info)[0] == "AccessDeniedException"
    batch = reader.batch_execute_statement(Statements=[{"Statement": "INSERT INTO Music VALUE {'Artist': 'c', 'Song': 'd'}"},
                                                       {"Statement": "UPDATE Music SET x = 1 WHERE Artist = 'a' AND Song = 'b'"}])["Responses"]
    assert batch[0] == {"TableName": "Music"} and batch[1]["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as info:
        reader.execute_transaction(TransactStatements=[{"Statement": "INSERT INTO Music VALUE {'Artist': 'e', 'Song': 'f'}"},
                                                       {"Statement": "DELETE FROM Music WHERE Artist = 'a' AND Song = 'b'"}])
    assert _code(info)[0] == "AccessDeniedException"
    assert len(root("dynamodb").scan(TableName="Music")["Items"]) == 2  # the refused transaction wrote nothing


def test_consumed_capacity_of_statements(ddb: Any) -> None:
    """ReturnConsumedCapacity: the reads or the write a statement became, summed over the Queries of an IN."""
    _fill(ddb)
    one = _run(ddb, "SELECT * FROM Music WHERE Artist = 'Acme' AND Song = 'A'", ReturnConsumedCapacity="TOTAL")
    assert one["ConsumedCapacity"] == {"TableName": "Music", "CapacityUnits": 0.5, "ReadCapacityUnits": 0.5}
    both = _run(ddb, "SELECT * FROM Music WHERE Artist IN ['Acme', 'Bell']", ReturnConsumedCapacity="TOTAL")
    assert both["ConsumedCapacity"] == {"TableName": "Music", "CapacityUnits": 1.0, "ReadCapacityUnits": 1.0}  # two Queries of 0.5 each
    wrote = _run(ddb, "UPDATE Music SET x = 1 WHERE Artist = 'Acme' AND Song = 'A'", ReturnConsumedCapacity="TOTAL")
    assert wrote["ConsumedCapacity"]["TableName"] == "Music" and wrote["ConsumedCapacity"]["CapacityUnits"] >= 1
    assert "ConsumedCapacity" not in _run(ddb, "SELECT * FROM Music WHERE Artist = 'Acme'")
    # a batch's: one entry per table, the units of its statements added up
    batch = ddb.batch_execute_statement(ReturnConsumedCapacity="TOTAL", Statements=[
        {"Statement": "SELECT * FROM Music WHERE Artist = 'Acme' AND Song = 'A'"}, {"Statement": "SELECT * FROM Music WHERE Artist = 'Acme' AND Song = 'B'"}])
    assert batch["ConsumedCapacity"] == [{"TableName": "Music", "CapacityUnits": 1.0, "ReadCapacityUnits": 1.0}]
    writes = ddb.batch_execute_statement(ReturnConsumedCapacity="TOTAL", Statements=[
        {"Statement": "UPDATE Music SET y = 1 WHERE Artist = 'Acme' AND Song = 'A'"}, {"Statement": "DELETE FROM Music WHERE Artist = 'Bell' AND Song = 'Y'"}])
    assert [c["TableName"] for c in writes["ConsumedCapacity"]] == ["Music"] and writes["ConsumedCapacity"][0]["CapacityUnits"] >= 2


def test_statements_write_the_tables_stream(root: Callable[[str], Any]) -> None:
    """A PartiQL write is the data plane's own write: its stream records, in order, with both images."""
    ddb, streams = root("dynamodb"), root("dynamodbstreams")
    arn = ddb.create_table(TableName="Feed", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST",
                           AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                           StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})["TableDescription"]["LatestStreamArn"]
    _run(ddb, "INSERT INTO Feed VALUE {'id': 'a', 'n': 1}")
    _run(ddb, "UPDATE Feed SET n = n + 1 WHERE id = 'a'")
    ddb.execute_transaction(TransactStatements=[{"Statement": "DELETE FROM Feed WHERE id = 'a'"}, {"Statement": "INSERT INTO Feed VALUE {'id': 'b'}"}])
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [(r["eventName"], r["dynamodb"]["Keys"]["id"]["S"]) for r in records] == [("INSERT", "a"), ("MODIFY", "a"), ("REMOVE", "a"), ("INSERT", "b")]
    assert records[1]["dynamodb"]["OldImage"]["n"] == {"N": "1"} and records[1]["dynamodb"]["NewImage"]["n"] == {"N": "2"}
