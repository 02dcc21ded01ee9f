"""The console's item browser: plain JSON and DynamoDB JSON both ways (numbers exact), and the page itself through
Django's test client: create, scan, query with a sort key condition and a filter, edit, delete, and the
API's own errors shown in place."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tables import items
from tables.console import plain, wire_of
from tables.errors import TableError
from tables.services import table_create


def test_plain_and_dynamodb_json_round_trip_exactly() -> None:
    wire = wire_of('{"id": "a", "n": 0.1, "big": 12345678901234567890.123456789, "tags": ["x"], "m": {"ok": true}}', "plain")
    assert wire["n"] == {"N": "0.1"} and wire["big"] == {"N": "12345678901234567890.123456789"} and wire["m"] == {"M": {"ok": {"BOOL": True}}}
    shown = json.loads(plain(wire), parse_float=Decimal)
    assert shown["n"] == Decimal("0.1") and shown["big"] == "12345678901234567890.123456789" and shown["tags"] == ["x"]
    assert wire_of('{"id": {"S": "a"}}', "dynamodb") == {"id": {"S": "a"}}
    with pytest.raises(TableError):
        wire_of("[1]", "plain")
    with pytest.raises(TableError):
        wire_of("{not json", "dynamodb")


@pytest.fixture
def browser_table(db: None) -> tuple[Client, str]:
    table_create(name="Music", billing_mode="PAY_PER_REQUEST",
                 attribute_definitions=[{"AttributeName": "artist", "AttributeType": "S"}, {"AttributeName": "song", "AttributeType": "S"}],
                 key_schema=[{"AttributeName": "artist", "KeyType": "HASH"}, {"AttributeName": "song", "KeyType": "RANGE"}])
    client = Client()
    client.force_login(User.objects.create_user("music-admin", password="x", is_staff=True, is_superuser=True))
    from tables.models import Table

    return client, f"/console/tables/table/{Table.objects.get(name='Music').pk}/items/"


def test_create_find_edit_and_delete_items_in_the_browser(browser_table: tuple[Client, str]) -> None:
    client, url = browser_table
    for song, year in (("Blue", 1971), ("Both Sides", 1969), ("River", 1971)):
        saved = client.post(url, {"action": "put", "format": "plain", "item": json.dumps({"artist": "Joni", "song": song, "year": year})})
        assert saved.status_code == 302
    client.post(url, {"action": "put", "format": "dynamodb", "item": json.dumps({"artist": {"S": "Nina"}, "song": {"S": "Sinnerman"}})})
    assert b"4 items (4 read)" in client.get(url).content
    found = client.get(url, {"mode": "query", "hash": "Joni", "range_op": "begins_with", "range": "B", "attribute": "year", "operator": "=", "value": "1971"})
    assert b"1 item (2 read)" in found.content and b"show-dynamodb" in found.content and b"&quot;Blue&quot;" in found.content and b"River" not in found.content
    edit = client.get(url, {"mode": "query", "hash": "Joni", "edit": json.dumps({"artist": {"S": "Joni"}, "song": {"S": "Blue"}})})
    assert b"&quot;year&quot;: 1971" in edit.content.split(b'id="item-text"', 1)[1]  # the editor holds the item
    client.post(url, {"action": "put", "format": "plain", "item": json.dumps({"artist": "Joni", "song": "Blue", "year": 1971, "label": "Reprise"})})
    got = items.item_get({"TableName": "Music", "Key": {"artist": {"S": "Joni"}, "song": {"S": "Blue"}}})["Item"]
    assert got["label"] == {"S": "Reprise"} and got["year"] == {"N": "1971"}
    client.post(url, {"action": "delete", "key": json.dumps({"artist": {"S": "Joni"}, "song": {"S": "Blue"}})})
    assert "Item" not in items.item_get({"TableName": "Music", "Key": {"artist": {"S": "Joni"}, "song": {"S": "Blue"}}})
    refused = client.post(url, {"action": "put", "format": "plain", "item": json.dumps({"song": "no artist"})})
    assert refused.status_code == 200 and b"ValidationException" in refused.content and b"Missing the key artist" in refused.content
    assert b"no artist" in refused.content  # what was typed stays in the editor


def test_viewers_cannot_write(browser_table: tuple[Client, str]) -> None:
    _, url = browser_table
    from django.contrib.auth.models import Permission

    viewer = User.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_table"))
    client = Client()
    client.force_login(viewer)
    page = client.get(url)
    assert page.status_code == 200 and b"item-editor" not in page.content
    client.post(url, {"action": "put", "format": "plain", "item": json.dumps({"artist": "x", "song": "y"})})
    assert items.item_scan({"TableName": "Music"})["Count"] == 0


def test_the_table_page_shows_its_streams_recent_records_and_the_mappings_reading_it(db: None) -> None:
    from events.models import EventSourceMapping, MappingState
    from functions.services import Code, FunctionConfig, function_create
    from tables.models import Table
    from tables.selectors import stream_arn

    table_create(name="Feed", billing_mode="PAY_PER_REQUEST", attribute_definitions=[{"AttributeName": "id", "AttributeType": "S"}],
                 key_schema=[{"AttributeName": "id", "KeyType": "HASH"}], stream_specification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    items.item_put({"TableName": "Feed", "Item": {"id": {"S": "first"}}})
    items.item_delete({"TableName": "Feed", "Key": {"id": {"S": "first"}}})
    table = Table.objects.get(name="Feed")
    function = function_create(name="feed-reader", config=FunctionConfig(runtime="python3.11", handler="app.handler"),
                               code=Code(files={"app.py": "def handler(e, c):\n    return None\n"}))
    mapping = EventSourceMapping.objects.create(function=function, event_source_arn=stream_arn(table), kind="dynamodb", state=MappingState.ENABLED,
                                                starting_position="LATEST")
    client = Client()
    client.force_login(User.objects.create_user("feed-admin", password="x", is_staff=True, is_superuser=True))
    page = client.get(f"/console/tables/table/{table.pk}/change/").content.decode()
    assert page.count("class='stream-record'") == 2 and "REMOVE" in page and "INSERT" in page
    assert str(mapping.uuid) in page and "feed-reader" in page and "Enabled" in page


def test_partiql_in_the_browser(browser_table: tuple[Client, str]) -> None:
    client, url = browser_table
    for i in range(60):
        items.item_put({"TableName": "Music", "Item": {"artist": {"S": "Joni"}, "song": {"S": f"song {i:02}"}, "n": {"N": str(i)}}})
    page = client.get(url)
    assert b'SELECT * FROM &quot;Music&quot;' in page.content.split(b'id="statement"', 1)[1]  # a statement to start from
    ran = client.post(url, {"action": "statement", "statement": "SELECT song FROM Music WHERE artist = 'Joni' AND n >= 5"})
    assert ran.status_code == 302 and "mode=partiql" in ran["Location"]  # a SELECT is a search: a link, and its pages links
    first = client.get(ran["Location"])
    assert b"45 items from the statement" in first.content  # 50 read (the page), 45 kept by the WHERE
    assert b"&quot;song 05&quot;" in first.content and b"&quot;n&quot;" not in first.content
    assert b"Edit</a>" not in first.content and b'name="action" value="delete"' not in first.content  # a projection without its key
    whole = client.get(url, {"mode": "partiql", "statement": "SELECT * FROM Music WHERE artist = 'Joni' AND song = 'song 07'"})
    edit = whole.content.split(b'class="button" href="?', 1)[1].split(b'"', 1)[0].decode().replace("&amp;", "&")
    assert "mode=query" in edit  # edited as the table holds it, found by its key
    assert b"&quot;n&quot;: 7" in client.get(f"{url}?{edit}").content.split(b'id="item-text"', 1)[1]
    more = first.content.split(b'id="next-page" href="?', 1)[1].split(b'"', 1)[0].decode().replace("&amp;", "&")
    second = client.get(f"{url}?{more}")
    assert b"10 items from the statement" in second.content and b"song 59" in second.content and b"next-page" not in second.content
    wrote = client.post(url, {"action": "statement", "statement": "UPDATE Music SET label = 'Reprise' WHERE artist = 'Joni' AND song = 'song 01' RETURNING MODIFIED NEW *"}, follow=True)
    assert b"Statement ran. It returned: [{&quot;label&quot;: {&quot;S&quot;: &quot;Reprise&quot;}}]" in wrote.content
    assert items.item_get({"TableName": "Music", "Key": {"artist": {"S": "Joni"}, "song": {"S": "song 01"}}})["Item"]["label"] == {"S": "Reprise"}
    bad = client.post(url, {"action": "statement", "statement": "SELECT * FROM Music WHERE"})
    assert bad.status_code == 200 and b"Statement wasn&#x27;t well formed" in bad.content
    assert b"SELECT * FROM Music WHERE</textarea>" in bad.content  # what was typed stays
    other = client.post(url, {"action": "statement", "statement": "DELETE FROM Other WHERE id = 'x'"})
    assert b"The statement names table Other; this browser shows Music" in other.content
    duplicate = client.post(url, {"action": "statement", "statement": "INSERT INTO Music VALUE {'artist': 'Joni', 'song': 'song 02'}"})
    assert b"DuplicateItemException: Duplicate primary key exists in table" in duplicate.content


def test_viewers_run_partiql_selects_only(browser_table: tuple[Client, str]) -> None:
    _, url = browser_table
    from django.contrib.auth.models import Permission

    items.item_put({"TableName": "Music", "Item": {"artist": {"S": "Nina"}, "song": {"S": "Sinnerman"}}})
    viewer = User.objects.create_user("reader", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_table"))
    client = Client()
    client.force_login(viewer)
    found = client.post(url, {"action": "statement", "statement": "SELECT * FROM Music"}, follow=True)
    assert b"1 item from the statement" in found.content and b"Sinnerman" in found.content
    refused = client.post(url, {"action": "statement", "statement": "DELETE FROM Music WHERE artist = 'Nina' AND song = 'Sinnerman'"})
    assert b"You can read this table but not change it" in refused.content
    assert items.item_scan({"TableName": "Music"})["Count"] == 1
