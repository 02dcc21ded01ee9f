"""Object writes at their edges: writers racing on one new key, a bucket deleted under a writer, the bucket cache."""

from __future__ import annotations

import io
import os
import threading

import pytest
from django.core.files.storage import default_storage
from django.db import connection

from core import events
from storage import selectors, services
from storage.blobs import BLOB_PREFIX
from storage.domain import ObjectCreated
from storage.errors import BucketNotEmpty, NoSuchBucket
from storage.models import Bucket, Object

_EARLIER: set[str] = set()


def blob_files() -> list[str]:
    """The bodies written by this test (the data dir holds those of the tests before it too)."""
    root = os.path.join(default_storage.location, BLOB_PREFIX)
    return sorted({os.path.join(d, f) for d, _, files in os.walk(root) for f in files} - _EARLIER)


@pytest.fixture(autouse=True)
def _earlier_bodies() -> None:
    _EARLIER.clear()
    _EARLIER.update(blob_files())


@pytest.mark.django_db(transaction=True)
def test_writers_racing_on_a_new_key_leave_one_row_one_body_and_increasing_sequencers():
    bucket = services.bucket_create(name="race")
    writers, rounds = 6, 5
    errors: list[BaseException] = []
    sequencers: list[str] = []
    lock = threading.Lock()

    def write(n: int) -> None:
        try:
            for r in range(rounds):
                barrier.wait(timeout=30)
                obj = services.object_put(bucket=bucket, key=f"k{r}", body=io.BytesIO(f"{n}".encode()), size=len(f"{n}"))
                with lock:
                    sequencers.append((r, obj.sequencer))  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    barrier = threading.Barrier(writers)
    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    rows = list(Object.objects.filter(bucket=bucket).order_by("key"))
    assert [o.key for o in rows] == [f"k{r}" for r in range(rounds)]
    # every body but the last of each key was deleted once replaced: one file per row, the row's own
    assert blob_files() == sorted(default_storage.path(o.blob) for o in rows)
    for r in range(rounds):
        seen = sorted(s for k, s in sequencers if k == r)  # type: ignore[misc]
        assert len(set(seen)) == writers  # each write its own sequencer, the stored one the highest
        assert next(o for o in rows if o.key == f"k{r}").sequencer == seen[-1]
        assert default_storage.open(next(o for o in rows if o.key == f"k{r}").blob).read() in {str(n).encode() for n in range(writers)}


@pytest.mark.django_db(transaction=True)
def test_a_write_to_a_bucket_deleted_meanwhile_is_no_such_bucket_and_leaves_no_body():
    bucket = services.bucket_create(name="gone")
    stale = selectors.bucket_by_name("gone")
    services.bucket_delete(bucket=bucket)
    with pytest.raises(NoSuchBucket):
        services.object_put(bucket=stale, key="k", body=io.BytesIO(b"data"), size=4)
    assert blob_files() == [] and not Object.objects.exists()
    with pytest.raises(NoSuchBucket):
        services.bucket_delete(bucket=stale)


@pytest.mark.django_db(transaction=True)
def test_a_bucket_deleted_while_an_object_is_written_into_it_ends_in_one_order_or_the_other():
    """The delete runs inside the write's transaction (after the row, before the commit): whichever commits first
    wins, and the other says so (NoSuchBucket / BucketNotEmpty); never a bucket gone with an object left in it."""
    bucket = services.bucket_create(name="busy")
    outcome: list[BaseException | None] = []

    def delete() -> None:
        try:
            services.bucket_delete(bucket=bucket)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001  # asserted below
            outcome.append(exc)
        finally:
            connection.close()

    deleter = threading.Thread(target=delete)

    def meanwhile(event: ObjectCreated) -> None:
        deleter.start()
        deleter.join(2)  # it may wait on the write's locks: then it goes on once the write commits

    events.subscribe(ObjectCreated, meanwhile)
    try:
        written: BaseException | None = None
        try:
            services.object_put(bucket=bucket, key="k", body=io.BytesIO(b"data"), size=4)
        except NoSuchBucket as exc:
            written = exc
    finally:
        events.unsubscribe(ObjectCreated, meanwhile)
    deleter.join(30)
    assert len(outcome) == 1
    if written is not None:  # the delete committed first
        assert outcome[0] is None and not Bucket.objects.filter(name="busy").exists()
        assert not Object.objects.exists() and blob_files() == []
    else:  # the write committed first
        assert isinstance(outcome[0], BucketNotEmpty), outcome
        assert Object.objects.filter(bucket=bucket, key="k").exists() and len(blob_files()) == 1


@pytest.mark.django_db(transaction=True)
def test_the_bucket_cache_forgets_a_deleted_and_a_recreated_bucket():
    first = services.bucket_create(name="again")
    assert selectors.bucket_by_name("again").pk == first.pk
    assert selectors.bucket_by_name("again").pk == first.pk  # from the cache
    services.bucket_delete(bucket=first)
    with pytest.raises(NoSuchBucket):
        selectors.bucket_by_name("again")
    second = services.bucket_create(name="again")
    assert selectors.bucket_by_name("again").pk == second.pk != first.pk


@pytest.mark.django_db
def test_an_object_read_by_its_key_carries_its_fields_as_the_orm_reads_them():
    bucket = services.bucket_create(name="fields")
    services.object_put(bucket=bucket, key="k/ü", body=io.BytesIO(b"abc"), size=3, content_type="text/plain", metadata={"Color": "blue"},
                        headers={"Cache-Control": "no-cache"})
    found = selectors.object_find(bucket=bucket, key="k/ü")
    expected = Object.objects.get(bucket=bucket, key="k/ü")
    assert found is not None and found.bucket is bucket
    assert {f.attname: getattr(found, f.attname) for f in Object._meta.concrete_fields} == {f.attname: getattr(expected, f.attname) for f in Object._meta.concrete_fields}
    assert found.metadata == {"color": "blue"} and found.last_modified.tzinfo is not None
    assert selectors.object_find(bucket=bucket, key="k/u") is None
