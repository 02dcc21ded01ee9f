"""The AWS SDK loaded into a prewarmed Python runtime before its function is known (``--preload-sdk``).

Imported by ``kiln_bootstrap`` in a spare runtime (invoker/prewarm.py) while it waits for a function:
boto3, botocore and s3transfer imported, with what creating a client imports later, and botocore's
JSON models of the common services parsed. What stays afterwards is code and static data only:

- ``Loader``s whose search paths are the default ones (botocore's and boto3's data, nothing of the
  function's) share one cache of parsed model files. A Loader with a path of the function's (its
  ``AWS_DATA_PATH``, an existing ``~/.aws/models``) keeps its own cache, as botocore does.
- ``EventAliaser``s with botocore's own alias table share their cache of aliased event names, and
  ``accepts_kwargs`` remembers its answer per function: both pure functions of constants, recomputed
  by every new Session otherwise (most of its ~35 ms).

The models are warmed through throwaway Sessions given placeholder keys and a region explicitly, so no
credential provider, configuration file or ``AWS_*`` variable is consulted, and then dropped:
``boto3.DEFAULT_SESSION`` stays None, and the function's first Session resolves its region, endpoint and
credentials from its own environment, which arrives only afterwards.

``preload()`` returns the top-level module names it imported or looked for and did not find (``certifi``,
``awscrt``): if the function's code or layers provide any of them, Lambda's search order would have
found the function's own, so the worker gives that function an on-demand runtime instead.
"""

import sys

SERVICES = ("s3", "dynamodb", "sqs", "sns", "sts")
RESOURCES = ("s3", "dynamodb")
EXTRA_MODULES = ("boto3.s3.inject", "boto3.s3.transfer", "boto3.dynamodb.conditions", "boto3.dynamodb.types", "boto3.dynamodb.transform", "s3transfer.subscribers")


class _Misses:
    """The last finder on ``sys.meta_path``: asked only when no other found a module; remembers the name."""

    def __init__(self):
        self.names = set()

    def find_spec(self, name, path=None, target=None):
        if path is None:
            self.names.add(name)
        return None


def _share_caches(default_paths):
    import os
    import types
    import weakref

    import botocore.hooks
    import botocore.loaders

    shared: dict = {}
    defaults = tuple(default_paths)

    def get_cache(loader):
        existing = tuple(path for path in loader._search_paths if os.path.isdir(path))
        if existing and set(existing) <= set(defaults):
            return shared.setdefault(existing, {})
        return loader.__dict__.setdefault("_kiln_own_cache", {})

    def set_cache(loader, value):
        loader.__dict__["_kiln_own_cache"] = value

    botocore.loaders.Loader._cache = property(get_cache, set_cache)

    aliases: dict = {}
    aliaser_init = botocore.hooks.EventAliaser.__init__

    def init(self, *args, **kwargs):
        aliaser_init(self, *args, **kwargs)
        if self._event_aliases is botocore.hooks.EVENT_ALIASES:
            self._alias_name_cache = aliases

    botocore.hooks.EventAliaser.__init__ = init

    answers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    accepts_kwargs = botocore.hooks.accepts_kwargs

    def remembered_accepts_kwargs(func):
        function = getattr(func, "__func__", func)
        if type(function) is not types.FunctionType:
            return accepts_kwargs(func)
        try:
            return answers[function]
        except KeyError:
            answers[function] = answer = accepts_kwargs(func)
            return answer

    botocore.hooks.accepts_kwargs = remembered_accepts_kwargs


def _warm():
    import importlib
    import os

    import boto3
    import botocore.loaders

    for name in EXTRA_MODULES:
        importlib.import_module(name)
    _share_caches([botocore.loaders.Loader.CUSTOMER_DATA_PATH, botocore.loaders.Loader.BUILTIN_DATA_PATH, os.path.join(os.path.dirname(boto3.__file__), "data")])
    placeholder = {"aws_access_key_id": "KILNPRELOAD", "aws_secret_access_key": "kiln-preload", "region_name": "us-east-1"}
    for service in SERVICES:
        boto3.Session(**placeholder).client(service)
    for service in RESOURCES:
        boto3.Session(**placeholder).resource(service)


def preload():
    before = set(sys.modules)
    misses = _Misses()
    sys.meta_path.append(misses)
    try:
        _warm()
    finally:
        sys.meta_path.remove(misses)
    import gc

    gc.collect()
    names = {name.partition(".")[0] for name in set(sys.modules) - before} | misses.names
    names.discard(__name__)
    return sorted(names)
