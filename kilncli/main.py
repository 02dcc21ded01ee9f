"""The ``kiln`` command line: ``deploy``, ``invoke`` and ``logs`` subcommands over Kiln's AWS endpoint.

Exit codes: 0 done, 1 the function failed (``kiln invoke``), 2 a usage error or a call Kiln refused,
130 interrupted (``--watch`` and ``--follow`` stop with 0 on Ctrl-C).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError, PartialCredentialsError

from kilncli import __version__, deploy, invoke, logs
from kilncli.client import DEFAULT_ENDPOINT, CommandError, error_message


def _connection_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("--endpoint-url", default=default, metavar="URL",
                        help=f"Kiln's endpoint (default: $KILN_ENDPOINT, an AWS-configured endpoint, or {DEFAULT_ENDPOINT})")
    parser.add_argument("--region", default=default, help="AWS region (default: the profile's or $AWS_REGION, else us-east-1)")
    parser.add_argument("--profile", default=default, help="AWS profile for the access key (default: $AWS_PROFILE or the default profile)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiln", description="Deploy, invoke and read the logs of Kiln functions (the Lambda API, with your access key).")
    parser.add_argument("--version", action="version", version=f"kiln {__version__}")
    _connection_options(parser, None)
    # The same options after the subcommand; SUPPRESS keeps a value given before it.
    common = argparse.ArgumentParser(add_help=False)
    _connection_options(common, argparse.SUPPRESS)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    deploy.add_parser(subparsers, common)
    invoke.add_parser(subparsers, common)
    logs.add_parser(subparsers, common)
    return parser


def _fail(message: str, code: int = 2) -> int:
    print(f"kiln: {message}", file=sys.stderr, flush=True)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except CommandError as exc:
        return _fail(str(exc), exc.code)
    except ClientError as exc:
        return _fail(error_message(exc))
    except (NoCredentialsError, PartialCredentialsError):
        return _fail("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (a Kiln access key) or choose a profile with --profile")
    except EndpointConnectionError as exc:
        return _fail(f"cannot reach Kiln: {exc}")
    except NoRegionError as exc:  # pragma: no cover - a region is always given
        return _fail(str(exc))
    except BotoCoreError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `kiln logs NAME | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
